"""Running a freezer command's main() in process: its own ConfigOpts and
config file, its output captured, the root logger put back after."""

import io
import logging
import os
import socket
import textwrap

import fixtures
from oslo_config import cfg

from freezer_api.tests.unit import base


def closed_port():
    """A TCP port on 127.0.0.1 nothing listens on (bound, then freed)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class CommandTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.db_url = 'sqlite:///%s' % os.path.join(self.tmp, 'f.sqlite')
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        self.addCleanup(setattr, root, 'handlers', handlers)
        self.addCleanup(root.setLevel, level)

    def write_config(self, text):
        """A config file of ``text`` (dedented); its path."""
        path = os.path.join(self.tmp, 'freezer-api.conf')
        with open(path, 'w') as f:
            f.write(textwrap.dedent(text))
        return path

    def run_main(self, main, *args, connection=None, extra=''):
        """``main(['--config-file', FILE, *args], conf)``: (exit code,
        stdout, stderr)."""
        path = self.write_config(
            '[database]\nconnection = %s\n%s' %
            (self.db_url if connection is None else connection, extra))
        stdout = self.useFixture(
            fixtures.MonkeyPatch('sys.stdout', io.StringIO())).new_value
        stderr = self.useFixture(
            fixtures.MonkeyPatch('sys.stderr', io.StringIO())).new_value
        code = main(['--config-file', path, *args], conf=cfg.ConfigOpts())
        return code, stdout.getvalue(), stderr.getvalue()

"""The real freezer-api server, started as a process the way an operator does.

It writes a config file and runs ``freezer-api --config-file FILE`` (the
console script installed next to the test interpreter), then waits until
``GET /healthcheck`` answers 200. The server creates its database schema
itself on start.

Environment:
  FREEZER_FUNC_API_EXECUTABLE  the freezer-api command to run (default:
                               ``freezer-api`` next to sys.executable)
"""

import os
import shutil
import sys
import tempfile
import textwrap
import time

import fixtures

from freezer_api.tests.functional import fixtures_keystone
from freezer_api.tests.functional import utils


def api_executable():
    return os.environ.get('FREEZER_FUNC_API_EXECUTABLE') or os.path.join(
        os.path.dirname(sys.executable), 'freezer-api')


class FreezerApiServerFixture(fixtures.Fixture):
    """Run freezer-api on 127.0.0.1:<port>.

    :param auth_strategy: 'keystone' or 'noauth'
    :param keystone: a set-up KeystoneFixture (needed for 'keystone')
    :param port: port to listen on (default: a free one)
    :param db_url: [database] connection (default: a fresh SQLite file in
        the server's temp dir)
    :param extra_conf: text appended to the config file (more sections or
        options; a section may appear only once, so do not repeat
        [DEFAULT], [database] or [keystone_authtoken])

    Attributes after setUp: ``url``, ``port``, ``conf_file``, ``log_file``
    (the service's own log), ``out_file`` (its stdout/stderr), ``pid``,
    ``state_dir``, ``startup_seconds``.
    """

    def __init__(self, auth_strategy='keystone', keystone=None, port=None,
                 db_url=None, extra_conf='', debug=False, executable=None,
                 timeout=90):
        super().__init__()
        if auth_strategy not in ('keystone', 'noauth'):
            raise ValueError(f'auth_strategy: {auth_strategy!r}')
        if auth_strategy == 'keystone' and keystone is None:
            raise ValueError('auth_strategy=keystone needs a keystone')
        self.auth_strategy = auth_strategy
        self.keystone = keystone
        self.port = port
        self.db_url = db_url
        self.extra_conf = extra_conf
        self.debug = debug
        self.executable = executable or api_executable()
        self.timeout = timeout
        self.proc = None

    def _setUp(self):
        t0 = time.monotonic()
        self.state_dir = tempfile.mkdtemp(prefix='freezer-func-api-')
        self.addCleanup(shutil.rmtree, self.state_dir, True)
        self.port = self.port or utils.free_port()
        self.url = f'http://{utils.HOST}:{self.port}'
        self.conf_file = os.path.join(self.state_dir, 'freezer-api.conf')
        self.log_file = os.path.join(self.state_dir, 'freezer-api.log')
        self.out_file = os.path.join(self.state_dir, 'freezer-api.out')
        if not os.access(self.executable, os.X_OK):
            raise utils.ServiceError(
                f'{self.executable} not found: install freezer-api into '
                'this venv (pip install -e .)')
        with open(self.conf_file, 'w') as f:
            f.write(self.config_text())
        self.addCleanup(self.stop)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        env['PYTHONWARNINGS'] = 'ignore'
        # gunicorn >= 25.1 opens a control socket, by default
        # $XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl: one path
        # shared by every server on the machine. Give each its own.
        env['XDG_RUNTIME_DIR'] = self.state_dir
        self.proc = utils.start_process(
            [self.executable, '--config-file', self.conf_file],
            self.out_file, env=env, cwd=self.state_dir,
            pid_file=os.path.join(self.state_dir, 'freezer-api.pid'))
        self.pid = self.proc.pid
        utils.wait_for_http(self.url + '/healthcheck', self.proc,
                            [self.out_file, self.log_file],
                            timeout=self.timeout, what='freezer-api')
        self.startup_seconds = time.monotonic() - t0

    def config_text(self):
        sqlite_file = os.path.join(self.state_dir, 'freezer.sqlite')
        db_url = self.db_url or f'sqlite:///{sqlite_file}'
        text = textwrap.dedent("""\
            [DEFAULT]
            bind_host = {host}
            bind_port = {port}
            auth_strategy = {auth}
            debug = {debug}
            log_file = {log}

            [database]
            connection = {db}
            """).format(host=utils.HOST, port=self.port,
                        auth=self.auth_strategy, debug=str(self.debug).lower(),
                        log=self.log_file, db=db_url)
        if self.auth_strategy == 'keystone':
            text += '\n[keystone_authtoken]\n'
            text += fixtures_keystone.service_user_conf(self.keystone)
        if self.extra_conf:
            text += '\n' + textwrap.dedent(self.extra_conf)
        return text

    def log_tail(self, lines=60):
        return '\n'.join(f'----- {p} -----\n{utils.tail(p, lines)}'
                         for p in (self.out_file, self.log_file))

    def stop(self):
        if self.proc is not None:
            utils.stop_process(self.proc)
            self.proc = None

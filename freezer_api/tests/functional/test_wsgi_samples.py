"""freezer-api under uWSGI, started from the sample
etc/freezer/freezer-api-uwsgi.ini as an operator would.

The sample is used as shipped except for the lines that name machine
paths and the listening address (:data:`LOCAL_LINES`): a free port on
127.0.0.1, a temporary config file (SQLite, noauth) and log file.
uWSGI comes from the ``pyuwsgi`` wheel (test-requirements.txt), whose
``uwsgi`` command sits next to the test interpreter.
"""

import os
import re
import signal
import sys
import textwrap

import fixtures
import requests
import testtools
from testtools import content

from freezer_api.db import migration
from freezer_api.tests.functional import utils

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                    '..'))
SAMPLE = os.path.join(ROOT, 'etc', 'freezer', 'freezer-api-uwsgi.ini')
# The sample's lines a test machine must change, by option name.
LOCAL_LINES = ('http-socket', 'env', 'logto')


def uwsgi_executable():
    return os.path.join(os.path.dirname(sys.executable), 'uwsgi')


def local_ini(sample_text, port, conf_file, log_file):
    """The sample with :data:`LOCAL_LINES` set for this machine."""
    values = {'http-socket': f'{utils.HOST}:{port}',
              'env': f'FREEZER_API_CONFIG_FILES={conf_file}',
              'logto': log_file}

    def replace(match):
        return f'{match.group(1)} = {values[match.group(1)]}'

    pattern = re.compile(r'^(%s) = .*$' % '|'.join(LOCAL_LINES), re.M)
    return pattern.sub(replace, sample_text)


class UwsgiServerFixture(fixtures.Fixture):
    """uWSGI running the sample ini on a free port, with a noauth config
    on a fresh SQLite database synced to head.

    Attributes after setUp: ``url``, ``proc``, ``ini_file``, ``log_file``
    (uWSGI's), ``api_log_file`` (freezer-api's).
    """

    def _setUp(self):
        if not os.access(uwsgi_executable(), os.X_OK):
            raise utils.ServiceError(f'{uwsgi_executable()} not found: '
                                     'pip install pyuwsgi')
        tmp = self.useFixture(fixtures.TempDir()).path
        port = utils.free_port()
        self.url = f'http://{utils.HOST}:{port}'
        db_url = 'sqlite:///%s' % os.path.join(tmp, 'freezer.sqlite')
        migration.upgrade(db_url)
        conf_file = os.path.join(tmp, 'freezer-api.conf')
        self.api_log_file = os.path.join(tmp, 'freezer-api.log')
        with open(conf_file, 'w') as f:
            f.write(textwrap.dedent(f"""\
                [DEFAULT]
                auth_strategy = noauth
                log_file = {self.api_log_file}

                [database]
                connection = {db_url}
                """))
        self.log_file = os.path.join(tmp, 'uwsgi.log')
        with open(SAMPLE) as f:
            text = local_ini(f.read(), port, conf_file, self.log_file)
        self.ini_file = os.path.join(tmp, 'freezer-api-uwsgi.ini')
        with open(self.ini_file, 'w') as f:
            f.write(text)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        # pyuwsgi's Python starts before uWSGI reads the ini's "env" line,
        # which therefore does not reach os.environ (the sample says so).
        env['FREEZER_API_CONFIG_FILES'] = conf_file
        # The code under test, wherever the venv's freezer-api points.
        env['PYTHONPATH'] = os.pathsep.join(
            filter(None, (ROOT, env.get('PYTHONPATH'))))
        self.out_file = os.path.join(tmp, 'uwsgi.out')
        self.proc = utils.start_process(
            [uwsgi_executable(), '--ini', self.ini_file], self.out_file,
            env=env, cwd=tmp)
        self.addCleanup(utils.stop_process, self.proc)
        utils.wait_for_http(self.url + '/healthcheck', self.proc,
                            [self.out_file, self.log_file], timeout=90,
                            what='uWSGI')

    def log_tail(self):
        return '\n'.join(f'----- {p} -----\n{utils.tail(p, 60)}'
                         for p in (self.out_file, self.log_file,
                                   self.api_log_file))


class TestUwsgiSample(testtools.TestCase):

    def test_only_local_lines_are_changed(self):
        with open(SAMPLE) as f:
            sample = f.read()
        changed = local_ini(sample, 1234, '/c', '/l')
        differ = [(a, b) for a, b in zip(sample.splitlines(),
                                         changed.splitlines(), strict=True)
                  if a != b]
        self.assertEqual(len(LOCAL_LINES), len(differ))
        self.assertIn('module = freezer_api.wsgi.api:application', sample)

    def test_serves_the_api_and_stops_on_sigterm(self):
        server = self.useFixture(UwsgiServerFixture())
        self.addOnException(lambda _: self.addDetail(
            'uwsgi-log', content.text_content(server.log_tail())))
        versions = requests.get(server.url + '/', timeout=10)
        self.assertIn(versions.status_code, (200, 300))
        self.assertIn('versions', versions.json())
        self.assertEqual(200, requests.get(server.url + '/healthcheck',
                                           timeout=10).status_code)
        # The config file was read: its database answers, its log is kept.
        actions = requests.get(server.url + '/v2/demo/actions', timeout=10)
        self.assertEqual(200, actions.status_code)
        self.assertTrue(os.path.exists(server.api_log_file))
        # die-on-term: SIGTERM stops uWSGI (it would reload without it).
        os.kill(server.proc.pid, signal.SIGTERM)
        self.assertEqual(0, server.proc.wait(30))
        for path in (server.log_file, server.api_log_file):
            with open(path) as f:
                self.assertNotIn('Traceback', f.read())


"""The devstack plugin (devstack/), phase by phase, on stub devstack
functions.

Every test runs bash as devstack does: devstack/settings, then
devstack/plugin.sh with a phase's arguments, from a checkout at
$DEST/freezer-api (a link to this one), in ``set -o errexit``. The
devstack functions are those of devstack_stubs.sh: each records its call
in a log, iniset writes real ini files, and /etc is a temporary
directory. The tests read the log and the files the plugin left; one
runs uWSGI (the ``pyuwsgi`` wheel of test-requirements.txt) on the uWSGI
config and talks to its socket as Apache does.
"""

import configparser
import getpass
import importlib.util
import json
import os
import shlex
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import time

import fixtures
from oslo_config import cfg
from oslo_log import log
from testtools import content

from freezer_api import conf as freezer_conf
from freezer_api.db import migration
from freezer_api.tests.unit import base
from freezer_api.tests.unit import helpers

ROOT = helpers.ROOT
STUBS = os.path.join(os.path.dirname(__file__), 'devstack_stubs.sh')
MODULE = 'freezer_api.wsgi.api:application'
DB_URL = 'mysql+pymysql://root:secretdb@127.0.0.1/%s?charset=utf8'
SERVICE_HOST = '192.0.2.10'
ENDPOINT = f'http://{SERVICE_HOST}/backup'
# Calls that say what happens rather than do it.
CHATTER = ('echo_summary', 'get_python_exec_prefix')
# A stand-in for the commands the plugin runs from the Python
# environment's bin directory: it records itself as the stubs do.
FAKE_COMMAND = textwrap.dedent("""\
    #!/bin/bash
    printf '%q ' "$0" "$@" >>"$STUB_LOG"
    echo >>"$STUB_LOG"
    exit ${STUB_COMMAND_RC:-0}
    """)


class DevstackFixture(fixtures.Fixture):
    """A temporary devstack: $DEST with this checkout in it, /etc, a bin
    directory of fake commands, and the log of the stubs' calls."""

    def _setUp(self):
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.dest = os.path.join(self.tmp, 'opt', 'stack')
        os.makedirs(self.dest)
        self.checkout = os.path.join(self.dest, 'freezer-api')
        os.symlink(ROOT, self.checkout)
        self.bin = os.path.join(self.tmp, 'bin')
        os.makedirs(self.bin)
        for name in ('freezer-manage', 'uwsgi'):
            path = os.path.join(self.bin, name)
            with open(path, 'w') as f:
                f.write(FAKE_COMMAND)
            os.chmod(path, 0o755)
        self.conf_dir = os.path.join(self.tmp, 'etc', 'freezer')
        self.conf_file = os.path.join(self.conf_dir, 'freezer-api.conf')
        self.uwsgi_file = os.path.join(self.conf_dir, 'freezer-api-uwsgi.ini')
        self.apache_dir = os.path.join(self.tmp, 'etc', 'apache2')
        self.log_file = os.path.join(self.tmp, 'calls.log')
        open(self.log_file, 'w').close()
        self.env = {
            'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
            'HOME': self.tmp,
            'DEST': self.dest,
            'STACK_USER': getpass.getuser(),
            'SERVICE_HOST': SERVICE_HOST,
            'SERVICE_PROTOCOL': 'http',
            'SERVICE_TIMEOUT': '10',
            'SERVICE_PASSWORD': 'secretservice',
            'KEYSTONE_SERVICE_URI': f'http://{SERVICE_HOST}/identity',
            'REGION_NAME': 'RegionOne',
            'ENABLE_DEBUG_LOG_LEVEL': 'True',
            'API_WORKERS': '2',
            'ENABLED_SERVICES': 'mysql,key,g-api',
            # As local.conf would: every other path stays the default.
            'FREEZER_API_CONF_DIR': self.conf_dir,
            'STUB_LOG': self.log_file,
            'STUB_BIN': self.bin,
            'STUB_PYTHON': sys.executable,
            'STUB_APACHE_DIR': self.apache_dir,
            'STUB_SOCKET_DIR': os.path.join(self.tmp, 'run', 'uwsgi'),
            'STUB_DB_URL': DB_URL,
        }

    def run(self, *phases, **env):
        """Source settings, then plugin.sh once for each phase (such as
        ``'stack install'``) in one bash, as stack.sh, unstack.sh and
        clean.sh do; the CompletedProcess."""
        devstack = os.path.join(self.checkout, 'devstack')
        lines = ['set -o errexit',
                 'source %s' % shlex.quote(STUBS),
                 'source %s' % shlex.quote(os.path.join(devstack,
                                                        'settings'))]
        lines += ['source %s %s' % (shlex.quote(os.path.join(devstack,
                                                             'plugin.sh')),
                                    phase)
                  for phase in phases]
        return subprocess.run(['bash', '-c', '\n'.join(lines)],
                              env=dict(self.env, **env), cwd=self.tmp,
                              capture_output=True, text=True, timeout=60,
                              check=False)

    def calls(self, everything=False):
        """The calls recorded, each a list: name (or path) and arguments;
        without ``everything``, not the :data:`CHATTER`."""
        with open(self.log_file) as f:
            calls = [shlex.split(line) for line in f if line.strip()]
        return [c for c in calls if everything or c[0] not in CHATTER]

    def ini(self, path):
        parser = configparser.RawConfigParser()
        parser.optionxform = str
        with open(path) as f:
            parser.read_file(f)
        return parser


class TestDevstackPlugin(base.TestCase):

    def setUp(self):
        super().setUp()
        self.devstack = self.useFixture(DevstackFixture())

    def run_phases(self, *phases, **env):
        """Run the phases, which must succeed."""
        result = self.devstack.run(*phases, **env)
        self.addDetail('bash-stderr', content.text_content(result.stderr))
        self.addDetail('calls', content.text_content(
            '\n'.join(map(shlex.join, self.devstack.calls(True)))))
        self.assertEqual(0, result.returncode, result.stderr[-3000:])
        return result

    def index(self, call):
        calls = self.devstack.calls()
        self.assertIn(call, calls)
        return calls.index(call)

    def test_install_develops_the_checkout(self):
        self.run_phases('stack install')
        self.assertEqual([['setup_develop', self.devstack.checkout]],
                         self.devstack.calls())

    def test_post_config_writes_freezer_api_conf(self):
        self.run_phases('stack post-config')
        conf = self.devstack.ini(self.devstack.conf_file)
        self.assertEqual('keystone', conf.get('DEFAULT', 'auth_strategy'))
        self.assertEqual('True', conf.get('DEFAULT', 'debug'))
        self.assertEqual(DB_URL % 'freezer',
                         conf.get('database', 'connection'))
        self.assertEqual('False', conf.get('api', 'auto_migrate'))
        self.assertIn(['database_connection_url', 'freezer'],
                      self.devstack.calls())
        self.assertIn(['configure_keystone_authtoken_middleware',
                       self.devstack.conf_file, 'freezer'],
                      self.devstack.calls())
        self.assertEqual('freezer', conf.get('keystone_authtoken',
                                             'username'))
        # Not behind a TLS proxy: no proxy headers are trusted.
        self.assertFalse(conf.has_section('oslo_middleware'))
        # The directory is made for the stack user, who writes the files.
        self.index(['sudo', 'install', '-d', '-o', getpass.getuser(),
                    '-m', '755', self.devstack.conf_dir])

    def test_freezer_api_reads_the_conf_as_written(self):
        self.run_phases('stack post-config')
        conf = cfg.ConfigOpts()
        freezer_conf.register_opts(conf)
        log.register_options(conf)
        conf(['--config-file', self.devstack.conf_file], project='freezer',
             default_config_files=[])
        self.addCleanup(conf.reset)
        self.assertEqual('keystone', conf.auth_strategy)
        self.assertFalse(conf.api.auto_migrate)
        self.assertEqual(DB_URL % 'freezer', conf.database.connection)
        self.assertTrue(conf.debug)

    def test_post_config_behind_tls_proxy_parses_proxy_headers(self):
        self.run_phases('stack post-config',
                        ENABLED_SERVICES='mysql,key,tls-proxy')
        conf = self.devstack.ini(self.devstack.conf_file)
        self.assertEqual('True', conf.get('oslo_middleware',
                                          'enable_proxy_headers_parsing'))

    def test_post_config_serves_the_module_at_backup(self):
        self.run_phases('stack post-config')
        self.index(['write_uwsgi_config', self.devstack.uwsgi_file, MODULE,
                    '/backup', '', 'freezer-api'])
        uwsgi = self.devstack.ini(self.devstack.uwsgi_file)
        self.assertEqual(MODULE, uwsgi.get('uwsgi', 'module'))
        self.assertFalse(uwsgi.has_option('uwsgi', 'wsgi-file'))
        self.assertEqual(
            'FREEZER_API_CONFIG_FILES=%s' % self.devstack.conf_file,
            uwsgi.get('uwsgi', 'env'))
        with open(os.path.join(self.devstack.apache_dir,
                               'freezer-api.conf')) as f:
            self.assertIn('ProxyPass "/backup" ', f.read())
        # The module uWSGI imports exists (found, not imported: importing
        # it builds the application from the config files).
        spec = importlib.util.find_spec(MODULE.split(':')[0])
        self.assertIsNotNone(spec)
        with open(spec.origin) as f:
            self.assertIn('\napplication = ', f.read())

    def test_post_config_registers_the_backup_service(self):
        self.run_phases('stack post-config')
        user = self.index(['create_service_user', 'freezer', 'service'])
        service = self.index(['get_or_create_service', 'freezer', 'backup',
                              'Backup and restore service'])
        endpoint = self.index(['get_or_create_endpoint', 'backup',
                               'RegionOne', ENDPOINT])
        self.assertLess(user, service)
        self.assertLess(service, endpoint)

    def test_extra_syncs_the_database_then_starts_uwsgi(self):
        self.run_phases('stack extra')
        bin_dir = self.devstack.bin
        recreate = self.index(['recreate_database', 'freezer'])
        sync = self.index([os.path.join(bin_dir, 'freezer-manage'),
                           '--config-file', self.devstack.conf_file,
                           'db', 'sync'])
        start = self.index([
            'run_process', 'freezer-api',
            '%s/uwsgi --procname-prefix freezer-api --ini %s' % (
                bin_dir, self.devstack.uwsgi_file)])
        health = self.index(['curl', '-k', '-s', '-f', '--noproxy', '*',
                             '-o', '/dev/null',
                             ENDPOINT + '/healthcheck'])
        self.assertEqual([0, 1, 2, 3], [recreate, sync, start, health])
        self.assertEqual(4, len(self.devstack.calls()))

    def test_extra_waits_for_the_health_check(self):
        self.run_phases('stack extra', STUB_CURL_FAILURES='1')
        self.assertEqual(2, [c[0] for c in self.devstack.calls()].count(
            'curl'))

    def test_extra_dies_when_the_api_never_answers(self):
        result = self.devstack.run('stack extra', STUB_CURL_FAILURES='1000',
                                   SERVICE_TIMEOUT='1')
        self.assertNotEqual(0, result.returncode)
        self.assertEqual('die', self.devstack.calls()[-1][0])

    def test_extra_dies_when_db_sync_fails(self):
        result = self.devstack.run('stack extra', STUB_COMMAND_RC='1')
        self.assertNotEqual(0, result.returncode)
        names = [c[0] for c in self.devstack.calls()]
        self.assertEqual('die', names[-1])
        self.assertNotIn('run_process', names)

    def test_unstack_stops_the_process(self):
        self.run_phases('unstack')
        self.assertEqual([['stop_process', 'freezer-api']],
                         self.devstack.calls())

    def test_clean_removes_what_post_config_wrote(self):
        self.run_phases('stack post-config')
        self.assertTrue(os.path.exists(self.devstack.conf_file))
        self.assertTrue(os.path.exists(self.devstack.uwsgi_file))
        self.run_phases('clean')
        self.index(['remove_uwsgi_config', self.devstack.uwsgi_file,
                    'freezer-api'])
        self.assertFalse(os.path.exists(self.devstack.conf_file))
        self.assertFalse(os.path.exists(self.devstack.uwsgi_file))
        self.assertEqual([], os.listdir(self.devstack.apache_dir))

    def test_a_whole_stack_in_order(self):
        self.run_phases('stack pre-install', 'stack install',
                        'stack post-config', 'stack extra',
                        'stack test-config')
        names = [c[0] for c in self.devstack.calls()]
        self.assertLess(names.index('setup_develop'),
                        names.index('write_uwsgi_config'))
        self.assertLess(names.index('get_or_create_endpoint'),
                        names.index('recreate_database'))
        self.assertEqual(1, names.count('run_process'))

    def test_does_nothing_when_disabled(self):
        # disable_service freezer-api in local.conf: settings' own
        # enable_service is then ignored, as in devstack.
        self.run_phases('stack install', 'stack post-config', 'stack extra',
                        'unstack', 'clean',
                        DISABLED_SERVICES='freezer-api')
        self.assertEqual([], self.devstack.calls(everything=True))
        self.assertFalse(os.path.exists(self.devstack.conf_dir))


def uwsgi_request(socket_path, environ, timeout=10):
    """The raw HTTP answer of the uWSGI server at ``socket_path`` to a
    request of ``environ``, sent in the uwsgi protocol as Apache's
    mod_proxy_uwsgi sends it (a packet of CGI variables; no body)."""
    def string(text):
        data = text.encode()
        return struct.pack('<H', len(data)) + data
    body = b''.join(string(k) + string(v) for k, v in environ.items())
    packet = struct.pack('<BHB', 0, len(body), 0) + body
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(socket_path)
        sock.sendall(packet)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b''.join(chunks)


def backup_environ(path_info):
    """A GET of http://SERVICE_HOST/backup<path_info> as Apache passes it
    on: /backup is the script name, the rest the path."""
    return {'REQUEST_METHOD': 'GET', 'SCRIPT_NAME': '/backup',
            'PATH_INFO': path_info, 'QUERY_STRING': '',
            'SERVER_NAME': SERVICE_HOST, 'SERVER_PORT': '80',
            'SERVER_PROTOCOL': 'HTTP/1.1', 'REMOTE_ADDR': '127.0.0.1',
            'HTTP_HOST': SERVICE_HOST, 'HTTP_ACCEPT': 'application/json',
            'wsgi.url_scheme': 'http'}


class TestDevstackUwsgi(base.TestCase):
    """uWSGI on the config post-config wrote serves the API at /backup
    on the socket the Apache site proxies to."""

    def setUp(self):
        super().setUp()
        self.uwsgi = os.path.join(os.path.dirname(sys.executable), 'uwsgi')
        if not os.access(self.uwsgi, os.X_OK):
            self.skipTest('%s not found: pip install pyuwsgi' % self.uwsgi)
        self.devstack = self.useFixture(DevstackFixture())

    def start_uwsgi(self):
        """uWSGI on the config, as run_process would start it; its
        socket's path once it accepts connections."""
        uwsgi = self.devstack.ini(self.devstack.uwsgi_file)
        socket_path = uwsgi.get('uwsgi', 'socket')
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        # pyuwsgi's Python starts before uWSGI reads the ini's "env"
        # line, which therefore does not reach os.environ
        # (etc/freezer/freezer-api-uwsgi.ini says so); devstack's uwsgi
        # command reads it first. Give the same value here.
        name, _, value = uwsgi.get('uwsgi', 'env').partition('=')
        env[name] = value
        env['PYTHONPATH'] = os.pathsep.join(
            filter(None, (ROOT, env.get('PYTHONPATH'))))
        out_file = os.path.join(self.devstack.tmp, 'uwsgi.out')
        with open(out_file, 'wb') as out:
            proc = subprocess.Popen(
                [self.uwsgi, '--procname-prefix', 'freezer-api', '--ini',
                 self.devstack.uwsgi_file],
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=env, cwd=self.devstack.tmp)
        self.addCleanup(self.stop, proc)
        self.addOnException(lambda _: self.addDetail(
            'uwsgi-output', content.content_from_file(out_file,
                                                      buffer_now=True)))
        deadline = time.monotonic() + 60
        while True:
            self.assertIsNone(proc.poll(), 'uWSGI exited')
            try:
                uwsgi_request(socket_path, backup_environ('/healthcheck'))
                return socket_path, proc
            except OSError:
                self.assertLess(time.monotonic(), deadline,
                                'uWSGI did not answer in 60 s')
                time.sleep(0.2)

    def get(self, socket_path, path_info):
        """The status and body of a GET of /backup<path_info>."""
        answer = uwsgi_request(socket_path, backup_environ(path_info))
        self.assertTrue(answer, 'uWSGI closed the connection without an '
                        'answer: no application loaded?')
        head, _, body = answer.partition(b'\r\n\r\n')
        return int(head.split()[1]), body

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def test_serves_the_api_at_backup(self):
        db_file = os.path.join(self.devstack.tmp, '%s.sqlite')
        result = self.devstack.run('stack post-config', API_WORKERS='1',
                                   STUB_DB_URL='sqlite:///' + db_file)
        self.assertEqual(0, result.returncode, result.stderr[-3000:])
        # What "freezer-manage db sync" does in the extra phase.
        migration.upgrade('sqlite:///' + db_file % 'freezer')
        socket_path, proc = self.start_uwsgi()

        status, _ = self.get(socket_path, '/healthcheck')
        self.assertEqual(200, status)
        # The versions document (public, no token) links below /backup.
        status, body = self.get(socket_path, '/')
        self.assertEqual(300, status)
        (version,) = json.loads(body)['versions']
        self.assertEqual([ENDPOINT + '/v2/'],
                         [link['href'] for link in version['links']])
        # die-on-term: the SIGTERM of "systemctl stop" stops it.
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(0, proc.wait(30))

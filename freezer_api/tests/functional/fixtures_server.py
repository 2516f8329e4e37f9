"""The real freezer-api servers, started as processes the way operators do.

:class:`FreezerApiServerFixture` writes a config file and runs
``freezer-api --config-file FILE`` (the console script installed next to
the test interpreter), then waits until ``GET /healthcheck`` answers 200.

:class:`FreezerApiGroupFixture` is the production topology the tests run
against: a fresh database (SQLite, or one on the server named by
``FREEZER_FUNC_DB_URL``), its schema made by ``freezer-manage db sync``,
two freezer-api servers of two workers each on it, and a round-robin TCP
proxy in front (:class:`RoundRobinProxyFixture`, standing in for the load
balancer), so that consecutive connections land on different servers.

Every server's logs are copied, when it stops, to :func:`run_log_dir`, so
that a test can check all the logs of the run (e.g. for secrets).

Environment:
  FREEZER_FUNC_API_EXECUTABLE  the freezer-api command to run (default:
                               ``freezer-api`` next to sys.executable)
"""

import atexit
import concurrent.futures
import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import fixtures

from freezer_api.tests.functional import fixtures_db
from freezer_api.tests.functional import fixtures_keystone
from freezer_api.tests.functional import utils


def api_executable():
    return os.environ.get('FREEZER_FUNC_API_EXECUTABLE') or os.path.join(
        os.path.dirname(sys.executable), 'freezer-api')


def manage_executable():
    return os.path.join(os.path.dirname(api_executable()), 'freezer-manage')


_run_log_dir = []


def run_log_dir():
    """A directory, made once per test process, holding the logs of every
    freezer-api server that has stopped (removed at exit)."""
    if not _run_log_dir:
        path = tempfile.mkdtemp(prefix='freezer-func-logs-')
        atexit.register(shutil.rmtree, path, True)
        _run_log_dir.append(path)
    return _run_log_dir[0]


class FreezerApiServerFixture(fixtures.Fixture):
    """Run freezer-api on 127.0.0.1:<port>.

    :param auth_strategy: 'keystone' or 'noauth'
    :param keystone: a set-up KeystoneFixture (needed for 'keystone')
    :param port: port to listen on (default: a free one)
    :param db_url: [database] connection (default: a fresh SQLite file in
        the server's temp dir)
    :param workers: [api] workers
    :param wait: wait in setUp until the server answers (False: call
        :meth:`wait_ready` later)
    :param extra_conf: text appended to the config file (more sections or
        options; a section may appear only once, so do not repeat
        [DEFAULT], [api], [database] or [keystone_authtoken])
    :param authtoken_conf: options added to [keystone_authtoken] (e.g.
        ``token_cache_time = 2``)

    Attributes after setUp: ``url``, ``port``, ``conf_file``, ``log_file``
    (the service's own log), ``out_file`` (its stdout/stderr), ``pid``,
    ``state_dir``, ``startup_seconds``.
    """

    def __init__(self, auth_strategy='keystone', keystone=None, port=None,
                 db_url=None, extra_conf='', debug=False, executable=None,
                 timeout=90, workers=1, wait=True, authtoken_conf=''):
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
        self.authtoken_conf = authtoken_conf
        self.debug = debug
        self.executable = executable or api_executable()
        self.timeout = timeout
        self.workers = workers
        self.wait = wait
        self.proc = None

    def _setUp(self):
        t0 = time.monotonic()
        self.state_dir = tempfile.mkdtemp(prefix='freezer-func-api-')
        self.addCleanup(shutil.rmtree, self.state_dir, True)
        self.addCleanup(self._keep_logs)
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
        self._t0 = t0
        if self.wait:
            self.wait_ready()

    def wait_ready(self):
        """Wait until ``GET /healthcheck`` answers 200."""
        utils.wait_for_http(self.url + '/healthcheck', self.proc,
                            [self.out_file, self.log_file],
                            timeout=self.timeout, what='freezer-api')
        self.startup_seconds = time.monotonic() - self._t0

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

            [api]
            workers = {workers}

            [database]
            connection = {db}
            """).format(host=utils.HOST, port=self.port,
                        auth=self.auth_strategy, debug=str(self.debug).lower(),
                        log=self.log_file, db=db_url, workers=self.workers)
        if self.auth_strategy == 'keystone':
            text += '\n[keystone_authtoken]\n'
            text += fixtures_keystone.service_user_conf(self.keystone)
            text += textwrap.dedent(self.authtoken_conf)
        if self.extra_conf:
            text += '\n' + textwrap.dedent(self.extra_conf)
        return text

    def log_tail(self, lines=60):
        return '\n'.join(f'----- {p} -----\n{utils.tail(p, lines)}'
                         for p in (self.out_file, self.log_file))

    def worker_pids(self):
        """Pids of the gunicorn workers (the master's children)."""
        path = f'/proc/{self.pid}/task/{self.pid}/children'
        try:
            with open(path) as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def stop(self):
        if self.proc is not None:
            utils.stop_process(self.proc)
            self.proc = None

    def _keep_logs(self):
        keep = os.path.join(run_log_dir(), os.path.basename(self.state_dir))
        os.makedirs(keep, exist_ok=True)
        for path in (self.log_file, self.out_file):
            if os.path.exists(path):
                shutil.copy(path, keep)


def sync_database(db_url):
    """``freezer-manage db sync`` on ``db_url``, as a deployment tool runs
    it before starting the API servers."""
    with tempfile.TemporaryDirectory(prefix='freezer-func-sync-') as tmp:
        conf = os.path.join(tmp, 'freezer-api.conf')
        with open(conf, 'w') as f:
            f.write(f'[database]\nconnection = {db_url}\n')
        res = subprocess.run(  # noqa: S603
            [manage_executable(), '--config-file', conf, 'db', 'sync'],
            capture_output=True, text=True, timeout=300)
    if res.returncode:
        raise utils.ServiceError(f'freezer-manage db sync failed '
                                 f'(rc={res.returncode}):\n{res.stderr}')


class RoundRobinProxyFixture(fixtures.Fixture):
    """A TCP load balancer on 127.0.0.1: each accepted connection goes to
    the next backend ``(host, port)`` that accepts one.

    Attributes after setUp: ``port``, ``url``, ``counts`` (connections per
    backend so far).
    """

    def __init__(self, backends, port=None):
        super().__init__()
        self.backends = list(backends)
        self.port = port
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def _setUp(self):
        self.counts = [0] * len(self.backends)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((utils.HOST, self.port or 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.url = f'http://{utils.HOST}:{self.port}'
        self.addCleanup(self._close)
        threading.Thread(target=self._accept, daemon=True).start()

    def _close(self):
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes accept()
        self.sock.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(client,),
                             daemon=True).start()

    def _connect(self):
        first = next(self._turn)
        for i in range(len(self.backends)):
            index = (first + i) % len(self.backends)
            try:
                upstream = socket.create_connection(self.backends[index],
                                                    timeout=5)
            except OSError:
                continue  # that server is down: the next one
            upstream.settimeout(None)
            with self._lock:
                self.counts[index] += 1
            return upstream
        return None

    def _serve(self, client):
        upstream = self._connect()
        if upstream is None:
            client.close()
            return
        # Without this, Nagle's algorithm delays each small response.
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        back = threading.Thread(target=self._pump, args=(upstream, client),
                                daemon=True)
        back.start()
        self._pump(client, upstream)
        back.join()
        client.close()
        upstream.close()

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass  # reset by either side: end this direction
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)


class FreezerApiGroupFixture(fixtures.Fixture):
    """``count`` freezer-api servers of ``workers`` workers each, on one
    fresh database, behind a :class:`RoundRobinProxyFixture`.

    :param port: the proxy's port (default: a free one)
    :param db_server: a database server URL (default: the run's
        ``FREEZER_FUNC_DB_URL``; none: SQLite)

    Attributes after setUp: ``url`` (the proxy), ``urls`` (each server),
    ``servers``, ``proxy``, ``db_url``, ``startup_seconds``.
    """

    def __init__(self, auth_strategy='keystone', keystone=None, port=None,
                 count=2, workers=2, db_server=None, debug=False,
                 extra_conf='', authtoken_conf=''):
        super().__init__()
        self.port = port
        self.count = count
        self.db_server = db_server or fixtures_db.server_url()
        self.server_args = dict(auth_strategy=auth_strategy,
                                keystone=keystone, workers=workers,
                                debug=debug, extra_conf=extra_conf,
                                authtoken_conf=authtoken_conf)

    def _setUp(self):
        t0 = time.monotonic()
        self.db_url = self.useFixture(
            fixtures_db.FreshDatabaseFixture(self.db_server)).url
        sync_database(self.db_url)
        # Started from this thread: a server dies with the thread that
        # started it (utils.start_process), so only the waits are parallel.
        self.servers = [
            self.useFixture(FreezerApiServerFixture(
                db_url=self.db_url, wait=False, **self.server_args))
            for _ in range(self.count)]
        with concurrent.futures.ThreadPoolExecutor(self.count) as pool:
            for future in [pool.submit(fx.wait_ready)
                           for fx in self.servers]:
                future.result()
        self.urls = [fx.url for fx in self.servers]
        self.proxy = self.useFixture(RoundRobinProxyFixture(
            [(utils.HOST, fx.port) for fx in self.servers], self.port))
        self.port = self.proxy.port
        self.url = self.proxy.url
        self.startup_seconds = time.monotonic() - t0

    def log_tail(self, lines=60):
        return '\n'.join(fx.log_tail(lines) for fx in self.servers)

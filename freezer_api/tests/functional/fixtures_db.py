"""The database under the functional tests' freezer-api servers.

Environment:
  FREEZER_FUNC_DB_URL  a PostgreSQL or MySQL/MariaDB server URL (e.g.
                       ``postgresql+psycopg2://postgres@127.0.0.1:5432/postgres``).
                       Every server group then gets a fresh database of its
                       own on that server, dropped afterwards. Unset: a
                       SQLite file per server group.

For the outage tests, :class:`PostgresServerFixture` and
:class:`MariaDBServerFixture` run a private database server that a test
may stop and start again; they need PostgreSQL's ``initdb``/``pg_ctl`` and
``mariadbd``/``mariadb-install-db`` (``.ci/run`` installs them).
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

import fixtures
import sqlalchemy as sa

from freezer_api.tests import databases
from freezer_api.tests.functional import utils

DB_URL_ENV = 'FREEZER_FUNC_DB_URL'


def server_url():
    """The database server of this run, or None for SQLite."""
    return os.environ.get(DB_URL_ENV) or None


def backend():
    """'sqlite', 'postgresql' or 'mysql': what this run stores in."""
    url = server_url()
    return sa.engine.make_url(url).get_backend_name() if url else 'sqlite'


class FreshDatabaseFixture(fixtures.Fixture):
    """An empty database: on ``server`` (a URL) or a SQLite file.

    Attribute after setUp: ``url``, the [database] connection to use.
    """

    def __init__(self, server=None):
        super().__init__()
        self.server = server

    def _setUp(self):
        if not self.server:
            tmp = self.useFixture(fixtures.TempDir()).path
            self.url = 'sqlite:///%s' % os.path.join(tmp, 'freezer.sqlite')
            return
        url = databases.create(self.server, 'freezer_func')
        self.addCleanup(databases.drop, self.server, url)
        self.url = url.render_as_string(hide_password=False)


def _wait_until(ready, timeout, what, log_path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise utils.ServiceError(f'{what} did not start within {timeout:.0f}s\n'
                             f'{utils.tail(log_path)}')


def _can_connect(url):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql('SELECT 1')
        return True
    except sa.exc.DBAPIError:
        return False
    finally:
        engine.dispose()


class _PrivateServerFixture(fixtures.Fixture):
    """A database server of our own on a free port, to stop and restart.

    Attributes after setUp: ``url`` (a server URL, for
    :class:`FreshDatabaseFixture`), ``port``, ``log_file``.
    """

    def _setUp(self):
        self.dir = tempfile.mkdtemp(prefix=f'freezer-func-{self.name}-')
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.port = utils.free_port()
        self.log_file = os.path.join(self.dir, 'server.log')
        self.init()
        self.addCleanup(self.stop)
        self.start()

    def wait_ready(self, timeout=60):
        _wait_until(lambda: _can_connect(self.url), timeout, self.name,
                    self.log_file)


class PostgresServerFixture(_PrivateServerFixture):
    name = 'postgresql'

    @staticmethod
    def bindir():
        found = sorted(glob.glob('/usr/lib/postgresql/*/bin/pg_ctl'))
        pg_ctl = shutil.which('pg_ctl') or (found[-1] if found else None)
        if not pg_ctl:
            raise utils.ServiceError('pg_ctl not found: install postgresql')
        return os.path.dirname(pg_ctl)

    def _as_postgres(self, *argv):
        # initdb refuses to run as root.
        if os.geteuid() == 0:
            argv = ('runuser', '-u', 'postgres', '--') + argv
        subprocess.run(argv, check=True, capture_output=True,  # noqa: S603
                       timeout=120)

    def init(self):
        if os.geteuid() == 0:
            shutil.chown(self.dir, 'postgres')
        self.data = os.path.join(self.dir, 'data')
        self._as_postgres(os.path.join(self.bindir(), 'initdb'), '-D',
                          self.data, '-A', 'trust', '-U', 'postgres')
        self.url = (f'postgresql+psycopg2://postgres@{utils.HOST}:'
                    f'{self.port}/postgres')

    def start(self):
        self._as_postgres(
            os.path.join(self.bindir(), 'pg_ctl'), '-D', self.data, '-l',
            self.log_file, '-w', '-o',
            f'-h {utils.HOST} -p {self.port} -k {self.dir} -c fsync=off',
            'start')
        self.wait_ready()

    def stop(self):
        """Stop at once (clients are disconnected, like a crash)."""
        try:
            self._as_postgres(os.path.join(self.bindir(), 'pg_ctl'), '-D',
                              self.data, '-m', 'immediate', '-w', 'stop')
        except subprocess.CalledProcessError:
            pass  # not running


class MariaDBServerFixture(_PrivateServerFixture):
    name = 'mariadb'
    proc = None

    def init(self):
        self.data = os.path.join(self.dir, 'data')
        subprocess.run(  # noqa: S603
            ['mariadb-install-db', '--no-defaults', f'--datadir={self.data}',
             '--user=root', '--auth-root-authentication-method=normal',
             '--skip-test-db'], check=True, capture_output=True, timeout=120)
        self.url = f'mysql+pymysql://root@{utils.HOST}:{self.port}/mysql'

    def start(self):
        self.proc = utils.start_process(
            ['mariadbd', '--no-defaults', f'--datadir={self.data}',
             '--user=root', f'--bind-address={utils.HOST}',
             f'--port={self.port}', f'--socket={self.dir}/sock',
             '--innodb-flush-log-at-trx-commit=1'], self.log_file)
        self.wait_ready()

    def stop(self):
        """SIGKILL: clients are disconnected, like a crash."""
        utils.stop_process(self.proc, sig=signal.SIGKILL)
        self.proc = None


PRIVATE_SERVERS = {
    'postgresql': PostgresServerFixture,
    'mysql': MariaDBServerFixture,
}

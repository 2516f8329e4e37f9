"""Test bases: an isolated config, policy and database for every test.

The database is a fresh SQLite file per test, or, when
FREEZER_TEST_DB_URL names a PostgreSQL or MySQL server, one database per
test process created on that server and emptied after every test.
"""

import atexit
import os
import threading

import fixtures
from oslo_config import cfg
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
from oslo_log import log
from oslotest import base as oslotest_base
import sqlalchemy as sa

from freezer_api import conf as freezer_conf
from freezer_api.common import context
from freezer_api.common import policy
from freezer_api.db.sqlalchemy import api as db_impl
from freezer_api.db.sqlalchemy import liveness
from freezer_api.db.sqlalchemy import models
from freezer_api.tests import databases

DB_URL_ENV = 'FREEZER_TEST_DB_URL'


class ConfFixture(fixtures.Fixture):
    """A ConfigOpts of our own with every freezer-api option registered."""

    def _setUp(self):
        self.conf = cfg.ConfigOpts()
        freezer_conf.register_opts(self.conf)
        log.register_options(self.conf)
        self.conf([], project='freezer', default_config_files=[])
        # Option groups registered from a module-level OptGroup (such as
        # [api]) share their options, overrides included, with every other
        # ConfigOpts of the process: undo this test's overrides.
        self.addCleanup(self.conf.reset)
        self.conf.set_override('auth_strategy', 'noauth')
        policy.reset()
        self.addCleanup(policy.reset)


class _ServerDatabase:
    """One database per test process on a shared server, made once."""

    _lock = threading.Lock()
    _engine = None

    @classmethod
    def engine(cls, server_url):
        with cls._lock:
            if cls._engine is None:
                url = databases.create(server_url, 'freezer_test')
                cls._engine = sa.create_engine(url)
                models.Base.metadata.create_all(cls._engine)
                atexit.register(cls._drop, server_url, url)
            return cls._engine

    @classmethod
    def _drop(cls, server_url, url):
        cls._engine.dispose()
        databases.drop(server_url, url)


class DatabaseFixture(fixtures.Fixture):
    """Point the enginefacade at an empty test database."""

    def _setUp(self):
        # Poll times noted by an earlier test are of its database.
        liveness.discard()
        server_url = os.environ.get(DB_URL_ENV)
        if server_url:
            url = _ServerDatabase.engine(server_url).url
            self.addCleanup(self._empty, _ServerDatabase.engine(server_url))
        else:
            tmp = self.useFixture(fixtures.TempDir()).path
            url = 'sqlite:///%s' % os.path.join(tmp, 'freezer.sqlite')
        self.url = url
        facade = enginefacade.transaction_context()
        facade.configure(connection=url, **db_impl.FACADE_OPTIONS)
        facade.append_on_engine_create(db_impl.configure_engine)
        self.useFixture(test_fixtures.ReplaceEngineFacadeFixture(
            db_impl.main_context_manager, facade))
        self.engine = facade.writer.get_engine()
        if not server_url:
            models.Base.metadata.create_all(self.engine)
        self.addCleanup(facade.dispose_pool)

    @staticmethod
    def _empty(engine):
        with engine.begin() as conn:
            for table in reversed(models.Base.metadata.sorted_tables):
                conn.execute(table.delete())


class TestCase(oslotest_base.BaseTestCase):
    """A test with its own config and policy."""

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(ConfFixture()).conf

    def context(self, project_id='project-a', user_id='user-a',
                roles=('member', 'reader')):
        return context.RequestContext(user_id=user_id, project_id=project_id,
                                      roles=list(roles))


class DbTestCase(TestCase):
    """A test with its own empty database as well."""

    def setUp(self):
        super().setUp()
        self.database = self.useFixture(DatabaseFixture())

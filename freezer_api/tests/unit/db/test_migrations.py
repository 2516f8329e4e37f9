"""Schema migrations: upgrade from empty, and models == migrations.

Runs on a fresh SQLite file, or on a fresh database made for the test on
the server FREEZER_TEST_DB_URL names.
"""

import os

import fixtures
from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa

from freezer_api.db import migration
from freezer_api.db.sqlalchemy import models
from freezer_api.tests import databases
from freezer_api.tests.unit import base


class EmptyDatabase(fixtures.Fixture):
    """A database of its own, with no tables, dropped afterwards."""

    def _setUp(self):
        server_url = os.environ.get(base.DB_URL_ENV)
        if not server_url:
            tmp = self.useFixture(fixtures.TempDir()).path
            self.url = sa.engine.make_url(
                'sqlite:///%s' % os.path.join(tmp, 'migrated.sqlite'))
            return
        self.url = databases.create(server_url, 'freezer_mig')
        self.addCleanup(databases.drop, server_url, self.url)

    def engine(self):
        """An engine on the database, disposed of before it is dropped."""
        engine = sa.create_engine(self.url)
        self.addCleanup(engine.dispose)
        return engine


class TestUpgrade(base.TestCase):

    def setUp(self):
        super().setUp()
        self.database = self.useFixture(EmptyDatabase())

    def test_upgrade_from_empty(self):
        url = self.database.url
        self.assertIsNone(migration.version(url))
        migration.upgrade(url)
        self.assertEqual(migration.head(), migration.version(url))
        inspector = sa.inspect(self.database.engine())
        self.assertTrue({'actions', 'search_entries', 'jobs', 'job_actions',
                         'sessions', 'clients', 'backups', 'alembic_version'}
                        .issubset(inspector.get_table_names()))
        self.assertEqual(
            {'ix_search_entries_doc', 'ix_search_entries_term'},
            {ix['name'] for ix in inspector.get_indexes('search_entries')})
        if inspector.dialect.name != 'sqlite':
            for table in ('search_entries', 'job_actions'):
                column, = [c for c in inspector.get_columns(table)
                           if c['name'] == 'id']
                self.assertIsInstance(column['type'], sa.BigInteger)

    def test_upgrade_again_changes_nothing(self):
        url = self.database.url
        migration.upgrade(url)
        migration.upgrade(url)
        self.assertEqual(migration.head(), migration.version(url))

    def test_migrated_schema_takes_documents(self):
        url = self.database.url
        migration.upgrade(url)
        row = {'seq': 1, 'project_id': 'p', 'user_id': 'u', 'version': 1,
               'created_at': models.utcnow(), 'action_id': 'a1',
               'max_retries': 5, 'max_retries_interval': 6,
               'mandatory': False, 'freezer_action': {'action': 'backup'}}
        with self.database.engine().begin() as conn:
            conn.execute(sa.insert(models.Action.__table__), [row])
            self.assertRaises(
                sa.exc.IntegrityError, conn.execute,
                sa.insert(models.Action.__table__), [dict(row, seq=2)])

    def test_free_text_of_stored_documents_is_filled(self):
        url = self.database.url
        migration.upgrade(url, '0002')
        now = models.utcnow()
        common = {'project_id': 'p', 'user_id': 'U', 'version': 1,
                  'created_at': now}
        with self.database.engine().begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO actions (seq, project_id, user_id, version, "
                "created_at, action_id, max_retries, max_retries_interval, "
                "mandatory, freezer_action) VALUES (1, :project_id, "
                ":user_id, :version, :created_at, 'act', 5, 6, false, "
                ":fa)"), dict(common, fa='{"backup_name": "Nightly\\u0000"}'))
            conn.execute(sa.text(
                "INSERT INTO jobs (seq, project_id, user_id, version, "
                "created_at, job_id, client_id, session_id, session_tag, "
                "description, job_schedule) VALUES (1, :project_id, "
                ":user_id, :version, :created_at, 'job', 'node', '', 0, "
                "'Weekly', '{\"status\": \"Scheduled\"}')"), common)
            conn.execute(sa.text(
                "INSERT INTO job_actions (job_seq, position, action_seq) "
                "VALUES (1, 0, 1)"))
        migration.upgrade(url)
        with self.database.engine().connect() as conn:
            bodies = dict(conn.execute(sa.text(
                'SELECT resource, body FROM search_texts')).all())
        sep = '\x1f'
        self.assertEqual({'act', 'p', 'u', 'nightly'},
                         set(bodies['actions'].split(sep)) - {''})
        self.assertEqual({'job', 'p', 'u', 'node', 'weekly', 'scheduled',
                          'act', 'nightly'},
                         set(bodies['jobs'].split(sep)) - {''})

    def test_search_entries_get_their_documents_project(self):
        url = self.database.url
        migration.upgrade(url, '0005')
        with self.database.engine().begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO actions (seq, project_id, user_id, version, "
                "created_at, action_id, max_retries, max_retries_interval, "
                "mandatory, freezer_action) VALUES (7, 'p7', 'u', 1, "
                ":now, 'act', 5, 6, false, '{}')"), {'now': models.utcnow()})
            # Two entries of the action, one of a document long gone.
            conn.execute(sa.text(
                "INSERT INTO search_entries (resource, doc_seq, key_hash, "
                "value_hash) VALUES ('actions', 7, 'k1', 'v1'), "
                "('actions', 7, 'k2', 'v2'), ('actions', 8, 'k1', 'v1')"))
        migration.upgrade(url)
        with self.database.engine().connect() as conn:
            rows = conn.execute(sa.text(
                'SELECT doc_seq, project_id FROM search_entries '
                'ORDER BY key_hash')).all()
        self.assertEqual([(7, 'p7'), (7, 'p7')], [tuple(r) for r in rows])

    def test_head_is_known(self):
        self.assertEqual('0007', migration.head())


class TestModelsMigrationsSync(test_migrations.ModelsMigrationsSync,
                               base.TestCase):
    """models.py and the alembic migrations describe the same schema."""

    def setUp(self):
        super().setUp()
        self.database = self.useFixture(EmptyDatabase())
        self.engine = self.database.engine()

    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        migration.upgrade(engine.url)

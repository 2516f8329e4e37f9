"""freezer-manage db sync|upgrade|version|stamp: what it prints, and a
one-line reason with a non-zero exit when it fails."""

from freezer_api.cmd import manage
from freezer_api.db import migration
from freezer_api.tests.unit.cmd import base

PASSWORD = 's3cret-pw'


class TestDbCommands(base.CommandTestCase):

    def test_sync_creates_the_schema_at_head(self):
        code, out, err = self.run_main(manage.main, 'db', 'sync')
        self.assertEqual((0, ''), (code, err))
        self.assertEqual('Database is at revision %s\n' % migration.head(),
                         out)
        self.assertEqual(migration.head(), migration.version(self.db_url))

    def test_upgrade_is_sync(self):
        code, out, _ = self.run_main(manage.main, 'db', 'upgrade')
        self.assertEqual(0, code)
        self.assertEqual(migration.head(), migration.version(self.db_url))

    def test_version_of_an_empty_database_is_none(self):
        self.assertEqual((0, 'None\n', ''),
                         self.run_main(manage.main, 'db', 'version'))

    def test_version_after_sync_is_head(self):
        migration.upgrade(self.db_url)
        self.assertEqual((0, migration.head() + '\n', ''),
                         self.run_main(manage.main, 'db', 'version'))

    def test_stamp_head_records_head_without_migrating(self):
        code, out, err = self.run_main(manage.main, 'db', 'stamp', 'head')
        self.assertEqual((0, ''), (code, err))
        self.assertEqual(
            'Database is recorded at revision %s\n' % migration.head(), out)

    def test_stamp_a_revision_then_sync_from_it(self):
        migration.upgrade(self.db_url, '0001')
        migration.stamp(self.db_url, 'head')
        code, _, _ = self.run_main(manage.main, 'db', 'stamp', '0001')
        self.assertEqual(0, code)
        self.assertEqual('0001', migration.version(self.db_url))

    def test_stamp_needs_a_revision(self):
        self.assertRaises(SystemExit, self.run_main, manage.main,
                          'db', 'stamp')


class TestDbCommandFailures(base.CommandTestCase):

    def assertOneLineFailure(self, code, err, expected_code, reason):
        self.assertEqual(expected_code, code)
        self.assertEqual(1, err.count('\n'), err)
        self.assertTrue(err.startswith('freezer-manage: '), err)
        self.assertIn(reason, err)
        self.assertNotIn('Traceback', err)
        self.assertNotIn(PASSWORD, err)

    def assertUnusableURL(self, command, url):
        code, _, err = self.run_main(manage.main, 'db', command,
                                     connection=url)
        self.assertOneLineFailure(
            code, err, manage.EXIT_BAD_INPUT,
            '[database] connection is not a usable database URL')

    def test_a_connection_that_is_not_a_url(self):
        self.assertUnusableURL('sync', 'postgresql//freezer:%s@db' % PASSWORD)

    def test_an_unknown_database_kind(self):
        self.assertUnusableURL('version',
                               'nosuchdb://freezer:%s@db/freezer' % PASSWORD)

    def test_an_unreachable_database(self):
        url = 'postgresql+psycopg2://freezer:%s@127.0.0.1:%d/freezer' % (
            PASSWORD, base.closed_port())
        for command in ('sync', 'version'):
            code, _, err = self.run_main(manage.main, 'db', command,
                                         connection=url)
            self.assertOneLineFailure(
                code, err, manage.EXIT_DATABASE_ERROR,
                'freezer-manage: cannot use the database: '
                'OperationalError: ')
            self.assertIn('127.0.0.1', err)

    def test_an_unknown_revision(self):
        code, _, err = self.run_main(manage.main, 'db', 'stamp', 'abc123')
        self.assertOneLineFailure(code, err, manage.EXIT_BAD_INPUT,
                                  "'abc123'")
        self.assertIsNone(migration.version(self.db_url))

    def test_the_log_file_keeps_the_traceback_without_the_password(self):
        log_file = '%s/manage.log' % self.tmp
        url = 'postgresql+psycopg2://freezer:%s@127.0.0.1:%d/freezer' % (
            PASSWORD, base.closed_port())
        code, _, err = self.run_main(
            manage.main, 'db', 'sync', connection=url,
            extra='[DEFAULT]\nlog_file = %s\n' % log_file)
        self.assertOneLineFailure(code, err, manage.EXIT_DATABASE_ERROR,
                                  'cannot use the database')
        with open(log_file) as f:
            logged = f.read()
        self.assertIn('Traceback', logged)
        self.assertIn('freezer-manage failed: cannot use the database',
                      logged)
        self.assertNotIn(PASSWORD, logged)


class TestRedact(base.CommandTestCase):

    def test_password_of_the_url_and_any_url_is_masked(self):
        url = 'mysql+pymysql://u:%s@h/d' % PASSWORD
        self.assertEqual(
            'bad mysql+pymysql://u:***@h/d and ***, x://a:***@b',
            manage.redact('bad %s and %s, x://a:b@b' % (url, PASSWORD),
                          url))

"""The logging set-up of freezer_api.common.service."""

import logging
import sys

import pymysql
import sqlalchemy as sa
import testtools

from freezer_api.common import service


def _record(name, level, error):
    try:
        raise error
    except Exception:
        return logging.LogRecord(name, level, __file__, 1, 'Exception %s',
                                 ('during reset',), sys.exc_info())


class TestOneLineLibraryErrors(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.filter = service.OneLineLibraryErrors()
        self.formatter = logging.Formatter('%(levelname)s %(message)s')

    def formatted(self, record):
        self.assertTrue(self.filter.filter(record))
        return self.formatter.format(record)

    def test_pool_error_is_one_warning_line_without_sql(self):
        error = sa.exc.OperationalError(
            'ROLLBACK', {}, pymysql.err.OperationalError(
                2013, 'Lost connection to MySQL server during query'))
        text = self.formatted(_record('sqlalchemy.pool.impl.QueuePool',
                                      logging.ERROR, error))
        self.assertEqual(
            'WARNING Exception during reset: OperationalError: '
            "(2013, 'Lost connection to MySQL server during query')", text)

    def test_oslo_db_keeps_its_level(self):
        text = self.formatted(_record('oslo_db.api', logging.ERROR,
                                      ValueError('first\nsecond')))
        self.assertEqual('ERROR Exception during reset: ValueError: first',
                         text)

    def test_our_own_tracebacks_are_left_alone(self):
        record = _record('freezer_api.db', logging.ERROR, ValueError('x'))
        text = self.formatted(record)
        self.assertIn('Traceback', text)

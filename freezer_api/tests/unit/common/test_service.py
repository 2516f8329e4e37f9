"""The logging set-up of freezer_api.common.service."""

import logging
import subprocess
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


# A function's annotations read for the first time while a garbage
# collection runs a finalizer that reads them too: the finalizer turns the
# tuple into a dict and frees it, a new tuple takes its memory, and the
# first read builds the function's annotations from that (or crashes).
# Threads do the same when a collection lets another one run.
_FIRST_READ_UNDER_COLLECTION = '''
import gc, sys
from freezer_api.common import service

def f(a: int, b: str) -> bool:
    return True

class Trap:
    def __del__(self):
        f.__annotations__
        kept.append(tuple(['x', 1, 'y', 2, 'z', 3]))

kept = []
if sys.argv[1] == 'settled':
    service.settle_annotations()
gc.collect()
trap = Trap()
trap.cycle = trap
del trap
gc.set_threshold(1)
annotations = f.__annotations__
gc.set_threshold(700)
print(sorted(annotations))
'''


class TestSettleAnnotations(testtools.TestCase):

    def first_read(self, mode):
        result = subprocess.run(  # noqa: S603
            [sys.executable, '-c', _FIRST_READ_UNDER_COLLECTION, mode],
            capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(0, result.returncode, result.stderr)
        return result.stdout.strip()

    def test_annotations_read_under_collection_stay_right(self):
        if self.first_read('unsettled') == "['a', 'b', 'return']":
            self.skipTest('this Python builds annotations safely')
        self.assertEqual("['a', 'b', 'return']", self.first_read('settled'))

    def test_every_loaded_function_is_looked_at(self):
        self.assertGreater(service.settle_annotations(), 1000)

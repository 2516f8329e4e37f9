"""Helpers the unit test modules share: where the source tree's files
are, running callables at once from threads, and capturing the SQL
statements an engine sends."""

import os
import threading
import time

import fixtures
import sqlalchemy as sa

# The source tree: the checkout the tests run from.
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                    '..'))
# The sample configuration files.
ETC = os.path.join(ROOT, 'etc', 'freezer')


def run_concurrently(test, calls, timeout=120, barrier=True,
                     names=None):
    """Run every ``call()`` of ``calls`` at once, each from a thread of its
    own; their results, in order.

    ``test`` fails when a call does not finish within ``timeout`` seconds
    (all of them together) or raises. With ``barrier`` the calls start
    together, once every thread is running. ``names`` (one a call) say
    which call it was in a failure.

    Daemon threads: one that hangs fails the test, not the run.
    """
    names = names or ['call %d' % index for index in range(len(calls))]
    start = threading.Barrier(len(calls)) if barrier else None
    results = [None] * len(calls)
    errors = [None] * len(calls)

    def run(index):
        try:
            if start is not None:
                start.wait(timeout)
            results[index] = calls[index]()
        except BaseException as error:  # noqa: BLE001 - re-raised below
            errors[index] = error

    threads = [threading.Thread(target=run, args=(i,), daemon=True)
               for i in range(len(calls))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for index, thread in enumerate(threads):
        thread.join(max(0, deadline - time.monotonic()))
        test.assertFalse(thread.is_alive(), '%s did not finish in %ss'
                         % (names[index], timeout))
    for index, error in enumerate(errors):
        if error is not None:
            raise AssertionError('%s raised %r'
                                 % (names[index], error)) from error
    return results


class StatementCapture(fixtures.Fixture):
    """Records the statements ``engine`` sends for which ``keep(statement)``
    is true, in ``sent``: (statement, parameters) pairs, or the statements
    alone when ``parameters`` is false.

    Use it with ``useFixture`` for the rest of a test, or as a context
    manager around the calls to watch.
    """

    def __init__(self, engine, keep, parameters=True):
        super().__init__()
        self.engine = engine
        self.keep = keep
        self.parameters = parameters
        self.sent = []

    def _setUp(self):
        sa.event.listen(self.engine, 'before_cursor_execute', self._capture)
        self.addCleanup(sa.event.remove, self.engine,
                        'before_cursor_execute', self._capture)

    def _capture(self, conn, cursor, statement, parameters, context, many):
        if self.keep(statement):
            self.sent.append((statement, parameters) if self.parameters
                             else statement)

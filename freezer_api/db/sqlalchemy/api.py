"""SQLAlchemy implementation of the freezer-api database facade.

Functions take the request context first and run in an enginefacade reader
or writer transaction. Every write bumps the document's ``version`` and
rewrites its ``search_entries`` in the same transaction.
"""

from collections.abc import Callable
import functools
import threading
import time
import typing

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log
import sqlalchemy as sa

from freezer_api.common import context as freezer_context
from freezer_api.common import exception
from freezer_api.common import utils

if typing.TYPE_CHECKING:
    import sqlite3

LOG = log.getLogger(__name__)

P = typing.ParamSpec('P')
T = typing.TypeVar('T')

# oslo.db sleeps (time.sleep(0)) on every connection check-in so that
# eventlet green threads take turns; our workers are real threads, for
# which it only gives the GIL away once more per transaction.
FACADE_OPTIONS = {'thread_checkin': False}

main_context_manager = enginefacade.transaction_context()
main_context_manager.configure(**FACADE_OPTIONS)

_WRITE_OPTION = 'freezer_write'


def configure_engine(engine: sa.engine.Engine) -> None:
    """Set up each database's connections the way the models need them."""
    if engine.dialect.name == 'sqlite':
        _configure_sqlite(engine)
    elif engine.dialect.name == 'mysql':
        _configure_mysql(engine)
    else:
        return
    # oslo.db opened a first connection to test the engine before these
    # listeners existed: drop it, so that every connection has them.
    engine.dispose()


def _configure_mysql(engine: sa.engine.Engine) -> None:
    """Talk utf8mb4 to MySQL/MariaDB.

    oslo.db asks for the 3-byte "utf8" when the URL names no charset, and
    the server then refuses 4-byte characters (emoji) that the tables,
    utf8mb4 since revision 0004, hold.
    """
    @sa.event.listens_for(engine, 'connect')
    def _on_connect(dbapi_conn: typing.Any,
                    record: sa.pool.ConnectionPoolEntry) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("SET NAMES 'utf8mb4' COLLATE 'utf8mb4_bin'")
        cursor.close()


# Connections a SQLite engine keeps open for reuse (more are opened when
# more threads need one at once, and closed when they are given back).
SQLITE_POOL_SIZE = 16


def _pool_sqlite_file(engine: sa.engine.Engine) -> None:
    """Keep SQLite file connections open between transactions.

    oslo.db gives a SQLite file a NullPool, so every transaction opened
    the file, set it up and closed it again: about a tenth of the CPU of a
    request. A queue pool reuses them; there is no server that could have
    dropped one, so no ping on checkout either. The listeners stay: they
    belong to the pool's dispatch, which the new pool takes over.
    """
    old = engine.pool
    if not isinstance(old, sa.pool.NullPool):
        return
    engine.pool = sa.pool.QueuePool(
        old._creator, pool_size=SQLITE_POOL_SIZE, max_overflow=-1,
        pre_ping=False, recycle=old._recycle,
        logging_name=old._orig_logging_name,
        _dispatch=old.dispatch, dialect=old._dialect)
    old.dispose()


def _configure_sqlite(engine: sa.engine.Engine) -> None:
    """Make a file SQLite database safe under concurrent threads.

    oslo.db turns pysqlite's own transaction handling off and emits BEGIN
    itself. A write transaction starts with BEGIN IMMEDIATE instead, so
    that it waits for the write lock up front rather than failing when it
    upgrades a read lock; WAL lets readers go on while one writer works.
    """

    @sa.event.listens_for(engine, 'connect')
    def _on_connect(dbapi_conn: typing.Any,
                    record: sa.pool.ConnectionPoolEntry) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute('PRAGMA busy_timeout = 30000')
        if engine.url.database not in (None, '', ':memory:'):
            cursor.execute('PRAGMA journal_mode = WAL')
        cursor.close()

    if engine.url.database not in (None, '', ':memory:'):
        _pool_sqlite_file(engine)

    # oslo.db's listener would send a plain BEGIN first: ours replaces it.
    for listener in list(engine.dispatch.begin):
        if getattr(listener, '__name__', '') == '_sqlite_emit_begin':
            sa.event.remove(engine, 'begin', listener)

    @sa.event.listens_for(engine, 'begin')
    def _on_begin(conn: sa.engine.Connection) -> None:
        if 'in_transaction' not in conn.info:
            if conn.get_execution_options().get(_WRITE_OPTION):
                # Waits for the lock: its failure must go through
                # SQLAlchemy's and oslo.db's error handling.
                conn.exec_driver_sql('BEGIN IMMEDIATE')
            else:
                # A deferred BEGIN takes no lock; straight to the driver,
                # which costs a tenth of a read less. (A connection that
                # begins is live: its sqlite3 connection is not None.)
                dbapi = typing.cast('sqlite3.Connection',
                                    conn.connection.dbapi_connection)
                dbapi.execute('BEGIN')
            conn.info['in_transaction'] = True


main_context_manager.append_on_engine_create(configure_engine)


def get_engine() -> sa.engine.Engine:
    return main_context_manager.writer.get_engine()


def one_writer_holds_all() -> bool:
    """Whether a write transaction holds the whole database from its
    start (SQLite: BEGIN IMMEDIATE), so that what it reads cannot change
    under it."""
    return get_engine().dialect.name == 'sqlite'


def dispose_engine() -> None:
    """Close pooled connections (before a server forks its workers)."""
    main_context_manager.dispose_pool()


# Whether this thread's outermost write transaction has done its work and
# is being committed: a connection lost then may have lost only the
# server's answer, the write itself being stored.
_commit = threading.local()


# SQLite takes one writer at a time. The threads of a process that would
# write queue here, each woken as soon as the one before it commits,
# instead of polling in SQLite's busy handler, whose sleeps grow to 100
# ms: that was the p99 of writes under concurrency. (Other processes on
# the same file still meet in the busy handler.)
_sqlite_writers = threading.RLock()


def _one_sqlite_writer(fn: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        if get_engine().dialect.name != 'sqlite':
            return fn(*args, **kwargs)
        with _sqlite_writers:
            return fn(*args, **kwargs)
    return wrapper


def writer(
    fn: Callable[typing.Concatenate[freezer_context.RequestContext, P], T]
) -> Callable[typing.Concatenate[freezer_context.RequestContext, P], T]:
    """Run ``fn(context, ...)`` in one write transaction, retried on
    deadlock."""
    @oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
    @_one_sqlite_writer
    @main_context_manager.writer
    @functools.wraps(fn)
    def wrapper(context: freezer_context.RequestContext,
                *args: P.args, **kwargs: P.kwargs) -> T:
        depth = getattr(_commit, 'depth', 0)
        _commit.depth, _commit.pending = depth + 1, False
        try:
            context.session.connection(
                execution_options={_WRITE_OPTION: True})
            result = fn(context, *args, **kwargs)
        finally:
            _commit.depth = depth
        # enginefacade commits the outermost transaction when we return.
        _commit.pending = depth == 0
        return result
    return wrapper


def reader(fn: Callable[P, T]) -> Callable[P, T]:
    """Run ``fn(context, ...)`` in one read transaction."""
    return main_context_manager.reader(fn)


class _Outage:
    """Whether the database is unreachable, so that an outage is logged
    at ERROR once when it starts and once when it ends, and each request
    it fails in one WARNING line (not a traceback)."""

    lock = threading.Lock()
    since: float | None = None

    @classmethod
    def failed(cls, operation: str, error: Exception) -> None:
        reason = utils.error_summary(error)
        with cls.lock:
            started = cls.since is None
            if started:
                cls.since = time.monotonic()
        if started:
            LOG.error('The database is unreachable: %s', reason)
        LOG.warning('Database operation %s failed, the database is '
                    'unreachable: %s', operation, reason)

    @classmethod
    def succeeded(cls) -> None:
        if cls.since is None:
            return
        with cls.lock:
            since, cls.since = cls.since, None
        if since is not None:
            LOG.error('The database is reachable again after %.1f s',
                      time.monotonic() - since)


# The database cannot be reached. oslo.db wraps most connection failures in
# DBConnectionError; one that happens while the pool opens a connection
# reaches us as SQLAlchemy's own OperationalError or InterfaceError, and a
# pool with no free connection raises TimeoutError.
_UNREACHABLE = (db_exc.DBConnectionError, sa.exc.OperationalError,
                sa.exc.InterfaceError, sa.exc.TimeoutError)

# MySQL's "Server shutdown in progress", which oslo.db does not count as a
# disconnect: the server is going away.
_MYSQL_SHUTDOWN = 1053


def _operational(error: Exception) -> sa.exc.OperationalError | None:
    """The driver's OperationalError behind an oslo.db DBError (a server
    shutting down, a lock wait timeout: nothing the request did), or
    None."""
    inner = getattr(error, 'inner_exception', None)
    if isinstance(inner, sa.exc.OperationalError):
        return inner
    return None


def _unavailable() -> exception.FreezerException:
    """The error for a write the database failed: whether it may have been
    stored depends on whether it failed in its commit."""
    if _commit.pending:
        return exception.CommitOutcomeUnknown()
    return exception.DatabaseUnavailable()


def storage_errors(fn: Callable[P, T]) -> Callable[P, T]:
    """Turn database failures into caller-safe errors, logging the cause."""
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        _commit.pending = False
        try:
            result = fn(*args, **kwargs)
        except exception.FreezerException:
            raise
        except db_exc.DBDuplicateEntry:
            raise exception.Conflict(
                'Document with the specified ID already exists.') from None
        except _UNREACHABLE as error:
            _Outage.failed(fn.__name__, error)
            raise _unavailable() from None
        except db_exc.DBDeadlock:
            # Still deadlocked after oslo.db's retries: nothing was written.
            LOG.warning('Database operation %s failed: deadlock',
                        fn.__name__)
            raise exception.DatabaseUnavailable() from None
        except db_exc.DBError as error:
            operational = _operational(error)
            if operational is None:
                LOG.exception('Database operation %s failed', fn.__name__)
                raise exception.StorageError() from None
            code = getattr(operational.orig, 'args', (None,))[0]
            if code == _MYSQL_SHUTDOWN:
                _Outage.failed(fn.__name__, error)
            else:
                LOG.warning('Database operation %s failed: %s',
                            fn.__name__, utils.error_summary(error))
            raise _unavailable() from None
        _Outage.succeeded()
        return result
    return wrapper


def read_transaction(fn: Callable[P, T]) -> Callable[P, T]:
    """A database read: a reader transaction with caller-safe errors."""
    return storage_errors(reader(fn))


class ReadContext:
    """The request context of a read, with the read's connection."""

    __slots__ = ('_context', 'connection')

    def __init__(self, context: freezer_context.RequestContext,
                 connection: sa.engine.Connection) -> None:
        self._context = context
        self.connection = connection

    def __getattr__(self, name: str) -> typing.Any:
        return getattr(self._context, name)


def read_connection(
    fn: Callable[typing.Concatenate[ReadContext, P], T]
) -> Callable[typing.Concatenate[freezer_context.RequestContext, P], T]:
    """A database read in a transaction of its own on a pooled connection
    (``context.connection``), with caller-safe errors.

    For the reads the controllers make, never nested in another
    transaction: neither an ORM session nor enginefacade's bookkeeping,
    which cost as much as the query.
    """
    @functools.wraps(fn)
    def wrapper(context: freezer_context.RequestContext,
                *args: P.args, **kwargs: P.kwargs) -> T:
        engine = main_context_manager.reader.get_engine()
        with engine.connect() as connection:
            connection.begin()
            try:
                return fn(ReadContext(context, connection), *args, **kwargs)
            finally:
                connection.rollback()
    return storage_errors(wrapper)


def write_transaction(
    fn: Callable[typing.Concatenate[freezer_context.RequestContext, P], T]
) -> Callable[typing.Concatenate[freezer_context.RequestContext, P], T]:
    """A database write: a writer transaction with caller-safe errors."""
    return storage_errors(writer(fn))


def _is_duplicate(error: Exception) -> bool:
    return isinstance(error, db_exc.DBDuplicateEntry)


def upsert_transaction(
    fn: Callable[typing.Concatenate[freezer_context.RequestContext, P], T]
) -> Callable[typing.Concatenate[freezer_context.RequestContext, P], T]:
    """A create-or-replace: a write transaction run once more when a
    concurrent caller inserted the same id first, so that the second run
    replaces what the first created (both callers get their answer, not
    one a 409)."""
    retry = oslo_db_api.wrap_db_retry(max_retries=1, retry_interval=0,
                                      inc_retry_interval=False,
                                      exception_checker=_is_duplicate)
    return storage_errors(retry(writer(fn)))


# --- health ----------------------------------------------------------------

@read_transaction
def check_database(context: freezer_context.RequestContext) -> None:
    context.session.execute(sa.text('SELECT 1'))

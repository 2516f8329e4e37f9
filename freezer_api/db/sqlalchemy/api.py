"""SQLAlchemy implementation of the freezer-api database facade.

Functions take the request context first and run in an enginefacade reader
or writer transaction. Every write bumps the document's ``version`` and
rewrites its ``search_entries`` in the same transaction.
"""

import functools

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log
import sqlalchemy as sa

from freezer_api.common import exception
from freezer_api.common import search as search_lang
from freezer_api.db.sqlalchemy import models

LOG = log.getLogger(__name__)

main_context_manager = enginefacade.transaction_context()

_WRITE_OPTION = 'freezer_write'


def configure_engine(engine):
    """Make a file SQLite database safe under concurrent threads.

    oslo.db turns pysqlite's own transaction handling off and emits BEGIN
    itself. A write transaction starts with BEGIN IMMEDIATE instead, so
    that it waits for the write lock up front rather than failing when it
    upgrades a read lock; WAL lets readers go on while one writer works.
    """
    if engine.dialect.name != 'sqlite':
        return

    @sa.event.listens_for(engine, 'connect')
    def _on_connect(dbapi_conn, record):
        cursor = dbapi_conn.cursor()
        cursor.execute('PRAGMA busy_timeout = 30000')
        if engine.url.database not in (None, '', ':memory:'):
            cursor.execute('PRAGMA journal_mode = WAL')
        cursor.close()

    # oslo.db's listener would send a plain BEGIN first: ours replaces it.
    for listener in list(engine.dispatch.begin):
        if getattr(listener, '__name__', '') == '_sqlite_emit_begin':
            sa.event.remove(engine, 'begin', listener)

    @sa.event.listens_for(engine, 'begin')
    def _on_begin(conn):
        if 'in_transaction' not in conn.info:
            write = conn.get_execution_options().get(_WRITE_OPTION)
            conn.exec_driver_sql('BEGIN IMMEDIATE' if write else 'BEGIN')
            conn.info['in_transaction'] = True


main_context_manager.append_on_engine_create(configure_engine)


def get_engine():
    return main_context_manager.writer.get_engine()


def dispose_engine():
    """Close pooled connections (before a server forks its workers)."""
    main_context_manager.dispose_pool()


def writer(fn):
    """Run ``fn(context, ...)`` in one write transaction, retried on
    deadlock."""
    @oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
    @main_context_manager.writer
    @functools.wraps(fn)
    def wrapper(context, *args, **kwargs):
        context.session.connection(execution_options={_WRITE_OPTION: True})
        return fn(context, *args, **kwargs)
    return wrapper


reader = main_context_manager.reader


def _storage_errors(fn):
    """Turn database failures into caller-safe errors, logging the cause."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except exception.FreezerException:
            raise
        except db_exc.DBDuplicateEntry:
            raise exception.Conflict(
                'Document with the specified ID already exists.') from None
        except db_exc.DBError:
            LOG.exception('Database operation %s failed', fn.__name__)
            raise exception.StorageError() from None
    return wrapper


# --- search index -----------------------------------------------------------

def _reindex(session, resource, seq, document):
    session.execute(sa.delete(models.SearchEntry).where(
        models.SearchEntry.resource == resource,
        models.SearchEntry.doc_seq == seq))
    entries = search_lang.document_entries(document)
    if entries:
        session.execute(sa.insert(models.SearchEntry), [
            {'resource': resource, 'doc_seq': seq,
             'key_hash': k, 'value_hash': v} for k, v in entries])


def _unindex(session, resource, seq):
    session.execute(sa.delete(models.SearchEntry).where(
        models.SearchEntry.resource == resource,
        models.SearchEntry.doc_seq == seq))


def _term_exists(resource, seq_column, term, any_value=False):
    entry = models.SearchEntry
    conditions = [entry.resource == resource, entry.doc_seq == seq_column,
                  entry.key_hash == term.key_hash]
    if not any_value:
        conditions.append(entry.value_hash == term.value_hash)
    return sa.exists().where(*conditions)


def _term_condition(resource, seq_column, term):
    """SQL that holds when ``term`` holds for the row: a key that does not
    occur counts as null."""
    found = _term_exists(resource, seq_column, term)
    if term.value is None:
        return sa.or_(found, ~_term_exists(resource, seq_column, term,
                                           any_value=True))
    return found


def _apply_search(query, resource, seq_column, search):
    for term in search.match:
        query = query.where(_term_condition(resource, seq_column, term))
    for term in search.match_not:
        query = query.where(~_term_condition(resource, seq_column, term))
    return query


# --- generic document helpers ----------------------------------------------

class Kind:
    """How one resource is stored: its model, id column and document."""

    def __init__(self, resource, label, model, id_attr, to_document):
        self.resource = resource
        self.label = label
        self.model = model
        self.id_attr = id_attr
        self.id_column = getattr(model, id_attr)
        self.to_document = to_document

    def not_found(self, doc_id):
        return exception.ResourceNotFound(resource=self.label, id=doc_id)


def _get_row(session, kind, doc_id, project_id=None, for_update=False):
    if '\x00' in doc_id:
        # No stored id holds NUL (ids are validated), and PostgreSQL
        # refuses it in a query: an id from a URL may.
        return None
    query = sa.select(kind.model).where(kind.id_column == doc_id)
    if project_id is not None:
        query = query.where(kind.model.project_id == project_id)
    if for_update:
        # The version check and the write must see the same row: without
        # the lock, two writers could both pass the check on PostgreSQL
        # or MySQL and the second would overwrite the first.
        query = query.with_for_update()
    return session.scalars(query).first()


def _list_rows(session, kind, project_id, search, limit, offset):
    model = kind.model
    query = sa.select(model).where(model.project_id == project_id)
    query = _apply_search(query, kind.resource, model.seq, search)
    query = query.order_by(model.seq).limit(limit).offset(offset)
    return session.scalars(query).all()


def _check_version(kind, row, expected_version):
    if expected_version is not None and row.version != expected_version:
        raise exception.PreconditionFailed(
            resource=kind.label, id=getattr(row, kind.id_attr),
            current=row.version)


def _insert(session, kind, values):
    row = kind.model(version=1, **values)
    session.add(row)
    session.flush()
    document = kind.to_document(row)
    _reindex(session, kind.resource, row.seq, document)
    return document


def _update(session, kind, row, values):
    for key, value in values.items():
        setattr(row, key, value)
    row.version = row.version + 1
    session.flush()
    document = kind.to_document(row)
    _reindex(session, kind.resource, row.seq, document)
    return document


def _create(session, kind, values):
    if _get_row(session, kind, values[kind.id_attr]) is not None:
        raise exception.Conflict(resource=kind.label,
                                 id=values[kind.id_attr])
    return _insert(session, kind, values)


def _replace(session, kind, values, expected_version):
    doc_id = values[kind.id_attr]
    row = _get_row(session, kind, doc_id, for_update=True)
    if row is None:
        if expected_version is not None:
            raise kind.not_found(doc_id)
        return _insert(session, kind, values), True
    if row.project_id != values['project_id']:
        raise exception.Conflict(resource=kind.label, id=doc_id)
    _check_version(kind, row, expected_version)
    return _update(session, kind, row, values), False


def _patch(session, kind, project_id, doc_id, apply, expected_version):
    row = _get_row(session, kind, doc_id, project_id, for_update=True)
    if row is None:
        raise kind.not_found(doc_id)
    _check_version(kind, row, expected_version)
    return _update(session, kind, row, apply(kind.to_document(row)))


def _delete(session, kind, project_id, doc_id, expected_version):
    row = _get_row(session, kind, doc_id, project_id, for_update=True)
    if row is None:
        if expected_version is not None:
            raise kind.not_found(doc_id)
        return None
    _check_version(kind, row, expected_version)
    _unindex(session, kind.resource, row.seq)
    session.delete(row)
    return row


# --- actions ---------------------------------------------------------------

def action_document(row):
    return {
        'action_id': row.action_id,
        'project_id': row.project_id,
        'user_id': row.user_id,
        'freezer_action': row.freezer_action,
        'max_retries': row.max_retries,
        'max_retries_interval': row.max_retries_interval,
        'mandatory': row.mandatory,
        '_version': row.version,
    }


ACTIONS = Kind('actions', 'Action', models.Action, 'action_id',
               action_document)


@_storage_errors
@reader
def get_action(context, project_id, action_id):
    row = _get_row(context.session, ACTIONS, action_id, project_id)
    if row is None:
        raise ACTIONS.not_found(action_id)
    return action_document(row)


@_storage_errors
@reader
def list_actions(context, project_id, search, limit, offset):
    rows = _list_rows(context.session, ACTIONS, project_id, search, limit,
                      offset)
    return [action_document(row) for row in rows]


@_storage_errors
@writer
def create_action(context, values):
    return _create(context.session, ACTIONS, values)


@_storage_errors
@writer
def replace_action(context, values, expected_version=None):
    return _replace(context.session, ACTIONS, values, expected_version)


@_storage_errors
@writer
def update_action(context, project_id, action_id, apply,
                  expected_version=None):
    return _patch(context.session, ACTIONS, project_id, action_id, apply,
                  expected_version)


@_storage_errors
@writer
def delete_action(context, project_id, action_id, expected_version=None):
    _delete(context.session, ACTIONS, project_id, action_id,
            expected_version)


# --- health ----------------------------------------------------------------

@reader
def check_database(context):
    context.session.execute(sa.text('SELECT 1'))

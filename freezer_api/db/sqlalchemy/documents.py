"""Storage of documents: the generic row operations every resource
uses, and the ``search_entries`` index the search language runs on."""

from collections.abc import Callable
from collections.abc import Sequence
import dataclasses
import functools
import types
import typing

import sqlalchemy as sa
from sqlalchemy import orm

from freezer_api.common import exception
from freezer_api.common.types import Document
from freezer_api.db import search_index as search_lang
from freezer_api.db.sqlalchemy import column_search
from freezer_api.db.sqlalchemy import models

# What a document is built from: an ORM object, a row read with
# SQLAlchemy Core or a namespace of its columns (anything that has the
# columns as attributes).
ColumnsRow = typing.Any
ToDocument = Callable[[ColumnsRow], Document]
ReadDocuments = Callable[[sa.engine.Connection, Sequence[ColumnsRow]],
                         list[Document]]

# The index is written with SQLAlchemy Core on the session's connection
# (the same transaction): its rows are never ORM objects, and the ORM's
# bulk-insert machinery cost more than the statements themselves.
# (A mapped class's __table__ is a Table; SQLAlchemy types it as the
# FromClause it may be in general.)
ENTRIES = typing.cast(sa.Table, models.SearchEntry.__table__)
TEXTS = typing.cast(sa.Table, models.SearchText.__table__)

# The index's statements, built once with bound parameters: SQLAlchemy
# then finds their compiled forms by identity instead of building and
# keying new statements on every write (see Kind.by_id).
_OF_DOCUMENT = (ENTRIES.c.resource == sa.bindparam('resource'),
                ENTRIES.c.doc_seq == sa.bindparam('seq'))
_STORED_ENTRIES = sa.select(ENTRIES.c.id, ENTRIES.c.key_hash,
                            ENTRIES.c.value_hash).where(*_OF_DOCUMENT)
_STORED_ENTRY_IDS = sa.select(ENTRIES.c.id).where(*_OF_DOCUMENT)
_DELETE_ENTRIES = sa.delete(ENTRIES).where(
    ENTRIES.c.id.in_(sa.bindparam('ids', expanding=True)))
_INSERT_ENTRIES = sa.insert(ENTRIES)
# (An UPDATE's parameters may not be named after its table's columns.)
_TEXT_OF_DOCUMENT = (TEXTS.c.resource == sa.bindparam('of_resource'),
                     TEXTS.c.doc_seq == sa.bindparam('seq'))
_UPDATE_TEXT = sa.update(TEXTS).where(*_TEXT_OF_DOCUMENT).values(
    body=sa.bindparam('new_body'))
_INSERT_TEXT = sa.insert(TEXTS)
_DELETE_TEXT = sa.delete(TEXTS).where(*_TEXT_OF_DOCUMENT)


def reindex(session: orm.Session, resource: str, seq: int,
            project_id: str, document: Document, new: bool = False) -> None:
    """Make the index entries of a document those of ``document``.

    Only the entries that changed are deleted and inserted: an update
    usually changes a few values (a job's status, times and pid) and
    rewriting every entry made each write touch every index page of the
    document. Rows are deleted by primary key, never by a range: on
    MySQL a range delete also locks the gaps around it, where other
    documents' entries go.

    :param new: the document was never indexed (it was just inserted).
    """
    connection = session.connection()
    current: set[tuple[str, str]] = set()
    stale: list[int] = []
    wanted = search_lang.document_entries(document)
    stored = () if new else connection.execute(
        _STORED_ENTRIES, {'resource': resource, 'seq': seq})
    for entry_id, key_hash, value_hash in stored:
        pair = (key_hash, value_hash)
        if pair in wanted and pair not in current:
            current.add(pair)
        else:
            stale.append(entry_id)
    if stale:
        connection.execute(_DELETE_ENTRIES, {'ids': stale})
    added = wanted - current
    if added:
        connection.execute(_INSERT_ENTRIES, [
            {'resource': resource, 'doc_seq': seq, 'project_id': project_id,
             'key_hash': k, 'value_hash': v} for k, v in added])
    _write_text(connection, resource, seq,
                search_lang.document_text(document), new)


def _reindex(session: orm.Session, kind: 'Kind', seq: int, project_id: str,
             document: Document, new: bool = False) -> None:
    """:func:`reindex` for a kind in the search index."""
    if kind.searched_columns is None:
        reindex(session, kind.resource, seq, project_id, document, new)


def _write_text(connection: sa.engine.Connection, resource: str, seq: int,
                body: str, new: bool) -> None:
    """Store the free-text body of a document: an INSERT the first time,
    else one UPDATE (an INSERT if it was never indexed).

    A new document's row is inserted without the UPDATE first: on MySQL
    an UPDATE that finds no row locks the gap where it would be, and two
    transactions inserting into one gap then deadlock.
    """
    if not new:
        updated = connection.execute(_UPDATE_TEXT, {
            'of_resource': resource, 'seq': seq, 'new_body': body})
        if updated.rowcount:
            return
    connection.execute(_INSERT_TEXT, {
        'resource': resource, 'doc_seq': seq, 'body': body})


def unindex(session: orm.Session, resource: str, seq: int) -> None:
    """Drop a document's index entries, by primary key (see
    :func:`reindex`)."""
    connection = session.connection()
    ids = connection.execute(_STORED_ENTRY_IDS, {
        'resource': resource, 'seq': seq}).scalars().all()
    if ids:
        connection.execute(_DELETE_ENTRIES, {'ids': ids})
    connection.execute(_DELETE_TEXT, {'of_resource': resource, 'seq': seq})


_ENTRY_IDS_OF_DOCUMENTS = sa.select(ENTRIES.c.id).where(
    ENTRIES.c.resource == sa.bindparam('resource'),
    ENTRIES.c.doc_seq.in_(sa.bindparam('seqs', expanding=True)))
_DELETE_TEXTS_OF_DOCUMENTS = sa.delete(TEXTS).where(
    TEXTS.c.resource == sa.bindparam('of_resource'),
    TEXTS.c.doc_seq.in_(sa.bindparam('seqs', expanding=True)))


def _term_exists(resource: str, seq_column: sa.SQLColumnExpression[int],
                 term: search_lang.Term,
                 any_value: bool = False) -> sa.Exists:
    entry = models.SearchEntry
    conditions = [entry.resource == resource, entry.doc_seq == seq_column,
                  entry.key_hash == term.key_hash]
    if not any_value:
        conditions.append(entry.value_hash == term.value_hash)
    # SELECT 1, not *: the index on (resource, doc_seq, key, value) then
    # holds all the subquery reads, and SQLite picks it by that.
    return sa.select(sa.literal(1)).where(*conditions).exists()


def _free_text_condition(resource: str,
                         seq_column: sa.SQLColumnExpression[int],
                         term: search_lang.FreeText
                         ) -> sa.ColumnElement[bool]:
    """SQL that holds when a string of the row contains the free text, or
    one of its scalars is the text read as JSON."""
    text = models.SearchText
    found = sa.exists().where(
        text.resource == resource, text.doc_seq == seq_column,
        text.body.contains(term.text, autoescape=True))
    if not term.scalar_hashes:
        return found
    entry = models.SearchEntry
    return sa.or_(found, sa.select(sa.literal(1)).where(
        entry.resource == resource, entry.doc_seq == seq_column,
        entry.value_hash.in_(term.scalar_hashes)).exists())


def _term_condition(resource: str, seq_column: sa.SQLColumnExpression[int],
                    term: search_lang.Term | search_lang.FreeText
                    ) -> sa.ColumnElement[bool]:
    """SQL that holds when ``term`` holds for the row: a key that does not
    occur counts as null."""
    if isinstance(term, search_lang.FreeText):
        return _free_text_condition(resource, seq_column, term)
    found = _term_exists(resource, seq_column, term)
    if term.value is None:
        return sa.or_(found, ~_term_exists(resource, seq_column, term,
                                           any_value=True))
    return found


def apply_search(query: sa.Select[typing.Any], resource: str,
                 seq_column: sa.SQLColumnExpression[int],
                 search: search_lang.Search) -> sa.Select[typing.Any]:
    for term in search.match:
        query = query.where(_term_condition(resource, seq_column, term))
    for term in search.match_not:
        query = query.where(~_term_condition(resource, seq_column, term))
    return query


class Kind:
    """How one resource is stored: its model, id column and document.

    :param read_documents: ``(connection, rows) -> documents`` for rows
        read with SQLAlchemy Core (default: ``to_document`` of each), for
        documents that embed rows of other tables.
    :param newest_first: lists show the newest documents first (history);
        else in creation order.
    :param searched_columns: field -> column: searches look at these
        columns of the kind's table (:mod:`column_search`) and the kind's
        documents are not in the search index; by default they are, and
        searches look at every field at any depth.
    """

    def __init__(self, resource: str, label: str, model: type[models.Base],
                 id_attr: str, to_document: ToDocument,
                 read_documents: ReadDocuments | None = None,
                 newest_first: bool = False,
                 searched_columns: column_search.Columns | None = None
                 ) -> None:
        self.resource = resource
        self.newest_first = newest_first
        self.searched_columns = searched_columns
        self.label = label
        # Every kind stores documents: its model has DocumentMixin's
        # columns, which type[Base] does not say.
        self.model = typing.cast(type[models.DocumentMixin], model)
        self.table = typing.cast(sa.Table, model.__table__)
        self.id_attr = id_attr
        self.id_column = getattr(model, id_attr)
        self.to_document = to_document
        self.read_documents = read_documents or (
            lambda connection, rows: [to_document(row) for row in rows])
        # Built once: SQLAlchemy then keeps its compiled form by identity
        # instead of building and keying a new statement on every read.
        by_id = sa.select(self.table).where(
            self.table.c[id_attr] == sa.bindparam('doc_id'))
        self.by_id = {
            False: by_id,
            True: by_id.where(
                self.table.c.project_id == sa.bindparam('project_id')),
        }
        self.plain_page = _plain_page(self.table, newest_first)
        self.insert = sa.insert(self.table)
        # The mapped column attributes (what :func:`save` writes).
        self.columns = frozenset(
            attr.key for attr in sa.inspect(model).column_attrs)

    def not_found(self, doc_id: str) -> exception.ResourceNotFound:
        return exception.ResourceNotFound(resource=self.label, id=doc_id)


def get_row(session: orm.Session, kind: Kind, doc_id: str,
            project_id: str | None = None, for_update: bool = False,
            eager: bool = True) -> typing.Any:
    """The ORM row ``doc_id`` (of ``project_id`` unless None), or None.

    :param eager: load its relationships now, as the model says (else
        when first used).
    """
    if not may_be_stored(doc_id):
        return None
    query = row_query(kind, project_id is not None, for_update, eager)
    return session.scalars(query, {'doc_id': doc_id,
                                   'project_id': project_id}).first()


def get_columns(connection: sa.engine.Connection, kind: Kind, doc_id: str,
                project_id: str | None = None) -> sa.Row[typing.Any] | None:
    """The row ``doc_id`` (of ``project_id`` unless None) read with
    SQLAlchemy Core, or None: what a document read needs, and a write
    that needs its columns only (:func:`update_row`), without the ORM's
    object."""
    if not may_be_stored(doc_id):
        return None
    return connection.execute(
        kind.by_id[project_id is not None],
        {'doc_id': doc_id, 'project_id': project_id}).first()


def may_be_stored(doc_id: str) -> bool:
    """Whether a document could have the id ``doc_id``, which may come
    from a URL: no stored id holds NUL (ids are validated), and
    PostgreSQL refuses it in a query."""
    return '\x00' not in doc_id


@functools.lru_cache(maxsize=64)
def row_query(kind: Kind, in_project: bool, for_update: bool,
              eager: bool) -> sa.Select[typing.Any]:
    """The ORM statement of :func:`get_row`, built once per shape (see
    Kind.by_id)."""
    query = sa.select(kind.model).where(
        kind.id_column == sa.bindparam('doc_id'))
    if in_project:
        query = query.where(
            kind.model.project_id == sa.bindparam('project_id'))
    if for_update:
        # The version check and the write must see the same row: without
        # the lock, two writers could both pass the check on PostgreSQL
        # or MySQL and the second would overwrite the first.
        query = query.with_for_update()
    if not eager:
        query = query.options(orm.lazyload('*'))
    return query


def _driver(search: search_lang.Search) -> search_lang.Term | None:
    """The term that drives a search: the first of ``match`` that names a
    value (a null also matches documents without the key, and free text
    has no entries of its own), or None."""
    for term in search.match:
        if isinstance(term, search_lang.Term) and term.value is not None:
            return term
    return None


def _page(kind: Kind, project_id: str | None, search: search_lang.Search,
          limit: int, offset: int,
          scope: sa.ColumnElement[bool] | None) -> sa.Subquery:
    """A subquery of the ``seq`` of one page of :func:`list_documents`.

    The page is found on indexes alone and only then are its rows read:
    skipping ``offset`` rows of an index costs far less than skipping
    ``offset`` documents. With a driving term, the page is read from that
    term's entries in the project (``ix_search_entries_term``, in document
    order), and the other terms are tested on those documents alone;
    otherwise from the project's documents (``ix_<table>_project_seq``).
    """
    model = kind.model
    driver = _driver(search)
    if driver is None:
        query = sa.select(model.seq.label('seq'))
        seq = model.seq
    else:
        # An alias: the other terms' EXISTS on search_entries must not be
        # correlated with the driving entries.
        entry = orm.aliased(models.SearchEntry, name='driver')
        query = sa.select(entry.doc_seq.label('seq')).where(
            entry.resource == kind.resource,
            entry.key_hash == driver.key_hash,
            entry.value_hash == driver.value_hash)
        seq = entry.doc_seq
        search = dataclasses.replace(search, match=tuple(
            term for term in search.match if term is not driver))
    if scope is not None:
        if driver is not None:
            query = query.join(model, model.seq == seq)
        query = query.where(scope)
    elif project_id is not None:
        project = model.project_id if driver is None else entry.project_id
        query = query.where(project == project_id)
    query = apply_search(query, kind.resource, seq, search)
    return (query.order_by(_in_list_order(kind, seq)).limit(limit)
            .offset(offset).subquery())


def _in_list_order(kind: Kind, seq: sa.SQLColumnExpression[int]
                   ) -> sa.ColumnElement[int]:
    """The ORDER BY of a list of ``kind`` by its ``seq`` column."""
    return seq.desc() if kind.newest_first else seq  # type: ignore[return-value]


# Reads go through SQLAlchemy Core on the transaction's connection: a
# document read needs none of the ORM's identity map and change tracking,
# which cost about as much as the query itself.

def get_document(connection: sa.engine.Connection, kind: Kind, doc_id: str,
                 project_id: str | None) -> Document:
    """The document ``doc_id`` of ``project_id`` (of any project when it
    is None); NotFound otherwise."""
    row = get_columns(connection, kind, doc_id, project_id)
    if row is None:
        raise kind.not_found(doc_id)
    return kind.read_documents(connection, [row])[0]


def _plain_page(table: sa.Table,
                newest_first: bool) -> sa.Select[typing.Any]:
    """A page of one project's documents, unsearched: the statement of
    the commonest list, built once (see Kind.by_id)."""
    order = table.c.seq.desc() if newest_first else table.c.seq
    page = (sa.select(table.c.seq)
            .where(table.c.project_id == sa.bindparam('project_id'))
            .order_by(order)
            .limit(sa.bindparam('limit')).offset(sa.bindparam('offset'))
            .subquery())
    return (sa.select(table).join(page, table.c.seq == page.c.seq)
            .order_by(order))


def list_documents(connection: sa.engine.Connection, kind: Kind,
                   project_id: str | None, search: search_lang.Search,
                   limit: int, offset: int,
                   scope: sa.ColumnElement[bool] | None = None
                   ) -> list[Document]:
    """A page of the documents of ``project_id`` (of every project when
    it is None) that satisfy ``search``, in creation order (newest first
    for a kind that says so).

    :param scope: a SQL condition that replaces the project's.
    """
    table = kind.table
    if kind.searched_columns is not None and scope is None:
        query = sa.select(table)
        if project_id is not None:
            query = query.where(table.c.project_id == project_id)
        query = column_search.apply(query, kind.searched_columns, search)
        rows = connection.execute(
            query.order_by(_in_list_order(kind, table.c.seq))
            .limit(limit).offset(offset)).all()
        return kind.read_documents(connection, rows)
    if (scope is None and project_id is not None and not search.match and
            not search.match_not):
        rows = connection.execute(kind.plain_page, {
            'project_id': project_id, 'limit': limit,
            'offset': offset}).all()
        return kind.read_documents(connection, rows)
    page = _page(kind, project_id, search, limit, offset, scope)
    rows = connection.execute(sa.select(table).join(
        page, table.c.seq == page.c.seq).order_by(
            _in_list_order(kind, table.c.seq))).all()
    return kind.read_documents(connection, rows)


def check_version(kind: Kind, row: models.DocumentMixin,
                  expected_version: int | None) -> None:
    if expected_version is not None and row.version != expected_version:
        raise exception.PreconditionFailed(
            resource=kind.label, id=getattr(row, kind.id_attr),
            current=row.version)


def insert(session: orm.Session, kind: Kind,
           values: dict[str, typing.Any]) -> Document:
    """Store a new document and index it.

    Its row is inserted by SQLAlchemy Core: no ORM object is needed for a
    row that nothing links to yet (a caller that links it reads it with
    :func:`get_row`), and the ORM's flush cost more than the statement.
    """
    seq, columns = _insert(session, kind, values)
    document = kind.to_document(types.SimpleNamespace(**columns))
    _reindex(session, kind, seq, values['project_id'], document, new=True)
    return document


def insert_row(session: orm.Session, kind: Kind,
               values: dict[str, typing.Any]) -> int:
    """Store a new document as :func:`insert` does. :returns: its seq."""
    seq, columns = _insert(session, kind, values)
    if kind.searched_columns is None:
        reindex(session, kind.resource, seq, values['project_id'],
                kind.to_document(types.SimpleNamespace(**columns)), new=True)
    return seq


def _insert(session: orm.Session, kind: Kind, values: dict[str, typing.Any]
            ) -> tuple[int, dict[str, typing.Any]]:
    """Insert a new document's row. :returns: (its seq, its columns)."""
    columns = dict(values, version=1, created_at=models.utcnow())
    result = session.connection().execute(kind.insert, columns)
    # A one-row INSERT into a table with a primary key: never None.
    seq = typing.cast(sa.Row[typing.Any], result.inserted_primary_key)[0]
    return seq, columns


def update_row(session: orm.Session, kind: Kind, row: sa.Row[typing.Any],
               changes: dict[str, typing.Any],
               to_document: ToDocument | None = None) -> Document | None:
    """Write ``changes`` to a stored row read with SQLAlchemy Core (and
    locked, or written only under a lock that covers it): its next
    version, its update time, its index entries.

    :param to_document: the row's document (default: the kind's).
    :returns: the document as stored and indexed; None for a kind
        outside the search index (``row`` may then hold only the columns
        the write needs).
    """
    changes = dict(changes, version=row.version + 1,
                   updated_at=models.utcnow())
    session.connection().execute(
        _update_statement(kind, tuple(sorted(changes))),
        {'row_seq': row.seq, **{'new_' + key: value
                                 for key, value in changes.items()}})
    if kind.searched_columns is not None:
        return None
    document = (to_document or kind.to_document)(
        types.SimpleNamespace(**{**row._mapping, **changes}))
    reindex(session, kind.resource, row.seq, row.project_id, document)
    return document


def is_new(row: models.Base) -> bool:
    """Whether the ORM row is not stored yet."""
    return sa.inspect(row).key is None


def save(session: orm.Session, kind: Kind, row: typing.Any,
         to_document: ToDocument | None = None,
         values: dict[str, typing.Any] | None = None) -> Document:
    """Record a change of ``row`` (or store a new row): next version,
    index rewritten.

    :param to_document: the row's document (default: the kind's).
    :param values: columns to give the row.
    """
    new = is_new(row)
    if new:
        for key, value in (values or {}).items():
            setattr(row, key, value)
        row.version = (row.version or 0) + 1
        session.add(row)
    else:
        _write_changes(session, kind, row, values or {})
    # The session's other changes: a new row, links, other rows.
    session.flush()
    document = (to_document or kind.to_document)(row)
    _reindex(session, kind, row.seq, row.project_id, document,
            new=new)
    return document


def _write_changes(session: orm.Session, kind: Kind,
                   row: models.DocumentMixin,
                   values: dict[str, typing.Any]) -> None:
    """Write the changed columns of a stored row (``values`` and those set
    on it), its next version and its update time.

    One UPDATE of SQLAlchemy Core writes them, and they are then recorded
    in the ORM object as its stored state: the ORM's flush of the row
    (its unit of work) cost more than the statement.
    """
    state = sa.inspect(row)
    current = state.dict
    changes = {key: current[key] for key, old in
               state.committed_state.items()
               if key in kind.columns and current.get(key) != old}
    for key, value in values.items():
        if current.get(key) != value:
            changes[key] = value
    changes['version'] = row.version + 1
    changes['updated_at'] = models.utcnow()
    session.connection().execute(
        _update_statement(kind, tuple(sorted(changes))),
        {'row_seq': row.seq, **{'new_' + key: value
                                 for key, value in changes.items()}})
    for key, value in changes.items():
        orm.attributes.set_committed_value(row, key, value)


@functools.lru_cache(maxsize=128)
def _update_statement(kind: Kind, keys: tuple[str, ...]) -> sa.Update:
    """The UPDATE of :func:`save` for one set of columns, built once (see
    Kind.by_id); its parameters are ``row_seq`` and ``new_<column>``."""
    table = kind.table
    return sa.update(table).where(
        table.c.seq == sa.bindparam('row_seq')).values(
            {key: sa.bindparam('new_' + key, type_=table.c[key].type)
             for key in keys})


def update(session: orm.Session, kind: Kind, row: typing.Any,
           values: dict[str, typing.Any]) -> Document:
    return save(session, kind, row, values=values)


def create(session: orm.Session, kind: Kind,
           values: dict[str, typing.Any]) -> Document:
    table = kind.table
    doc_id = values[kind.id_attr]
    if may_be_stored(doc_id) and session.connection().execute(
            sa.select(table.c.seq).where(
                table.c[kind.id_attr] == doc_id)).first():
        raise exception.Conflict(resource=kind.label,
                                 id=values[kind.id_attr])
    return insert(session, kind, values)


def replace(session: orm.Session, kind: Kind, values: dict[str, typing.Any],
            expected_version: int | None) -> tuple[Document, bool]:
    doc_id = values[kind.id_attr]
    row = get_row(session, kind, doc_id, for_update=True)
    if row is None:
        if expected_version is not None:
            raise kind.not_found(doc_id)
        return insert(session, kind, values), True
    if row.project_id != values['project_id']:
        raise exception.Conflict(resource=kind.label, id=doc_id)
    check_version(kind, row, expected_version)
    return update(session, kind, row, values), False


def patch(session: orm.Session, kind: Kind, project_id: str, doc_id: str,
          apply: Callable[[Document], dict[str, typing.Any]],
          expected_version: int | None) -> Document:
    row = get_row(session, kind, doc_id, project_id, for_update=True)
    if row is None:
        raise kind.not_found(doc_id)
    check_version(kind, row, expected_version)
    return update(session, kind, row, apply(kind.to_document(row)))


def delete(session: orm.Session, kind: Kind, project_id: str, doc_id: str,
           expected_version: int | None) -> typing.Any:
    """Delete a document. :returns: the deleted row, or None."""
    row = get_row(session, kind, doc_id, project_id, for_update=True)
    if row is None:
        if expected_version is not None:
            raise kind.not_found(doc_id)
        return None
    check_version(kind, row, expected_version)
    remove(session, kind, row)
    return row


def remove(session: orm.Session, kind: Kind,
           row: models.DocumentMixin) -> None:
    """Delete a document's row and its index entries."""
    unindex(session, kind.resource, row.seq)
    session.delete(row)


def remove_rows(session: orm.Session, kind: Kind,
                seqs: Sequence[int]) -> None:
    """Delete the documents ``seqs`` of ``kind`` and their index
    entries, by primary key, with a few statements for all of them."""
    connection = session.connection()
    if kind.searched_columns is not None:
        connection.execute(sa.delete(kind.table).where(
            kind.table.c.seq.in_(list(seqs))))
        return
    ids = connection.execute(_ENTRY_IDS_OF_DOCUMENTS, {
        'resource': kind.resource, 'seqs': list(seqs)}).scalars().all()
    if ids:
        connection.execute(_DELETE_ENTRIES, {'ids': ids})
    connection.execute(_DELETE_TEXTS_OF_DOCUMENTS, {
        'of_resource': kind.resource, 'seqs': list(seqs)})
    connection.execute(sa.delete(kind.table).where(
        kind.table.c.seq.in_(list(seqs))))

"""Writes that lock rows of sessions, jobs or actions, and their order.

The rules between resources live here: a job embeds actions (a change of
an action is a change of every job that embeds it), a session has member
jobs, the scheduler's job events and session start/end. The resource
modules know their own rows only and never import one another (except
jobs, whose documents embed actions, and backups, linked to the run of
the job that posted them). A job's runs (:mod:`runs`) are written with
the job, under its lock.

Lock order
----------
Every write that locks rows of these kinds locks them in one order:
**sessions, then jobs, then actions; rows of one kind by ascending seq**.
Most writes start at the session or job their URL names and go down to
the rows it points at. Rows are locked (``SELECT ... FOR UPDATE``) by
primary key, never by id: on MySQL a locking read by a unique string id
also locks the gap before it, blocking other transactions' inserts, and a
row locked through two indexes can be half held by each of two writers.

A write may find its rows only by reading others (the jobs that embed an
action, the members of a session, the actions of a job's entries), and
URLs give ids, not seqs, so every write has three steps:

* **plan**: a read transaction of its own, without locks, finds the rows;
* **lock**: the write transaction locks them in the order before it reads
  anything else (on MySQL a transaction's first plain read fixes what its
  later plain reads see);
* **check and write**: under the locks the write reads what it needs
  again; a row it must write that is not one it locked means the rows
  changed in between: it is rolled back and planned again
  (:class:`_Replan`). Rows it inserts come last; nobody can lock them
  before they are committed.

So no write waits for a lock while holding one that comes later: these
writes do not deadlock, and each row is written from a copy read under
its lock, so no update is lost and no version is given twice.

On SQLite a write transaction holds the whole database from its start
(BEGIN IMMEDIATE), so nothing can change between a plan and its write:
there the plan is made in the write transaction, and the rows it read
are the locked rows (:func:`_plan_and_write`). The check
is complete because:

* the links of a job (``job_actions``) change only under its lock;
* a link to an action is added only under the action's lock (job writes
  lock every action their entries name), so under that lock the jobs
  embedding the action can only become fewer;
* a session's ``jobs`` map changes only under the session's lock, and a
  job moves between sessions only under its lock and theirs.
"""

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
import functools
import time
import typing

from oslo_db import exception as db_exc
from oslo_log import log
import sqlalchemy as sa
from sqlalchemy import orm

from freezer_api.common import exception
from freezer_api.common import notifications
from freezer_api.common.context import RequestContext
from freezer_api.common.types import Document
from freezer_api.db.sqlalchemy import actions
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import jobs
from freezer_api.db.sqlalchemy import models
from freezer_api.db.sqlalchemy import runs
from freezer_api.db.sqlalchemy import sessions

LOG = log.getLogger(__name__)

P = typing.ParamSpec('P')
T = typing.TypeVar('T')

# The columns a write gives a row.
Values = dict[str, typing.Any]
# A job_actions entry: {'action_id', 'create', 'fields'} (see
# :func:`_entry_action`).
Entry = dict[str, typing.Any]
# (current document) -> (columns to store, entries or None to keep the
# job's actions).
JobApply = Callable[[Document], tuple[Values, Sequence[Entry] | None]]

ACTIONS = actions.ACTIONS
JOBS = jobs.JOBS
SESSIONS = sessions.SESSIONS

# The global lock order, kind by kind.
LOCK_ORDER = (SESSIONS, JOBS, ACTIONS)

# Plans made for one write before it gives up with a 503: each new plan
# follows a concurrent change of the very rows it needs.
MAX_PLANS = 10


class _Replan(Exception):
    """A row the write must lock is not one it planned to lock."""


class Plan:
    """The rows a write will lock, found without locks.

    :param locked: the plan is made in the write transaction, which holds
        every row already (SQLite): the rows it reads are the locked rows.
    """

    def __init__(self, locked: bool = False) -> None:
        self.seqs: dict[str, set[int]] = {
            kind.resource: set() for kind in LOCK_ORDER}
        # (resource, id, project_id) -> seq of the row found, or None.
        self.found: dict[tuple[str, str, str | None], int | None] = {}
        self.locked = locked
        self.rows: dict[tuple[str, int], typing.Any] = {}
        # action seq -> seqs of the jobs embedding it, read under the
        # locks (a locked plan only).
        self.embedding: dict[int, set[int]] = {}
        # The kinds whose rows the write reads with SQLAlchemy Core
        # (:meth:`find_columns`): they are locked the same way.
        self.columns: set[str] = set()

    def find(self, session: orm.Session, kind: documents.Kind, doc_id: str,
             project_id: str | None = None) -> typing.Any:
        """The row ``doc_id`` (None if absent), planned to be locked; its
        relationships load when used."""
        row = documents.get_row(session, kind, doc_id, project_id,
                                eager=False)
        self.record(kind, doc_id, project_id, row)
        return row

    def find_columns(self, session: orm.Session, kind: documents.Kind,
                     doc_id: str, project_id: str | None = None
                     ) -> sa.Row[typing.Any] | None:
        """The row ``doc_id`` read with SQLAlchemy Core (None if absent),
        planned to be locked; the write then gets Core rows of its kind
        from :class:`Locks` (no other row of the kind may be planned)."""
        row = documents.get_columns(session.connection(), kind, doc_id,
                                    project_id)
        self.columns.add(kind.resource)
        self.record(kind, doc_id, project_id, row)
        return row

    def record(self, kind: documents.Kind, doc_id: str,
               project_id: str | None, row: typing.Any) -> None:
        """Plan to lock ``row``, found as ``doc_id`` (None: absent)."""
        self.found[kind.resource, doc_id, project_id] = (
            None if row is None else row.seq)
        if row is not None:
            self.add(kind, [row.seq])
            if self.locked:
                self.rows[kind.resource, row.seq] = row

    def add(self, kind: documents.Kind, seqs: Iterable[int]) -> None:
        self.seqs[kind.resource].update(seqs)


class Locks:
    """The rows of a plan, locked in the global order, read afresh."""

    def __init__(self, session: orm.Session, plan: Plan) -> None:
        self.session = session
        self.plan = plan
        # Looked up with the seq None too: a row the plan did not find.
        self.rows: dict[tuple[str, int | None], typing.Any] = {}
        for kind in LOCK_ORDER:
            for seq in sorted(plan.seqs[kind.resource]):
                row = plan.rows.get((kind.resource, seq))
                if row is None:
                    row = (_lock_columns(session, kind, seq)
                           if kind.resource in plan.columns
                           else _lock_row(session, kind, seq))
                if row is not None:
                    self.rows[kind.resource, seq] = row

    def get(self, kind: documents.Kind, doc_id: str,
            project_id: str | None = None) -> typing.Any:
        """The row the plan found as ``doc_id`` (None if absent).

        :raises _Replan: another row holds the id now (or none does, or
            the plan did not look the id up).
        """
        key = (kind.resource, doc_id, project_id)
        if key not in self.plan.found:
            raise _Replan()
        seq = self.plan.found[key]
        locked = self.rows.get((kind.resource, seq))
        if locked is not None and getattr(locked, kind.id_attr) == doc_id:
            # Ids never change: the row locked as the one found is still
            # it (and still of the project it was found in).
            return locked
        row = (documents.get_columns(self.session.connection(), kind,
                                     doc_id, project_id)
               if kind.resource in self.plan.columns else
               documents.get_row(self.session, kind, doc_id, project_id))
        if (None if row is None else row.seq) != self.plan.found[key]:
            raise _Replan()
        return row

    def require(self, kind: documents.Kind, seqs: Iterable[int]) -> None:
        """Replan unless every row of ``seqs`` is locked."""
        if any((kind.resource, seq) not in self.rows for seq in seqs):
            raise _Replan()

    def row(self, kind: documents.Kind, seq: int) -> typing.Any:
        return self.rows[kind.resource, seq]


def _user_id(context: RequestContext) -> str:
    """The writer of a document (its ``user_id`` column, NOT NULL).

    oslo.context allows None, but a request that writes has a user:
    keystone's auth_token sets it, and noauth defaults it (api/hooks.py).
    """
    return typing.cast(str, context.user_id)


def _lock_row(session: orm.Session, kind: documents.Kind,
              seq: int) -> typing.Any:
    """Lock one row by its primary key, reading it afresh.

    Its relationships are loaded later, when first used: by then every
    lock is taken, so they cannot come from before one of them.
    """
    return session.scalars(_lock_query(kind), {'seq': seq}).first()


@functools.lru_cache(maxsize=8)
def _lock_query(kind: documents.Kind) -> sa.Select[typing.Any]:
    """The statement of :func:`_lock_row`, built once per kind."""
    model = kind.model
    return (sa.select(model).where(model.seq == sa.bindparam('seq'))
            .with_for_update().options(orm.lazyload('*'))
            .execution_options(populate_existing=True))


def _lock_columns(session: orm.Session, kind: documents.Kind,
                  seq: int) -> sa.Row[typing.Any] | None:
    """:func:`_lock_row`, read with SQLAlchemy Core."""
    return session.connection().execute(
        _lock_columns_query(kind), {'seq': seq}).first()


@functools.lru_cache(maxsize=8)
def _lock_columns_query(kind: documents.Kind) -> sa.Select[typing.Any]:
    """The statement of :func:`_lock_columns`, built once per kind."""
    return (sa.select(kind.table)
            .where(kind.table.c.seq == sa.bindparam('seq'))
            .with_for_update())


def in_lock_order(
    plan_rows: Callable[..., None], upsert: bool = False
) -> Callable[[Callable[typing.Concatenate[RequestContext, Locks, P], T]],
              Callable[typing.Concatenate[RequestContext, P], T]]:
    """Make ``write(context, locks, *args)`` a write in lock order.

    ``plan_rows(session, plan, *args)`` fills the plan in a read
    transaction; ``write`` runs in a write transaction once the planned
    rows are locked, and raises :class:`_Replan` when they are not the
    rows it needs: the write is then planned again.

    :param upsert: run once more when a concurrent caller inserted the
        same id first (see :func:`api.upsert_transaction`).
    """
    def decorate(
        write: Callable[typing.Concatenate[RequestContext, Locks, P], T]
    ) -> Callable[typing.Concatenate[RequestContext, P], T]:
        @functools.wraps(write)
        def run(context: RequestContext,
                *args: P.args, **kwargs: P.kwargs) -> T:
            duplicate_seen = False
            for _attempt in range(MAX_PLANS):
                try:
                    if api.one_writer_holds_all():
                        return _plan_and_write(context, plan_rows, write,
                                               *args, **kwargs)
                    plan = _plan(context, plan_rows, *args, **kwargs)
                    return _write(context, plan, write, *args, **kwargs)
                except _Replan:
                    LOG.debug('Rows of %s changed before they were locked: '
                              'planning again', write.__name__)
                except db_exc.DBDuplicateEntry:
                    if not upsert or duplicate_seen:
                        raise
                    duplicate_seen = True
            LOG.warning('The rows of %s kept changing while it planned its '
                        'locks', write.__name__)
            raise db_exc.DBDeadlock()
        return api.storage_errors(run)
    return decorate


@api.reader
def _plan(context: RequestContext, plan_rows: Callable[..., None],
          *args: typing.Any, **kwargs: typing.Any) -> Plan:
    """Plan a write's locks in a read transaction of its own."""
    plan = Plan()
    plan_rows(context.session, plan, *args, **kwargs)
    return plan


@api.writer
def _write(context: RequestContext, plan: Plan,
           write: Callable[..., T], *args: typing.Any,
           **kwargs: typing.Any) -> T:
    """Lock the planned rows, then write, in one transaction."""
    return write(context, Locks(context.session, plan), *args, **kwargs)


@api.writer
def _plan_and_write(context: RequestContext,
                    plan_rows: Callable[..., None],
                    write: Callable[..., T], *args: typing.Any,
                    **kwargs: typing.Any) -> T:
    """Plan, lock and write in one transaction, where that transaction
    holds the whole database from its start (SQLite's BEGIN IMMEDIATE):
    nothing can change between the plan and the write, and the rows the
    plan reads are already locked."""
    plan = Plan(locked=True)
    plan_rows(context.session, plan, *args, **kwargs)
    return write(context, Locks(context.session, plan), *args, **kwargs)


# --- actions and the jobs that embed them ----------------------------------

_JOBS_EMBEDDING = sa.select(models.JobAction.job_seq).where(
    models.JobAction.action_seq == sa.bindparam('action_seq'))


def _jobs_embedding(session: orm.Session, action_seq: int) -> set[int]:
    """Seqs of the jobs that embed the action."""
    return set(session.scalars(_JOBS_EMBEDDING,
                               {'action_seq': action_seq}).all())


_LINKS = typing.cast(sa.Table, models.JobAction.__table__)


@functools.lru_cache(maxsize=2)
def _action_with_embedding(in_project: bool) -> sa.Select[typing.Any]:
    """The columns of the action ``doc_id`` (of ``project_id``) with the
    seq of each job embedding it: a row per job, or one row with None; one
    statement where :meth:`Plan.find_columns` and :func:`_jobs_embedding`
    are two (a tenth of a PATCH of an action)."""
    return (ACTIONS.by_id[in_project].add_columns(_LINKS.c.job_seq)
            .outerjoin(_LINKS, _LINKS.c.action_seq == ACTIONS.table.c.seq))


def _plan_action(session: orm.Session, plan: Plan, project_id: str | None,
                 action_id: str, *args: typing.Any,
                 **kwargs: typing.Any) -> None:
    """The action (of any project if None) and the jobs embedding it.

    The action is read with SQLAlchemy Core, and so is it under its lock
    (:attr:`Plan.columns`): its writes change its columns only, and the
    ORM's load of the row cost more than the statement. The jobs it
    renews read it afresh when they load their links.
    """
    found = [] if not documents.may_be_stored(action_id) else (
        session.connection().execute(
            _action_with_embedding(project_id is not None),
            {'doc_id': action_id, 'project_id': project_id}).all())
    row = found[0] if found else None
    plan.columns.add(ACTIONS.resource)
    plan.record(ACTIONS, action_id, project_id, row)
    if row is not None:
        embedding = {job_seq for *_columns, job_seq in found
                     if job_seq is not None}
        plan.add(JOBS, embedding)
        if plan.locked:
            plan.embedding[row.seq] = embedding


def _locked_jobs_embedding(locks: Locks,
                           action_row: documents.ColumnsRow) -> set[int]:
    """Seqs of the jobs that embed the action; all of them are locked."""
    # What the locked plan read, if the write has changed no link since.
    seqs = locks.plan.embedding.pop(action_row.seq, None)
    if seqs is None:
        seqs = _jobs_embedding(locks.session, action_row.seq)
    locks.require(JOBS, seqs)
    return seqs


def _renew(locks: Locks, job_seqs: Iterable[int]) -> None:
    """A new version and index for each job (an action it embeds
    changed)."""
    for seq in sorted(job_seqs):
        documents.save(locks.session, JOBS, locks.row(JOBS, seq))


def _told(session: orm.Session, kind: documents.Kind, change: str,
          document: Document) -> Document:
    """Tell of a write of a document once it commits
    (``<resource>.<change>``, see :mod:`notifications`)."""
    notifications.written(session, kind.resource[:-1], change, document)
    return document


def _told_removed(session: orm.Session, kind: documents.Kind,
                  row: typing.Any, user_id: str) -> None:
    """Tell of the delete of ``row`` once it commits."""
    resource = kind.resource[:-1]
    _told(session, kind, 'delete', {
        'project_id': row.project_id, 'user_id': user_id,
        '%s_id' % resource: getattr(row, kind.id_attr),
        '_version': row.version})


def _absent(kind: documents.Kind, doc_id: str,
            expected_version: int | None) -> None:
    """A write of a missing document: 404 only if a version was asked
    for (a delete of nothing is done)."""
    if expected_version is not None:
        raise kind.not_found(doc_id)


def _plan_replace_action(session: orm.Session, plan: Plan, values: Values,
                         expected_version: int | None = None) -> None:
    _plan_action(session, plan, None, values['action_id'])


@in_lock_order(_plan_replace_action, upsert=True)
def replace_action(context: RequestContext, locks: Locks, values: Values,
                   expected_version: int | None = None
                   ) -> tuple[Document, bool]:
    """Create or replace an action; the jobs embedding it change too."""
    row = locks.get(ACTIONS, values['action_id'])
    if row is None:
        _absent(ACTIONS, values['action_id'], expected_version)
        return _told(locks.session, ACTIONS, 'create', documents.insert(
            locks.session, ACTIONS, values)), True
    if row.project_id != values['project_id']:
        raise exception.Conflict(resource='Action', id=values['action_id'])
    documents.check_version(ACTIONS, row, expected_version)
    return _rewrite_action(locks, row, values), False


@in_lock_order(_plan_action)
def update_action(context: RequestContext, locks: Locks, project_id: str,
                  action_id: str, apply: Callable[[Document], Values],
                  expected_version: int | None = None) -> Document:
    """One locked read-modify-write of an action and of the jobs that
    embed it."""
    row = locks.get(ACTIONS, action_id, project_id)
    if row is None:
        raise ACTIONS.not_found(action_id)
    documents.check_version(ACTIONS, row, expected_version)
    return _rewrite_action(locks, row, apply(actions.action_document(row)))


def _rewrite_action(locks: Locks, row: documents.ColumnsRow,
                    values: Values) -> Document:
    """Write the columns of ``values`` that differ from the action's row
    (read with Core, see :func:`_plan_action`), then renew the jobs that
    embed it, which read it afresh."""
    embedding = _locked_jobs_embedding(locks, row)
    document = documents.update_row(locks.session, ACTIONS, row,
                                    _changes(row, values))
    _renew(locks, embedding)
    # Actions are in the search index: their document is always made.
    return _told(locks.session, ACTIONS, 'update',
                 typing.cast(Document, document))


@in_lock_order(_plan_action)
def delete_action(context: RequestContext, locks: Locks, project_id: str,
                  action_id: str,
                  expected_version: int | None = None) -> None:
    """Delete an action and unlink it from the jobs that embed it (all of
    its project: jobs only embed actions of their own project)."""
    row = locks.get(ACTIONS, action_id, project_id)
    if row is None:
        return _absent(ACTIONS, action_id, expected_version)
    documents.check_version(ACTIONS, row, expected_version)
    for seq in sorted(_locked_jobs_embedding(locks, row)):
        job = locks.row(JOBS, seq)
        jobs.unlink_action(job, row.seq)
        documents.save(locks.session, JOBS, job)
    _told_removed(locks.session, ACTIONS, row, _user_id(context))
    # Its links are gone with the jobs' saves (flushed): the row and its
    # index entries go by their seq.
    documents.remove_rows(locks.session, ACTIONS, [row.seq])


# --- jobs and the actions they embed ---------------------------------------

def _changes(row: documents.ColumnsRow, fields: Values) -> Values:
    """The ``fields`` whose values differ from the row's (a job_actions
    entry against its action, a job's columns against its row)."""
    return {k: v for k, v in fields.items() if getattr(row, k) != v}


def _plan_entries(session: orm.Session, plan: Plan,
                  entries: Sequence[Entry] | None) -> None:
    """Plan the actions that job_actions entries name, and the jobs to
    renew for each action an entry changes."""
    for entry in entries or ():
        if entry['action_id'] is None:
            continue
        row = plan.find(session, ACTIONS, entry['action_id'])
        if row is not None and _changes(row, entry['fields']):
            plan.add(JOBS, _jobs_embedding(session, row.seq))


def _entry_action(locks: Locks, job: models.Job, entry: Entry,
                  resolved: dict[str, models.Action]
                  ) -> tuple[models.Action, set[int]]:
    """The action row an entry names or defines, and the seqs of the jobs
    to renew because the entry changed it.

    :param entry: {'action_id': id or None, 'create': columns of a new
        action or None, 'fields': columns the entry gives}.
    :param resolved: the rows of the job's earlier entries, by id.
    """
    session = locks.session
    action_id = entry['action_id']
    row = resolved.get(action_id)
    if row is None and action_id is not None:
        row = locks.get(ACTIONS, action_id)
    if row is None:
        if entry['create'] is None:
            raise exception.UnprocessableEntity(
                reason='Action %s not found' % action_id)
        documents.insert(session, ACTIONS, entry['create'])
        return documents.get_row(session, ACTIONS,
                                 entry['create']['action_id']), set()
    if row.project_id != job.project_id:
        raise exception.Conflict(resource='Action', id=action_id)
    changed = _changes(row, entry['fields'])
    if not changed:
        return row, set()
    embedding = _locked_jobs_embedding(locks, row)
    changed['user_id'] = job.user_id
    documents.update(session, ACTIONS, row, changed)
    return row, embedding


def _store_job(locks: Locks, row: models.Job, values: Values,
               entries: Sequence[Entry] | None, check_client: bool
               ) -> Document:
    """Write a job's columns and, unless ``entries`` is None, its actions;
    every other job embedding an action it changed is renewed once."""
    session = locks.session
    stored = not documents.is_new(row)
    if not stored:
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)
        values = {}
    client_id = values.get('client_id', row.client_id)
    renew: set[int] = set()
    if entries is not None:
        resolved: dict[str, models.Action] = {}
        action_rows: list[models.Action] = []
        for entry in entries:
            action, embedding = _entry_action(locks, row, entry, resolved)
            resolved[action.action_id] = action
            action_rows.append(action)
            renew |= embedding
    if entries is not None:
        row.links = [models.JobAction(position=position, action=action)
                     for position, action in enumerate(action_rows)]
    if check_client:
        jobs.check_client(session, row, client_id)
    _renew(locks, renew - {row.seq})
    if stored and 'job_schedule' in values:
        _follow_schedule(session, row, values,
                         [link.action for link in row.links])
    return documents.save(session, JOBS, row, values=values)


def _follow_schedule(session: orm.Session, row: documents.ColumnsRow,
                     values: Values,
                     action_rows: Sequence[documents.ColumnsRow]) -> None:
    """What a stored job's new ``job_schedule`` (in ``values``) brings: a
    stop or abort still pending is kept in it, the job is re-armed when
    the scheduler would, and its run opens or ends (:func:`runs.follow`);
    ``values`` gets the columns that change with it.

    :param action_rows: the job's actions.
    """
    values['job_schedule'] = jobs.keep_pending_event(
        row.job_schedule, values['job_schedule'])
    if jobs.rearms(row.job_schedule, values['job_schedule']):
        values['armed_at'] = int(time.time())
    open_run = runs.follow(session, row, values['job_schedule'],
                           action_rows, values.get('user_id', row.user_id))
    if open_run != row.open_run_seq:
        values['open_run_seq'] = open_run


def _plan_create_job(session: orm.Session, plan: Plan, values: Values,
                     entries: Sequence[Entry] | None) -> None:
    _plan_entries(session, plan, entries)


@in_lock_order(_plan_create_job)
def create_job(context: RequestContext, locks: Locks, values: Values,
               entries: Sequence[Entry] | None) -> Document:
    """Create a job and its inline actions in one transaction."""
    if documents.get_row(locks.session, JOBS, values['job_id']) is not None:
        raise exception.Conflict(resource='Job', id=values['job_id'])
    return _told(locks.session, JOBS, 'create', _store_job(
        locks, models.Job(version=0), values, entries, check_client=True))


def _plan_replace_job(session: orm.Session, plan: Plan, values: Values,
                      entries: Sequence[Entry] | None,
                      expected_version: int | None = None) -> None:
    plan.find(session, JOBS, values['job_id'])
    _plan_entries(session, plan, entries)


@in_lock_order(_plan_replace_job, upsert=True)
def replace_job(context: RequestContext, locks: Locks, values: Values,
                entries: Sequence[Entry] | None,
                expected_version: int | None = None
                ) -> tuple[Document, bool]:
    """Create or replace a job. :returns: (document, created)"""
    row = locks.get(JOBS, values['job_id'])
    created = row is None
    if created:
        _absent(JOBS, values['job_id'], expected_version)
        row = models.Job(version=0)
    elif row.project_id != values['project_id']:
        raise exception.Conflict(resource='Job', id=values['job_id'])
    else:
        documents.check_version(JOBS, row, expected_version)
    document = _store_job(locks, row, values, entries, check_client=True)
    return _told(locks.session, JOBS, 'create' if created else 'update',
                 document), created


def _plan_update_job(session: orm.Session, plan: Plan, project_id: str,
                     job_id: str, apply: JobApply,
                     expected_version: int | None = None,
                     keeps_actions: bool = False) -> None:
    """The job, and what ``apply`` makes of it as it is now: the same
    callback runs again on the locked job (unless it keeps the job's
    actions: then there is nothing more to plan)."""
    if keeps_actions:
        # A status report: the job's columns are all it reads and writes
        # (:func:`_store_kept_job`).
        plan.find_columns(session, JOBS, job_id, project_id)
        return
    row = plan.find(session, JOBS, job_id, project_id)
    if row is None or (expected_version is not None and
                       row.version != expected_version):
        return
    _values, entries = apply(jobs.job_document(row))
    _plan_entries(session, plan, entries)


@in_lock_order(_plan_update_job)
def update_job(context: RequestContext, locks: Locks, project_id: str,
               job_id: str, apply: JobApply,
               expected_version: int | None = None,
               keeps_actions: bool = False) -> Document:
    """One locked read-modify-write of a job.

    :param apply: (current document) -> (columns to store, job_actions
        entries or None to keep the actions); it may run more than once.
    :param keeps_actions: ``apply`` always keeps the actions (as the
        scheduler's status reports do).
    """
    row = locks.get(JOBS, job_id, project_id)
    if row is None:
        raise JOBS.not_found(job_id)
    documents.check_version(JOBS, row, expected_version)
    if keeps_actions:
        return _told(locks.session, JOBS, 'update',
                     _store_kept_job(locks.session, row, apply))
    values, entries = apply(jobs.job_document(row))
    check_client = (entries is not None or
                    values.get('client_id', row.client_id) != row.client_id)
    return _told(locks.session, JOBS, 'update', _store_job(
        locks, row, values, entries, check_client))


def _store_kept_job(session: orm.Session, row: documents.ColumnsRow,
                    apply: JobApply) -> Document:
    """The write of :func:`update_job` that keeps the job's actions (the
    scheduler's status report), on the job's row read with SQLAlchemy
    Core: only the columns that changed are written, as
    :func:`_store_job` writes them.

    The ORM's load of the job was about a tenth of the report's CPU, and
    the report changes the job's columns only; its actions are read with
    Core too.
    """
    kept = jobs.linked_actions(session.connection(), row.seq)
    values, entries = apply(jobs.job_document(row, kept))
    if entries is not None:
        raise ValueError('apply changed the actions of job %s' % row.job_id)
    if values.get('client_id', row.client_id) != row.client_id:
        jobs.check_client(session, row, values['client_id'], kept)
    if 'job_schedule' in values:
        _follow_schedule(session, row, values, kept)
    document = documents.update_row(
        session, JOBS, row, _changes(row, values),
        to_document=lambda job: jobs.job_document(job, kept))
    # Jobs are in the search index: their document is always made.
    return typing.cast(Document, document)


def _plan_job(session: orm.Session, plan: Plan, project_id: str,
              job_id: str, *args: typing.Any,
              **kwargs: typing.Any) -> None:
    plan.find(session, JOBS, job_id, project_id)


@in_lock_order(_plan_job)
def job_event(context: RequestContext, locks: Locks, project_id: str,
              job_id: str, event: str) -> str:
    """Ask the scheduler to start, stop or abort a job.

    :returns: "success", or "<event> already requested" when the job's
        event already is ``event`` (nothing is written then).
    """
    row = locks.get(JOBS, job_id, project_id)
    if row is None:
        raise JOBS.not_found(job_id)
    if not jobs.request_event(row, event, int(time.time())):
        return '%s already requested' % event
    row.user_id = _user_id(context)
    runs.record_event(locks.session, row, event, row.user_id)
    document = documents.save(locks.session, JOBS, row)
    notifications.pending(locks.session, 'job.event', dict(
        notifications.resource_payload('job', document), event=event))
    return 'success'


# --- sessions and their jobs -------------------------------------------------

def _forget(session: orm.Session, session_row: models.Session,
            job_id: str) -> None:
    """Drop a job from a session's jobs map."""
    if job_id in (session_row.jobs or {}):
        session_row.jobs = {k: v for k, v in session_row.jobs.items()
                            if k != job_id}
        documents.save(session, SESSIONS, session_row)


def _plan_delete_job(session: orm.Session, plan: Plan, project_id: str,
                     job_id: str,
                     expected_version: int | None = None) -> None:
    row = plan.find(session, JOBS, job_id, project_id)
    if row is not None and row.session_id:
        plan.find(session, SESSIONS, row.session_id, project_id)


@in_lock_order(_plan_delete_job)
def delete_job(context: RequestContext, locks: Locks, project_id: str,
               job_id: str, expected_version: int | None = None
               ) -> dict[str, typing.Any] | None:
    """Delete a job and drop it from its session.

    :returns: the deleted job's trust (``user_credentials``), or None.
    """
    row = locks.get(JOBS, job_id, project_id)
    if row is None:
        _absent(JOBS, job_id, expected_version)
        return None
    documents.check_version(JOBS, row, expected_version)
    if row.session_id:
        session_row = locks.get(SESSIONS, row.session_id, project_id)
        if session_row is not None:
            _forget(locks.session, session_row, job_id)
    credentials = row.user_credentials
    _told_removed(locks.session, JOBS, row, _user_id(context))
    # A run of a deleted job is history still: it ends, without a result.
    runs.follow(locks.session, row, {'status': 'deleted'}, (),
                _user_id(context))
    documents.remove(locks.session, JOBS, row)
    return credentials


def _plan_session(session: orm.Session, plan: Plan, project_id: str,
                  session_id: str, *args: typing.Any,
                  **kwargs: typing.Any) -> None:
    plan.find(session, SESSIONS, session_id, project_id)


def _plan_replace_session(session: orm.Session, plan: Plan, values: Values,
                          expected_version: int | None = None) -> None:
    plan.find(session, SESSIONS, values['session_id'])


@in_lock_order(_plan_replace_session, upsert=True)
def replace_session(context: RequestContext, locks: Locks, values: Values,
                    expected_version: int | None = None
                    ) -> tuple[Document, bool]:
    """Create or replace a session; the jobs of the session are kept."""
    row = locks.get(SESSIONS, values['session_id'])
    if row is None:
        _absent(SESSIONS, values['session_id'], expected_version)
        return _told(locks.session, SESSIONS, 'create', documents.insert(
            locks.session, SESSIONS, dict(values, jobs={}))), True
    if row.project_id != values['project_id']:
        raise exception.Conflict(resource='Session',
                                 id=values['session_id'])
    documents.check_version(SESSIONS, row, expected_version)
    return _told(locks.session, SESSIONS, 'update', documents.update(
        locks.session, SESSIONS, row, values)), False


@in_lock_order(_plan_session)
def update_session(context: RequestContext, locks: Locks, project_id: str,
                   session_id: str, apply: Callable[[Document], Values],
                   expected_version: int | None = None) -> Document:
    """One locked read-modify-write of a session."""
    row = locks.get(SESSIONS, session_id, project_id)
    if row is None:
        raise SESSIONS.not_found(session_id)
    documents.check_version(SESSIONS, row, expected_version)
    return _told(locks.session, SESSIONS, 'update', documents.update(
        locks.session, SESSIONS, row, apply(sessions.session_document(row))))


def _plan_session_and_job(session: orm.Session, plan: Plan,
                          project_id: str, session_id: str, job_id: str,
                          *args: typing.Any, **kwargs: typing.Any) -> None:
    plan.find(session, SESSIONS, session_id, project_id)
    plan.find(session, JOBS, job_id, project_id)


def _session_and_job(locks: Locks, project_id: str, session_id: str,
                     job_id: str) -> tuple[models.Session, models.Job]:
    """The locked session and job, or 404 for either."""
    row = locks.get(SESSIONS, session_id, project_id)
    if row is None:
        raise SESSIONS.not_found(session_id)
    job = locks.get(JOBS, job_id, project_id)
    if job is None:
        raise JOBS.not_found(job_id)
    return row, job


def _leaves(job: models.Job, session_id: str) -> bool:
    """Whether joining the session takes the job out of another one."""
    return bool(job.session_id) and job.session_id != session_id


def _plan_add_job(session: orm.Session, plan: Plan, project_id: str,
                  session_id: str, job_id: str) -> None:
    """The session, the job and the session the job leaves."""
    plan.find(session, SESSIONS, session_id, project_id)
    job = plan.find(session, JOBS, job_id, project_id)
    if job is not None and _leaves(job, session_id):
        plan.find(session, SESSIONS, job.session_id, project_id)


@in_lock_order(_plan_add_job)
def add_job(context: RequestContext, locks: Locks, project_id: str,
            session_id: str, job_id: str) -> None:
    """Make a job a member of the session, in one transaction.

    The job leaves its former session; it takes the session's tag and
    schedule (its own bookkeeping, such as time_created, is kept).
    """
    session = locks.session
    row, job = _session_and_job(locks, project_id, session_id, job_id)
    if _leaves(job, session_id):
        former = locks.get(SESSIONS, job.session_id, project_id)
        if former is not None:
            _forget(session, former, job_id)
    row.jobs = dict(row.jobs or {}, **{job_id: sessions.job_entry(job)})
    row.user_id = _user_id(context)
    _told(session, SESSIONS, 'update',
          documents.save(session, SESSIONS, row))
    job.job_schedule = sessions.joined_schedule(row, job)
    job.session_id = session_id
    job.session_tag = row.session_tag
    job.user_id = _user_id(context)
    documents.save(session, JOBS, job)


@in_lock_order(_plan_session_and_job)
def remove_job(context: RequestContext, locks: Locks, project_id: str,
               session_id: str, job_id: str) -> None:
    """Take a job out of the session; the scheduler is asked to stop it."""
    session = locks.session
    row, job = _session_and_job(locks, project_id, session_id, job_id)
    if job_id in (row.jobs or {}):
        row.user_id = _user_id(context)
        _forget(session, row, job_id)
        _told(session, SESSIONS, 'update', sessions.session_document(row))
    if job.session_id == session_id:
        job.session_id = ''
        job.session_tag = 0
        job.job_schedule = dict(job.job_schedule, event='stop')
        job.user_id = _user_id(context)
        documents.save(session, JOBS, job)


@in_lock_order(_plan_session_and_job)
def session_action(context: RequestContext, locks: Locks, project_id: str,
                   session_id: str, job_id: str, action: str,
                   current_tag: int | None = None,
                   result: str | None = None) -> dict[str, typing.Any]:
    """Start or end a job of the session under the session's lock, so
    that concurrent starts cannot both open a new generation.

    :returns: {"result": ..., "session_tag": ...}
    """
    row, _job = _session_and_job(locks, project_id, session_id, job_id)
    if job_id not in (row.jobs or {}):
        raise exception.BadRequest('job_id %s not found in session'
                                   % job_id)
    outcome, changed = sessions.act(row, job_id, action, current_tag, result)
    if changed:
        row.user_id = _user_id(context)
        _told(locks.session, SESSIONS, 'update',
              documents.save(locks.session, SESSIONS, row))
    return {'result': outcome, 'session_tag': row.session_tag}


def _members(session: orm.Session, project_id: str,
             session_id: str) -> set[int]:
    """Seqs of the jobs that name the session as theirs."""
    return set(session.scalars(
        sa.select(models.Job.seq)
        .where(models.Job.project_id == project_id,
               models.Job.session_id == session_id)).all())


def _plan_delete_session(session: orm.Session, plan: Plan, project_id: str,
                         session_id: str,
                         expected_version: int | None = None) -> None:
    if plan.find(session, SESSIONS, session_id, project_id) is not None:
        plan.add(JOBS, _members(session, project_id, session_id))


@in_lock_order(_plan_delete_session)
def delete_session(context: RequestContext, locks: Locks, project_id: str,
                   session_id: str,
                   expected_version: int | None = None) -> None:
    """Delete a session; its jobs no longer belong to a session."""
    session = locks.session
    row = locks.get(SESSIONS, session_id, project_id)
    if row is None:
        return _absent(SESSIONS, session_id, expected_version)
    documents.check_version(SESSIONS, row, expected_version)
    members = _members(session, project_id, session_id)
    locks.require(JOBS, members)
    for seq in sorted(members):
        job = locks.row(JOBS, seq)
        job.session_id = ''
        job.session_tag = 0
        documents.save(session, JOBS, job)
    _told_removed(session, SESSIONS, row, _user_id(context))
    documents.remove(session, SESSIONS, row)

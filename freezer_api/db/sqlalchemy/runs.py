"""Runs: the history of each job's runs, derived from what
freezer-scheduler already reports.

The scheduler PATCHes a job's whole ``job_schedule`` at each step of a
run: ``status: running`` with ``time_started`` (and then its agent's
``current_pid``), and at the end ``completed`` or, for a recurring job,
``scheduled`` (or ``stop``), with ``result`` and ``time_ended``. Each
such change of a job is followed here, in the transaction of the job's
write and under its lock (see :mod:`relations`):

* a move to ``running`` opens a run (a new ``time_started`` while a run is
  open ends that one, without a result, and opens another); the agent's
  ``current_pid``, reported next, is read from the job while the run
  runs (the report changes no run);
* a move away from ``running`` ends the open run with the reported
  result, end time and pid;
* a start, stop or abort request is recorded in the open run;
* a backup record posted with the job's id while a run is open is
  linked to it (:func:`link_backup`).

The job points at its open run (``jobs.open_run_seq``), so that none of
this costs a search. A run outlives its job; runs that ended more than
``[history] retention_days`` ago are deleted, a few at a time, when
another run of their project starts (one in ``PRUNE_EVERY``).
"""

import collections
from collections.abc import Collection
from collections.abc import Sequence
import dataclasses
import time
import typing

from oslo_config import cfg
import sqlalchemy as sa
from sqlalchemy import orm

from freezer_api import conf
from freezer_api.common import exception
from freezer_api.common import health
from freezer_api.common import notifications
from freezer_api.common import utils
from freezer_api.common.types import Document
from freezer_api.db import search_index as search_lang
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import models
from freezer_api.db.sqlalchemy import reads

RUNNING = health.RUNNING
ENDED = health.ENDED

_RUN_BACKUPS = typing.cast(sa.Table, models.RunBackup.__table__)

# Expired runs are looked for when one run in this many starts (by seq),
# [history] prune_batch of them at most: a few times as many as start.
PRUNE_EVERY = 4

# The configuration whose [history] options apply (see configure()).
_conf: cfg.ConfigOpts = conf.CONF


def configure(config: cfg.ConfigOpts) -> None:
    """Read the [history] options of ``config`` (the application's) from
    now on: they are read when used, so a changed value applies to the
    next request."""
    global _conf
    # A time zone the service does not know stops it at start, not at
    # the first health read.
    health.Limits.from_conf(config)
    _conf = config


def configured() -> cfg.ConfigOpts:
    """The configuration whose [history] options apply."""
    return _conf


def current_limits() -> health.Limits:
    """The [history] options health is judged by, as they are now."""
    return health.Limits.from_conf(_conf)


def _error(row: documents.ColumnsRow) -> str | None:
    """A one-line summary of what went wrong in an ended run, if
    anything did."""
    if row.status != ENDED:
        return None
    if row.result == 'fail':
        return 'freezer-scheduler reported that an action of the job failed'
    if row.result == 'aborted':
        return 'the run was aborted'
    if not row.result:
        return ('the run ended without a result: freezer-scheduler reset '
                'the job, or started it again before it ended')
    return None


def run_document(row: documents.ColumnsRow) -> Document:
    """The document of a run, without its backups (what the index
    holds)."""
    duration = (None if row.time_ended is None
                else max(0, row.time_ended - row.time_started))
    document = {
        'run_id': row.run_id,
        'job_id': row.job_id,
        'project_id': row.project_id,
        'user_id': row.user_id,
        'client_id': row.client_id,
        'session_id': row.session_id,
        'status': row.status,
        'result': row.result,
        'time_started': row.time_started,
        'time_ended': row.time_ended,
        'duration': duration,
        'current_pid': row.current_pid,
        'actions': row.actions,
        'events': row.events,
        '_version': row.version,
    }
    error = _error(row)
    if error is not None:
        document['error'] = error
    return document


_BACKUPS_OF_RUNS = (
    sa.select(_RUN_BACKUPS.c.run_seq, _RUN_BACKUPS.c.backup_id)
    .where(_RUN_BACKUPS.c.run_seq.in_(sa.bindparam('seqs', expanding=True)))
    .order_by(_RUN_BACKUPS.c.id))


_CLIENTS = typing.cast(sa.Table, models.Client.__table__)
_CLIENTS_SEEN = (
    sa.select(_CLIENTS.c.client_id, _CLIENTS.c.project_id,
              _CLIENTS.c.is_central, _CLIENTS.c.last_seen)
    .where(_CLIENTS.c.client_id.in_(sa.bindparam('client_ids',
                                                 expanding=True))))


def clients_seen(connection: sa.engine.Connection, project_id: str,
                 client_ids: Collection[str]) -> dict[str, int | None]:
    """client_id -> when it last polled (None: never), for the clients
    ``project_id`` sees (its own, else a central one) among
    ``client_ids``."""
    seen: dict[str, int | None] = {}
    if not client_ids:
        return seen
    for row in connection.execute(_CLIENTS_SEEN,
                                  {'client_ids': sorted(client_ids)}):
        if row.project_id == project_id or (
                row.is_central and row.client_id not in seen):
            seen[row.client_id] = row.last_seen
    return seen


# The schedules of the jobs of running runs: their agents' pids.
_SCHEDULES = sa.select(models.Job.job_id, models.Job.job_schedule).where(
    models.Job.job_id.in_(sa.bindparam('job_ids', expanding=True)))


def read_documents(connection: sa.engine.Connection,
                   rows: Sequence[documents.ColumnsRow],
                   now: int | None = None,
                   limits: health.Limits | None = None) -> list[Document]:
    """The documents of run rows read with Core, as they read now: each
    with the ids of the backups linked to it, in the order they were
    posted, and a running run whose client went quiet as ``lost``
    (:func:`health.run_status`)."""
    if not rows:
        return []
    linked: collections.defaultdict[int, list[str]] = (
        collections.defaultdict(list))
    for run_seq, backup_id in connection.execute(
            _BACKUPS_OF_RUNS, {'seqs': [row.seq for row in rows]}):
        linked[run_seq].append(backup_id)
    running = [row for row in rows if row.status == RUNNING]
    seen: dict[str, int | None] = {}
    pids: dict[str, typing.Any] = {}
    if running:
        now = int(time.time()) if now is None else now
        limits = limits or current_limits()
        seen = clients_seen(connection, running[0].project_id,
                            {row.client_id for row in running})
        pids = {job_id: _pid(schedule.get('current_pid'))
                for job_id, schedule in connection.execute(
                    _SCHEDULES, {'job_ids': sorted(
                        {row.job_id for row in running})})}
    documents_read = []
    for row in rows:
        document = dict(run_document(row), backup_ids=linked[row.seq])
        if row.status == RUNNING:
            document['current_pid'] = pids.get(row.job_id)
            document['status'] = health.run_status(
                RUNNING, row.time_started, seen.get(row.client_id),
                typing.cast(int, now),
                typing.cast(health.Limits, limits))
            if document['status'] == health.LOST:
                document['error'] = (
                    'the run is lost: its client stopped polling for jobs '
                    'while it ran, for longer than [history] run_timeout')
        documents_read.append(document)
    return documents_read


_TABLE = typing.cast(sa.Table, models.Run.__table__)

# What a search of runs looks at: a run's own fields, all columns. Runs
# are written on the scheduler's status reports, so they are not in the
# search index (what it costs every write), and their actions, events,
# backups and error are not searched.
SEARCHED = {
    **{name: _TABLE.c[name] for name in (
        'run_id', 'job_id', 'project_id', 'user_id', 'client_id',
        'session_id', 'status', 'result', 'time_started', 'time_ended',
        'current_pid')},
    'duration': _TABLE.c.time_ended - _TABLE.c.time_started,
}

RUNS = documents.Kind('runs', 'Run', models.Run, 'run_id', run_document,
                      read_documents, newest_first=True,
                      searched_columns=SEARCHED)

get_run = reads.getter(RUNS)
list_runs = reads.lister(RUNS)

_JOB_IN_PROJECT = sa.select(models.Job.seq).where(
    models.Job.job_id == sa.bindparam('job_id'),
    models.Job.project_id == sa.bindparam('project_id'))


@api.read_connection
def list_job_runs(context: api.ReadContext, project_id: str, job_id: str,
                  search: search_lang.Search, limit: int,
                  offset: int) -> list[Document]:
    """A page of the runs of the job ``job_id`` of ``project_id`` that
    satisfy ``search``, newest first; NotFound if there is no such
    job."""
    connection = context.connection
    if not documents.may_be_stored(job_id) or connection.execute(
            _JOB_IN_PROJECT, {'job_id': job_id,
                              'project_id': project_id}).first() is None:
        raise exception.ResourceNotFound(resource='Job', id=job_id)
    # The job's term first: it drives the search (documents._driver).
    search = dataclasses.replace(search, match=(
        search_lang.Term('job_id', job_id), *search.match))
    return documents.list_documents(connection, RUNS, project_id, search,
                                    limit, offset)


# --- following the scheduler's reports --------------------------------------

def _time(value: typing.Any) -> int | None:
    """A time the scheduler reports (seconds since the epoch), or None
    for its "not yet" (-1) and anything that is not a time."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if value > 0 else None


def _pid(value: typing.Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value < 2 ** 63 else None


def _action_summary(row: documents.ColumnsRow) -> Document:
    freezer_action = row.freezer_action or {}
    return {'action_id': row.action_id,
            'action': freezer_action.get('action'),
            'mode': freezer_action.get('mode'),
            'backup_name': freezer_action.get('backup_name')}


_OPEN_RUN = sa.select(RUNS.table).where(
    RUNS.table.c.seq == sa.bindparam('seq'))


# What ending a run reads of it (its actions and events are not needed).
_OPEN_RUN_BRIEF = sa.select(*(RUNS.table.c[name] for name in (
    'seq', 'version', 'project_id', 'user_id', 'run_id', 'job_id',
    'client_id', 'session_id', 'time_started'))).where(
        RUNS.table.c.seq == sa.bindparam('seq'))


def _open_run(session: orm.Session, job: models.Job,
              brief: bool = False) -> sa.Row[typing.Any] | None:
    """The job's open run, or None; ``brief``: the columns that ending it
    needs."""
    if job.open_run_seq is None:
        return None
    return session.connection().execute(
        _OPEN_RUN_BRIEF if brief else _OPEN_RUN,
        {'seq': job.open_run_seq}).first()


def follow(session: orm.Session, job: models.Job, schedule: Document,
           action_rows: Sequence[documents.ColumnsRow], user_id: str,
           now: int | None = None) -> int | None:
    """Follow a change of the job's ``job_schedule`` to ``schedule``, in
    the transaction that stores it, under the job's lock.

    :param action_rows: the job's actions (rows with ``action_id`` and
        ``freezer_action``), recorded in a run that opens.
    :returns: the seq of the job's open run after the change (its
        ``open_run_seq``), or None.
    """
    if job.open_run_seq is None and schedule.get('status') != RUNNING:
        # The commonest report: nothing runs, nothing starts.
        return None
    stored = job.job_schedule or {}
    if job.open_run_seq is not None and schedule.get('status') == RUNNING \
            and stored.get('status') == RUNNING and \
            stored.get('time_started') == schedule.get('time_started'):
        # Still the run the job's schedule says (the agent's pid, an
        # abort acknowledged): nothing to read or write.
        return job.open_run_seq
    now = int(time.time()) if now is None else now
    stored_start = _time(stored.get('time_started'))
    if job.open_run_seq is not None and schedule.get('status') != RUNNING \
            and stored.get('status') == RUNNING and stored_start is not None \
            and not notifications.enabled():
        # The end of the run the job's schedule says, with nothing to
        # tell of it: written without reading it first.
        _end_unread(session, job.open_run_seq, schedule, stored_start, now,
                    user_id)
        return None
    run = _open_run(session, job, brief=True)
    if schedule.get('status') == RUNNING:
        started = _time(schedule.get('time_started'))
        if run is not None and started in (None, run.time_started):
            # The same run (its agent's pid is read from the job while
            # it runs, and stored when it ends).
            return run.seq
        if run is not None:
            _end(session, run, None, now, None, user_id)
        return _start(session, job, started or now, action_rows, user_id,
                      now)
    if run is not None:
        _end(session, run, *_reported_end(schedule, run.time_started, now),
             user_id)
    return None


def _reported_end(schedule: Document, started: int,
                  now: int) -> tuple[str | None, int, int | None]:
    """(result, time_ended, pid) of a run that started at ``started``, as
    the report ``schedule`` ends it: no result when it gives none, an end
    not before the start (now when it gives none)."""
    result = schedule.get('result')
    return (result if isinstance(result, str) and result else None,
            max(_time(schedule.get('time_ended')) or now, started),
            _pid(schedule.get('current_pid')))


def _start(session: orm.Session, job: models.Job, started: int,
           action_rows: Sequence[documents.ColumnsRow], user_id: str,
           now: int) -> int:
    values = {
        'run_id': utils.generate_id(),
        'project_id': job.project_id,
        'user_id': user_id,
        'job_id': job.job_id,
        'client_id': job.client_id,
        'session_id': job.session_id or '',
        'status': RUNNING,
        'result': None,
        'time_started': started,
        'time_ended': None,
        'current_pid': None,
        'actions': [_action_summary(row) for row in action_rows],
        'events': [],
    }
    seq = documents.insert_row(session, RUNS, values)
    notifications.pending(session, 'run.start', _run_payload(values))
    if seq % PRUNE_EVERY == 0:
        prune(session, job.project_id, now)
    return seq


_RUN_PAYLOAD = ('run_id', 'job_id', 'client_id', 'project_id', 'user_id',
                'session_id', 'time_started')


def _run_payload(run: typing.Any) -> notifications.Payload:
    """What ``run.start`` tells of a run (a row or its values)."""
    get = (run.get if isinstance(run, dict)
           else lambda key: getattr(run, key))
    return {key: get(key) for key in _RUN_PAYLOAD}


_BACKUPS_OF_RUN = (sa.select(_RUN_BACKUPS.c.backup_id)
                   .where(_RUN_BACKUPS.c.run_seq == sa.bindparam('seq'))
                   .order_by(_RUN_BACKUPS.c.id))


def _end(session: orm.Session, run: sa.Row[typing.Any], result: str | None,
         ended: int, pid: int | None, user_id: str) -> None:
    _update(session, run, {'status': ENDED, 'result': result,
                           'time_ended': ended, 'current_pid': pid},
            user_id)
    if not notifications.enabled():
        return
    backup_ids = list(session.connection().execute(
        _BACKUPS_OF_RUN, {'seq': run.seq}).scalars())
    notifications.pending(session, 'run.end', dict(
        _run_payload(run), user_id=user_id, result=result,
        time_ended=ended, duration=max(0, ended - run.time_started),
        backup_ids=backup_ids))


_END_UNREAD = (sa.update(_TABLE)
               .where(_TABLE.c.seq == sa.bindparam('run_seq'))
               .values(status=ENDED, result=sa.bindparam('new_result'),
                       time_ended=sa.bindparam('new_time_ended'),
                       current_pid=sa.bindparam('new_pid'),
                       user_id=sa.bindparam('new_user_id'),
                       version=_TABLE.c.version + 1,
                       updated_at=sa.bindparam('new_updated_at')))


def _end_unread(session: orm.Session, run_seq: int, schedule: Document,
                started: int, now: int, user_id: str) -> None:
    """End the run ``run_seq``, which started at ``started``, as
    ``schedule`` reports, with one UPDATE."""
    result, ended, pid = _reported_end(schedule, started, now)
    session.connection().execute(_END_UNREAD, {
        'run_seq': run_seq, 'new_result': result, 'new_time_ended': ended,
        'new_pid': pid, 'new_user_id': user_id,
        'new_updated_at': models.utcnow()})


def _update(session: orm.Session, run: sa.Row[typing.Any],
            changes: dict[str, typing.Any], user_id: str) -> None:
    documents.update_row(session, RUNS, run, dict(changes, user_id=user_id))


def record_event(session: orm.Session, job: models.Job, event: str,
                 user_id: str, now: int | None = None) -> None:
    """Record a start, stop or abort request in the job's open run."""
    run = _open_run(session, job)
    if run is None:
        return
    now = int(time.time()) if now is None else now
    _update(session, run, {'events': [*run.events,
                                      {'event': event, 'time': now}]},
            user_id)


_OPEN_RUN_OF_JOB = sa.select(models.Job.open_run_seq).where(
    models.Job.job_id == sa.bindparam('job_id'),
    models.Job.project_id == sa.bindparam('project_id'))


def link_backup(session: orm.Session, project_id: str, job_id: typing.Any,
                backup_id: str) -> None:
    """Link a backup record just posted with ``job_id`` to that job's
    open run, if it has one.

    The job is not locked: its run may end meanwhile, and the backup is
    then linked to the run that was open when it was posted.
    """
    if not isinstance(job_id, str) or not documents.may_be_stored(job_id):
        return
    connection = session.connection()
    run_seq = connection.execute(_OPEN_RUN_OF_JOB, {
        'job_id': job_id, 'project_id': project_id}).scalar()
    if run_seq is not None:
        connection.execute(sa.insert(_RUN_BACKUPS), {
            'run_seq': run_seq, 'backup_id': backup_id})


# --- retention --------------------------------------------------------------

_EXPIRED = (sa.select(RUNS.table.c.seq)
            .where(RUNS.table.c.project_id == sa.bindparam('project_id'),
                   RUNS.table.c.time_ended < sa.bindparam('cutoff'))
            .order_by(RUNS.table.c.seq).limit(sa.bindparam('batch')))
_LINKS_OF_RUNS = sa.select(_RUN_BACKUPS.c.id).where(
    _RUN_BACKUPS.c.run_seq.in_(sa.bindparam('seqs', expanding=True)))
_DELETE_LINKS = sa.delete(_RUN_BACKUPS).where(
    _RUN_BACKUPS.c.id.in_(sa.bindparam('ids', expanding=True)))


def prune(session: orm.Session, project_id: str, now: int) -> int:
    """Delete at most ``[history] prune_batch`` runs of the project that
    ended more than ``[history] retention_days`` ago, with their index
    entries and backup links. :returns: how many."""
    history = _conf.history
    connection = session.connection()
    seqs = list(connection.execute(_EXPIRED, {
        'project_id': project_id,
        'cutoff': now - history.retention_days * 86400,
        'batch': history.prune_batch}).scalars())
    if not seqs:
        return 0
    links = list(connection.execute(_LINKS_OF_RUNS,
                                    {'seqs': seqs}).scalars())
    if links:
        connection.execute(_DELETE_LINKS, {'ids': links})
    documents.remove_rows(session, RUNS, seqs)
    return len(seqs)


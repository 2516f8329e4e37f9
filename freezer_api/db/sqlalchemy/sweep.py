"""What no request reports: runs that became lost, runs missed and
clients gone offline, told as notifications (``run.lost``,
``run.missed``, ``client.offline``).

Time alone makes them: each API process looks every ``[history]
sweep_interval`` seconds (a background thread, started with the first
request, only when notifications are sent). Several processes look at the
same rows, and each thing is told once: a process claims it with an
UPDATE that only one of them can make (``runs.lost_told``,
``jobs.missed_due``, ``clients.offline_told``), and tells what it
claimed once its transaction committed. Each kind is claimed in a
transaction of its own, touching rows of one table only, in seq order:
no lock is held while another table's is awaited.
"""

import time
import typing

import sqlalchemy as sa

from freezer_api.common import context as freezer_context
from freezer_api.common import health
from freezer_api.common import notifications
from freezer_api.common import periodic
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import health as health_reads
from freezer_api.db.sqlalchemy import liveness
from freezer_api.db.sqlalchemy import models
from freezer_api.db.sqlalchemy import runs

_RUNS = runs.RUNS.table
_JOBS = typing.cast(sa.Table, models.Job.__table__)
_CLIENTS = typing.cast(sa.Table, models.Client.__table__)

_OPEN_RUNS = (sa.select(_RUNS.c.seq, _RUNS.c.run_id, _RUNS.c.job_id,
                        _RUNS.c.project_id, _RUNS.c.client_id,
                        _RUNS.c.time_started)
              .where(_RUNS.c.status == health.RUNNING,
                     _RUNS.c.lost_told.is_(False))
              .order_by(_RUNS.c.seq))
_TELL_LOST = (sa.update(_RUNS)
              .where(_RUNS.c.seq == sa.bindparam('run_seq'),
                     _RUNS.c.lost_told.is_(False))
              .values(lost_told=True))

_ALL_RUNS = health_reads.run_stats(sa.true())
_JOBS_TO_JUDGE = (sa.select(_JOBS.c.seq, _JOBS.c.job_id, _JOBS.c.project_id,
                            _JOBS.c.client_id, _JOBS.c.job_schedule,
                            _JOBS.c.missed_due, _JOBS.c.armed_at)
                  .order_by(_JOBS.c.seq))
_TELL_MISSED = (sa.update(_JOBS)
                .where(_JOBS.c.seq == sa.bindparam('job_seq'),
                       sa.or_(_JOBS.c.missed_due.is_(None),
                              _JOBS.c.missed_due != sa.bindparam('due')))
                .values(missed_due=sa.bindparam('due')))

# Clients that polled once and not since, not yet told of.
_QUIET_CLIENTS = (sa.select(_CLIENTS.c.seq, _CLIENTS.c.client_id,
                            _CLIENTS.c.project_id, _CLIENTS.c.last_seen)
                  .where(_CLIENTS.c.last_seen.is_not(None),
                         _CLIENTS.c.offline_told.is_(False))
                  .order_by(_CLIENTS.c.seq))
_TELL_OFFLINE = (sa.update(_CLIENTS)
                 .where(_CLIENTS.c.seq == sa.bindparam('client_seq'),
                        _CLIENTS.c.offline_told.is_(False),
                        _CLIENTS.c.last_seen == sa.bindparam('seen'))
                 .values(offline_told=True))


@api.write_transaction
def _lost_runs(context: freezer_context.RequestContext, now: int) -> int:
    connection = context.session.connection()
    limits = runs.current_limits()
    open_runs = connection.execute(_OPEN_RUNS).all()
    # The poll times of their clients: one read per project.
    seen_in: dict[str, dict[str, int | None]] = {}
    for run in open_runs:
        seen_in.setdefault(run.project_id, {})[run.client_id] = None
    for project_id, client_ids in seen_in.items():
        client_ids.update(runs.clients_seen(connection, project_id,
                                            client_ids))
    told = 0
    for run in open_runs:
        seen = seen_in[run.project_id][run.client_id]
        if health.run_status(health.RUNNING, run.time_started, seen, now,
                             limits) != health.LOST:
            continue
        if connection.execute(_TELL_LOST, {'run_seq': run.seq}).rowcount:
            told += 1
            notifications.pending(context.session, 'run.lost', {
                'project_id': run.project_id, 'run_id': run.run_id,
                'job_id': run.job_id, 'client_id': run.client_id,
                'time_started': run.time_started, 'client_seen': seen})
    return told


@api.write_transaction
def _missed_runs(context: freezer_context.RequestContext, now: int) -> int:
    connection = context.session.connection()
    limits = runs.current_limits()
    jobs = connection.execute(_JOBS_TO_JUDGE).all()
    last_runs = connection.execute(_ALL_RUNS.brief_last_runs).all()
    last_started = {row.job_id: row.time_started for row in last_runs}
    running = {row.job_id for row in last_runs
               if row.status == health.RUNNING}
    told = 0
    for job in jobs:
        if job.job_id in running:
            continue
        schedule = job.job_schedule
        if schedule.get('event') == 'stop' or \
                schedule.get('status') == 'stop':
            continue
        due = health.next_due(schedule, last_started.get(job.job_id), now,
                              limits, job.armed_at)
        if due is None or now <= due + limits.grace or \
                job.missed_due == due:
            continue
        if connection.execute(_TELL_MISSED, {'job_seq': job.seq,
                                             'due': due}).rowcount:
            told += 1
            notifications.pending(context.session, 'run.missed', {
                'project_id': job.project_id, 'job_id': job.job_id,
                'client_id': job.client_id, 'next_due': due})
    return told


@api.write_transaction
def _offline_clients(context: freezer_context.RequestContext,
                     now: int) -> int:
    connection = context.session.connection()
    limits = runs.current_limits()
    told = 0
    for client in connection.execute(_QUIET_CLIENTS).all():
        if health.client_state(client.last_seen, now,
                               limits) != health.OFFLINE:
            continue
        if connection.execute(_TELL_OFFLINE, {
                'client_seq': client.seq,
                'seen': client.last_seen}).rowcount:
            told += 1
            notifications.pending(context.session, 'client.offline', {
                'project_id': client.project_id,
                'client_id': client.client_id,
                'last_seen': client.last_seen})
    return told


def sweep(now: int | None = None) -> dict[str, int]:
    """Look once; tell what became true. :returns: how many of each
    kind this call told."""
    now = int(time.time()) if now is None else now
    # The polls this process saw count first.
    liveness.flush()
    ctx = freezer_context.get_admin_context()
    return {'run.lost': _lost_runs(ctx, now),
            'run.missed': _missed_runs(ctx, now),
            'client.offline': _offline_clients(ctx, now)}


SWEEPER = periodic.Periodic(
    'freezer-sweep', sweep,
    lambda: runs.configured().history.sweep_interval,
    'The look for lost and missed runs and offline clients failed; it is '
    'tried again')


def start() -> None:
    """Start this process's background sweep if notifications are sent
    and it is not running."""
    if notifications.enabled():
        SWEEPER.ensure_started()

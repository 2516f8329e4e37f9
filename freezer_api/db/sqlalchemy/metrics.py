"""What the metrics of ``GET /metrics`` are computed from: every job's
health, the runs by result and the clients by liveness, read from the
database at scrape time (so that every API process gives the same
figures, and a restart loses none), with a few statements for all of
them."""

import collections
import dataclasses
import time
import typing

import sqlalchemy as sa

from freezer_api.common import health
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import health as health_reads
from freezer_api.db.sqlalchemy import liveness
from freezer_api.db.sqlalchemy import models
from freezer_api.db.sqlalchemy import runs

_JOBS = typing.cast(sa.Table, models.Job.__table__)
_CLIENTS = typing.cast(sa.Table, models.Client.__table__)
_RUNS = runs.RUNS.table

_ALL_RUNS = health_reads.run_stats(sa.true())
_EVERY_JOB = sa.select(_JOBS.c.job_id, _JOBS.c.project_id,
                       _JOBS.c.client_id, _JOBS.c.job_schedule,
                       _JOBS.c.armed_at)
_EVERY_CLIENT = sa.select(_CLIENTS.c.client_id, _CLIENTS.c.project_id,
                          _CLIENTS.c.is_central, _CLIENTS.c.last_seen)
_RUNS_BY_RESULT = (
    sa.select(_RUNS.c.project_id, _RUNS.c.status, _RUNS.c.result,
              sa.func.count().label('runs'))
    .group_by(_RUNS.c.project_id, _RUNS.c.status, _RUNS.c.result))


@dataclasses.dataclass
class Snapshot:
    """The figures of one scrape.

    :ivar jobs: (project_id, state) -> jobs.
    :ivar since_success: (project_id, job_id) -> seconds since its last
        successful run ended (jobs that had one).
    :ivar failures: (project_id, job_id) -> failed runs in a row (jobs
        with any).
    :ivar runs: (project_id, result) -> stored runs; the result of a run
        not ended is its status (running, lost), of one ended without a
        result "none".
    :ivar clients: (project_id, state) -> clients.
    """

    jobs: collections.Counter[tuple[str, str]] = dataclasses.field(
        default_factory=collections.Counter)
    since_success: dict[tuple[str, str], int] = dataclasses.field(
        default_factory=dict)
    failures: dict[tuple[str, str], int] = dataclasses.field(
        default_factory=dict)
    runs: collections.Counter[tuple[str, str]] = dataclasses.field(
        default_factory=collections.Counter)
    clients: collections.Counter[tuple[str, str]] = dataclasses.field(
        default_factory=collections.Counter)


def _run(row: sa.Row[typing.Any], seen: int | None, now: int,
         limits: health.Limits) -> dict[str, typing.Any]:
    """The part of a run document health judges by."""
    return {'run_id': row.run_id,
            'status': health.run_status(row.status, row.time_started, seen,
                                        now, limits),
            'result': row.result, 'time_started': row.time_started,
            'time_ended': row.time_ended}


@api.read_connection
def snapshot(context: api.ReadContext) -> Snapshot:
    """The figures of every project, as they are now."""
    liveness.flush()
    connection = context.connection
    now = int(time.time())
    limits = runs.current_limits()
    figures = Snapshot()
    own: dict[tuple[str, str], int | None] = {}
    central: dict[str, int | None] = {}
    for row in connection.execute(_EVERY_CLIENT):
        own[row.project_id, row.client_id] = row.last_seen
        if row.is_central:
            central[row.client_id] = row.last_seen
        figures.clients[row.project_id, health.client_state(
            row.last_seen, now, limits)] += 1
    last_runs = {row.job_id: row for row in
                 connection.execute(_ALL_RUNS.brief_last_runs)}
    successes = {row.job_id: row.ended for row in
                 connection.execute(_ALL_RUNS.successes)}
    failures = {row.job_id: row.failures for row in
                connection.execute(_ALL_RUNS.failures)}
    for job in connection.execute(_EVERY_JOB):
        key = (job.project_id, job.client_id)
        seen = own[key] if key in own else central.get(job.client_id)
        last = last_runs.get(job.job_id)
        facts = health.JobFacts(
            job={'job_id': job.job_id, 'client_id': job.client_id,
                 'job_schedule': job.job_schedule},
            last_run=None if last is None else _run(last, seen, now,
                                                    limits),
            last_success=successes.get(job.job_id),
            consecutive_failures=failures.get(job.job_id, 0),
            client_seen=seen, armed_at=job.armed_at)
        state = health.job_health(facts, now, limits)['state']
        figures.jobs[job.project_id, state] += 1
        if facts.last_success is not None:
            figures.since_success[job.project_id, job.job_id] = max(
                0, now - facts.last_success)
        if facts.consecutive_failures:
            figures.failures[job.project_id, job.job_id] = (
                facts.consecutive_failures)
    for row in connection.execute(_RUNS_BY_RESULT):
        if row.status == health.RUNNING:
            result = health.RUNNING
        else:
            result = row.result or 'none'
        figures.runs[row.project_id, result] += row.runs
    return figures

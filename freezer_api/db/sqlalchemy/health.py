"""Reads of job health and client liveness: the facts of
:mod:`freezer_api.common.health`, gathered for a page of jobs with a few
queries for all of them."""

from collections.abc import Sequence
import time
import typing

import sqlalchemy as sa

from freezer_api.common import health
from freezer_api.common.types import Document
from freezer_api.db import search_index as search_lang
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import clients
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import jobs
from freezer_api.db.sqlalchemy import liveness
from freezer_api.db.sqlalchemy import runs

_RUNS = runs.RUNS.table
_CLIENTS = clients.CLIENTS.table
_JOBS = jobs.JOBS.table

# When each of a page of jobs was armed again, for those that were.
_ARMED = sa.select(_JOBS.c.job_id, _JOBS.c.armed_at).where(
    _JOBS.c.project_id == sa.bindparam('project_id'),
    _JOBS.c.job_id.in_(sa.bindparam('job_ids', expanding=True)),
    _JOBS.c.armed_at.is_not(None))


class RunStats(typing.NamedTuple):
    """The statements that read, per job, its newest run (whole, or
    ``brief``: the columns health judges by), its newest success
    (``seq``, ``ended``) and its failures since (``failures``), for the
    runs that satisfy one condition."""

    last_runs: sa.Select[typing.Any]
    brief_last_runs: sa.Select[typing.Any]
    successes: sa.Select[typing.Any]
    failures: sa.Select[typing.Any]


def run_stats(where: sa.ColumnElement[bool]) -> RunStats:
    newest = (sa.select(_RUNS.c.job_id,
                        sa.func.max(_RUNS.c.seq).label('seq'))
              .where(where).group_by(_RUNS.c.job_id).subquery())
    successes = (sa.select(_RUNS.c.job_id,
                           sa.func.max(_RUNS.c.seq).label('seq'),
                           sa.func.max(_RUNS.c.time_ended).label('ended'))
                 .where(where, _RUNS.c.result == 'success')
                 .group_by(_RUNS.c.job_id))
    last_success = successes.subquery()
    failures = (sa.select(_RUNS.c.job_id,
                          sa.func.count().label('failures'))
                .select_from(_RUNS)
                .outerjoin(last_success,
                           last_success.c.job_id == _RUNS.c.job_id)
                .where(where, _RUNS.c.result.in_(health.FAILED_RESULTS),
                       _RUNS.c.seq > sa.func.coalesce(last_success.c.seq,
                                                      0))
                .group_by(_RUNS.c.job_id))
    brief = sa.select(_RUNS.c.job_id, _RUNS.c.run_id, _RUNS.c.status,
                      _RUNS.c.result, _RUNS.c.time_started,
                      _RUNS.c.time_ended)
    return RunStats(
        sa.select(_RUNS).join(newest, _RUNS.c.seq == newest.c.seq),
        brief.join(newest, _RUNS.c.seq == newest.c.seq),
        successes, failures)


# Of a page of jobs.
_OF_PAGE = run_stats(
    _RUNS.c.job_id.in_(sa.bindparam('job_ids', expanding=True)))


def _now() -> int:
    return int(time.time())


def job_facts(connection: sa.engine.Connection, project_id: str,
              job_documents: Sequence[Document], now: int,
              limits: health.Limits) -> list[health.JobFacts]:
    """The facts of each of ``job_documents`` (of ``project_id``)."""
    if not job_documents:
        return []
    job_ids = [job['job_id'] for job in job_documents]
    seen = runs.clients_seen(connection, project_id,
                             {job['client_id'] for job in job_documents})
    last_runs = {
        run['job_id']: run for run in runs.read_documents(
            connection, connection.execute(
                _OF_PAGE.last_runs, {'job_ids': job_ids}).all(), now,
            limits)}
    successes = {row.job_id: row.ended for row in connection.execute(
        _OF_PAGE.successes, {'job_ids': job_ids})}
    failures = {row.job_id: row.failures for row in connection.execute(
        _OF_PAGE.failures, {'job_ids': job_ids})}
    armed = {row.job_id: row.armed_at for row in connection.execute(
        _ARMED, {'project_id': project_id, 'job_ids': job_ids})}
    return [health.JobFacts(
        job=job, last_run=last_runs.get(job['job_id']),
        last_success=successes.get(job['job_id']),
        consecutive_failures=failures.get(job['job_id'], 0),
        client_seen=seen.get(job['client_id']),
        armed_at=armed.get(job['job_id']))
        for job in job_documents]


@api.read_connection
def list_job_health(context: api.ReadContext, project_id: str,
                    search: search_lang.Search, limit: int,
                    offset: int) -> list[Document]:
    """The health of a page of the project's jobs that satisfy
    ``search`` (as the jobs list pages them)."""
    liveness.flush()
    connection = context.connection
    now, limits = _now(), runs.current_limits()
    page = documents.list_documents(connection, jobs.JOBS, project_id,
                                    search, limit, offset)
    return [health.job_health(facts, now, limits) for facts in
            job_facts(connection, project_id, page, now, limits)]


@api.read_connection
def get_job_health(context: api.ReadContext, project_id: str,
                   job_id: str) -> Document:
    """The health of one job of the project; NotFound otherwise."""
    liveness.flush()
    connection = context.connection
    now, limits = _now(), runs.current_limits()
    job = documents.get_document(connection, jobs.JOBS, job_id, project_id)
    (facts,) = job_facts(connection, project_id, [job], now, limits)
    return health.job_health(facts, now, limits)


_VISIBLE_CLIENTS = (
    sa.select(_CLIENTS)
    .where(sa.or_(_CLIENTS.c.project_id == sa.bindparam('project_id'),
                  _CLIENTS.c.central_client_id.is_not(None)))
    .order_by(_CLIENTS.c.seq).limit(sa.bindparam('limit')))


@api.read_connection
def list_client_health(context: api.ReadContext, project_id: str,
                       limit: int) -> list[Document]:
    """The liveness of the clients the project sees (its own and the
    central ones), at most ``limit`` of them, in registration order."""
    liveness.flush()
    now, limits = _now(), runs.current_limits()
    rows = context.connection.execute(_VISIBLE_CLIENTS, {
        'project_id': project_id, 'limit': limit}).all()
    return [health.client_health(clients.client_document(row),
                                 row.last_seen, now, limits)
            for row in rows]


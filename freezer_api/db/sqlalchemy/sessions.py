"""Sessions: jobs, possibly on several clients, started and ended
together. ``session_tag`` counts the generations of runs.

Writes of a session's member jobs (add, remove, delete, start and end)
lock jobs too and live in :mod:`relations`; the rules of the session
document itself are here.
"""

import time
import typing

from freezer_api.common import exception
from freezer_api.common import notifications
from freezer_api.common.context import RequestContext
from freezer_api.common.types import Document
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import models
from freezer_api.db.sqlalchemy import reads

# session_tag is a 32-bit column.
MAX_TAG = 2 ** 31 - 1

# Bookkeeping of a job that joining a session keeps; every other key of
# its job_schedule (when and how it runs) is the session's.
JOB_BOOKKEEPING = ('time_created', 'time_started', 'time_ended',
                   'current_pid')


def session_document(row: documents.ColumnsRow) -> Document:
    return {
        'session_id': row.session_id,
        'project_id': row.project_id,
        'user_id': row.user_id,
        'description': row.description,
        'session_tag': row.session_tag,
        'hold_off': row.hold_off,
        'status': row.status,
        'result': row.result,
        'time_start': row.time_start,
        'time_end': row.time_end,
        'time_started': row.time_started,
        'time_ended': row.time_ended,
        'schedule': row.schedule,
        'jobs': row.jobs,
        '_version': row.version,
    }


SESSIONS = documents.Kind('sessions', 'Session', models.Session,
                          'session_id', session_document)


get_session = reads.getter(SESSIONS)
list_sessions = reads.lister(SESSIONS)


@api.write_transaction
def create_session(context: RequestContext,
                   values: dict[str, typing.Any]) -> Document:
    document = documents.insert(context.session, SESSIONS,
                                dict(values, jobs={}))
    notifications.written(context.session, 'session', 'create', document)
    return document


def job_entry(job: models.Job) -> dict[str, typing.Any]:
    """What a session's ``jobs`` map records of a member job."""
    schedule = job.job_schedule
    return {
        'client_id': job.client_id,
        'status': schedule.get('status') or '',
        'result': schedule.get('result') or '',
        'time_started': schedule.get('time_started', -1),
        'time_ended': schedule.get('time_ended', -1),
    }


def joined_schedule(row: models.Session,
                    job: models.Job) -> dict[str, typing.Any]:
    """The job_schedule of a job that joins the session: the session's,
    with the job's own bookkeeping kept."""
    schedule = {k: v for k, v in job.job_schedule.items()
                if k in JOB_BOOKKEEPING}
    schedule.update(row.schedule)
    return schedule


def act(row: models.Session, job_id: str, action: str,
        current_tag: int | None = None,
        result: str | None = None) -> tuple[str, bool]:
    """Start or end the member job ``job_id`` on the (locked) session row.

    :returns: (outcome, whether the row changed)
    """
    now = int(time.time())
    if action == 'start':
        if current_tag is None:
            # The API's schema requires it; a caller of the facade may not
            # give it.
            raise exception.BadRequest('A start needs current_tag.')
        return _start(row, job_id, current_tag, now)
    return _end(row, job_id, result, now)


def _start(row: models.Session, job_id: str, tag: int,
           now: int) -> tuple[str, bool]:
    """The start algorithm of the original service (tags and hold-off)."""
    if tag > row.session_tag:
        raise exception.BadRequest(
            'requested tag value too high. Session Tag: %d Job Tag: %d'
            % (row.session_tag, tag))
    since = now - (row.time_start if row.time_start is not None else -1)
    if since <= row.hold_off:
        if tag == row.session_tag:
            # A new generation so soon after the last one is refused.
            return 'hold-off', False
    elif tag < row.session_tag:
        return 'out-of-sync', False
    else:
        if row.session_tag >= MAX_TAG:
            raise exception.BadRequest(
                'The session tag is at its maximum (%d): reset it with a '
                'PATCH of session_tag.' % MAX_TAG)
        row.session_tag += 1
        row.time_start = now
        row.time_started = now
        row.status = 'running'
        row.result = ''
        # Every job of the session runs in the new generation: results of
        # the previous one must not complete it.
        row.jobs = {k: dict(v, status='', result='')
                    for k, v in row.jobs.items()}
    row.jobs = dict(row.jobs, **{job_id: dict(
        row.jobs[job_id], status='running', result='', time_started=now)})
    return 'success', True


def _overall(jobs_map: dict[str, dict[str, typing.Any]]) -> str:
    """running while any job runs, else fail if any job failed."""
    entries = list(jobs_map.values())
    if any(e.get('status') != 'completed' for e in entries):
        return 'running'
    if any(e.get('result') != 'success' for e in entries):
        return 'fail'
    return 'success'


def _end(row: models.Session, job_id: str, result: str | None,
         now: int) -> tuple[str, bool]:
    row.jobs = dict(row.jobs, **{job_id: dict(
        row.jobs[job_id], status='completed', result=result,
        time_ended=now)})
    overall = _overall(row.jobs)
    if row.status != 'completed' and overall in ('success', 'fail'):
        row.time_end = now
        row.time_ended = now
        row.result = overall
        row.status = 'completed'
    return 'success', True

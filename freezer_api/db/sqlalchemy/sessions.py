"""Sessions: jobs, possibly on several clients, started and ended
together. ``session_tag`` counts the generations of runs."""

import time

import sqlalchemy as sa

from freezer_api.common import exception
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import jobs
from freezer_api.db.sqlalchemy import models

# Bookkeeping of a job that joining a session keeps; every other key of
# its job_schedule (when and how it runs) is the session's.
# session_tag is a 32-bit column.
MAX_TAG = 2 ** 31 - 1

JOB_BOOKKEEPING = ('time_created', 'time_started', 'time_ended',
                   'current_pid')


def session_document(row):
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


@api.read_transaction
def get_session(context, project_id, session_id):
    return documents.get_document(context.session, SESSIONS, session_id,
                                  project_id)


@api.read_transaction
def list_sessions(context, project_id, search, limit, offset):
    return documents.list_documents(context.session, SESSIONS, project_id,
                                    search, limit, offset)


@api.write_transaction
def create_session(context, values):
    return documents.create(context.session, SESSIONS,
                            dict(values, jobs={}))


@api.upsert_transaction
def replace_session(context, values, expected_version=None):
    """Create or replace; the jobs of the session are kept."""
    session = context.session
    row = documents.get_row(session, SESSIONS, values['session_id'],
                            for_update=True)
    if row is None:
        values = dict(values, jobs={})
    return documents.replace(session, SESSIONS, values, expected_version)


@api.write_transaction
def update_session(context, project_id, session_id, apply,
                   expected_version=None):
    return documents.patch(context.session, SESSIONS, project_id,
                           session_id, apply, expected_version)


@api.write_transaction
def delete_session(context, project_id, session_id, expected_version=None):
    """Delete a session; its jobs no longer belong to a session."""
    session = context.session

    def detach_jobs(row):
        for job in _member_jobs(session, project_id, session_id):
            job.session_id = ''
            job.session_tag = 0
            documents.save(session, jobs.JOBS, job)

    documents.delete(session, SESSIONS, project_id, session_id,
                     expected_version, before=detach_jobs)


def _member_jobs(session, project_id, session_id):
    return session.scalars(
        sa.select(models.Job).where(models.Job.project_id == project_id,
                                    models.Job.session_id == session_id)
        .with_for_update()).all()


def forget_job(session, project_id, session_id, job_id):
    """Drop a deleted job from its session's jobs."""
    row = documents.get_row(session, SESSIONS, session_id, project_id,
                            for_update=True)
    if row is not None and job_id in (row.jobs or {}):
        row.jobs = {k: v for k, v in row.jobs.items() if k != job_id}
        documents.save(session, SESSIONS, row)


def _locked(session, project_id, session_id, job_id):
    """The session and the job, locked, or 404 for either."""
    row = documents.get_row(session, SESSIONS, session_id, project_id,
                            for_update=True)
    if row is None:
        raise SESSIONS.not_found(session_id)
    job = documents.get_row(session, jobs.JOBS, job_id, project_id,
                            for_update=True)
    if job is None:
        raise jobs.JOBS.not_found(job_id)
    return row, job


def _job_entry(job):
    schedule = job.job_schedule
    return {
        'client_id': job.client_id,
        'status': schedule.get('status') or '',
        'result': schedule.get('result') or '',
        'time_started': schedule.get('time_started', -1),
        'time_ended': schedule.get('time_ended', -1),
    }


@api.write_transaction
def add_job(context, project_id, session_id, job_id):
    """Make a job a member of the session, in one transaction.

    The job takes the session's tag and schedule (its own bookkeeping,
    such as time_created, is kept).
    """
    session = context.session
    row, job = _locked(session, project_id, session_id, job_id)
    if job.session_id and job.session_id != session_id:
        forget_job(session, project_id, job.session_id, job_id)
    row.jobs = dict(row.jobs or {}, **{job_id: _job_entry(job)})
    row.user_id = context.user_id
    documents.save(session, SESSIONS, row)
    schedule = {k: v for k, v in job.job_schedule.items()
                if k in JOB_BOOKKEEPING}
    schedule.update(row.schedule)
    job.job_schedule = schedule
    job.session_id = session_id
    job.session_tag = row.session_tag
    job.user_id = context.user_id
    documents.save(session, jobs.JOBS, job)


@api.write_transaction
def remove_job(context, project_id, session_id, job_id):
    """Take a job out of the session; the scheduler is asked to stop it."""
    session = context.session
    row, job = _locked(session, project_id, session_id, job_id)
    if job_id in (row.jobs or {}):
        row.jobs = {k: v for k, v in row.jobs.items() if k != job_id}
        row.user_id = context.user_id
        documents.save(session, SESSIONS, row)
    if job.session_id == session_id:
        job.session_id = ''
        job.session_tag = 0
        job.job_schedule = dict(job.job_schedule, event='stop')
        job.user_id = context.user_id
        documents.save(session, jobs.JOBS, job)


def _start(row, job_id, tag, now):
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


def _overall(jobs_map):
    """running while any job runs, else fail if any job failed."""
    entries = list(jobs_map.values())
    if any(e.get('status') != 'completed' for e in entries):
        return 'running'
    if any(e.get('result') != 'success' for e in entries):
        return 'fail'
    return 'success'


def _end(row, job_id, result, now):
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


@api.write_transaction
def session_action(context, project_id, session_id, job_id, action,
                   current_tag=None, result=None):
    """Start or end a job of the session, under the session's lock, so that
    concurrent starts cannot both open a new generation.

    :returns: {"result": ..., "session_tag": ...}
    """
    session = context.session
    row, _job = _locked(session, project_id, session_id, job_id)
    if job_id not in (row.jobs or {}):
        raise exception.BadRequest('job_id %s not found in session'
                                   % job_id)
    now = int(time.time())
    if action == 'start':
        outcome, changed = _start(row, job_id, current_tag, now)
    else:
        outcome, changed = _end(row, job_id, result, now)
    if changed:
        row.user_id = context.user_id
        documents.save(session, SESSIONS, row)
    return {'result': outcome, 'session_tag': row.session_tag}

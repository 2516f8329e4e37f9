"""Jobs: scheduled lists of actions for one client.

A job's actions are rows of ``actions`` linked in order through
``job_actions``; the job document embeds them, so a change of an action is
a change of every job that links it (new version, index rewritten).
"""

import sqlalchemy as sa

from freezer_api.common import exception
from freezer_api.db.sqlalchemy import actions
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import clients
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import models
from freezer_api.db.sqlalchemy import sessions

# freezer_action key -> the client capability list it must be in.
CAPABILITIES = {
    'action': 'supported_actions',
    'mode': 'supported_modes',
    'storage': 'supported_storages',
    'engine_name': 'supported_engines',
}


def job_document(row):
    document = {
        'job_id': row.job_id,
        'project_id': row.project_id,
        'user_id': row.user_id,
        'client_id': row.client_id,
        'session_id': row.session_id,
        'session_tag': row.session_tag,
        'description': row.description,
        'job_schedule': row.job_schedule,
        'job_actions': [actions.action_document(link.action)
                        for link in row.links],
        '_version': row.version,
    }
    if row.user_credentials:
        document['user_credentials'] = row.user_credentials
    return document


JOBS = documents.Kind('jobs', 'Job', models.Job, 'job_id', job_document)


# --- the actions of a job ---------------------------------------------------

def _resolve_action(session, job, entry):
    """The action row an entry of the job's job_actions names or defines.

    :param entry: {'action_id': id or None, 'create': columns of a new
        action or None, 'fields': columns the entry gives}.
    """
    project_id = job.project_id
    action_id = entry['action_id']
    row = None
    if action_id is not None:
        row = documents.get_row(session, actions.ACTIONS, action_id,
                                for_update=True)
    if row is not None:
        if row.project_id != project_id:
            raise exception.Conflict(resource='Action', id=action_id)
        changed = {k: v for k, v in entry['fields'].items()
                   if getattr(row, k) != v}
        if changed:
            changed['user_id'] = job.user_id
            documents.update(session, actions.ACTIONS, row, changed)
            _touch_jobs_of_action(session, row.seq, exclude_seq=job.seq)
        return row
    if entry['create'] is None:
        raise exception.UnprocessableEntity(
            reason='Action %s not found' % action_id)
    documents.insert(session, actions.ACTIONS, entry['create'])
    return documents.get_row(session, actions.ACTIONS,
                             entry['create']['action_id'])


def _link_actions(session, row, entries):
    action_rows = [_resolve_action(session, row, entry)
                   for entry in entries]
    row.links = [models.JobAction(position=position, action=action)
                 for position, action in enumerate(action_rows)]


def _jobs_linking(session, action_seq):
    return set(session.scalars(
        sa.select(models.JobAction.job_seq)
        .where(models.JobAction.action_seq == action_seq)).all())


def _lock_jobs(session, job_seqs):
    """The rows of these jobs, locked in seq order and read afresh.

    A job renewed because its action changed is written like any other
    write of it: from the locked row, never from a copy read before the
    lock, or two writers would both save ``version + 1``.
    """
    if not job_seqs:
        return []
    jobs = session.scalars(
        sa.select(models.Job).where(models.Job.seq.in_(sorted(job_seqs)))
        .order_by(models.Job.seq).with_for_update()
        .execution_options(populate_existing=True)).all()
    for job in jobs:
        session.refresh(job, ['links'])
    return jobs


def _touch_jobs_of_action(session, action_seq, exclude_seq=None):
    """Give every job that links the action a new version and index."""
    seqs = _jobs_linking(session, action_seq) - {exclude_seq}
    for job in _lock_jobs(session, seqs):
        documents.save(session, JOBS, job)


def action_changed(session, action_seq):
    """Called when an action was updated or replaced."""
    _touch_jobs_of_action(session, action_seq)


def action_deleting(session, action_seq):
    """Unlink an action that is about to be deleted from its jobs (all in
    its own project: jobs only link actions of their project)."""
    jobs = _lock_jobs(session, _jobs_linking(session, action_seq))
    session.execute(sa.delete(models.JobAction).where(
        models.JobAction.action_seq == action_seq))
    for job in jobs:
        session.refresh(job, ['links'])
        _renumber(job)
        documents.save(session, JOBS, job)


def _renumber(job):
    for position, link in enumerate(job.links):
        link.position = position


# --- clients of jobs --------------------------------------------------------

def _check_client(session, row):
    """422 unless the job's client exists for the project and supports
    every action of the job."""
    client = clients.visible_client(session, row.project_id, row.client_id)
    if client is None:
        raise exception.UnprocessableEntity(
            reason='Client not found with ID %s' % row.client_id)
    for link in row.links:
        freezer_action = link.action.freezer_action
        for key, capability in CAPABILITIES.items():
            value = freezer_action.get(key)
            supported = client.client.get(capability)
            if value and supported is not None and value not in supported:
                raise exception.UnprocessableEntity(
                    reason='Client %s does not support %s: %s'
                    % (row.client_id, key, value))


@api.read_transaction
def own_client_ids(context, project_id, client_ids):
    """Which of ``client_ids`` are clients owned by ``project_id``."""
    if not client_ids:
        return set()
    return set(context.session.scalars(
        sa.select(models.Client.client_id)
        .where(models.Client.project_id == project_id,
               models.Client.client_id.in_(sorted(client_ids)))).all())


# --- reads ------------------------------------------------------------------

@api.read_transaction
def get_job(context, project_id, job_id):
    """``project_id`` None: the job of any project."""
    return documents.get_document(context.session, JOBS, job_id,
                                  project_id)


@api.read_transaction
def list_jobs(context, project_id, search, limit, offset):
    return documents.list_documents(context.session, JOBS, project_id,
                                    search, limit, offset)


# --- writes -----------------------------------------------------------------

def _write(session, row, values, entries, check_client):
    for key, value in values.items():
        setattr(row, key, value)
    session.add(row)
    if entries is not None:
        _link_actions(session, row, entries)
    if check_client:
        _check_client(session, row)


@api.write_transaction
def create_job(context, values, entries):
    """Create a job and its inline actions in one transaction."""
    session = context.session
    if documents.get_row(session, JOBS, values['job_id']) is not None:
        raise exception.Conflict(resource='Job', id=values['job_id'])
    row = models.Job(version=0)
    _write(session, row, values, entries, check_client=True)
    return documents.save(session, JOBS, row)


@api.upsert_transaction
def replace_job(context, values, entries, expected_version=None):
    """Create or replace a job. :returns: (document, created)"""
    session = context.session
    row = documents.get_row(session, JOBS, values['job_id'],
                            for_update=True)
    created = row is None
    if created:
        if expected_version is not None:
            raise JOBS.not_found(values['job_id'])
        row = models.Job(version=0)
    elif row.project_id != values['project_id']:
        raise exception.Conflict(resource='Job', id=values['job_id'])
    else:
        documents.check_version(JOBS, row, expected_version)
    _write(session, row, values, entries, check_client=True)
    return documents.save(session, JOBS, row), created


@api.write_transaction
def update_job(context, project_id, job_id, apply, expected_version=None):
    """One locked read-modify-write of a job.

    :param apply: (current document) -> (columns to store, job_actions
        entries or None to keep the actions).
    """
    session = context.session
    row = documents.get_row(session, JOBS, job_id, project_id,
                            for_update=True)
    if row is None:
        raise JOBS.not_found(job_id)
    documents.check_version(JOBS, row, expected_version)
    values, entries = apply(job_document(row))
    check_client = (entries is not None or
                    values.get('client_id', row.client_id) != row.client_id)
    _write(session, row, values, entries, check_client)
    return documents.save(session, JOBS, row)


@api.write_transaction
def delete_job(context, project_id, job_id, expected_version=None):
    """Delete a job and drop it from its session."""
    session = context.session
    row = documents.delete(session, JOBS, project_id, job_id,
                           expected_version)
    if row is not None and row.session_id:
        sessions.forget_job(session, project_id, row.session_id, job_id)


@api.write_transaction
def job_event(context, project_id, job_id, event):
    """Ask the scheduler to start, stop or abort a job.

    :returns: "success", or "<event> already requested" when the job's
        event already is ``event`` (nothing is written then).
    """
    session = context.session
    row = documents.get_row(session, JOBS, job_id, project_id,
                            for_update=True)
    if row is None:
        raise JOBS.not_found(job_id)
    schedule = dict(row.job_schedule)
    if schedule.get('event') == event:
        return '%s already requested' % event
    schedule['event'] = event
    if event == 'start':
        schedule['status'] = ''
        schedule['result'] = ''
    row.job_schedule = schedule
    row.user_id = context.user_id
    documents.save(session, JOBS, row)
    return 'success'

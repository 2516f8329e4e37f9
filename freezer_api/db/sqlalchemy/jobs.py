"""Jobs: scheduled lists of actions for one client.

A job's actions are rows of ``actions`` linked in order through
``job_actions``; the job document embeds them, so a change of an action is
a change of every job that links it (new version, index rewritten). Job
writes change actions and sessions too: they live in :mod:`relations`.
"""

import collections

import sqlalchemy as sa

from freezer_api.common import exception
from freezer_api.db.sqlalchemy import actions
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import clients
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import models

# freezer_action key -> the client capability list it must be in.
CAPABILITIES = {
    'action': 'supported_actions',
    'mode': 'supported_modes',
    'storage': 'supported_storages',
    'engine_name': 'supported_engines',
}


def job_document(row):
    """The document of an ORM job row (its links loaded through it)."""
    return _document(row, [link.action for link in row.links])


def _document(row, action_rows):
    document = {
        'job_id': row.job_id,
        'project_id': row.project_id,
        'user_id': row.user_id,
        'client_id': row.client_id,
        'session_id': row.session_id,
        'session_tag': row.session_tag,
        'description': row.description,
        'job_schedule': row.job_schedule,
        'job_actions': [actions.action_document(action)
                        for action in action_rows],
        '_version': row.version,
    }
    if row.user_credentials:
        document['user_credentials'] = row.user_credentials
    return document


def _linked_actions():
    links = models.JobAction.__table__
    action = models.Action.__table__
    return (sa.select(links.c.job_seq, action)
            .join(action, action.c.seq == links.c.action_seq)
            .where(links.c.job_seq.in_(sa.bindparam('seqs', expanding=True)))
            .order_by(links.c.job_seq, links.c.position))


# Built once (see documents.Kind.by_id).
_LINKED_ACTIONS = _linked_actions()


def read_documents(connection, rows):
    """The documents of job rows read with Core: their actions in one
    query for all of them."""
    if not rows:
        return []
    linked = collections.defaultdict(list)
    for found in connection.execute(
            _LINKED_ACTIONS, {'seqs': [row.seq for row in rows]}):
        linked[found.job_seq].append(found)
    return [_document(row, linked[row.seq]) for row in rows]


JOBS = documents.Kind('jobs', 'Job', models.Job, 'job_id', job_document,
                      read_documents)


def unlink_action(job, action_seq):
    """Drop an action from the job's actions, the others keeping their
    order."""
    job.links = [link for link in job.links if link.action_seq != action_seq]
    for position, link in enumerate(job.links):
        link.position = position


def request_event(row, event):
    """Record a start, stop or abort request in the job's schedule.

    :returns: False when ``event`` already is the job's event (nothing
        changed then).
    """
    schedule = dict(row.job_schedule)
    if schedule.get('event') == event:
        return False
    schedule['event'] = event
    if event == 'start':
        schedule['status'] = ''
        schedule['result'] = ''
    row.job_schedule = schedule
    return True


# --- clients of jobs --------------------------------------------------------

def check_client(session, row):
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

@api.read_connection
def get_job(context, project_id, job_id):
    """``project_id`` None: the job of any project."""
    return documents.get_document(context.connection, JOBS, job_id,
                                  project_id)


@api.read_connection
def list_jobs(context, project_id, search, limit, offset):
    return documents.list_documents(context.connection, JOBS, project_id,
                                    search, limit, offset)

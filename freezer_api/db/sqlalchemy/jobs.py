"""Jobs: scheduled lists of actions for one client.

A job's actions are rows of ``actions`` linked in order through
``job_actions``; the job document embeds them, so a change of an action is
a change of every job that links it (new version, index rewritten). Job
writes change actions and sessions too: they live in :mod:`relations`.
"""

import collections
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Sequence
import json
import typing

import sqlalchemy as sa
from sqlalchemy import orm

from freezer_api.common import exception
from freezer_api.common.context import RequestContext
from freezer_api.common.types import Document
from freezer_api.db.sqlalchemy import actions
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import clients
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import models
from freezer_api.db.sqlalchemy import reads

# freezer_action key -> the client capability list it must be in.
CAPABILITIES = {
    'action': 'supported_actions',
    'mode': 'supported_modes',
    'storage': 'supported_storages',
    'engine_name': 'supported_engines',
}


def job_document(row: models.Job,
                 action_rows: Sequence[documents.ColumnsRow] | None = None
                 ) -> Document:
    """The document of an ORM job row, without its trust: what the search
    index holds, so that a search of any project can never find or spell
    out a trust id.

    :param action_rows: the job's actions (:func:`linked_actions`); by
        default loaded through the row's links.
    """
    if action_rows is None:
        action_rows = [link.action for link in row.links]
    return _document(row, action_rows)


def linked_actions(connection: sa.engine.Connection,
                   job_seq: int) -> list[sa.Row[typing.Any]]:
    """The action rows of one job, in order, read with Core: cheaper than
    the ORM's load of its links, for a write that keeps them."""
    return list(connection.execute(_ACTIONS_OF_ONE, {'seq': job_seq}))


def _document(row: documents.ColumnsRow,
              action_rows: Sequence[documents.ColumnsRow],
              credentials: bool = False) -> Document:
    """:param credentials: include the job's trust (what a read shows
        the job's own project)."""
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
    if credentials and row.user_credentials:
        document['user_credentials'] = row.user_credentials
    return document


def _linked_actions(one: bool) -> sa.Select[typing.Any]:
    """The action rows of the jobs ``seqs``, or of the job ``seq`` when
    ``one``: a list of values is written into the SQL on every execution,
    a single value is a plain parameter of the cached statement (the
    commonest case: one job read or written)."""
    links = models.JobAction.__table__
    action = models.Action.__table__
    of_jobs = (links.c.job_seq == sa.bindparam('seq') if one else
               links.c.job_seq.in_(sa.bindparam('seqs', expanding=True)))
    return (sa.select(links.c.job_seq, action)
            .join(action, action.c.seq == links.c.action_seq)
            .where(of_jobs)
            .order_by(links.c.job_seq, links.c.position))


# Built once (see documents.Kind.by_id).
_LINKED_ACTIONS = _linked_actions(one=False)
_ACTIONS_OF_ONE = _linked_actions(one=True)


def read_documents(connection: sa.engine.Connection,
                   rows: Sequence[documents.ColumnsRow]) -> list[Document]:
    """The documents of job rows read with Core, trusts included: their
    actions in one query for all of them."""
    if not rows:
        return []
    linked: collections.defaultdict[int, list[sa.Row[typing.Any]]] = (
        collections.defaultdict(list))
    found_rows: Iterable[sa.Row[typing.Any]] = (
        linked_actions(connection, rows[0].seq) if len(rows) == 1 else
        connection.execute(_LINKED_ACTIONS,
                           {'seqs': [row.seq for row in rows]}))
    for found in found_rows:
        linked[found.job_seq].append(found)
    return [_document(row, linked[row.seq], credentials=True)
            for row in rows]


JOBS = documents.Kind('jobs', 'Job', models.Job, 'job_id', job_document,
                      read_documents)


def unlink_action(job: models.Job, action_seq: int) -> None:
    """Drop an action from the job's actions, the others keeping their
    order."""
    job.links = [link for link in job.links if link.action_seq != action_seq]
    for position, link in enumerate(job.links):
        link.position = position


# The statuses of a job the scheduler no longer runs (its StopState): a
# start arms it again.
_UNARMED = ('stop', 'completed')


def _trigger_part(job_schedule: Document) -> Document:
    """The keys freezer-scheduler builds the job's trigger from
    (schedule.py): ``schedule_date``, ``_interval``, ``_start_date``,
    ``_end_date`` and the cron fields."""
    return {key: value for key, value in job_schedule.items()
            if key.startswith('schedule_')}


def rearms(old: Document, new: Document) -> bool:
    """Whether freezer-scheduler arms the job again when its
    ``job_schedule`` goes from ``old`` to ``new``: a start asked for
    while it was stopped or done, or a changed schedule (Job.
    process_event: a scheduled job is re-armed with its new trigger)."""
    if new.get('event') == 'start' and old.get('event') != 'start' and \
            old.get('status') in _UNARMED:
        return True
    return _trigger_part(old) != _trigger_part(new)


# Requests that freezer-scheduler acts on while a run is open: once it has
# seen one, its reports of that run carry it (Job.event).
_PENDING_IN_A_RUN = ('stop', 'abort')

# The statuses freezer-scheduler reports a job with before it has seen a
# stop or abort: after one, it reports ``stop`` or ``completed``.
_NOT_SEEN_STATUSES = ('running', 'scheduled')


def keep_pending_event(old: Document, new: Document) -> Document:
    """``new`` (a job_schedule being stored), keeping a stop or abort
    asked for that a report of the scheduler would clear unseen.

    freezer-scheduler reports a run (its start, each agent's pid, its end
    when no stop came) with the job_schedule it last polled: ``running``
    or ``scheduled`` with no event means it has not seen the request yet
    (once it has, its reports carry it, and the one that ends it says
    ``stop`` or ``completed``), so storing the report as sent would lose
    the request.
    """
    pending = old.get('event')
    if pending in _PENDING_IN_A_RUN and not new.get('event') and \
            new.get('status') in _NOT_SEEN_STATUSES:
        return dict(new, event=pending)
    return new


def request_event(row: models.Job, event: str, now: int) -> bool:
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
    if rearms(row.job_schedule, schedule):
        row.armed_at = now
    row.job_schedule = schedule
    return True


# --- clients of jobs --------------------------------------------------------

def check_client(session: orm.Session, row: models.Job,
                 client_id: str,
                 action_rows: Sequence[documents.ColumnsRow] | None = None
                 ) -> None:
    """422 unless the client ``client_id`` of the job exists for the
    project and supports every action of the job.

    :param action_rows: the job's actions (:func:`linked_actions`); by
        default loaded through the row's links.
    """
    if action_rows is None:
        action_rows = [link.action for link in row.links]
    client = _client(session, row.project_id, client_id)
    _check_capabilities(client, [action.freezer_action
                                 for action in action_rows])


def _client(session: orm.Session, project_id: str,
            client_id: str) -> models.Client:
    client = clients.visible_client(session, project_id, client_id)
    if client is None:
        raise exception.UnprocessableEntity(
            reason='Client not found with ID %s' % client_id)
    return client


def _check_capabilities(client: models.Client,
                        freezer_actions: Sequence[Document]) -> None:
    for freezer_action in freezer_actions:
        for key, capability in CAPABILITIES.items():
            value = freezer_action.get(key)
            supported = client.client.get(capability)
            if value and supported is not None and value not in supported:
                raise exception.UnprocessableEntity(
                    reason='Client %s does not support %s: %s'
                    % (client.client_id, key, value))


@api.read_transaction
def check_new_job(context: RequestContext, values: dict[str, typing.Any],
                  entries: Sequence[dict[str, typing.Any]]) -> bool:
    """Refuse the new job as :func:`relations.create_job` would, without
    writing anything: for work that must not be done for a job that will
    be refused (a Keystone trust).

    :returns: whether the job's client is a central one.
    :raises Conflict: the job id, or an action id, is taken.
    :raises UnprocessableEntity: unknown client, missing capability, or
        an unknown action referenced by id alone.
    """
    session = context.session
    project_id = values['project_id']
    if documents.get_row(session, JOBS, values['job_id'],
                         eager=False) is not None:
        raise exception.Conflict(resource='Job', id=values['job_id'])
    client = _client(session, project_id, values['client_id'])
    freezer_actions: list[Document] = []
    for entry in entries:
        row = None
        if entry['action_id'] is not None:
            row = documents.get_row(session, actions.ACTIONS,
                                    entry['action_id'], eager=False)
        if row is None:
            if entry['create'] is None:
                raise exception.UnprocessableEntity(
                    reason='Action %s not found' % entry['action_id'])
            freezer_actions.append(entry['create']['freezer_action'])
        elif row.project_id != project_id:
            raise exception.Conflict(resource='Action',
                                     id=entry['action_id'])
        else:
            freezer_actions.append(entry['fields'].get(
                'freezer_action', row.freezer_action))
    _check_capabilities(client, freezer_actions)
    return bool(client.is_central)


@api.read_transaction
def own_client_ids(context: RequestContext, project_id: str | None,
                   client_ids: Collection[str]) -> set[str]:
    """Which of ``client_ids`` are clients owned by ``project_id`` (none
    when it is None, a caller without a project: SQL's IS NULL)."""
    if not client_ids:
        return set()
    return set(context.session.scalars(
        sa.select(models.Client.client_id)
        .where(models.Client.project_id == project_id,
               models.Client.client_id.in_(sorted(client_ids)))).all())


# --- reads ------------------------------------------------------------------

get_job = reads.getter(JOBS)
list_jobs = reads.lister(JOBS)


# --- trusts -----------------------------------------------------------------

def _trust_id_condition(trust_id: str) -> sa.ColumnElement[bool]:
    """SQL that holds for the jobs whose trust is ``trust_id``.

    The trust is in the JSON text the service wrote (compact, in a fixed
    key order); the id is matched as that text, escaped for LIKE.
    """
    text = sa.type_coerce(models.Job.user_credentials, sa.Text)
    stored = json.dumps(trust_id, ensure_ascii=False)
    return text.contains('"trust_id":%s' % stored, autoescape=True)


@api.read_transaction
def trust_in_use(context: RequestContext, trust_id: str) -> bool:
    """Whether a job of any project holds the trust ``trust_id``."""
    return context.session.scalars(
        sa.select(models.Job.seq).where(models.Job.user_credentials
                                        .is_not(None),
                                        _trust_id_condition(trust_id))
        .limit(1)).first() is not None

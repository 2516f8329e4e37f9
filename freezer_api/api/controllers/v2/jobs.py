"""/v2/{project_id}/jobs: scheduled lists of actions for a client, and the
start/stop/abort events freezer-scheduler acts on."""

import time
import typing

from oslo_log import log
from oslo_utils import strutils
import pecan

from freezer_api.api import method
from freezer_api.api.controllers import routing
from freezer_api.api.controllers.v2 import actions
from freezer_api.api.controllers.v2 import base
from freezer_api.api.controllers.v2 import route_tables
from freezer_api.api.schemas import validator
from freezer_api.api.schemas.v2 import actions as action_schema
from freezer_api.api.schemas.v2 import common
from freezer_api.api.schemas.v2 import jobs as schema
from freezer_api.common import context
from freezer_api.common import exception
from freezer_api.common import policy
from freezer_api.common import trusts
from freezer_api.common import utils
from freezer_api.db import api as db_api
from freezer_api.db import search_index as search_lang

LOG = log.getLogger(__name__)

VALIDATOR = validator.Validator(schema.JOB)

ALL_PROJECTS_RULE = 'jobs:get_all_projects'
ACTION_FIELDS = ('freezer_action', 'max_retries', 'max_retries_interval',
                 'mandatory')

# A job's columns, and what the database needs to resolve its actions
# (None: its stored actions are kept).
JobValues = tuple[method.Document, list[method.Document] | None]


def _with_action_defaults(document: method.Document) -> method.Document:
    """``action_defaults`` copied into every inline action where the key
    is missing or null, and dropped."""
    document = dict(document)
    defaults = document.pop('action_defaults', None)
    if not isinstance(defaults, dict) or not defaults:
        if defaults is not None:
            document['action_defaults'] = defaults
        return document
    job_actions = document.get('job_actions')
    if isinstance(job_actions, list):
        document['job_actions'] = [
            _defaulted(entry, defaults) for entry in job_actions]
    return document


def _defaulted(entry: typing.Any,
               defaults: method.Document) -> typing.Any:
    if not isinstance(entry, dict) or not isinstance(
            entry.get('freezer_action'), dict):
        return entry
    freezer_action = dict(entry['freezer_action'])
    for key, value in defaults.items():
        if freezer_action.get(key) is None:
            freezer_action[key] = value
    return dict(entry, freezer_action=freezer_action)


def _entries(ctx: context.RequestContext, project_id: str,
             job_actions: list[method.Document]) -> list[method.Document]:
    """What the database needs to resolve the job's actions, which were
    validated with the job and given their defaults."""
    entries = []
    for index, entry in enumerate(job_actions):
        action_id = entry.get('action_id')
        create = None
        if 'freezer_action' in entry:
            if entry['freezer_action'].get('action') is None:
                raise exception.BadRequest(
                    'job_actions.%d.freezer_action: "action" is required, '
                    'there or in action_defaults' % index)
            create = actions.action_values(
                ctx, project_id, action_id or utils.generate_id(),
                base.strip(entry, action_schema.READ_ONLY))
        entries.append({
            'action_id': action_id,
            'create': create,
            'fields': {k: entry[k] for k in ACTION_FIELDS if k in entry},
        })
    return entries


def _columns(ctx: context.RequestContext, project_id: str, job_id: str,
             document: method.Document
             ) -> tuple[method.Document, method.Document]:
    """The columns of a validated job document, and the document with
    its actions' defaults."""
    document = _with_action_defaults(base.strip(document,
                                                schema.READ_ONLY))
    return {
        'job_id': job_id,
        'project_id': project_id,
        'user_id': ctx.user_id,
        'client_id': document['client_id'],
        'session_id': document.get('session_id') or '',
        'session_tag': document.get('session_tag', 0),
        'description': document.get('description', ''),
        'job_schedule': document.get('job_schedule', {}),
    }, document


def _values(ctx: context.RequestContext, project_id: str, job_id: str,
            document: method.Document
            ) -> tuple[method.Document, list[method.Document]]:
    """The columns and action entries of a validated job document."""
    values, document = _columns(ctx, project_id, job_id, document)
    return values, _entries(ctx, project_id, document['job_actions'])


def _all_projects(ctx: context.RequestContext, project_id: str) -> bool:
    """Whether the caller asked for, and may see, every project's jobs.

    For callers that pass jobs:get_all_projects the query parameter
    decides; for the others the policy does, and they see the project of
    the URL (python-freezerclient always sends all_projects).
    """
    raw = pecan.request.GET.get('all_projects')
    if raw is None:
        return False
    try:
        wanted = strutils.bool_from_string(raw, strict=True)
    except ValueError:
        raise exception.InvalidParameter(
            name='all_projects',
            reason='The value must be "true" or "false".') from None
    return wanted and policy.check(ALL_PROJECTS_RULE, ctx, project_id)


# What freezer-scheduler's poll leaves out: the jobs it is done with.
_NOT_DONE = search_lang.Term('status', 'completed')


def _polling_client(search: search_lang.Search) -> str | None:
    """The client whose poll this job search is, or None: freezer-scheduler
    asks for the jobs of its ``client_id`` that are not ``completed``."""
    if _NOT_DONE not in search.match_not:
        return None
    for term in search.match:
        if (isinstance(term, search_lang.Term) and term.key == 'client_id'
                and isinstance(term.value, str)):
            return term.value
    return None


def _is_trustee(ctx: context.RequestContext) -> bool:
    """Whether the caller is the trustee of the jobs' trusts: the service
    user a central freezer-scheduler runs as, which reads every project's
    jobs and needs each one's trust id to act in its project (a trust is
    of use to its trustee only).

    Never in noauth mode, where the caller's identity is what its
    headers say. When the trustee cannot be found out (Keystone down, no
    credentials) the answer is no: the caller then sees no trust.
    """
    if pecan.request.context['noauth'] or not ctx.user_id:
        return False
    if not pecan.request.cfg.centralized_scheduler.enabled:
        return False
    try:
        return ctx.user_id == _trusts().trustee.user_id()
    except exception.FreezerException:
        LOG.warning('The trustee of the trusts is unknown: other '
                    'projects\' trusts are not shown to user %s',
                    ctx.user_id)
        return False


def _shown(ctx: context.RequestContext, project_id: str,
           documents: list[method.Document]) -> list[method.Document]:
    """The job documents as the caller may see them.

    A job's trust is shown to the job's own project and to the trustee
    only (an admin reading every project's jobs does not see other
    projects' trusts); the PID of a job's agent only to the project that
    runs its client (a central client of another project keeps it to
    itself).
    """
    foreign = [d for d in documents if d['project_id'] != ctx.project_id
               and 'user_credentials' in d]
    if foreign and not _is_trustee(ctx):
        for document in foreign:
            del document['user_credentials']
    for document in pid_hidden(ctx, project_id, [
            d for d in documents if 'current_pid' in d['job_schedule']]):
        document['job_schedule'] = {
            k: v for k, v in document['job_schedule'].items()
            if k != 'current_pid'}
    return documents


def shown_runs(ctx: context.RequestContext, project_id: str,
               documents: list[method.Document]) -> list[method.Document]:
    """The runs as the caller may see them: the PID of another project's
    agent is hidden, as in a job's schedule."""
    for document in pid_hidden(ctx, project_id, [
            d for d in documents if d['current_pid'] is not None]):
        document['current_pid'] = None
    return documents


def pid_hidden(ctx: context.RequestContext, project_id: str,
               documents: list[method.Document]) -> list[method.Document]:
    """Those of ``documents`` (of jobs or runs) whose agent PID the caller
    may not see: a client's PID is shown to the project that runs the
    client only (a central client of another project keeps it to
    itself), and to callers that may read every project's jobs."""
    if not documents or policy.check(ALL_PROJECTS_RULE, ctx, project_id):
        return []
    own = db_api.own_client_ids(ctx, ctx.project_id,
                                {d['client_id'] for d in documents})
    return [d for d in documents if d['client_id'] not in own]


def _trusts() -> trusts.Trusts:
    return trusts.get_trusts(pecan.request.cfg)


def _grant_trust(ctx: context.RequestContext, project_id: str,
                 values: method.Document,
                 entries: list[method.Document]
                 ) -> trusts.Grant | None:
    """The Keystone trust the new job needs, if it needs one: for a
    central client, or every job with enforce_trusts (never in noauth
    mode, which has no Keystone).

    The job is checked first as its creation will check it, so that a job
    that will be refused costs Keystone nothing.
    """
    options = pecan.request.cfg.centralized_scheduler
    if not options.enabled or pecan.request.context['noauth']:
        return None
    central = db_api.check_new_job(ctx, values, entries)
    if not (options.enforce_trusts or central):
        return None
    return _trusts().ensure(ctx, project_id)


def _store_new_job(ctx: context.RequestContext, values: method.Document,
                   entries: list[method.Document],
                   grant: trusts.Grant | None) -> method.Document:
    """Store a new job with its trust, if any; a trust this request made
    is deleted again when the job is not stored."""
    if grant is None:
        return db_api.create_job(ctx, values, entries)
    values = dict(values, user_credentials=grant.credentials)
    try:
        document = db_api.create_job(ctx, values, entries)
    except exception.CommitOutcomeUnknown:
        # The job may be stored with the trust: keep it (a trust left over
        # is reused by the caller's next job of the project).
        raise
    except BaseException:
        if grant.created:
            _trusts().delete(ctx, grant.trust_id)
        raise
    LOG.info('Job %s stored with a trust for the central scheduler',
             values['job_id'])
    return document


def _forget_trust(ctx: context.RequestContext, job_id: str,
                  trust_id: str) -> None:
    """Delete the trust of a deleted job unless another job uses it.

    This runs after the deletion is committed, in a read of its own: of
    two jobs sharing a trust deleted at once, each delete's own
    transaction still sees the other job, but whichever commits last
    sees neither, and deletes the trust. (A second delete of the trust
    finds it gone, which is only logged.)
    """
    try:
        in_use = db_api.trust_in_use(ctx, trust_id)
    except exception.FreezerException:
        LOG.warning('Job %s was deleted; whether another job uses its '
                    'trust could not be read, so the trust was kept', job_id)
        return
    if in_use:
        LOG.debug('Job %s was deleted; its trust is used by another job',
                  job_id)
        return
    _trusts().delete(ctx, trust_id)


class JobsController(routing.RoutedController):

    routes = route_tables.JOBS

    @method.reply(body=common.SEARCH)
    def list(self) -> method.Document:
        ctx, project_id = base.authorize()
        scope = None if _all_projects(ctx, project_id) else project_id
        limit, offset = method.paging()
        search = method.search_body()
        jobs = db_api.list_jobs(ctx, scope, search, limit, offset)
        polling = _polling_client(search)
        if polling is not None:
            db_api.client_polled(project_id, polling)
        return {'jobs': _shown(ctx, project_id, jobs)}

    @method.reply()
    def show(self, job_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        scope = None if _all_projects(ctx, project_id) else project_id
        document = db_api.get_job(ctx, scope, job_id)
        return method.set_etag(_shown(ctx, project_id, [document])[0])

    @method.reply(status=201, body=schema.JOB)
    def create(self) -> method.Document:
        ctx, project_id = base.authorize()
        body = method.document_body()
        job_id = body.get('job_id', utils.generate_id())
        values, entries = _values(ctx, project_id, job_id, body)
        now = int(time.time())
        values['job_schedule'] = dict(values['job_schedule'],
                                      time_created=now, time_started=-1,
                                      time_ended=-1)
        grant = _grant_trust(ctx, project_id, values, entries)
        document = _store_new_job(ctx, values, entries, grant)
        return {'job_id': document['job_id']}

    @method.reply(status=201, body=schema.JOB_REPLACEMENT)
    def replace(self, job_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        base.check_id('job_id', job_id)
        values, entries = _values(ctx, project_id, job_id,
                                  method.document_body())
        schedule = dict(values['job_schedule'])
        schedule.setdefault('time_created', int(time.time()))
        schedule.setdefault('time_started', -1)
        schedule.setdefault('time_ended', -1)
        values['job_schedule'] = schedule
        document, _created = db_api.replace_job(ctx, values, entries,
                                                method.if_match())
        return method.written('job_id', document)

    @method.reply(body=schema.JOB_PATCH)
    def update(self, job_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        patch = base.strip(method.document_body(), schema.READ_ONLY)

        def apply(current: method.Document) -> JobValues:
            merged = utils.merge_patch(current, patch)
            if 'job_actions' in patch:
                VALIDATOR.validate(merged)
                return _values(ctx, project_id, job_id, merged)
            # The stored actions are kept (None): they were validated when
            # they were written, and they are most of a job's validation.
            VALIDATOR.validate(dict(merged, job_actions=[]))
            return _columns(ctx, project_id, job_id, merged)[0], None

        document = db_api.update_job(
            ctx, project_id, job_id, apply, method.if_match(),
            keeps_actions='job_actions' not in patch)
        return method.written('job_id', document)

    @method.reply(status=204)
    def delete(self, job_id: str) -> None:
        ctx, project_id = base.authorize()
        credentials = db_api.delete_job(ctx, project_id, job_id,
                                        method.if_match())
        if credentials and not pecan.request.context['noauth']:
            _forget_trust(ctx, job_id, credentials['trust_id'])

    @method.reply(status=202, body=schema.EVENT)
    def event(self, job_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        body = method.document_body()
        (event,) = body
        return {'result': db_api.job_event(ctx, project_id, job_id, event)}

    @method.reply(body=common.SEARCH)
    def runs(self, job_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        limit, offset = method.paging()
        return {'runs': shown_runs(ctx, project_id, db_api.list_job_runs(
            ctx, project_id, job_id, method.search_body(), limit, offset))}

    @method.reply()
    def health(self, job_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        return db_api.get_job_health(ctx, project_id, job_id)

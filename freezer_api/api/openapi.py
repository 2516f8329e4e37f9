"""The OpenAPI 3.1 document of the v2 API, built from the code.

Nothing here repeats what the code already says: paths and methods come
from the controllers' ``routes`` tables (which dispatch and JSON-home
read too), success statuses and request body schemas from the handlers'
``method.reply(status=..., body=...)``,
summaries from the policy rules that guard each operation, the
``all_projects`` parameter from the ``jobs:get_all_projects`` rule, paging
defaults from the ``[api]`` options. What a handler answers (its reply
shape and its error statuses) is known by the handler's name, the small
vocabulary every controller shares; an unknown name is an error, so a new
kind of handler cannot go undocumented.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
import typing

from oslo_policy import policy as oslo_policy

from freezer_api import version
from freezer_api.api import routes
from freezer_api.api.controllers import routing
from freezer_api.api.schemas.v2 import common
from freezer_api.common import health
from freezer_api.common import policies
from freezer_api.conf import api as api_conf

if typing.TYPE_CHECKING:
    from freezer_api.api.controllers.v2 import root as v2_root

# A part of the OpenAPI document (a JSON object).
Object = dict[str, typing.Any]
# An error answer: its HTTP status, or SYNTAX_ERROR.
ErrorCode = int | typing.Literal['x-syntax-error']
# (path, method) of an operation.
Operation = tuple[str, str]
Rule: typing.TypeAlias = oslo_policy.RuleDefault

OPENAPI_VERSION = '3.1.0'
JSON = 'application/json'

# Status 753 is outside the 100-599 range OpenAPI allows as a response
# key: it is documented by this extension of the Responses Object.
SYNTAX_ERROR: typing.Final = 'x-syntax-error'

_ERRORS: dict[ErrorCode, str] = {
    400: 'Bad request: a body, parameter, id or search that is not '
         'valid; the description names the offending field.',
    401: 'No valid token (with auth_strategy = keystone): none, one '
         'Keystone did not issue, an expired one, or one revoked (seen '
         'within [keystone_authtoken] token_cache_time).',
    403: 'The policy does not allow the caller this operation on the '
         'project of the URL; so is a token scoped to another project, '
         'to a domain, or to nothing. An X-Service-Token adds no right '
         'to the user token\'s.',
    404: 'No such document in the project, or no such path.',
    405: 'The path does not take this method; Allow lists those it '
         'takes.',
    409: 'An id is taken (ids are unique across projects).',
    412: 'The If-Match header does not name the current version; nothing '
         'was changed.',
    413: 'The request body is larger than [oslo_middleware] '
         'max_request_body_size.',
    422: 'The document refers to something that does not fit: an unknown '
         'client or action, or an action the client does not support.',
    503: 'Keystone (with auth_strategy = keystone) or the database '
         'cannot be reached; try again later.',
    SYNTAX_ERROR: 'Status 753 "Syntax Error": the request body is not '
                  'JSON.',
}

_AUTH: tuple[ErrorCode, ...] = (400, 401, 403, 404, 503)
_BODY: tuple[ErrorCode, ...] = (413, SYNTAX_ERROR)


@dataclasses.dataclass(frozen=True)
class Kind:
    """What a handler of a given name answers."""

    reply: str
    errors: tuple[ErrorCode, ...] = _AUTH
    if_match: bool = False
    etag: bool = False


KINDS = {
    'list': Kind('list', _AUTH + _BODY),
    'show': Kind('document', etag=True),
    'create': Kind('id', _AUTH + _BODY),
    'register': Kind('id', _AUTH + (409,) + _BODY),
    'replace': Kind('version', _AUTH + (409, 412) + _BODY, if_match=True,
                    etag=True),
    'update': Kind('version', _AUTH + (412,) + _BODY, if_match=True,
                   etag=True),
    'delete': Kind('empty', _AUTH + (412,), if_match=True),
    'event': Kind('result', _AUTH + _BODY),
    'action': Kind('session_result', _AUTH + _BODY),
    'runs': Kind('runs', _AUTH + _BODY),
    'health': Kind('job_health'),
    'add_job': Kind('empty'),
    'remove_job': Kind('empty'),
}

# SPEC "Must stay compatible" 2: a backup PATCH answers the whole document.
REPLY_OVERRIDES = {('backups', 'update'): 'document',
                   ('health', 'list'): 'health'}

# Where a resource's documents meet others: ids a caller chooses (taken in
# another project: 409), a job's client and actions (422, or 409 for an
# inline action whose id is taken).
EXTRA_ERRORS: dict[tuple[str, str], tuple[ErrorCode, ...]] = {
    ('actions', 'create'): (409,),
    ('jobs', 'create'): (409, 422),
    ('jobs', 'replace'): (422,),
    ('jobs', 'update'): (409, 422),
}

_DOCUMENT = {
    'type': 'object',
    'description': 'A stored document as the API shows it: the fields '
                   'posted, the fields the service owns, and _version '
                   '(also sent as the ETag of an item GET).',
    'properties': {
        'project_id': {'type': 'string'},
        'user_id': {'type': 'string'},
        '_version': {'type': 'integer', 'minimum': 1},
    },
    'required': ['project_id', 'user_id', '_version'],
}

# A listed or shown backup is compared key for key by the upstream tempest
# plugin: its version travels only in the ETag header and in the
# ``version`` key of a PATCH reply.
_BACKUP_RECORD = {
    'type': 'object',
    'description': 'A backup as the API shows it: the ids, the status and '
                   'the metadata posted.',
    'properties': {
        'backup_id': {'type': 'string'},
        'project_id': {'type': 'string'},
        'user_id': {'type': 'string'},
        'status': {'type': 'string'},
        'backup_metadata': {'type': 'object'},
        'version': {'type': 'integer', 'minimum': 1,
                    'description': 'In a PATCH reply only.'},
    },
    'required': ['backup_id', 'project_id', 'user_id', 'status',
                 'backup_metadata'],
}

_TIME = {'type': ['integer', 'null'],
         'description': 'Seconds since the epoch, as freezer-scheduler '
                        'reported it.'}

_RUN = {
    'type': 'object',
    'description': 'One run of a job, derived from freezer-scheduler\'s '
                   'status reports: opened when the job is reported '
                   'running, ended when it no longer is.',
    'properties': {
        'run_id': {'type': 'string'},
        'job_id': {'type': 'string'},
        'project_id': {'type': 'string'},
        'user_id': {'type': 'string'},
        'client_id': {'type': 'string'},
        'session_id': {'type': 'string'},
        'status': {'type': 'string', 'enum': ['running', 'ended', 'lost'],
                   'description': 'lost: still running, but its client '
                                  'stopped polling for longer than '
                                  '[history] run_timeout.'},
        'result': {'type': ['string', 'null'],
                   'description': 'What the scheduler reported at the end: '
                                  'success, fail or aborted.'},
        'time_started': _TIME,
        'time_ended': _TIME,
        'duration': {'type': ['integer', 'null'], 'minimum': 0},
        'current_pid': {'type': ['integer', 'null']},
        'actions': {'type': 'array', 'items': {'type': 'object'}},
        'events': {'type': 'array', 'items': {
            'type': 'object', 'required': ['event', 'time'],
            'properties': {'event': {'type': 'string'},
                           'time': {'type': 'integer'}}}},
        'backup_ids': {'type': 'array', 'items': {'type': 'string'}},
        'error': {'type': 'string',
                  'description': 'What went wrong, when something did.'},
        '_version': {'type': 'integer', 'minimum': 1},
    },
    'required': ['run_id', 'job_id', 'project_id', 'client_id', 'status',
                 'time_started', 'backup_ids', '_version'],
}

_JOB_HEALTH = {
    'type': 'object',
    'description': 'Whether a job\'s backups happen, judged now by the '
                   '[history] options.',
    'properties': {
        'job_id': {'type': 'string'},
        'client_id': {'type': 'string'},
        'description': {'type': ['string', 'null']},
        'state': {'type': 'string', 'enum': list(health.JOB_STATES)},
        'next_due': {'type': ['integer', 'null'],
                     'description': 'When the next run is due by the '
                                    'job\'s schedule (seconds since the '
                                    'epoch), as the service computes it; '
                                    'null when none is.'},
        'last_run': {'type': ['object', 'null'], 'properties': {
            'run_id': {'type': 'string'},
            'status': {'type': 'string',
                       'enum': ['running', 'ended', 'lost']},
            'result': {'type': ['string', 'null']},
            'time_started': _TIME, 'time_ended': _TIME}},
        'last_success': {'type': ['integer', 'null'],
                         'description': 'When its last successful run '
                                        'ended, as freezer-scheduler '
                                        'reported it.'},
        'consecutive_failures': {'type': 'integer', 'minimum': 0},
        'client_state': {'type': 'string',
                         'enum': list(health.CLIENT_STATES)},
    },
    'required': ['job_id', 'client_id', 'state', 'next_due', 'last_run',
                 'last_success', 'consecutive_failures', 'client_state'],
}

_CLIENT_HEALTH = {
    'type': 'object',
    'description': 'Whether a client (a freezer-scheduler) still polls '
                   'for its jobs.',
    'properties': {
        'client_id': {'type': 'string'},
        'hostname': {'type': ['string', 'null']},
        'state': {'type': 'string', 'enum': list(health.CLIENT_STATES)},
        'last_seen': {'type': ['integer', 'null'],
                      'description': 'When the client last polled for its '
                                     'jobs (seconds since the epoch, the '
                                     'service\'s clock); null if never.'},
    },
    'required': ['client_id', 'state', 'last_seen'],
}

# The component of a resource's documents, where it is not 'Document'.
DOCUMENT_SCHEMAS = {'backups': 'BackupRecord', 'runs': 'Run'}

_FAULT = {
    'type': 'object',
    'description': 'Every error answer: what went wrong, and nothing more.',
    'properties': {
        'title': {'type': 'string'},
        'description': {'type': 'string'},
    },
    'required': ['title', 'description'],
}

_INFO_DESCRIPTION = """\
The OpenStack Backup/Restore API (freezer-api), version 2, generated from \
the service's own routes, schemas and policy rules.

Errors are JSON faults `{"title", "description"}`. A request body that is \
not JSON is answered with status 753 "Syntax Error"; OpenAPI allows only \
statuses 100-599 as response keys, so it is documented as the \
`x-syntax-error` response of the operations that read a body. A path that \
does not take a method answers 405 with `Allow`; an unexpected failure \
answers 500.

With `[DEFAULT] auth_strategy = keystone` every request but `GET /` needs \
an `X-Auth-Token`; with `noauth` the caller is taken from `X-User-Id`, \
`X-Project-Id` and `X-Roles`, or defaults to the URL's project.
"""


def _strip_schema_keyword(schema: typing.Any) -> typing.Any:
    """``schema`` without ``$schema``: components use the document's
    dialect (OpenAPI 3.1's, a superset of JSON Schema 2020-12)."""
    if isinstance(schema, dict):
        return {k: _strip_schema_keyword(v) for k, v in schema.items()
                if k != '$schema'}
    if isinstance(schema, list):
        return [_strip_schema_keyword(v) for v in schema]
    return schema


def _component_name(schema: common.Schema) -> str:
    return ''.join(word.capitalize() for word in schema['title'].split())


def _ref(name: str, kind: str = 'schemas') -> Object:
    return {'$ref': '#/components/%s/%s' % (kind, name)}


def _policy_index() -> tuple[dict[Operation, list[Rule]],
                            dict[Operation, dict[str, Rule]]]:
    """(path, method) -> [rule], and (path, method) -> {query: rule}."""
    rules: dict[Operation, list[Rule]] = {}
    queries: dict[Operation, dict[str, Rule]] = {}
    for rule in policies.list_rules():
        for operation in getattr(rule, 'operations', ()):
            path, _sep, query = operation['path'].partition('?')
            key = (path, operation['method'])
            if query:
                name = query.split('=', 1)[0]
                queries.setdefault(key, {})[name] = rule
            else:
                rules.setdefault(key, []).append(rule)
    return rules, queries


def _tag_description(controller: routing.RoutedController) -> str:
    """The first sentence of the controller module's docstring."""
    doc = sys.modules[type(controller).__module__].__doc__ or ''
    text = ' '.join(doc.split(':', 1)[-1].split())
    return text[:1].upper() + text[1:]


class _Builder:

    def __init__(self, v2: v2_root.V2Controller, prefix: str) -> None:
        self.v2 = v2
        self.prefix = prefix
        self.schemas: dict[str, common.Schema] = {
            'Fault': _FAULT, 'Document': _DOCUMENT,
            'BackupRecord': _BACKUP_RECORD, 'Run': _RUN,
            'JobHealth': _JOB_HEALTH, 'ClientHealth': _CLIENT_HEALTH}
        self.rules, self.queries = _policy_index()
        self.limits = {opt.name: opt.default for opt in api_conf.opts}

    # --- components -----------------------------------------------------

    def component(self, schema: common.Schema) -> Object:
        name = _component_name(schema)
        schema = _strip_schema_keyword(schema)
        known = self.schemas.setdefault(name, schema)
        if known != schema:
            raise ValueError('two request schemas are titled %r'
                             % schema['title'])
        return _ref(name)

    def components(self) -> Object:
        responses: dict[str, Object] = {}
        for code, text in _ERRORS.items():
            response = {'description': text,
                        'content': {JSON: {'schema': _ref('Fault')}}}
            if code == 405:
                response['headers'] = {'Allow': {
                    'description': 'The methods the path takes.',
                    'schema': {'type': 'string'}}}
            responses[self.error_name(code)] = response
        return {
            'schemas': self.schemas,
            'responses': responses,
            'securitySchemes': {'keystone': {
                'type': 'apiKey', 'in': 'header', 'name': 'X-Auth-Token',
                'description': 'A Keystone token (auth_strategy = '
                               'keystone).'}},
        }

    @staticmethod
    def error_name(code: ErrorCode) -> str:
        return 'SyntaxError' if code == SYNTAX_ERROR else 'Error%d' % code

    # --- parameters -----------------------------------------------------

    def project_parameter(self) -> Object:
        pattern = self.v2.project_id_pattern.pattern
        return {'name': 'project_id', 'in': 'path', 'required': True,
                'description': 'The project the documents belong to.',
                'schema': {'type': 'string', 'pattern': '^%s$' % pattern}}

    def id_parameter(self, name: str) -> Object:
        """An id in the path: as the owning resource's schema has it."""
        schema = dict(common.ID)
        owner = self.v2.resources.get(name[:-len('_id')] + 's')
        for _pattern, methods in getattr(owner, 'routes', ()):
            body = getattr(getattr(owner, methods.get('POST', ''), None),
                           'body', None)
            if body and name in body.get('properties', {}):
                schema = dict(body['properties'][name])
                break
        return {'name': name, 'in': 'path', 'required': True,
                'description': schema.pop('description', 'An id.'),
                'schema': schema}

    def paging_parameters(self) -> list[Object]:
        return [
            {'name': 'limit', 'in': 'query', 'required': False,
             'description': 'How many documents to return at most; 0 or '
                            'none means %d, more than %d means %d.'
                            % (self.limits['default_limit'],
                               self.limits['max_limit'],
                               self.limits['max_limit']),
             'schema': {'type': 'integer', 'minimum': 0}},
            {'name': 'offset', 'in': 'query', 'required': False,
             'description': 'How many matching documents to skip, in '
                            'creation order.',
             'schema': {'type': 'integer', 'minimum': 0}},
        ]

    @staticmethod
    def if_match_parameter() -> Object:
        return {'name': 'If-Match', 'in': 'header', 'required': False,
                'description': 'The ETag ("<version>") the document must '
                               'have for the write to happen; "*" is no '
                               'condition.',
                'schema': {'type': 'string'}}

    # --- responses ------------------------------------------------------

    def success(self, reply: str, status: int, plural: str) -> Object:
        id_key = routes.singular(plural) + '_id'
        document = _ref(DOCUMENT_SCHEMAS.get(plural, 'Document'))
        if reply == 'empty':
            return {'description': 'Done; no body.'}
        if reply in ('list', 'runs'):
            key = plural if reply == 'list' else 'runs'
            items = document if reply == 'list' else _ref('Run')
            schema = {'type': 'object', 'required': [key],
                      'properties': {key: {'type': 'array',
                                           'items': items}}}
        elif reply == 'health':
            schema = {'type': 'object', 'required': ['jobs', 'clients'],
                      'properties': {
                          'jobs': {'type': 'array',
                                   'items': _ref('JobHealth')},
                          'clients': {'type': 'array',
                                      'items': _ref('ClientHealth')}}}
        elif reply == 'job_health':
            schema = _ref('JobHealth')
        elif reply == 'document':
            schema = document
        elif reply == 'id':
            schema = {'type': 'object', 'required': [id_key],
                      'properties': {id_key: {'type': 'string'}}}
        elif reply == 'version':
            schema = {'type': 'object', 'required': [id_key, 'version'],
                      'properties': {id_key: {'type': 'string'},
                                     'version': {'type': 'integer',
                                                 'minimum': 1}}}
        elif reply == 'result':
            schema = {'type': 'object', 'required': ['result'],
                      'properties': {'result': {'type': 'string'}}}
        elif reply == 'session_result':
            schema = {'type': 'object',
                      'required': ['result', 'session_tag'],
                      'properties': {'result': {'type': 'string'},
                                     'session_tag': {'type': 'integer'}}}
        else:
            raise ValueError('unknown reply %r' % reply)
        texts = {'list': 'A page of the documents that match.',
                 'runs': 'A page of the job\'s runs that match, newest '
                         'first.',
                 'health': 'The health of a page of the jobs that match, '
                           'and the liveness of the clients.',
                 'job_health': 'The job\'s health.',
                 'document': 'The document.',
                 'id': 'Created.',
                 'version': ('Created or replaced.' if status == 201
                             else 'Updated.'),
                 'result': 'Accepted.', 'session_result': 'Accepted.'}
        return {'description': texts[reply],
                'content': {JSON: {'schema': schema}}}

    # --- operations -----------------------------------------------------

    def policy_text(self, path: str, method: str) -> tuple[str, str]:
        rules = self.rules.get((path, method))
        if not rules:
            raise ValueError('no policy rule documents %s %s'
                             % (method, path))
        # Rules with operations are DocumentedRuleDefaults: a description
        # is required of them.
        description = typing.cast(str, rules[0].description)
        summary = description.split('. ')[0].rstrip('.')
        names = ', '.join('`%s`' % rule.name for rule in rules)
        return summary, 'Policy: %s.' % names

    def resource_operation(self, plural: str,
                           controller: routing.RoutedController,
                           handler_name: str, method: str,
                           path: str) -> Object:
        kind = KINDS.get(handler_name)
        if kind is None:
            raise ValueError('handler %s.%s has no known kind'
                             % (plural, handler_name))
        handler = getattr(controller, handler_name)
        status = getattr(handler, 'status', 200)
        body = getattr(handler, 'body', None)
        reply = REPLY_OVERRIDES.get((plural, handler_name), kind.reply)
        summary, policy_text = self.policy_text(path, method)
        operation: Object = {
            'tags': [plural],
            'operationId': '%s_%s' % (plural, handler_name),
            'summary': summary,
            'description': policy_text,
        }
        parameters: list[Object] = []
        if reply in ('list', 'runs', 'health'):
            parameters.extend(self.paging_parameters())
        for name, rule in sorted(self.queries.get((path, method),
                                                  {}).items()):
            parameters.append({
                'name': name, 'in': 'query', 'required': False,
                'description': '%s (policy `%s`)' % (rule.description,
                                                     rule.name),
                'schema': {'type': 'boolean'}})
        if kind.if_match:
            parameters.append(self.if_match_parameter())
        if parameters:
            operation['parameters'] = parameters
        if body is not None:
            request_body: Object = {'required': method != 'GET',
                            'content': {JSON: {
                                'schema': self.component(body)}}}
            if method == 'GET':
                request_body['description'] = (
                    'An optional search, sent as a JSON body on GET as '
                    'python-freezerclient does (OpenAPI 3.1 allows it but '
                    'discourages it).')
            operation['requestBody'] = request_body
        success = self.success(reply, status, plural)
        if kind.etag:
            success['headers'] = {'ETag': {
                'description': 'The document\'s version, "<version>".',
                'schema': {'type': 'string'}}}
        responses = {str(status): success}
        errors = kind.errors + EXTRA_ERRORS.get((plural, handler_name), ())
        for code in sorted(errors, key=str):
            if code == SYNTAX_ERROR and body is None:
                continue
            responses[str(code)] = _ref(self.error_name(code), 'responses')
        operation['responses'] = responses
        return operation

    def resource_paths(self) -> dict[str, Object]:
        paths = {}
        for plural, controller in self.v2.resources.items():
            for pattern, methods in controller.routes:
                segments = routes.path_segments(pattern, plural)
                parameters = [self.project_parameter()]
                parameters.extend(self.id_parameter(segment[1:-1])
                                  for segment in segments
                                  if segment.startswith('{'))
                path = '%s/{project_id}/%s' % (self.prefix,
                                               '/'.join(segments))
                item: Object = {'parameters': parameters}
                for method, handler_name in sorted(methods.items()):
                    item[method.lower()] = self.resource_operation(
                        plural, controller, handler_name, method, path)
                paths[path] = item
        return paths

    def own_paths(self) -> dict[str, Object]:
        """The routes of the v2 controller itself (no project)."""
        documents = {
            'home': ('The JSON-home document of the v2 API.',
                     'application/json-home', ['resources']),
            'openapi': ('This OpenAPI document.', JSON,
                        ['openapi', 'info', 'paths']),
        }
        paths = {}
        for pattern, methods in self.v2.routes:
            path = '/'.join((self.prefix,) + pattern)
            item = {}
            for method, handler_name in methods.items():
                summary, media_type, required = documents[handler_name]
                item[method.lower()] = {
                    'tags': ['v2'],
                    'operationId': handler_name,
                    'summary': summary,
                    'responses': {
                        '200': {'description': 'OK', 'content': {
                            media_type: {'schema': {
                                'type': 'object', 'required': required}}}},
                        '401': _ref(self.error_name(401), 'responses'),
                    },
                }
            paths[path] = item
        return paths

    def document(self) -> Object:
        paths = self.own_paths()
        paths.update(self.resource_paths())
        tags = [{'name': 'v2', 'description': 'The v2 API itself.'}]
        tags.extend({'name': plural,
                     'description': _tag_description(controller)}
                    for plural, controller in self.v2.resources.items())
        return {
            'openapi': OPENAPI_VERSION,
            'info': {
                'title': 'OpenStack Backup/Restore API (freezer-api)',
                'version': version.version_string(),
                'description': _INFO_DESCRIPTION,
                'license': {'name': 'Apache 2.0',
                            'identifier': 'Apache-2.0'},
            },
            'tags': tags,
            'security': [{'keystone': []}],
            'paths': paths,
            'components': self.components(),
        }


def build(v2: v2_root.V2Controller, prefix: str = '/v2') -> Object:
    """The OpenAPI document of the v2 controller ``v2``, as a dict.

    :param v2: the V2Controller: its ``routes``, ``resources`` (name ->
        routed controller) and ``project_id_pattern`` are read.
    :raises ValueError: an operation the generator cannot document (no
        policy rule, an unknown handler name, clashing schema titles).
    """
    return _Builder(v2, prefix).document()


class Document:
    """The OpenAPI document of a v2 controller, built on first use and
    then kept for the life of the process."""

    def __init__(self, v2: v2_root.V2Controller) -> None:
        self._v2 = v2

    @functools.cached_property
    def text(self) -> str:
        return json.dumps(build(self._v2), indent=2, sort_keys=False)

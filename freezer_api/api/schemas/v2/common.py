"""Schema pieces shared by every resource."""

import typing

from freezer_api.api import search

DRAFT = 'https://json-schema.org/draft/2020-12/schema'

# The largest value an integer column holds on every supported database.
MAX_INT = 2 ** 31 - 1
# The range of a big integer column (epoch times).
MIN_BIGINT = -2 ** 63
MAX_BIGINT = 2 ** 63 - 1

# A JSON Schema (or a piece of one).
Schema = dict[str, typing.Any]


def text(max_length: int) -> Schema:
    """Free text kept in a text column, which on PostgreSQL cannot hold a
    NUL character (JSON documents can: their NULs are escaped)."""
    return {'type': 'string', 'maxLength': max_length,
            'pattern': r'^[^\x00]*$',
            'description': 'text without NUL characters'}


ID = {
    'type': 'string',
    'pattern': r'^[\w-]+$',
    'minLength': 1,
    'maxLength': 255,
    'description': 'an id of letters, digits, "_" and "-" (at most 255)',
}


def service_owned(what: str) -> Schema:
    """A key the service owns. Clients echo whole documents back, so any
    value is accepted; it is then ignored."""
    return {'description': '%s; any value sent is accepted and ignored.'
                           % what}


# The keys every stored document has that the service sets.
SERVICE_KEYS = {
    'project_id': service_owned('The project, set by the service'),
    'user_id': service_owned(
        'The user who wrote it last, set by the service'),
    '_version': service_owned('The version, set by the service'),
}


def url_named(schema: Schema, id_key: str) -> Schema:
    """``schema`` for a body sent to the URL of the document it writes
    (a replacement or a patch): the body's ``id_key`` is ignored."""
    return dict(schema, properties=dict(schema['properties'], **{
        id_key: service_owned('The id, which the URL gives')}))


COUNT = {'type': 'integer', 'minimum': 0, 'maximum': MAX_INT}

SUPPORTED_ACTIONS = ['backup', 'restore', 'info', 'admin', 'exec']
SUPPORTED_MODES = ['fs', 'mongo', 'mysql', 'sqlserver', 'cinder', 'glance',
                   'cindernative', 'nova']
SUPPORTED_STORAGES = ['local', 'swift', 'ssh', 's3', 'ftp', 'ftps']
SUPPORTED_ENGINES = ['tar', 'rsync', 'rsyncv2', 'nova', 'osbrick', 'glance']


def nullable(schema: Schema) -> Schema:
    """``schema`` or null: a null value means "not set"."""
    result = dict(schema)
    if 'enum' in result and None not in result['enum']:
        result['enum'] = list(result['enum']) + [None]
    kind = result.get('type')
    kinds = kind if isinstance(kind, list) else [kind]
    if kind is not None and 'null' not in kinds:
        result['type'] = kinds + ['null']
    return result


def merge_patch(schema: Schema, title: str) -> Schema:
    """The schema of an RFC 7396 merge patch of documents of ``schema``.

    Every key is optional; a key the document may lack can be null (the
    patch removes it); objects merge key by key, so their own keys are
    optional too; arrays and other values are replaced whole.
    """
    result = _patch_of(schema)
    result['title'] = title
    result['description'] = (
        'An RFC 7396 merge patch of the %s: the keys given replace theirs, '
        'objects merge key by key, null removes a key.'
        % schema.get('title', 'document'))
    return result


def _patch_of(schema: Schema) -> Schema:
    kind = schema.get('type')
    kinds = kind if isinstance(kind, list) else [kind]
    if 'object' not in kinds or 'properties' not in schema:
        return dict(schema)
    result = {k: v for k, v in schema.items()
              if k not in ('required', 'minProperties', 'anyOf')}
    required = set(schema.get('required', ()))
    properties = {}
    for name, subschema in schema['properties'].items():
        subschema = _patch_of(subschema)
        properties[name] = (subschema if name in required
                            else nullable(subschema))
    result['properties'] = properties
    return result


# The search of a list request: a JSON body on GET (see api/search.py,
# which parses it).
SEARCH = {
    '$schema': DRAFT,
    'title': 'search',
    'type': 'object',
    'description': 'Every {"key": value} pair of match must hold, and no '
                   'pair of match_not: a pair holds when the key occurs at '
                   'any depth of the document with a value that is equal '
                   'as JSON; at most %d pairs in all. {"_all": "<JSON list '
                   'of pairs>"} is the form python-freezerclient sends.'
                   % search.MAX_TERMS,
    'properties': {
        'match': {'type': ['array', 'null'],
                  'items': {'type': 'object'}},
        'match_not': {'type': ['array', 'null'],
                      'items': {'type': 'object'}},
    },
    'additionalProperties': False,
}

FREEZER_ACTION: Schema = {
    'type': 'object',
    'description': 'The options freezer-agent runs the action with. Keys '
                   'not listed here are passed on as they are.',
    'properties': {
        'action': {'type': 'string', 'enum': SUPPORTED_ACTIONS},
        'mode': nullable({'type': 'string', 'enum': SUPPORTED_MODES}),
        'storage': nullable({'type': 'string', 'enum': SUPPORTED_STORAGES}),
        'engine_name': nullable({'type': 'string',
                                 'enum': SUPPORTED_ENGINES}),
        'backup_name': nullable({'type': 'string'}),
        'container': nullable({'type': 'string'}),
        'path_to_backup': nullable({'type': 'string'}),
        'restore_abs_path': nullable({'type': 'string'}),
        'log_file': nullable({'type': 'string'}),
        'timeout': nullable({'type': 'integer'}),
        'priority': nullable({'type': 'integer'}),
        'mandatory': nullable({'type': 'boolean'}),
        'cindernative_freezer_only': nullable({'type': 'boolean'}),
    },
    'additionalProperties': True,
}

# The agent's host name: dot-separated labels of letters, digits and "-".
_LABEL = r'[a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d-]{0,61}[a-zA-Z\d]'
FQDN_PATTERN = r'(?:%s)(?:\.(?:%s))*' % (_LABEL, _LABEL)

CLIENT_ID = {
    'type': 'string',
    'pattern': r'^(?:[\w-]+_)?%s$' % FQDN_PATTERN,
    'maxLength': 255,
    'description': 'a client id: an optional "<project>_" prefix and a '
                   'host name',
}

# As the host reports it: container and VM names often hold "_", and the
# reference service took any string here. Control characters are refused.
HOSTNAME = {
    'type': 'string',
    'pattern': r'^[^\x00-\x1f\x7f]+$',
    'maxLength': 255,
    'description': 'a host name as the host reports it (any printable '
                   'text)',
}

_ISO_DATETIME = (r'^(-?(?:[1-9][0-9]*)?[0-9]{4})-(1[0-2]|0[1-9])-'
                 r'(3[01]|0[1-9]|[12][0-9])T(2[0-3]|[01][0-9]):([0-5][0-9]):'
                 r'([0-5][0-9])(\.[0-9]+)?(Z|[+-](?:2[0-3]|[01][0-9]):'
                 r'[0-5][0-9])?$')


def _datetime() -> Schema:
    return nullable({'type': 'string', 'pattern': _ISO_DATETIME,
                     'description': 'an ISO 8601 date and time such as '
                                    '2026-11-27T10:00:00'})


SCHEDULE = {
    'type': 'object',
    'description': 'When a job runs, and the state freezer-scheduler '
                   'reports.',
    'properties': {
        'time_created': nullable({'type': 'integer'}),
        'time_started': nullable({'type': 'integer'}),
        'time_ended': nullable({'type': 'integer'}),
        'event': nullable({'type': 'string', 'enum': [
            '', 'stop', 'start', 'abort', 'remove']}),
        'status': nullable({'type': 'string', 'enum': [
            '', 'completed', 'stop', 'scheduled', 'running', 'aborting',
            'removed']}),
        'result': nullable({'type': 'string', 'enum': [
            '', 'success', 'fail', 'aborted']}),
        'schedule_date': _datetime(),
        'schedule_start_date': _datetime(),
        'schedule_end_date': _datetime(),
        'schedule_interval': nullable({
            'type': 'string',
            'pattern': r'^(continuous|(\d+ +(weeks|days|hours|minutes|'
                       r'seconds)))$',
            'description': '"continuous" or "<n> weeks|days|hours|minutes|'
                           'seconds"'}),
        'schedule_year': nullable({'type': 'string', 'pattern': r'^\d{4}$',
                                   'description': 'a four-digit year'}),
        'schedule_month': nullable({'type': 'string'}),
        'schedule_day': nullable({'type': 'string'}),
        'schedule_week': nullable({'type': 'string'}),
        'schedule_day_of_week': nullable({'type': 'string'}),
        'schedule_hour': nullable({'type': 'string'}),
        'schedule_minute': nullable({'type': 'string'}),
        'schedule_second': nullable({'type': 'string'}),
        'current_pid': nullable({'type': 'integer'}),
    },
    'additionalProperties': False,
}

"""Schema pieces shared by every resource."""

DRAFT = 'https://json-schema.org/draft/2020-12/schema'

# The largest value an integer column holds on every supported database.
MAX_INT = 2 ** 31 - 1

ID = {
    'type': 'string',
    'pattern': r'^[\w-]+$',
    'minLength': 1,
    'maxLength': 255,
    'description': 'an id of letters, digits, "_" and "-" (at most 255)',
}

COUNT = {'type': 'integer', 'minimum': 0, 'maximum': MAX_INT}

SUPPORTED_ACTIONS = ['backup', 'restore', 'info', 'admin', 'exec']
SUPPORTED_MODES = ['fs', 'mongo', 'mysql', 'sqlserver', 'cinder', 'glance',
                   'cindernative', 'nova']
SUPPORTED_STORAGES = ['local', 'swift', 'ssh', 's3', 'ftp', 'ftps']
SUPPORTED_ENGINES = ['tar', 'rsync', 'rsyncv2', 'nova', 'osbrick', 'glance']


def nullable(schema):
    """``schema`` or null: a null value means "not set"."""
    result = dict(schema)
    if 'enum' in result:
        result['enum'] = list(result['enum']) + [None]
    kind = result.get('type')
    if kind is not None:
        result['type'] = [kind, 'null']
    return result


FREEZER_ACTION = {
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

HOSTNAME = {
    'type': 'string',
    'pattern': r'^%s$' % FQDN_PATTERN,
    'maxLength': 255,
    'description': 'a host name (dot-separated labels of letters, digits '
                   'and "-")',
}

_ISO_DATETIME = (r'^(-?(?:[1-9][0-9]*)?[0-9]{4})-(1[0-2]|0[1-9])-'
                 r'(3[01]|0[1-9]|[12][0-9])T(2[0-3]|[01][0-9]):([0-5][0-9]):'
                 r'([0-5][0-9])(\.[0-9]+)?(Z|[+-](?:2[0-3]|[01][0-9]):'
                 r'[0-5][0-9])?$')


def _datetime():
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

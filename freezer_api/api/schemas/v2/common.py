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

"""Schemas of /v2/{project_id}/backups bodies."""

from freezer_api.api.schemas.v2 import common

STATUSES = ['creating', 'available', 'restoring', 'error', 'deleting',
            'deleted']
DEFAULT_STATUS = 'available'

_NAME = {'type': 'string', 'minLength': 1, 'maxLength': 65535}

BACKUP = {
    '$schema': common.DRAFT,
    'title': 'backup',
    'type': 'object',
    'description': 'The backup metadata freezer-agent reports; any key '
                   'beyond the required ones is kept as it is.',
    'properties': {
        'container': _NAME,
        'hostname': _NAME,
        'backup_name': _NAME,
        'status': {'type': 'string', 'enum': STATUSES},
        'job_id': common.nullable({'type': 'string'}),
    },
    'required': ['container', 'hostname', 'backup_name'],
    'additionalProperties': True,
}

BACKUP_PATCH = {
    '$schema': common.DRAFT,
    'title': 'backup patch',
    'type': 'object',
    'properties': {
        'status': {'type': 'string', 'enum': STATUSES},
        'backup_metadata': {'type': 'object'},
    },
    'additionalProperties': True,
}

"""Schemas of /v2/{project_id}/sessions bodies."""

from freezer_api.api.schemas.v2 import common

READ_ONLY = ('session_id', *common.SERVICE_KEYS)

DEFAULTS = {
    'session_tag': 0,
    'description': None,
    'hold_off': 30,
    'status': 'active',
    'result': None,
    'time_start': -1,
    'time_end': -1,
    'time_started': -1,
    'time_ended': -1,
}

_EPOCH = common.nullable({'type': 'integer', 'minimum': common.MIN_BIGINT,
                          'maximum': common.MAX_BIGINT})

_PROPERTIES = {
    'session_id': common.ID,
    **common.SERVICE_KEYS,
    'schedule': common.SCHEDULE,
    'session_tag': {'type': 'integer', 'minimum': 0,
                    'maximum': common.MAX_INT},
    'description': common.nullable(common.text(65535)),
    'hold_off': {'type': 'integer', 'minimum': 0,
                 'maximum': common.MAX_INT},
    'status': common.nullable(common.text(255)),
    'result': common.nullable(common.text(255)),
    'time_start': _EPOCH,
    'time_end': _EPOCH,
    'time_started': _EPOCH,
    'time_ended': _EPOCH,
    'jobs': common.service_owned(
        'The jobs, managed through /sessions/{session_id}/jobs/{job_id}'),
}

SESSION = {
    '$schema': common.DRAFT,
    'title': 'session',
    'type': 'object',
    'properties': _PROPERTIES,
    'required': ['schedule'],
    # freezer-web-ui posts keys of its own form ("interval_value"); the
    # original service ignored unknown keys, and so do we: they are
    # accepted and not stored.
    'additionalProperties': True,
}

# The keys of a body that are stored; other keys are ignored.
FIELDS = tuple(k for k in _PROPERTIES if k not in READ_ONLY)

SESSION_REPLACEMENT = dict(common.url_named(SESSION, 'session_id'),
                           title='session replacement')

SESSION_PATCH = common.merge_patch(common.url_named(SESSION, 'session_id'),
                                   'session patch')

# ASCII digits only (\d is any Unicode digit), and no more than the
# column's range can hold: the controller checks the value of a string.
_TAG = {'type': ['integer', 'string'], 'pattern': r'^[0-9]{1,10}$',
        'minimum': 0, 'maximum': common.MAX_INT,
        'description': 'a session tag: a non-negative integer'}

ACTIONS = ('start', 'end')

ACTION = {
    '$schema': common.DRAFT,
    'title': 'session action',
    'type': 'object',
    'description': '{"start": {"job_id", "current_tag"}} or '
                   '{"end": {"job_id", "current_tag", "result"}}',
    'properties': {
        'start': {
            'type': 'object',
            'properties': {'job_id': common.ID, 'current_tag': _TAG},
            'required': ['job_id', 'current_tag'],
        },
        'end': {
            'type': 'object',
            'properties': {'job_id': common.ID, 'current_tag': _TAG,
                           'result': common.text(255)},
            'required': ['job_id', 'result'],
        },
    },
    'minProperties': 1,
    'maxProperties': 1,
    'additionalProperties': False,
}

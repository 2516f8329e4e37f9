"""Schemas of /v2/{project_id}/jobs bodies."""

from freezer_api.api.schemas.v2 import actions
from freezer_api.api.schemas.v2 import common

# Keys the service owns: accepted in a body (clients echo documents back)
# and then ignored. user_credentials (Keystone trusts) are made by the
# service only; a caller can never set them.
READ_ONLY = ('job_id', *common.SERVICE_KEYS, 'user_credentials')

# Keys copied into every inline action of the job that lacks them.
ACTION_DEFAULTS = dict(common.FREEZER_ACTION)

# An inline action's freezer_action: its action may come from the job's
# action_defaults, so it may be missing or null here; the controller
# requires it once the defaults are copied in.
_FREEZER_ACTION_KEYS = common.FREEZER_ACTION['properties']
_INLINE_FREEZER_ACTION = dict(
    common.FREEZER_ACTION,
    properties=dict(_FREEZER_ACTION_KEYS,
                    action=common.nullable(_FREEZER_ACTION_KEYS['action'])))

JOB_ACTION = {
    'type': 'object',
    'description': 'One step of a job: an action given inline, or an '
                   'existing action of the project named by action_id.',
    # The fields of an action document: a job embeds its actions.
    'properties': dict(actions.ACTION['properties'],
                       freezer_action=_INLINE_FREEZER_ACTION),
    'anyOf': [{'required': ['freezer_action']}, {'required': ['action_id']}],
    'additionalProperties': True,
}

JOB = {
    '$schema': common.DRAFT,
    'title': 'job',
    'type': 'object',
    'properties': {
        'job_id': common.ID,
        **common.SERVICE_KEYS,
        'user_credentials': common.service_owned(
            'The Keystone trust of the job, set by the service'),
        'client_id': common.CLIENT_ID,
        'job_schedule': common.SCHEDULE,
        'job_actions': {'type': 'array', 'items': JOB_ACTION,
                        'maxItems': 1000},
        'session_id': common.nullable({
            'type': 'string', 'pattern': r'^[\w-]*$', 'maxLength': 255,
            'description': 'a session id (letters, digits, "_" and "-"), '
                           'or "" for none'}),
        'session_tag': {'type': 'integer', 'minimum': 0,
                        'maximum': common.MAX_INT},
        'session_name': common.nullable({'type': 'string'}),
        'description': common.nullable(common.text(65535)),
        'action_defaults': ACTION_DEFAULTS,
    },
    'required': ['client_id', 'job_actions'],
    'additionalProperties': False,
}

JOB_REPLACEMENT = dict(common.url_named(JOB, 'job_id'),
                       title='job replacement')

JOB_PATCH = common.merge_patch(common.url_named(JOB, 'job_id'),
                               'job patch')

# Events a caller may send to /jobs/{job_id}/event.
EVENTS = ('start', 'stop', 'abort')

EVENT = {
    '$schema': common.DRAFT,
    'title': 'job event',
    'type': 'object',
    'description': 'One of {"start": null}, {"stop": null}, '
                   '{"abort": null}.',
    'minProperties': 1,
    'maxProperties': 1,
    'propertyNames': {'enum': list(EVENTS)},
}

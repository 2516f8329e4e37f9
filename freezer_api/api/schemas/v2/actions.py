"""Schemas of /v2/{project_id}/actions bodies."""

from freezer_api.api.schemas.v2 import common

DEFAULTS = {'max_retries': 5, 'max_retries_interval': 6, 'mandatory': False}

# Keys the service owns: accepted in a body (clients echo documents back)
# and then ignored.
READ_ONLY = ('action_id', *common.SERVICE_KEYS)

ACTION: common.Schema = {
    '$schema': common.DRAFT,
    'title': 'action',
    'type': 'object',
    'properties': {
        'action_id': common.ID,
        **common.SERVICE_KEYS,
        'freezer_action': dict(common.FREEZER_ACTION, required=['action']),
        'max_retries': common.COUNT,
        'max_retries_interval': common.COUNT,
        'mandatory': {'type': 'boolean'},
    },
    'required': ['freezer_action'],
    # Unknown top-level keys are ignored, as the original service did, so
    # that documents saved from older clients can still be posted.
    'additionalProperties': True,
}

ACTION_REPLACEMENT = dict(common.url_named(ACTION, 'action_id'),
                          title='action replacement')

ACTION_PATCH = common.merge_patch(common.url_named(ACTION, 'action_id'),
                                  'action patch')

"""The JSON-home document of /v2 (draft-nottingham-json-home)."""

import json

RELATION = 'https://docs.openstack.org/freezer-api/rel/%s'
PARAM = 'https://docs.openstack.org/freezer-api/param/%s'

_PAGING = '{?limit,offset}'

# (relation, href template, variables, allowed methods)
_RESOURCES = [
    ('actions', '/v2/{project_id}/actions' + _PAGING,
     ['project_id', 'limit', 'offset'], ['GET', 'POST']),
    ('action', '/v2/{project_id}/actions/{action_id}',
     ['project_id', 'action_id'], ['GET', 'POST', 'PATCH', 'DELETE']),
]


def _resource(template, variables, allow):
    return {
        'href-template': template,
        'href-vars': {v: PARAM % v for v in variables},
        'hints': {'allow': allow, 'formats': {'application/json': {}}},
    }


def document():
    return {'resources': {RELATION % name: _resource(template, variables,
                                                     allow)
                          for name, template, variables, allow
                          in _RESOURCES}}


def render():
    return json.dumps(document(), indent=4)

"""The JSON-home document of /v2 (draft-nottingham-json-home)."""

import json
import typing

# The reference service's relation names, which the upstream tempest
# plugin looks up: relative "rel/<name>" and "param/<name>".
RELATION = 'rel/%s'
PARAM = 'param/%s'

_PAGING = '{?limit,offset}'

# (relation, href template, variables, allowed methods). "backups" is a
# single backup, as the reference named it; the collection of backups is
# "backup_list".
_RESOURCES = [
    ('actions', '/v2/{project_id}/actions' + _PAGING,
     ['project_id', 'limit', 'offset'], ['GET', 'POST']),
    ('action', '/v2/{project_id}/actions/{action_id}',
     ['project_id', 'action_id'], ['GET', 'POST', 'PATCH', 'DELETE']),
    ('jobs', '/v2/{project_id}/jobs{?all_projects,limit,offset}',
     ['project_id', 'all_projects', 'limit', 'offset'], ['GET', 'POST']),
    ('job', '/v2/{project_id}/jobs/{job_id}{?all_projects}',
     ['project_id', 'job_id', 'all_projects'],
     ['GET', 'POST', 'PATCH', 'DELETE']),
    ('job_event', '/v2/{project_id}/jobs/{job_id}/event',
     ['project_id', 'job_id'], ['POST']),
    ('sessions', '/v2/{project_id}/sessions' + _PAGING,
     ['project_id', 'limit', 'offset'], ['GET', 'POST']),
    ('session', '/v2/{project_id}/sessions/{session_id}',
     ['project_id', 'session_id'], ['GET', 'POST', 'PATCH', 'DELETE']),
    ('session_action', '/v2/{project_id}/sessions/{session_id}/action',
     ['project_id', 'session_id'], ['POST']),
    ('session_job', '/v2/{project_id}/sessions/{session_id}/jobs/{job_id}',
     ['project_id', 'session_id', 'job_id'], ['PUT', 'DELETE']),
    ('clients', '/v2/{project_id}/clients' + _PAGING,
     ['project_id', 'limit', 'offset'], ['GET', 'POST']),
    ('client', '/v2/{project_id}/clients/{client_id}',
     ['project_id', 'client_id'], ['GET', 'DELETE']),
    ('backup_list', '/v2/{project_id}/backups' + _PAGING,
     ['project_id', 'limit', 'offset'], ['GET', 'POST']),
    ('backups', '/v2/{project_id}/backups/{backup_id}',
     ['project_id', 'backup_id'], ['GET', 'PATCH', 'DELETE']),
    ('openapi', '/v2/openapi.json', [], ['GET']),
]


def _resource(template: str, variables: list[str],
              allow: list[str]) -> dict[str, typing.Any]:
    if variables:
        resource = {'href-template': template,
                    'href-vars': {v: PARAM % v for v in variables}}
    else:
        resource = {'href': template}
    resource['hints'] = {'allow': allow,
                         'formats': {'application/json': {}}}
    return resource


def document() -> dict[str, typing.Any]:
    return {'resources': {RELATION % name: _resource(template, variables,
                                                     allow)
                          for name, template, variables, allow
                          in _RESOURCES}}


def render() -> str:
    return json.dumps(document(), indent=4)

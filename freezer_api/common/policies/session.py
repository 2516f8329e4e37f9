"""Policy defaults for /v2/{project_id}/sessions."""

from oslo_policy import policy

from freezer_api.common.policies import base

COLLECTION = '/v2/{project_id}/sessions'
ITEM = '/v2/{project_id}/sessions/{session_id}'
ACTION = '/v2/{project_id}/sessions/{session_id}/action'
JOB = '/v2/{project_id}/sessions/{session_id}/jobs/{job_id}'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name='sessions:get_all', check_str=base.ADMIN_OR_READER_OR_SERVICE,
        description='List and search the sessions of a project.',
        operations=[{'path': COLLECTION, 'method': 'GET'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='sessions:create', check_str=base.ADMIN_OR_OWNER,
        description='Create a session.',
        operations=[{'path': COLLECTION, 'method': 'POST'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='sessions:get', check_str=base.ADMIN_OR_READER_OR_SERVICE,
        description='Show a session.',
        operations=[{'path': ITEM, 'method': 'GET'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='sessions:update', check_str=base.ADMIN_OR_OWNER,
        description='Update a session with a merge patch.',
        operations=[{'path': ITEM, 'method': 'PATCH'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='sessions:replace', check_str=base.ADMIN_OR_OWNER,
        description='Create or replace a session with a chosen id.',
        operations=[{'path': ITEM, 'method': 'POST'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='sessions:delete', check_str=base.ADMIN_OR_OWNER,
        description='Delete a session.',
        operations=[{'path': ITEM, 'method': 'DELETE'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='sessions:action:create', check_str=base.ADMIN_OR_OWNER,
        description='Start or end a job of a session (freezer-scheduler).',
        operations=[{'path': ACTION, 'method': 'POST'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='sessions:job:add', check_str=base.ADMIN_OR_OWNER,
        description='Add a job to a session.',
        operations=[{'path': JOB, 'method': 'PUT'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='sessions:job:remove', check_str=base.ADMIN_OR_OWNER,
        description='Remove a job from a session.',
        operations=[{'path': JOB, 'method': 'DELETE'}],
        scope_types=base.PROJECT_SCOPE),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules

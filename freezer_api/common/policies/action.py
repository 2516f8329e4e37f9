"""Policy defaults for /v2/{project_id}/actions."""

from oslo_policy import policy

from freezer_api.common.policies import base

COLLECTION = '/v2/{project_id}/actions'
ITEM = '/v2/{project_id}/actions/{action_id}'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name='actions:get_all', check_str=base.ADMIN_OR_READER_OR_SERVICE,
        description='List and search the actions of a project.',
        operations=[{'path': COLLECTION, 'method': 'GET'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='actions:create', check_str=base.ADMIN_OR_OWNER,
        description='Create an action.',
        operations=[{'path': COLLECTION, 'method': 'POST'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='actions:get', check_str=base.ADMIN_OR_READER_OR_SERVICE,
        description='Show an action.',
        operations=[{'path': ITEM, 'method': 'GET'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='actions:update', check_str=base.ADMIN_OR_OWNER,
        description='Update an action with a merge patch.',
        operations=[{'path': ITEM, 'method': 'PATCH'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='actions:replace', check_str=base.ADMIN_OR_OWNER,
        description='Create or replace an action with a chosen id.',
        operations=[{'path': ITEM, 'method': 'POST'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='actions:delete', check_str=base.ADMIN_OR_OWNER,
        description='Delete an action and unlink it from the jobs of its '
                    'project.',
        operations=[{'path': ITEM, 'method': 'DELETE'}],
        scope_types=base.PROJECT_SCOPE),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules

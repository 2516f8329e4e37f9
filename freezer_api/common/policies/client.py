"""Policy defaults for /v2/{project_id}/clients."""

from oslo_policy import policy

from freezer_api.common.policies import base

COLLECTION = '/v2/{project_id}/clients'
ITEM = '/v2/{project_id}/clients/{client_id}'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name='clients:get_all', check_str=base.ADMIN_OR_READER_OR_SERVICE,
        description='List and search the clients of a project and the '
                    'central clients.',
        operations=[{'path': COLLECTION, 'method': 'GET'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='clients:create', check_str=base.ADMIN_OR_OWNER,
        description='Register or re-register a client (freezer-scheduler '
                    'does this when it starts).',
        operations=[{'path': COLLECTION, 'method': 'POST'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='clients:create_central', check_str=base.ADMIN_OR_SERVICE,
        description='Register a central client, which every project sees '
                    'and can run jobs on (checked in addition to '
                    'clients:create).',
        operations=[{'path': COLLECTION, 'method': 'POST'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='clients:get', check_str=base.ADMIN_OR_READER_OR_SERVICE,
        description='Show a client.',
        operations=[{'path': ITEM, 'method': 'GET'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='clients:delete', check_str=base.ADMIN_OR_OWNER,
        description='Delete a client of the project.',
        operations=[{'path': ITEM, 'method': 'DELETE'}],
        scope_types=base.PROJECT_SCOPE),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules

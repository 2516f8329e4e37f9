"""Policy defaults for /v2/{project_id}/backups."""

from oslo_policy import policy

from freezer_api.common.policies import base

COLLECTION = '/v2/{project_id}/backups'
ITEM = '/v2/{project_id}/backups/{backup_id}'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name='backups:get_all', check_str=base.ADMIN_OR_READER_OR_SERVICE,
        description='List and search the backup records of a project.',
        operations=[{'path': COLLECTION, 'method': 'GET'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='backups:create', check_str=base.ADMIN_OR_OWNER_OR_SERVICE,
        description='Record a backup (freezer-scheduler does this after '
                    'freezer-agent ran one).',
        operations=[{'path': COLLECTION, 'method': 'POST'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='backups:get', check_str=base.ADMIN_OR_READER_OR_SERVICE,
        description='Show a backup record.',
        operations=[{'path': ITEM, 'method': 'GET'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='backups:update', check_str=base.ADMIN_OR_OWNER_OR_SERVICE,
        description='Change the status of a backup record or merge into '
                    'its metadata.',
        operations=[{'path': ITEM, 'method': 'PATCH'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='backups:delete', check_str=base.ADMIN_OR_OWNER_OR_SERVICE,
        description='Delete a backup record.',
        operations=[{'path': ITEM, 'method': 'DELETE'}],
        scope_types=base.PROJECT_SCOPE),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules

"""Policy defaults for /v2/{project_id}/jobs."""

from oslo_policy import policy

from freezer_api.common.policies import base

COLLECTION = '/v2/{project_id}/jobs'
ITEM = '/v2/{project_id}/jobs/{job_id}'
EVENT = '/v2/{project_id}/jobs/{job_id}/event'

rules: list[policy.RuleDefault] = [
    policy.DocumentedRuleDefault(
        name='jobs:get_all', check_str=base.ADMIN_OR_READER_OR_SERVICE,
        description='List and search the jobs of a project.',
        operations=[{'path': COLLECTION, 'method': 'GET'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='jobs:get_all_projects', check_str=base.ADMIN_OR_SERVICE,
        description='List or show jobs of every project: a list or show '
                    'with all_projects=true is not limited to the project '
                    'of the URL.',
        operations=[{'path': COLLECTION + '?all_projects=true',
                     'method': 'GET'},
                    {'path': ITEM + '?all_projects=true', 'method': 'GET'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='jobs:create', check_str=base.ADMIN_OR_OWNER,
        description='Create a job, or create or replace one with a chosen '
                    'id.',
        operations=[{'path': COLLECTION, 'method': 'POST'},
                    {'path': ITEM, 'method': 'POST'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='jobs:get', check_str=base.ADMIN_OR_READER_OR_SERVICE,
        description='Show a job.',
        operations=[{'path': ITEM, 'method': 'GET'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='jobs:update', check_str=base.ADMIN_OR_OWNER,
        description='Update a job with a merge patch (freezer-scheduler '
                    'reports the job state this way).',
        operations=[{'path': ITEM, 'method': 'PATCH'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='jobs:delete', check_str=base.ADMIN_OR_OWNER,
        description='Delete a job.',
        operations=[{'path': ITEM, 'method': 'DELETE'}],
        scope_types=base.PROJECT_SCOPE),
    policy.DocumentedRuleDefault(
        name='jobs:event:create', check_str=base.ADMIN_OR_OWNER,
        description='Ask the scheduler to start, stop or abort a job.',
        operations=[{'path': EVENT, 'method': 'POST'}],
        scope_types=base.PROJECT_SCOPE),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules

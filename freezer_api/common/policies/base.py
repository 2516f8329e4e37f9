"""Base rules the resource rules are built from.

Names and check strings are those of the original freezer-api, so that
operators' policy.yaml overrides keep working.
"""

from oslo_policy import policy

ADMIN_OR_OWNER = 'rule:admin_or_owner'
ADMIN_OR_OWNER_OR_SERVICE = 'rule:admin_or_owner_or_service'
ADMIN_OR_SERVICE = 'rule:admin_or_service'
ADMIN_OR_READER_OR_SERVICE = 'rule:admin_or_reader_or_service'

PROJECT_SCOPE = ['project']

rules = [
    policy.RuleDefault(
        name='context_is_admin', check_str='role:admin',
        description='An administrator of the cloud.'),
    policy.RuleDefault(
        name='project_member',
        check_str='role:member and project_id:%(project_id)s',
        description='A member of the project named in the URL.'),
    policy.RuleDefault(
        name='project_reader',
        check_str='role:reader and project_id:%(project_id)s',
        description='A reader of the project named in the URL.'),
    policy.RuleDefault(
        name='admin_or_owner',
        check_str='rule:context_is_admin or rule:project_member',
        description='An administrator, or a member of the project.'),
    policy.RuleDefault(
        name='admin_or_service', check_str='role:admin or role:service',
        description='An administrator, or a service user such as a '
                    'central freezer-scheduler.'),
    policy.RuleDefault(
        name='admin_or_owner_or_service',
        check_str='rule:admin_or_service or rule:project_member',
        description='An administrator, a service user, or a member of the '
                    'project.'),
    policy.RuleDefault(
        name='admin_or_reader_or_service',
        check_str='rule:admin_or_owner_or_service or rule:project_reader',
        description='Anyone who may read the project: an administrator, a '
                    'service user, a member or a reader of the project.'),
]


def list_rules() -> list[policy.RuleDefault]:
    return rules

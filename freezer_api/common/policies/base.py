"""Base rules the resource rules are built from, and how a resource rule
is written.

Names and check strings are those of the original freezer-api, so that
operators' policy.yaml overrides keep working.
"""

from __future__ import annotations

from collections.abc import Mapping
import typing

from oslo_policy import policy

ADMIN_OR_OWNER = 'rule:admin_or_owner'
ADMIN_OR_OWNER_OR_SERVICE = 'rule:admin_or_owner_or_service'
ADMIN_OR_SERVICE = 'rule:admin_or_service'
ADMIN_OR_READER_OR_SERVICE = 'rule:admin_or_reader_or_service'

PROJECT_SCOPE = ['project']

# A role of the project named in the URL (the policy target).
_PROJECT_ROLE = 'role:%s and project_id:%%(project_id)s'

# (name, check string, description)
_BASE = [
    ('context_is_admin', 'role:admin', 'An administrator of the cloud.'),
    ('project_member', _PROJECT_ROLE % 'member',
     'A member of the project named in the URL.'),
    ('project_reader', _PROJECT_ROLE % 'reader',
     'A reader of the project named in the URL.'),
    ('admin_or_owner', 'rule:context_is_admin or rule:project_member',
     'An administrator, or a member of the project.'),
    ('admin_or_service', 'role:admin or role:service',
     'An administrator, or a service user such as a central '
     'freezer-scheduler.'),
    ('admin_or_owner_or_service',
     'rule:admin_or_service or rule:project_member',
     'An administrator, a service user, or a member of the project.'),
    ('admin_or_reader_or_service',
     'rule:admin_or_owner_or_service or rule:project_reader',
     'Anyone who may read the project: an administrator, a service user, '
     'a member or a reader of the project.'),
]

rules = [policy.RuleDefault(name=name, check_str=check_str,
                            description=description)
         for name, check_str, description in _BASE]


class ProjectRule(typing.NamedTuple):
    """A rule of a resource under /v2/{project_id}. Its operations are not
    written here: they are the routes whose ``routes`` table names it."""

    name: str
    check_str: str
    description: str


def documented(rule: ProjectRule,
               operations: Mapping[str, list[policy.Operation]]
               ) -> policy.DocumentedRuleDefault:
    """``rule`` as oslo.policy documents it, with its operations from
    ``operations`` (rule name -> its routes' paths and methods).

    :raises ValueError: no route names the rule.
    """
    if rule.name not in operations:
        raise ValueError('no route is authorized with %s' % rule.name)
    return policy.DocumentedRuleDefault(
        name=rule.name, check_str=rule.check_str,
        description=rule.description, operations=operations[rule.name],
        scope_types=PROJECT_SCOPE)



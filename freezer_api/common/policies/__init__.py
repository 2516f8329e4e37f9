"""Policy defaults in code, one module per resource.

A resource module writes each rule's name, check string and description.
The operations a rule documents are the routes that name it in their
table (``freezer_api/api/controllers/v2/route_tables.py``): a route's rule
is written once, there.
"""

import functools
import itertools

from oslo_policy import policy

from freezer_api.api import routes
from freezer_api.api.controllers.v2 import route_tables
from freezer_api.common.policies import action
from freezer_api.common.policies import backup
from freezer_api.common.policies import base
from freezer_api.common.policies import client
from freezer_api.common.policies import health
from freezer_api.common.policies import job
from freezer_api.common.policies import metrics
from freezer_api.common.policies import run
from freezer_api.common.policies import session

RESOURCES = (action, job, session, client, backup, run, health, metrics)


def list_rules() -> list[policy.RuleDefault]:
    """Every rule freezer-api enforces (entry point for oslo.policy)."""
    return list(_rules())


@functools.cache
def _rules() -> tuple[policy.RuleDefault, ...]:
    operations = routes.rule_operations(route_tables.RESOURCES)
    operations.update(routes.service_operations(route_tables.SERVICE))
    project_rules = [rule for module in RESOURCES for rule in module.rules]
    unknown = set(operations) - {rule.name for rule in project_rules}
    if unknown:
        raise ValueError('routes are authorized with rules that have no '
                         'default: %s' % ', '.join(sorted(unknown)))
    return tuple(itertools.chain(
        base.rules,
        (base.documented(rule, operations) for rule in project_rules)))

"""Policy defaults in code, one module per resource."""

import itertools

from oslo_policy import policy

from freezer_api.common.policies import action
from freezer_api.common.policies import backup
from freezer_api.common.policies import base
from freezer_api.common.policies import client
from freezer_api.common.policies import job
from freezer_api.common.policies import session


def list_rules() -> list[policy.RuleDefault]:
    """Every rule freezer-api enforces (entry point for oslo.policy)."""
    return list(itertools.chain(
        base.list_rules(),
        action.list_rules(),
        job.list_rules(),
        session.list_rules(),
        client.list_rules(),
        backup.list_rules(),
    ))

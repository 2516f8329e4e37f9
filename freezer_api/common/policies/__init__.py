"""Policy defaults in code, one module per resource."""

import itertools

from freezer_api.common.policies import action
from freezer_api.common.policies import base


def list_rules():
    """Every rule freezer-api enforces (entry point for oslo.policy)."""
    return list(itertools.chain(
        base.list_rules(),
        action.list_rules(),
    ))

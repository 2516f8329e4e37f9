"""The policy enforcer and the authorize() call every handler makes first."""

import threading

from oslo_config import cfg
from oslo_log import log
from oslo_policy import policy

from freezer_api.common import exception
from freezer_api.common import policies

LOG = log.getLogger(__name__)

_ENFORCER = None
_LOCK = threading.Lock()


def get_enforcer(conf=None):
    """The process-wide enforcer, with our defaults registered.

    Also the ``oslo.policy.enforcer`` entry point used by
    ``oslopolicy-policy-generator`` and ``oslopolicy-checker``.
    """
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is None:
            enforcer = policy.Enforcer(conf or cfg.CONF)
            enforcer.register_defaults(policies.list_rules())
            _ENFORCER = enforcer
    return _ENFORCER


def reset():
    """Forget the enforcer (tests that change policy files or config)."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is not None:
            _ENFORCER.clear()
        _ENFORCER = None


def _target(project_id):
    return {'project_id': project_id}


def authorize(rule, context, project_id):
    """Raise Forbidden unless ``context`` may apply ``rule`` to the project.

    :param rule: a registered rule name such as ``actions:get``.
    :param project_id: the project named in the URL (the policy target).
    """
    try:
        get_enforcer().authorize(rule, _target(project_id),
                                 context.to_policy_values(),
                                 do_raise=True)
    except policy.PolicyNotAuthorized:
        LOG.info('Policy %s denied user %s on project %s',
                 rule, context.user_id, project_id)
        raise exception.Forbidden() from None
    except policy.InvalidScope:
        LOG.info('Policy %s denied: token scope does not fit', rule)
        raise exception.Forbidden() from None


def check(rule, context, project_id):
    """Whether ``context`` passes ``rule``, without raising."""
    try:
        return get_enforcer().authorize(rule, _target(project_id),
                                        context.to_policy_values(),
                                        do_raise=False)
    except policy.InvalidScope:
        return False

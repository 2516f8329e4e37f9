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


class Enforcer(policy.Enforcer):
    """oslo.policy's enforcer, remembering its decisions until its rules
    change.

    oslo.policy walks a rule's checks on every call, inspecting the
    signature of each check as it goes: about a fifth of the CPU of a
    request. A decision depends only on the rules, the rule name, the
    target and the credentials, so it is kept, keyed by all four; the
    rules' ``generation`` changes whenever oslo.policy (re)loads them (a
    policy file or policy.d file that changed, which it still checks on
    every call) or they are cleared or registered, which makes every kept
    decision stale.
    """

    MAX_DECISIONS = 4096
    ALLOWED, DENIED, OUT_OF_SCOPE = 'allowed', 'denied', 'out of scope'

    def __init__(self, *args, **kwargs):
        self.generation = 0
        self._decisions = {}
        super().__init__(*args, **kwargs)

    def _rules_changed(self):
        self.generation += 1
        self._decisions = {}

    def set_rules(self, *args, **kwargs):
        super().set_rules(*args, **kwargs)
        self._rules_changed()

    def clear(self):
        super().clear()
        self._rules_changed()

    def register_default(self, *args, **kwargs):
        super().register_default(*args, **kwargs)
        self._rules_changed()

    def decide(self, rule, target, creds):
        """ALLOWED, DENIED or OUT_OF_SCOPE for ``rule``."""
        self.load_rules()
        key = _decision_key(self.generation, rule, target, creds)
        decision = self._decisions.get(key) if key else None
        if decision is None:
            decision = self._decide(rule, target, creds)
            if key:
                if len(self._decisions) >= self.MAX_DECISIONS:
                    self._decisions = {}
                self._decisions[key] = decision
        return decision

    def _decide(self, rule, target, creds):
        try:
            allowed = self.authorize(rule, target, creds, do_raise=False)
        except policy.InvalidScope:
            return self.OUT_OF_SCOPE
        return self.ALLOWED if allowed else self.DENIED


def _decision_key(generation, rule, target, creds):
    """A hashable key of a decision, or None when a credential is of a
    kind oslo.policy's checks could read in a way we cannot key."""
    try:
        return (generation, rule, _frozen(target), _frozen(creds))
    except TypeError:
        return None


def _frozen(values):
    items = []
    for name, value in values.items():
        if isinstance(value, list):
            value = tuple(value)
        elif not isinstance(value, (str, int, float, bool, type(None))):
            raise TypeError(name)
        items.append((name, value))
    return frozenset(items)


def get_enforcer(conf=None):
    """The process-wide enforcer, with our defaults registered.

    Also the ``oslo.policy.enforcer`` entry point used by
    ``oslopolicy-policy-generator`` and ``oslopolicy-checker``.
    """
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is None:
            enforcer = Enforcer(conf or cfg.CONF)
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
    decision = get_enforcer().decide(rule, _target(project_id),
                                     context.to_policy_values())
    if decision == Enforcer.DENIED:
        LOG.info('Policy %s denied user %s on project %s',
                 rule, context.user_id, project_id)
        raise exception.Forbidden()
    if decision == Enforcer.OUT_OF_SCOPE:
        LOG.info('Policy %s denied: token scope does not fit', rule)
        raise exception.Forbidden()


def check(rule, context, project_id):
    """Whether ``context`` passes ``rule``, without raising."""
    return get_enforcer().decide(
        rule, _target(project_id),
        context.to_policy_values()) == Enforcer.ALLOWED

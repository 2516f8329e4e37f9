"""The policy enforcer and the authorize() call every handler makes first."""

from collections.abc import Mapping
from collections.abc import MutableMapping
import functools
import os
import stat as statmod
import threading
import typing

from oslo_config import cfg
from oslo_log import log
from oslo_policy import policy

from freezer_api.common import context as freezer_context
from freezer_api.common import exception
from freezer_api.common import policies

LOG = log.getLogger(__name__)

# os.stat() of a path, as far as a change of it shows: (mtime_ns, size,
# inode, mode).
Stat = tuple[int, int, int, int]

_ENFORCER: 'Enforcer | None' = None
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

    oslo.policy's own check for changed files searches the configuration
    directories for the policy file and ``policy_dirs`` on every call:
    another tenth of a request. :meth:`load_rules` stats the same places
    instead (:func:`_sources`) and lets oslo.policy look again only when
    one of them changed, so a change still takes effect on the next call.
    """

    MAX_DECISIONS = 4096
    ALLOWED, DENIED, OUT_OF_SCOPE = 'allowed', 'denied', 'out of scope'

    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.generation = 0
        self._decisions: dict[typing.Hashable, str] = {}
        # (generation, sources) when oslo.policy last loaded the rules.
        self._loaded: tuple[int, tuple[typing.Any, ...] | None] | None = (
            None)
        # The directories oslo.config searches, and what they come from.
        self._search_key: tuple[typing.Any, ...] | None = None
        self._search: tuple[str, ...] | None = None
        super().__init__(*args, **kwargs)

    def load_rules(self, force_reload: bool = False) -> None:
        # Stat before loading: a change made while oslo.policy reads the
        # files is then seen on the next call.
        sources = None if force_reload else _sources(self)
        if (sources is not None and self.rules and
                self._loaded == (self.generation, sources)):
            return
        super().load_rules(force_reload)
        self._loaded = (self.generation, sources)

    def _rules_changed(self) -> None:
        self.generation += 1
        self._decisions = {}

    def set_rules(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        super().set_rules(*args, **kwargs)
        self._rules_changed()

    def clear(self) -> None:
        super().clear()
        self._rules_changed()

    def register_default(self, *args: typing.Any,
                         **kwargs: typing.Any) -> None:
        super().register_default(*args, **kwargs)
        self._rules_changed()

    def decide(self, rule: str, target: Mapping[str, typing.Any],
               creds: MutableMapping[str, typing.Any]) -> str:
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

    def _decide(self, rule: str, target: Mapping[str, typing.Any],
                creds: MutableMapping[str, typing.Any]) -> str:
        try:
            allowed = self.authorize(rule, target, creds, do_raise=False)
        except policy.InvalidScope:
            return self.OUT_OF_SCOPE
        return self.ALLOWED if allowed else self.DENIED


def _search_dirs(conf: cfg.ConfigOpts) -> list[str] | None:
    """The directories ``conf.find_file`` searches, in its order, or None
    when this oslo.config does not say (the rules are then reloaded on
    every call, as oslo.policy does)."""
    try:
        namespace = conf._namespace
        if namespace is None:
            # Not parsed yet: what the AttributeError below meant.
            return None
        dirs = [os.path.abspath(os.path.expanduser(d))
                for d in namespace._config_dirs]
        dirs += [os.path.dirname(os.path.abspath(os.path.expanduser(f)))
                 for f in reversed(conf.config_file)]
        dirs += cfg._get_config_dirs(conf.project)
    except (AttributeError, TypeError):
        return None
    return dirs


@functools.lru_cache(maxsize=16)
def _candidates(names: tuple[str, ...],
                dirs: tuple[str, ...]) -> tuple[str, ...]:
    """Every path where ``find_file`` could find one of ``names``."""
    return tuple(dict.fromkeys(
        os.path.join(d, name) for name in names for d in dirs))


def _stat(path: str) -> Stat | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode)


def _sources(enforcer: Enforcer) -> tuple[typing.Any, ...] | None:
    """What oslo.policy's ``load_rules`` reads, as stats: every place the
    policy file and each policy directory could be found, and the entries
    of the directories found. None when that cannot be told."""
    if not enforcer.use_conf:
        return None
    key = (enforcer.conf.config_file, enforcer.conf.project)
    if enforcer._search_key != key:
        dirs = _search_dirs(enforcer.conf)
        enforcer._search = None if dirs is None else tuple(dirs)
        enforcer._search_key = key
    if enforcer._search is None:
        return None
    names = (enforcer.policy_file, *enforcer.conf.oslo_policy.policy_dirs)
    stats: list[typing.Any] = []
    for path in _candidates(names, enforcer._search):
        stat = _stat(path)
        stats.append(stat)
        if stat is not None and _is_dir(stat):
            stats.append(_entries(path))
    return tuple(stats)


def _is_dir(stat: Stat) -> bool:
    return statmod.S_ISDIR(stat[3])


def _entries(directory: str
             ) -> tuple[tuple[str, Stat | None], ...] | None:
    try:
        with os.scandir(directory) as entries:
            return tuple(sorted((e.name, _stat(e.path)) for e in entries))
    except OSError:
        return None


def _decision_key(generation: int, rule: str,
                  target: Mapping[str, typing.Any],
                  creds: Mapping[str, typing.Any]
                  ) -> typing.Hashable | None:
    """A hashable key of a decision, or None when a credential is of a
    kind oslo.policy's checks could read in a way we cannot key."""
    try:
        return (generation, rule, _frozen(target), _frozen(creds))
    except TypeError:
        return None


def _frozen(values: Mapping[str, typing.Any]
            ) -> frozenset[tuple[str, typing.Any]]:
    items = []
    for name, value in values.items():
        if isinstance(value, list):
            value = tuple(value)
        elif not isinstance(value, (str, int, float, bool, type(None))):
            raise TypeError(name)
        items.append((name, value))
    return frozenset(items)


def get_enforcer(conf: cfg.ConfigOpts | None = None) -> Enforcer:
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


def reset() -> None:
    """Forget the enforcer (tests that change policy files or config)."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is not None:
            _ENFORCER.clear()
        _ENFORCER = None


def _target(project_id: str | None) -> dict[str, str | None]:
    return {'project_id': project_id}


def authorize(rule: str, context: freezer_context.RequestContext,
              project_id: str | None) -> None:
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


def check(rule: str, context: freezer_context.RequestContext,
          project_id: str | None) -> bool:
    """Whether ``context`` passes ``rule``, without raising."""
    return get_enforcer().decide(
        rule, _target(project_id),
        context.to_policy_values()) == Enforcer.ALLOWED

"""``freezer-status upgrade check``: is this deployment ready for the
installed code?

Exit codes are oslo.upgradecheck's: 0 when every check succeeds, 1 when
one warns (something to fix before it stops working), 2 when one fails.
"""

from collections.abc import Iterable
from collections.abc import Iterator
import os
import sys
import typing

from oslo_config import cfg
from oslo_policy import policy as oslo_policy
from oslo_upgradecheck import common_checks
from oslo_upgradecheck import upgradecheck
from stevedore import named

from freezer_api import conf as freezer_conf
from freezer_api.common import policies
from freezer_api.common import service
from freezer_api.db import migration

CONF = cfg.CONF

# The option namespaces of the sample config file
# (etc/freezer/freezer-api-config-generator.conf): every option an
# operator may set in freezer-api.conf.
OPTION_NAMESPACES = (
    'freezer-api', 'oslo.db', 'oslo.log', 'oslo.messaging',
    'oslo.middleware.cors',
    'oslo.middleware.healthcheck', 'oslo.middleware.http_proxy_to_wsgi',
    'oslo.middleware.sizelimit', 'oslo.policy',
    'keystonemiddleware.auth_token')


def _group_name(group: cfg.OptGroup | str | None) -> str:
    if isinstance(group, cfg.OptGroup):
        return group.name or 'DEFAULT'
    return group or 'DEFAULT'


def known_options() -> Iterator[tuple[str, cfg.Opt]]:
    """(group name, Opt) for every option of :data:`OPTION_NAMESPACES`."""
    manager: named.NamedExtensionManager[typing.Any] = (
        named.NamedExtensionManager(
        'oslo.config.opts', names=list(OPTION_NAMESPACES),
        invoke_on_load=True))
    for extension in manager:
        # (Never None: the manager invoked every extension on load.)
        for group, opts in extension.obj:  # type: ignore[union-attr]
            for opt in opts:
                yield _group_name(group), opt


def file_options(paths: Iterable[str]) -> dict[str, set[str]]:
    """{group: set of option names} set in the config files ``paths``."""
    found: dict[str, set[str]] = {}
    for path in paths:
        sections: dict[str, dict[str, typing.Any]] = {}
        cfg.ConfigParser(path, sections).parse()
        for group, values in sections.items():
            found.setdefault(group, set()).update(values)
    return found


def deprecated_options_in_use(options: Iterable[tuple[str, cfg.Opt]],
                              in_files: dict[str, set[str]]) -> list[str]:
    """Sorted descriptions of the deprecated options set in the files:
    options deprecated for removal and old names of renamed options."""
    used: set[str] = set()
    for group, opt in options:
        names = in_files.get(group, set())
        if opt.deprecated_for_removal and {opt.name, opt.dest} & names:
            used.add('[%s] %s (deprecated for removal)' % (group, opt.dest))
        for old in opt.deprecated_opts:
            old_group = _group_name(old.group or group)
            if (old.name or opt.dest) in in_files.get(old_group, set()):
                used.add('[%s] %s (now [%s] %s)' % (
                    old_group, old.name or opt.dest, group, opt.dest))
    return sorted(used)


def loaded_config_files(conf: cfg.ConfigOpts) -> list[str]:
    """The config files ``conf`` read, config directories included."""
    paths = list(conf.config_file or [])
    if conf.config_dir and os.path.isdir(conf.config_dir):
        paths += sorted(os.path.join(conf.config_dir, name)
                        for name in os.listdir(conf.config_dir)
                        if name.endswith('.conf'))
    return [path for path in paths if os.path.isfile(path)]


def policy_files(conf: cfg.ConfigOpts) -> list[str]:
    """The operator's policy file and the files of its policy dirs, as
    oslo.policy looks them up."""
    found: list[str] = []
    policy_file = conf.find_file(conf.oslo_policy.policy_file)
    if policy_file:
        found.append(policy_file)
    for name in conf.oslo_policy.policy_dirs:
        directory = conf.find_file(name)
        if directory and os.path.isdir(directory):
            found += sorted(os.path.join(directory, entry)
                            for entry in os.listdir(directory))
    return [path for path in found if os.path.isfile(path)]


class Checks(upgradecheck.UpgradeCommands):
    """The checks, on ``conf`` (the global options by default)."""

    def __init__(self, conf: cfg.ConfigOpts | None = None) -> None:
        self.conf = CONF if conf is None else conf

    def _check_database_schema(self) -> upgradecheck.Result:
        try:
            current = migration.version(self.conf.database.connection)
        except Exception as e:
            return upgradecheck.Result(
                upgradecheck.Code.FAILURE,
                'The database cannot be read: %s' % type(e).__name__)
        head = migration.head()
        if current != head:
            return upgradecheck.Result(
                upgradecheck.Code.FAILURE,
                'The database schema is at %s, the code needs %s: run '
                '"freezer-manage db sync".' % (current, head))
        return upgradecheck.Result(upgradecheck.Code.SUCCESS)

    def _check_policy_json(self) -> upgradecheck.Result:
        return common_checks.check_policy_json(self, self.conf)

    def _check_policy_rules(self) -> upgradecheck.Result:
        # The enforcer registers the [oslo_policy] options.
        enforcer = oslo_policy.Enforcer(self.conf)
        enforcer.register_defaults(policies.list_rules())
        deprecated: set[str] = set()
        for rule in enforcer.registered_rules.values():
            if rule.deprecated_for_removal:
                deprecated.add(rule.name)
            if rule.deprecated_rule is not None:
                deprecated.add(rule.deprecated_rule.name)
        overridden: set[str] = set()
        for path in policy_files(self.conf):
            try:
                with open(path) as f:
                    overridden.update(oslo_policy.parse_file_contents(
                        f.read()))
            except (OSError, ValueError) as e:
                return upgradecheck.Result(
                    upgradecheck.Code.FAILURE,
                    'The policy file %s cannot be read: %s' % (path, e))
        problems: list[str] = []
        if overridden & deprecated:
            problems.append('deprecated rules: %s' %
                            ', '.join(sorted(overridden & deprecated)))
        unknown = overridden - deprecated - set(enforcer.registered_rules)
        if unknown:
            problems.append('rules freezer-api does not know: %s' %
                            ', '.join(sorted(unknown)))
        if problems:
            return upgradecheck.Result(
                upgradecheck.Code.WARNING,
                'The policy files override %s. Remove or rename them '
                '(see the sample policy file).' % '; '.join(problems))
        return upgradecheck.Result(upgradecheck.Code.SUCCESS)

    def _check_deprecated_options(self) -> upgradecheck.Result:
        used = deprecated_options_in_use(
            known_options(), file_options(loaded_config_files(self.conf)))
        if used:
            return upgradecheck.Result(
                upgradecheck.Code.WARNING,
                'The config files set deprecated options: %s. See the '
                'sample config file for what replaces them.'
                % ', '.join(used))
        return upgradecheck.Result(upgradecheck.Code.SUCCESS)

    _upgrade_checks = (
        ('Database schema', _check_database_schema),
        ('Policy File JSON to YAML Migration', _check_policy_json),
        ('Policy rules', _check_policy_rules),
        ('Deprecated options', _check_deprecated_options),
    )


def main(argv: list[str] | None = None,
         conf: cfg.ConfigOpts | None = None) -> int:
    """Run ``upgrade check`` on ``argv`` (default: the command line);
    return oslo.upgradecheck's exit code."""
    conf = CONF if conf is None else conf
    freezer_conf.register_opts(conf)
    return upgradecheck.main(
        conf, project=service.PROJECT, upgrade_command=Checks(conf),
        argv=sys.argv[1:] if argv is None else argv,
        default_config_files=cfg.find_config_files(service.PROJECT,
                                                   service.PROG))


if __name__ == '__main__':
    sys.exit(main())

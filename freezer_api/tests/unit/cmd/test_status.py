"""freezer-status upgrade check: each check, and oslo.upgradecheck's exit
codes (0 success, 1 warning, 2 failure)."""

import os

import fixtures
from oslo_config import cfg
from oslo_policy import policy as oslo_policy
from oslo_upgradecheck import upgradecheck

from freezer_api.cmd import status
from freezer_api.common import policies
from freezer_api.db import migration
from freezer_api.tests.unit import helpers
from freezer_api.tests.unit.cmd import base

GENERATOR_CONF = os.path.join(helpers.ETC,
                              'freezer-api-config-generator.conf')


class StatusTestCase(base.CommandTestCase):

    def setUp(self):
        super().setUp()
        migration.upgrade(self.db_url)

    def write_policy(self, text, name='policy.yaml'):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def check(self, extra=''):
        """Run ``upgrade check``: (exit code, the printed table)."""
        code, out, _ = self.run_main(status.main, 'upgrade', 'check',
                                     extra=extra)
        return code, out

    def policy_extra(self, path):
        return '[oslo_policy]\npolicy_file = %s\n' % path


class TestUpgradeCheck(StatusTestCase):

    def test_all_good_is_success(self):
        code, out = self.check()
        self.assertEqual(upgradecheck.Code.SUCCESS, code)
        for name in ('Database schema', 'Policy rules',
                     'Deprecated options'):
            self.assertIn('Check: %s' % name, out)
        self.assertNotIn('Warning', out)

    def test_schema_behind_head_is_failure(self):
        os.unlink(self.db_url[len('sqlite:///'):])
        code, out = self.check()
        self.assertEqual(upgradecheck.Code.FAILURE, code)
        self.assertIn('The database schema is at None', out)

    def test_unreachable_database_is_failure(self):
        self.db_url = 'postgresql+psycopg2://f:pw@127.0.0.1:%d/f' % (
            base.closed_port())
        code, out = self.check()
        self.assertEqual(upgradecheck.Code.FAILURE, code)
        self.assertIn('The database cannot be read: OperationalError', out)

    def test_json_policy_file_is_failure(self):
        path = self.write_policy('{"actions:get_all": ""}', 'policy.json')
        code, out = self.check(self.policy_extra(path))
        self.assertEqual(upgradecheck.Code.FAILURE, code)
        self.assertIn('Your policy file is JSON-formatted', out)

    def test_yaml_override_of_a_known_rule_is_success(self):
        path = self.write_policy('"actions:get_all": "role:admin"\n')
        code, _ = self.check(self.policy_extra(path))
        self.assertEqual(upgradecheck.Code.SUCCESS, code)

    def test_unknown_policy_rule_is_warning(self):
        path = self.write_policy('"actions:get_all": ""\n'
                                 '"actions:frobnicate": ""\n')
        code, out = self.check(self.policy_extra(path))
        self.assertEqual(upgradecheck.Code.WARNING, code)
        self.assertIn('actions:frobnicate', ' '.join(out.split()))

    def test_policy_dir_rules_are_checked_too(self):
        os.mkdir(os.path.join(self.tmp, 'policy.d'))
        self.write_policy('"jobs:nosuchrule": ""\n', 'policy.d/extra.yaml')
        code, out = self.check('[oslo_policy]\npolicy_dirs = %s\n' %
                               os.path.join(self.tmp, 'policy.d'))
        self.assertEqual(upgradecheck.Code.WARNING, code)
        self.assertIn('jobs:nosuchrule', out)

    def test_deprecated_option_in_file_is_warning(self):
        # keystonemiddleware's old name of memcached_servers.
        code, out = self.check('[keystone_authtoken]\n'
                               'memcache_servers = 127.0.0.1:11211\n')
        self.assertEqual(upgradecheck.Code.WARNING, code)
        self.assertIn('[keystone_authtoken] memcache_servers (now '
                      '[keystone_authtoken] memcached_servers)',
                      ' '.join(out.replace('|', '').split()))


class TestPolicyRuleCheck(StatusTestCase):
    """Deprecated rule names: registered ones stand in for the day
    freezer-api renames or drops a rule."""

    def setUp(self):
        super().setUp()
        renamed = oslo_policy.DocumentedRuleDefault(
            'actions:list', 'role:reader', 'List actions.',
            [{'path': '/v2/{project_id}/actions', 'method': 'GET'}],
            deprecated_rule=oslo_policy.DeprecatedRule(
                'actions:old_list', 'role:reader',
                deprecated_reason='renamed', deprecated_since='2026.1'))
        dropped = oslo_policy.RuleDefault(
            'actions:dropped', 'role:admin', deprecated_for_removal=True,
            deprecated_reason='unused', deprecated_since='2026.1')
        rules = policies.list_rules() + [renamed, dropped]
        self.useFixture(fixtures.MonkeyPatch(
            'freezer_api.common.policies.list_rules', lambda: rules))

    def test_override_of_deprecated_rules_is_warning(self):
        path = self.write_policy('"actions:old_list": ""\n'
                                 '"actions:dropped": ""\n'
                                 '"actions:list": ""\n')
        code, out = self.check(self.policy_extra(path))
        self.assertEqual(upgradecheck.Code.WARNING, code)
        text = ' '.join(out.replace('|', '').split())
        self.assertIn('deprecated rules: actions:dropped, actions:old_list',
                      text)
        self.assertNotIn('does not know', text)


class TestDeprecatedOptions(base.CommandTestCase):

    def test_deprecated_for_removal_and_renamed_options(self):
        opts = [
            ('DEFAULT', cfg.StrOpt('old_knob', deprecated_for_removal=True,
                                   deprecated_reason='unused')),
            ('api', cfg.IntOpt('workers', deprecated_name='processes',
                               deprecated_group='DEFAULT')),
            ('api', cfg.IntOpt('threads')),
        ]
        in_files = {'DEFAULT': {'old_knob', 'processes'},
                    'api': {'threads'}}
        self.assertEqual(
            ['[DEFAULT] old_knob (deprecated for removal)',
             '[DEFAULT] processes (now [api] workers)'],
            status.deprecated_options_in_use(opts, in_files))

    def test_nothing_deprecated_set(self):
        opts = [('DEFAULT', cfg.StrOpt('old', deprecated_for_removal=True))]
        self.assertEqual([], status.deprecated_options_in_use(
            opts, {'database': {'old'}}))

    def test_namespaces_are_those_of_the_sample_config(self):
        with open(GENERATOR_CONF) as f:
            namespaces = [line.split('=', 1)[1].strip() for line in f
                          if line.startswith('namespace')]
        self.assertEqual(sorted(namespaces),
                         sorted(status.OPTION_NAMESPACES))

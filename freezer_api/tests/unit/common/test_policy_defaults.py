"""The policy defaults document the operations of the route tables: each
route's rule is written once, in its table, and a rule's operations are
the routes that name it."""

import os
import subprocess
import sys
from unittest import mock

from oslo_policy import policy as oslo_policy

from freezer_api.api import routes
from freezer_api.api.controllers import root
from freezer_api.api.controllers.v2 import route_tables
from freezer_api.common import policies
from freezer_api.common.policies import base as policy_base
from freezer_api.tests.unit import base as unit_base
from freezer_api.tests.unit import helpers

V2 = root.RootController.v2


def served_operations():
    """{(rule, path, method)} of every route the controllers serve."""
    served = set()
    for plural, controller in V2.resources.items():
        for route in controller.routes:
            path = routes.project_path('/v2', plural, route.pattern)
            for method, rule in route.rules.items():
                served.add((rule, path, method))
                for extra in route.extra_rules.get(method, ()):
                    name, sep, query = extra.partition('?')
                    served.add((name, path + sep + query, method))
    for route in root.RootController.routes:
        for method, rule in route.rules.items():
            if rule is not routes.NO_POLICY:
                served.add((rule, '/' + '/'.join(route.pattern), method))
    return served


class TestDerivedOperations(unit_base.TestCase):

    def setUp(self):
        super().setUp()
        self.rules = policies.list_rules()

    def test_the_tables_are_the_controllers(self):
        self.assertEqual(list(V2.resources), list(route_tables.RESOURCES))
        for plural, controller in V2.resources.items():
            self.assertIs(route_tables.RESOURCES[plural], controller.routes)

    def test_every_route_of_a_project_has_a_rule(self):
        names = {rule.name for rule in self.rules}
        for rule, path, method in served_operations():
            self.assertIn(rule, names, '%s %s' % (method, path))

    def test_operations_are_the_routes(self):
        documented = {(rule.name, op['path'], op['method'])
                      for rule in self.rules
                      for op in getattr(rule, 'operations', ())}
        self.assertEqual(served_operations(), documented)

    def test_every_rule_guards_a_route_or_is_a_base_rule(self):
        base_names = [rule.name for rule in policy_base.rules]
        for rule in self.rules:
            if rule.name in base_names:
                self.assertNotIsInstance(rule,
                                         oslo_policy.DocumentedRuleDefault)
            else:
                self.assertTrue(rule.operations, rule.name)
                self.assertEqual(['project'], rule.scope_types)

    def test_a_rule_no_route_names_is_an_error(self):
        rule = policy_base.ProjectRule('widgets:get', 'role:admin', 'Show.')
        self.assertRaises(ValueError, policy_base.documented, rule, {})

    def test_a_route_rule_without_a_default_is_an_error(self):
        route = routes.Route((), {'GET': 'list'},
                             rules={'GET': 'widgets:get_all'})
        policies._rules.cache_clear()
        self.addCleanup(policies._rules.cache_clear)
        with mock.patch.dict(route_tables.RESOURCES, {'widgets': [route]}):
            self.assertRaises(ValueError, policies.list_rules)

    def test_loading_the_rules_loads_no_controller_or_option(self):
        # oslo.policy's tools parse the global configuration before they
        # load the rules: registering an option then would fail. Nor do
        # they need Pecan (and what it loads) to read the route tables.
        code = ('import sys; from freezer_api.common import policies; '
                'policies.list_rules(); '
                'print(sorted(m for m in sys.modules if m.startswith('
                '("freezer_api.conf", "freezer_api.api.controllers.routing",'
                ' "freezer_api.api.controllers.v2.root", "freezer_api.db",'
                ' "pecan", "webob", "sqlalchemy"))))')
        env = dict(os.environ, PYTHONPATH=helpers.ROOT)
        output = subprocess.run([sys.executable, '-c', code], env=env,
                                check=True, capture_output=True, text=True)
        self.assertEqual('[]', output.stdout.strip())

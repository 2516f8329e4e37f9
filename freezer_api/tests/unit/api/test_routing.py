"""Route: every method has its policy rule, and the operations
the policy defaults document are derived from the tables."""

from freezer_api.api import routes
from freezer_api.tests.unit import base as unit_base


def _route(**kwargs):
    kwargs.setdefault('rules', {'GET': 'widgets:get',
                                'POST': 'widgets:create'})
    return routes.Route((), {'GET': 'list', 'POST': 'create'}, 'widgets',
                        **kwargs)


class TestRouteRules(unit_base.TestCase):

    def test_a_route_without_rules_is_refused(self):
        self.assertRaises(TypeError, routes.Route, (), {'GET': 'list'})

    def test_a_method_without_a_rule_is_refused(self):
        self.assertRaises(ValueError, _route, rules={'GET': 'widgets:get'})

    def test_a_rule_of_a_method_the_route_lacks_is_refused(self):
        self.assertRaises(ValueError, _route, rules={
            'GET': 'widgets:get', 'POST': 'widgets:create',
            'DELETE': 'widgets:delete'})
        self.assertRaises(ValueError, _route,
                          extra_rules={'PUT': ('widgets:put',)})

    def test_rule_of_a_method(self):
        route = _route(extra_rules={'GET': ('widgets:all?all=true',
                                            'widgets:more')})
        self.assertEqual('widgets:get', route.rule('GET'))
        self.assertEqual('widgets:all', route.rule('GET', 'widgets:all'))
        self.assertEqual('widgets:more', route.rule('GET', 'widgets:more'))

    def test_a_rule_the_route_does_not_name_is_refused(self):
        route = _route(extra_rules={'GET': ('widgets:all?all=true',)})
        self.assertRaises(ValueError, route.rule, 'POST', 'widgets:all')
        self.assertRaises(ValueError, route.rule, 'GET', 'widgets:other')
        open_route = routes.Route((), {'GET': 'home'},
                                  rules={'GET': routes.NO_POLICY})
        self.assertRaises(ValueError, open_route.rule, 'GET')


class TestRuleOperations(unit_base.TestCase):

    def test_operations_are_the_routes_in_table_order(self):
        tables = {'widgets': [
            _route(extra_rules={'GET': ('widgets:all?all=true',)}),
            routes.Route((routes.ID,), {'GET': 'show', 'POST': 'replace'},
                         'widget', rules={'GET': 'widgets:get',
                                          'POST': 'widgets:create'}),
        ]}
        self.assertEqual({
            'widgets:get': [
                {'path': '/v2/{project_id}/widgets', 'method': 'GET'},
                {'path': '/v2/{project_id}/widgets/{widget_id}',
                 'method': 'GET'}],
            'widgets:create': [
                {'path': '/v2/{project_id}/widgets', 'method': 'POST'},
                {'path': '/v2/{project_id}/widgets/{widget_id}',
                 'method': 'POST'}],
            'widgets:all': [
                {'path': '/v2/{project_id}/widgets?all=true',
                 'method': 'GET'}],
        }, routes.rule_operations(tables))

    def test_a_route_of_a_project_needs_a_policy(self):
        tables = {'widgets': [routes.Route(
            (), {'GET': 'list'}, rules={'GET': routes.NO_POLICY})]}
        self.assertRaises(ValueError, routes.rule_operations, tables)

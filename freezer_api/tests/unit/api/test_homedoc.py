"""The JSON-home document of /v2, built from the controllers' routes."""

import json
from unittest import mock

from freezer_api.api import routes
from freezer_api.api.controllers.v2 import homedoc
from freezer_api.api.controllers.v2 import root
from freezer_api.tests.unit import base as unit_base

V2 = root.V2Controller()

# The reference service's relations and href templates, which the
# upstream tempest plugin reads: they must not change. A new route may add
# a relation.
REFERENCE = {
    'actions': '/v2/{project_id}/actions{?limit,offset}',
    'action': '/v2/{project_id}/actions/{action_id}',
    'jobs': '/v2/{project_id}/jobs{?all_projects,limit,offset}',
    'job': '/v2/{project_id}/jobs/{job_id}{?all_projects}',
    'job_event': '/v2/{project_id}/jobs/{job_id}/event',
    'sessions': '/v2/{project_id}/sessions{?limit,offset}',
    'session': '/v2/{project_id}/sessions/{session_id}',
    'session_action': '/v2/{project_id}/sessions/{session_id}/action',
    'session_job': '/v2/{project_id}/sessions/{session_id}/jobs/{job_id}',
    'clients': '/v2/{project_id}/clients{?limit,offset}',
    'client': '/v2/{project_id}/clients/{client_id}',
    'backup_list': '/v2/{project_id}/backups{?limit,offset}',
    'backups': '/v2/{project_id}/backups/{backup_id}',
    'openapi': '/v2/openapi.json',
}


class HomeDocumentTestCase(unit_base.TestCase):

    def setUp(self):
        super().setUp()
        self.resources = homedoc.document(V2)['resources']

    def test_reference_relations_in_order(self):
        names = [name.removeprefix('rel/') for name in self.resources]
        self.assertEqual(list(REFERENCE),
                         [name for name in names if name in REFERENCE])
        for name, template in REFERENCE.items():
            resource = self.resources['rel/' + name]
            self.assertEqual(template, resource.get('href-template',
                                                    resource.get('href')))

    def test_relations_of_our_own(self):
        # Routes the reference did not have: the run history.
        names = [name.removeprefix('rel/') for name in self.resources]
        self.assertEqual(['job_runs', 'job_health', 'runs', 'run',
                          'health'],
                         [name for name in names if name not in REFERENCE])
        self.assertEqual(
            '/v2/{project_id}/jobs/{job_id}/runs{?limit,offset}',
            self.resources['rel/job_runs']['href-template'])
        self.assertEqual('/v2/{project_id}/runs/{run_id}',
                         self.resources['rel/run']['href-template'])

    def test_variables_are_params(self):
        resource = self.resources['rel/jobs']
        self.assertEqual(
            {'project_id': 'param/project_id',
             'all_projects': 'param/all_projects',
             'limit': 'param/limit', 'offset': 'param/offset'},
            resource['href-vars'])
        self.assertNotIn('href-vars', self.resources['rel/openapi'])

    def test_allow_is_the_routes_methods(self):
        for name, methods in (('action', ['GET', 'POST', 'PATCH',
                                          'DELETE']),
                              ('session_job', ['PUT', 'DELETE']),
                              ('backups', ['GET', 'PATCH', 'DELETE'])):
            self.assertEqual(methods,
                             self.resources['rel/' + name]['hints']['allow'])

    def test_a_new_route_is_listed(self):
        controller = V2.resources['actions']
        route = routes.Route((routes.ID, 'copy'), {'POST': 'copy'},
                             'action_copy', rules={'POST': 'actions:copy'})
        with mock.patch.object(type(controller), 'routes',
                               controller.routes + [route]):
            resources = homedoc.document(V2)['resources']
        self.assertEqual(
            {'href-template': '/v2/{project_id}/actions/{action_id}/copy',
             'href-vars': {'project_id': 'param/project_id',
                           'action_id': 'param/action_id'},
             'hints': {'allow': ['POST'],
                       'formats': {'application/json': {}}}},
            resources['rel/action_copy'])

    def test_rendered_once_as_served(self):
        self.assertEqual(homedoc.render(V2), V2.home_document)
        self.assertEqual({'resources': self.resources},
                         json.loads(V2.home_document))

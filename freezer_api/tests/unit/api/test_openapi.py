"""The OpenAPI document: valid OpenAPI 3.1, complete, built from the code
and served at GET /v2/openapi.json."""

import json
import re
from unittest import mock

from openapi_spec_validator import OpenAPIV31SpecValidator
from openapi_spec_validator import validate as validate_spec

from freezer_api.api import openapi
from freezer_api.api import routes
from freezer_api.api.controllers.v2 import root
from freezer_api.api.schemas.v2 import actions as action_schema
from freezer_api.api.schemas.v2 import common
from freezer_api.common import policies
from freezer_api.tests.unit import base as unit_base
from freezer_api.tests.unit.api import base

V2 = root.V2Controller()
METHODS = ('get', 'put', 'post', 'delete', 'patch')


def _routes():
    """Every (path, method) the controllers route, walked independently
    of the generator."""
    served = {('/v2', 'get'), ('/v2/openapi.json', 'get')}
    for name, controller in V2.resources.items():
        for pattern, methods in controller.routes:
            path, previous = '/v2/{project_id}/' + name, name
            for segment in pattern:
                if segment is routes.ID:
                    path += '/{%s_id}' % previous.rstrip('s')
                else:
                    path += '/' + segment
                    previous = segment
            served.update((path, m.lower()) for m in methods)
    return served


def _operations(document):
    for path, item in document['paths'].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _walk(value):
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


class DocumentTestCase(unit_base.TestCase):

    def setUp(self):
        super().setUp()
        self.document = openapi.build(V2)

    def operation(self, path, method):
        return self.document['paths'][path][method]

    def test_valid_openapi_3_1(self):
        self.assertEqual('3.1.0', self.document['openapi'])
        validate_spec(self.document, cls=OpenAPIV31SpecValidator)

    def test_every_route_with_its_methods(self):
        documented = {(path, method)
                      for path, method, _op in _operations(self.document)}
        self.assertEqual(_routes(), documented)

    def test_operation_ids_and_tags(self):
        ids = [op['operationId'] for _p, _m, op in
               _operations(self.document)]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertIn('sessions_add_job', ids)
        tags = {tag['name'] for tag in self.document['tags']}
        self.assertEqual({'v2'} | set(V2.resources), tags)
        for _path, _method, operation in _operations(self.document):
            self.assertEqual(1, len(operation['tags']))
            self.assertIn(operation['tags'][0], tags)

    def test_summaries_come_from_the_policy_rules(self):
        rules = {rule.name: rule for rule in policies.list_rules()}
        operation = self.operation('/v2/{project_id}/jobs/{job_id}/event',
                                   'post')
        self.assertEqual('Ask the scheduler to start, stop or abort a job',
                         operation['summary'])
        self.assertIn('`jobs:event:create`', operation['description'])
        register = self.operation('/v2/{project_id}/clients', 'post')
        self.assertIn('`clients:create`, `clients:create_central`',
                      register['description'])
        for path, method, operation in _operations(self.document):
            if not path.startswith('/v2/{project_id}'):
                continue
            names = [n for n in rules
                     if '`%s`' % n in operation['description']]
            self.assertTrue(names, (path, method))
            self.assertTrue(rules[names[0]].description.startswith(
                operation['summary']))

    def test_request_bodies_are_the_schemas(self):
        schemas = self.document['components']['schemas']
        create = self.operation('/v2/{project_id}/actions', 'post')
        self.assertEqual({'$ref': '#/components/schemas/Action'},
                         create['requestBody']['content']
                         ['application/json']['schema'])
        self.assertTrue(create['requestBody']['required'])
        expected = dict(action_schema.ACTION)
        del expected['$schema']
        self.assertEqual(expected, schemas['Action'])
        patch = self.operation('/v2/{project_id}/actions/{action_id}',
                               'patch')
        self.assertEqual({'$ref': '#/components/schemas/ActionPatch'},
                         patch['requestBody']['content']
                         ['application/json']['schema'])
        for name in ('Job', 'JobPatch', 'JobEvent', 'Session',
                     'SessionPatch', 'SessionAction', 'Client', 'Backup',
                     'BackupPatch', 'Search', 'Fault', 'Document'):
            self.assertIn(name, schemas)
        self.assertFalse(any('$schema' in node for node in _walk(schemas)
                             if isinstance(node, dict)))

    def test_search_body_on_list_gets_only(self):
        for path, method, operation in _operations(self.document):
            body = operation.get('requestBody')
            if method == 'get' and body is not None:
                self.assertFalse(body['required'])
                self.assertEqual({'$ref': '#/components/schemas/Search'},
                                 body['content']['application/json']
                                 ['schema'])
                self.assertIn('JSON body on GET', body['description'])
                self.assertEqual(['limit', 'offset'],
                                 [p['name'] for p in operation['parameters']
                                  if p['name'] != 'all_projects'])
            if method in ('delete', 'put'):
                self.assertIsNone(body, (path, method))
        lists = [path for path, method, op in _operations(self.document)
                 if method == 'get' and 'requestBody' in op]
        self.assertEqual(sorted(['/v2/{project_id}/jobs/{job_id}/runs'] +
                                ['/v2/{project_id}/' + name
                                 for name in V2.resources]), sorted(lists))

    def test_parameters(self):
        limit = self.operation('/v2/{project_id}/backups', 'get')[
            'parameters'][0]
        self.assertEqual({'type': 'integer', 'minimum': 0},
                         limit['schema'])
        for path in ('/v2/{project_id}/jobs',
                     '/v2/{project_id}/jobs/{job_id}'):
            names = [p['name'] for p in
                     self.operation(path, 'get')['parameters']]
            self.assertIn('all_projects', names)
        self.assertNotIn('parameters',
                         self.operation('/v2/{project_id}/actions/{action_id}',
                                        'get'))
        client = self.document['paths'][
            '/v2/{project_id}/clients/{client_id}']['parameters'][1]
        self.assertEqual('client_id', client['name'])
        # The ids real clients use: freezer-scheduler's "<project>_<host>"
        # default, the api-ref sample, a chosen one; not what is no id.
        pattern = re.compile(client['schema']['pattern'])
        for good in ('e2eproject_vm', 'node1', 'e2e-client',
                     '752d8cd43d654e7a840bbfd277ce41af_szaher01',
                     'p_db.example.com'):
            self.assertIsNotNone(pattern.search(good), good)
        for bad in ('', 'bad id', 'a/b', 'node1.', 'p_-x'):
            self.assertIsNone(pattern.search(bad), bad)
        # The URL takes what the body takes.
        self.assertEqual(
            self.document['components']['schemas']['Client']['properties']
            ['client_id']['pattern'], client['schema']['pattern'])
        project = self.document['paths']['/v2/{project_id}/actions'][
            'parameters'][0]
        self.assertEqual('^[\\w-]{1,255}$', project['schema']['pattern'])

    def test_if_match_on_writes_and_etag_on_reads(self):
        for path, method, operation in _operations(self.document):
            names = [p['name'] for p in operation.get('parameters', ())]
            # /v2/{project_id}/<resource>/{<resource>_id}
            is_item = len(path.split('/')) == 5 and path.endswith('_id}')
            if is_item and method in ('post', 'patch', 'delete'):
                self.assertIn('If-Match', names, (path, method))
            else:
                self.assertNotIn('If-Match', names, (path, method))
            if is_item and method == 'get':
                success = operation['responses']['200']
                self.assertIn('ETag', success['headers'])

    def test_responses(self):
        responses = self.document['components']['responses']
        fault = {'$ref': '#/components/schemas/Fault'}
        for response in responses.values():
            self.assertEqual(fault,
                             response['content']['application/json']
                             ['schema'])
        self.assertIn('753', responses['SyntaxError']['description'])
        self.assertIn('Allow', responses['Error405']['headers'])
        expected = {
            ('/v2/{project_id}/actions', 'post'): '201',
            ('/v2/{project_id}/actions/{action_id}', 'post'): '201',
            ('/v2/{project_id}/actions/{action_id}', 'patch'): '200',
            ('/v2/{project_id}/actions/{action_id}', 'delete'): '204',
            ('/v2/{project_id}/jobs/{job_id}/event', 'post'): '202',
            ('/v2/{project_id}/sessions/{session_id}/action', 'post'):
                '202',
            ('/v2/{project_id}/sessions/{session_id}/jobs/{job_id}', 'put'):
                '204',
        }
        for (path, method), status in expected.items():
            codes = self.operation(path, method)['responses']
            self.assertEqual(status, min(codes), (path, method))
        post = self.operation('/v2/{project_id}/actions', 'post')
        # 753 is no HTTP status OpenAPI allows: an extension names it.
        for code in ('400', '401', '403', '404', '409', '413', '503',
                     'x-syntax-error'):
            self.assertIn(code, post['responses'])
        self.assertEqual({'$ref': '#/components/responses/SyntaxError'},
                         post['responses']['x-syntax-error'])
        delete = self.operation('/v2/{project_id}/actions/{action_id}',
                                'delete')
        self.assertIn('412', delete['responses'])
        self.assertNotIn('x-syntax-error', delete['responses'])
        self.assertNotIn('content', delete['responses']['204'])
        backup = self.operation('/v2/{project_id}/backups/{backup_id}',
                                'patch')
        self.assertEqual({'$ref': '#/components/schemas/BackupRecord'},
                         backup['responses']['200']['content']
                         ['application/json']['schema'])
        record = self.document['components']['schemas']['BackupRecord']
        self.assertNotIn('_version', record['properties'])

    def test_keystone_security(self):
        self.assertEqual([{'keystone': []}], self.document['security'])
        scheme = self.document['components']['securitySchemes']['keystone']
        self.assertEqual({'apiKey', 'header', 'X-Auth-Token'},
                         {scheme['type'], scheme['in'], scheme['name']})

    def test_an_undocumented_handler_is_an_error(self):
        controller = V2.resources['actions']
        with mock.patch.object(type(controller), 'routes',
                               controller.routes + [
                                   ((routes.ID, 'copy'),
                                    {'POST': 'copy'})]):
            self.assertRaises(ValueError, openapi.build, V2)


class MergePatchSchemaTestCase(unit_base.TestCase):

    def test_keys_optional_nulls_remove_objects_merge(self):
        patch = common.merge_patch({
            'title': 'thing', 'type': 'object', 'required': ['a', 'b'],
            'properties': {
                'a': {'type': 'object', 'required': ['x'],
                      'properties': {'x': {'type': 'string'},
                                     'y': {'type': 'integer'}}},
                'b': {'type': 'array', 'items': {'type': 'object',
                                                  'required': ['z']}},
                'c': {'type': 'string', 'enum': ['on', 'off']},
            },
        }, 'thing patch')
        self.assertEqual('thing patch', patch['title'])
        self.assertNotIn('required', patch)
        properties = patch['properties']
        # Required keys cannot be removed, only changed.
        self.assertEqual('object', properties['a']['type'])
        self.assertNotIn('required', properties['a'])
        self.assertEqual(['integer', 'null'],
                         properties['a']['properties']['y']['type'])
        self.assertEqual({'type': 'array', 'items': {
            'type': 'object', 'required': ['z']}}, properties['b'])
        self.assertEqual({'type': ['string', 'null'],
                          'enum': ['on', 'off', None]}, properties['c'])


class ServedDocumentTestCase(base.ApiTestCase):

    def test_get_openapi_json(self):
        for path in ('/v2/openapi.json', '/v2/openapi.json/'):
            response = self.get(path)
            self.assertEqual(200, response.status_int)
            self.assertEqual('application/json', response.content_type)
            self.assertEqual(openapi.build(V2), response.json)

    def test_only_get(self):
        response = self.post('/v2/openapi.json', {})
        self.assertFault(response, 405)
        self.assertEqual('GET', response.headers['Allow'])
        self.assertFault(self.get('/v2/openapi.yaml'), 404)

    def test_not_a_project(self):
        # "openapi.json" cannot be a project: its resources are 404.
        self.assertFault(self.get('/v2/openapi.json/actions'), 404)

    def test_built_once(self):
        controller = root.V2Controller()
        with mock.patch.object(openapi, 'build',
                               wraps=openapi.build) as build:
            first = controller.openapi_document.text
            second = controller.openapi_document.text
        self.assertIs(first, second)
        self.assertEqual(1, build.call_count)
        self.assertEqual(openapi.build(V2), json.loads(first))

    def test_listed_in_json_home(self):
        resources = json.loads(self.get('/v2').text)['resources']
        self.assertEqual(
            {'href': '/v2/openapi.json',
             'hints': {'allow': ['GET'],
                       'formats': {'application/json': {}}}},
            resources['rel/openapi'])

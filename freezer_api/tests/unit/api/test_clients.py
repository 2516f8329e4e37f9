"""/v2/{project_id}/clients through the whole stack."""

import copy

from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures

URL = job_fixtures.url('clients')
URL_B = job_fixtures.url('clients', base.PROJECT_B)

# Every value the reference accepts in the supported_* lists
# (peer-behavior.md section 10.1): what freezer-scheduler 19.0.0 sends
# unless told otherwise, and what a registration without them gets.
ALL_CAPABILITIES = {
    'supported_actions': ['backup', 'restore', 'info', 'admin', 'exec'],
    'supported_modes': ['fs', 'mongo', 'mysql', 'sqlserver', 'cinder',
                        'glance', 'cindernative', 'nova'],
    'supported_storages': ['local', 'swift', 'ssh', 's3', 'ftp', 'ftps'],
    'supported_engines': ['tar', 'rsync', 'rsyncv2', 'nova', 'osbrick',
                          'glance'],
}

# What freezer-scheduler 19.0.0 posts when it starts, for host node1
# (scheduler-calls.jsonl, scenario "startup").
SCHEDULER_CLIENT = {
    'client_id': 'node1',
    'hostname': 'node1.example.com',
    **ALL_CAPABILITIES,
    'is_central': False,
}

MEMBER_A2 = {'X-User-Id': 'user-a2', 'X-Project-Id': base.PROJECT_A,
             'X-Roles': 'member,reader'}
# A centralized scheduler's service user, member of its project.
SCHEDULER_SERVICE_A = {'X-User-Id': 'freezer', 'X-Project-Id': base.PROJECT_A,
                       'X-Roles': 'service,member'}


def client(client_id='node1', **fields):
    return dict(copy.deepcopy(SCHEDULER_CLIENT), client_id=client_id,
                **fields)


class ClientsTestCase(base.ApiTestCase):

    def register(self, body=None, url=URL, headers=None):
        response = self.post(url, body or client(), headers=headers)
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual(['client_id'], list(response.json))
        return response.json['client_id']

    def register_central(self, client_id='central1', url=URL):
        return self.register(client(client_id, is_central=True), url=url,
                             headers=base.ADMIN)

    def show(self, client_id, url=URL, headers=None):
        response = self.get('%s/%s' % (url, client_id), headers=headers)
        self.assertEqual(200, response.status_int, response.text)
        return response.json

    def listed(self, url=URL, search=None, query='?limit=1000',
               headers=None):
        response = self.get(url + query, body=search, headers=headers)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(['clients'], list(response.json))
        return [(doc['project_id'], doc['client']['client_id'])
                for doc in response.json['clients']]

    def assertNothingStored(self):
        self.assertEqual([], self.listed())


class TestRegister(ClientsTestCase):

    def test_register_then_show(self):
        self.assertEqual('node1', self.register())
        response = self.get(URL + '/node1')
        self.assertEqual(200, response.status_int)
        self.assertEqual('"1"', response.headers['ETag'])
        doc = response.json
        uuid = doc['client'].pop('uuid')
        self.assertRegex(uuid, '^[0-9a-f]{32}$')
        self.assertEqual({
            'project_id': base.PROJECT_A,
            'user_id': 'user-a',
            'client': dict(SCHEDULER_CLIENT, description=None),
            '_version': 1,
        }, doc)
        self.assertEqual(['client_id', 'hostname', 'description',
                          'is_central', 'supported_actions',
                          'supported_modes', 'supported_storages',
                          'supported_engines'], list(doc['client']))

    def test_trailing_slash(self):
        response = self.post(URL + '/', client())
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual(200, self.get(URL + '/node1/').status_int)
        self.assertEqual([(base.PROJECT_A, 'node1')],
                         self.listed(URL + '/', query=''))

    def test_defaults(self):
        self.register({'client_id': 'bare'})
        shown = self.show('bare')['client']
        self.assertRegex(shown.pop('uuid'), '^[0-9a-f]{32}$')
        self.assertEqual(dict(ALL_CAPABILITIES, client_id='bare',
                              hostname=None, description=None,
                              is_central=False), shown)

    def test_given_fields_are_kept(self):
        self.register(client(description='the db host', uuid='my-uuid',
                             supported_modes=['fs', 'mysql']))
        shown = self.show('node1')['client']
        self.assertEqual('the db host', shown['description'])
        self.assertEqual('my-uuid', shown['uuid'])
        self.assertEqual(['fs', 'mysql'], shown['supported_modes'])

    def test_unknown_keys_are_not_stored(self):
        self.register(client(config_id='cfg', colour='blue'))
        shown = self.show('node1')
        self.assertNotIn('config_id', shown['client'])
        self.assertNotIn('colour', shown['client'])

    def test_ids_come_from_identity_and_url(self):
        self.register(client(user_id='evil', project_id=base.PROJECT_B))
        shown = self.show('node1')
        self.assertEqual('user-a', shown['user_id'])
        self.assertEqual(base.PROJECT_A, shown['project_id'])
        self.assertEqual([], self.listed(URL_B, headers=base.MEMBER_B))

    def test_api_ref_sample_form(self):
        client_id = '752d8cd43d654e7a840bbfd277ce41af_szaher01'
        self.register({'client': {'hostname': 'szaher01',
                                  'uuid': 'c4031a4885384376a717a238de975a9c'},
                       'client_id': client_id})
        shown = self.show(client_id)['client']
        self.assertEqual(client_id, shown['client_id'])
        self.assertEqual('szaher01', shown['hostname'])
        self.assertEqual('c4031a4885384376a717a238de975a9c', shown['uuid'])

    def test_nested_client_id_wins(self):
        self.register({'client': {'client_id': 'inner'},
                       'client_id': 'outer'})
        self.assertEqual([(base.PROJECT_A, 'inner')], self.listed())

    def test_shown_document_can_be_posted_back(self):
        self.register({'client_id': 'bare'})
        shown = self.show('bare')
        self.register(shown)
        self.assertEqual(shown, self.show('bare'))

    def test_any_printable_host_name(self):
        # What the upstream tempest plugin's client-register posts, and
        # names containers and VMs commonly have.
        for n, hostname in enumerate(('test-hostname_19544', 'my host',
                                      '-x-', 'nœud')):
            self.register(client('c%d' % n, hostname=hostname))
            self.assertEqual(hostname,
                             self.show('c%d' % n)['client']['hostname'])

    def test_bad_bodies_change_nothing(self):
        for body, field in (
                ({}, 'client_id'),
                ({'hostname': 'h'}, 'client_id'),
                ({'client': {'hostname': 'h'}}, 'client_id'),
                ({'client_id': 'bad id!'}, 'client_id'),
                ({'client_id': 5}, 'client_id'),
                ({'client_id': 'x' * 256}, 'client_id'),
                (client(hostname=''), 'hostname'),
                (client(hostname='tab\there'), 'hostname'),
                (client(hostname='h' * 256), 'hostname'),
                (client(hostname=5), 'hostname'),
                (client(supported_modes=['fs', 'tape']),
                 'supported_modes.1'),
                (client(supported_actions='backup'), 'supported_actions'),
                (client(supported_engines=['tar', 'tar']),
                 'supported_engines'),
                (client(is_central='yes'), 'is_central'),
                (client(description=5), 'description'),
                (client(uuid=5), 'uuid')):
            response = self.post(URL, body)
            fault = self.assertFault(response, 400, 'Bad request format')
            self.assertIn(field, fault['description'], body)
        self.assertNothingStored()

    def test_not_an_object(self):
        for raw in ('[]', '"node1"', '5', 'null', 'true'):
            self.assertFault(self.post(URL, raw=raw), 400)
        self.assertNothingStored()

    def test_missing_body(self):
        for raw in ('', '  '):
            fault = self.assertFault(self.post(URL, raw=raw), 400)
            self.assertEqual('Missing request body', fault['description'])
        fault = self.assertFault(self.post(URL), 400)
        self.assertEqual('Missing request body', fault['description'])

    def test_malformed_json(self):
        self.assertFault(self.post(URL, raw='{"client_id": '), 753,
                         'Malformed JSON')
        self.assertNothingStored()

    def test_methods_not_allowed(self):
        self.register()
        for method in ('POST', 'PATCH', 'PUT'):
            response = self.request(method, URL + '/node1', body=client())
            self.assertFault(response, 405, 'Method Not Allowed')
            self.assertEqual('DELETE, GET', response.headers['Allow'])
        for method in ('PATCH', 'PUT', 'DELETE'):
            response = self.request(method, URL, body=client())
            self.assertFault(response, 405)
            self.assertEqual('GET, POST', response.headers['Allow'])
        self.assertFault(self.get(URL + '/node1/extra'), 404)
        self.assertEqual(1, self.show('node1')['_version'])

    def test_show_missing_is_json_404(self):
        self.assertFault(self.get(URL + '/nope'), 404, 'Not Found')
        self.assertFault(self.get(URL + '/a%00b'), 404)


class TestReRegister(ClientsTestCase):

    def setUp(self):
        super().setUp()
        self.register(client(description='first', uuid='uuid-1'))
        self.first = self.show('node1')

    def test_same_body_again_changes_nothing(self):
        self.assertEqual('node1', self.register(client(
            description='first', uuid='uuid-1'), headers=MEMBER_A2))
        self.assertEqual(self.first, self.show('node1'))

    def test_scheduler_restart_keeps_description_and_uuid(self):
        # freezer-scheduler sends neither description nor uuid.
        self.register(client())
        self.assertEqual(self.first, self.show('node1'))

    def test_given_fields_replace_the_stored_ones(self):
        self.register({'client_id': 'node1', 'description': 'second',
                       'supported_modes': ['fs'], 'hostname': 'node1b'},
                      headers=MEMBER_A2)
        shown = self.show('node1')
        self.assertEqual(2, shown['_version'])
        self.assertEqual('user-a2', shown['user_id'])
        expected = dict(self.first['client'], description='second',
                        supported_modes=['fs'], hostname='node1b')
        self.assertEqual(expected, shown['client'])
        self.assertEqual(list(self.first['client']), list(shown['client']))

    def test_description_can_be_cleared(self):
        self.register({'client_id': 'node1', 'description': None})
        self.assertIsNone(self.show('node1')['client']['description'])

    def test_bad_body_changes_nothing(self):
        self.assertFault(self.post(URL, client(supported_modes=['tape'])),
                         400)
        self.assertEqual(self.first, self.show('node1'))

    def test_is_central_cannot_be_set_later(self):
        self.register(client(is_central=True), headers=base.ADMIN)
        shown = self.show('node1')
        self.assertFalse(shown['client']['is_central'])
        self.assertEqual([], self.listed(URL_B, headers=base.MEMBER_B))

    def test_is_central_cannot_be_dropped_later(self):
        self.register_central()
        self.register({'client_id': 'central1', 'is_central': False,
                       'description': 'still central'})
        shown = self.show('central1')
        self.assertTrue(shown['client']['is_central'])
        self.assertEqual('still central', shown['client']['description'])
        self.assertIn((base.PROJECT_A, 'central1'),
                      self.listed(URL_B, headers=base.MEMBER_B))

    def test_same_id_in_another_project_is_another_client(self):
        self.register(client(description='of b'), url=URL_B,
                      headers=base.MEMBER_B)
        self.assertEqual(self.first, self.show('node1'))
        shown_b = self.show('node1', url=URL_B, headers=base.MEMBER_B)
        self.assertEqual(base.PROJECT_B, shown_b['project_id'])
        self.assertEqual('of b', shown_b['client']['description'])


class TestCentralClients(ClientsTestCase):

    def test_member_cannot_register_central(self):
        response = self.post(URL, client('central1', is_central=True))
        self.assertFault(response, 403, 'Access Forbidden')
        self.assertNothingStored()

    def test_service_needs_membership_too(self):
        # clients:create comes first, and a service role alone fails it.
        response = self.post(URL, client('central1', is_central=True),
                             headers=base.SERVICE)
        self.assertFault(response, 403)
        self.assertNothingStored()
        self.register(client('central1', is_central=True),
                      headers=SCHEDULER_SERVICE_A)
        self.assertTrue(self.show('central1')['client']['is_central'])

    def test_admin_registers_central(self):
        self.register_central()
        shown = self.show('central1')
        self.assertTrue(shown['client']['is_central'])
        self.assertEqual('admin', shown['user_id'])

    def test_visible_to_every_project(self):
        self.register_central()
        self.register(client('node-b'), url=URL_B, headers=base.MEMBER_B)
        shown = self.show('central1', url=URL_B, headers=base.MEMBER_B)
        self.assertEqual(base.PROJECT_A, shown['project_id'])
        self.assertEqual([(base.PROJECT_A, 'central1'),
                          (base.PROJECT_B, 'node-b')],
                         self.listed(URL_B, headers=base.MEMBER_B))
        # Not another project's ordinary clients.
        self.register(client('node-a'))
        self.assertNotIn((base.PROJECT_A, 'node-a'),
                         self.listed(URL_B, headers=base.MEMBER_B))
        self.assertFault(self.get(URL_B + '/node-a', headers=base.MEMBER_B),
                         404)

    def test_central_id_is_taken_in_every_other_project(self):
        self.register_central()
        for body, headers in ((client('central1'), base.MEMBER_B),
                              (client('central1', is_central=True),
                               base.ADMIN)):
            response = self.post(URL_B, body, headers=headers)
            fault = self.assertFault(response, 409,
                                     'Document already existing')
            self.assertNotIn(base.PROJECT_A, fault['description'])
        self.assertEqual([(base.PROJECT_A, 'central1')],
                         self.listed(URL_B, headers=base.MEMBER_B))
        self.assertEqual(1, self.show('central1')['_version'])

    def test_central_beside_ordinary_clients_of_other_projects(self):
        self.register(client('shared', description='of b'), url=URL_B,
                      headers=base.MEMBER_B)
        self.register_central('shared')
        # Project b goes on seeing, and re-registering, its own client.
        self.register(client('shared', description='of b, again'),
                      url=URL_B, headers=base.MEMBER_B)
        shown = self.show('shared', url=URL_B, headers=base.MEMBER_B)
        self.assertEqual(base.PROJECT_B, shown['project_id'])
        self.assertEqual('of b, again', shown['client']['description'])
        self.assertEqual([(base.PROJECT_B, 'shared'),
                          (base.PROJECT_A, 'shared')],
                         self.listed(URL_B, headers=base.MEMBER_B))
        self.assertTrue(self.show('shared')['client']['is_central'])

    def test_only_the_owner_deletes_a_central_client(self):
        self.register_central()
        for headers in (base.MEMBER_B, base.ADMIN):
            response = self.delete(URL_B + '/central1', headers=headers)
            self.assertFault(response, 403, 'Access Forbidden')
        self.assertEqual(1, self.show('central1')['_version'])
        self.assertEqual(204, self.delete(URL + '/central1').status_int)
        self.assertFault(self.get(URL_B + '/central1',
                                  headers=base.MEMBER_B), 404)
        # The id is free again, in any project.
        self.register(client('central1'), url=URL_B, headers=base.MEMBER_B)


class TestDelete(ClientsTestCase):

    def test_delete(self):
        self.register()
        response = self.delete(URL + '/node1')
        self.assertEqual(204, response.status_int)
        self.assertEqual(b'', response.body)
        self.assertFault(self.get(URL + '/node1'), 404)
        self.assertEqual(204, self.delete(URL + '/node1').status_int)
        self.assertEqual(204, self.delete(URL + '/never').status_int)
        self.register()
        self.assertEqual(1, self.show('node1')['_version'])

    def test_delete_only_in_own_project(self):
        self.register()
        self.register(client(), url=URL_B, headers=base.MEMBER_B)
        self.assertEqual(204, self.delete(URL_B + '/node1',
                                          headers=base.MEMBER_B).status_int)
        self.assertEqual(1, self.show('node1')['_version'])

    def test_if_match(self):
        self.register()
        response = self.delete(URL + '/node1', headers=base.with_if_match(2))
        self.assertFault(response, 412)
        self.assertEqual(1, self.show('node1')['_version'])
        self.assertEqual(204, self.delete(
            URL + '/node1', headers=base.with_if_match(1)).status_int)

    def test_jobs_of_the_client_are_kept(self):
        job_fixtures.add_client(self, 'node1')
        job_id = job_fixtures.create_job(self)
        self.assertEqual(204, self.delete(URL + '/node1').status_int)
        self.assertEqual('node1',
                         job_fixtures.get_job(self, job_id)['client_id'])


class TestListAndSearch(ClientsTestCase):

    def setUp(self):
        super().setUp()
        self.register(client('node1', supported_modes=['fs']))
        self.register(client('node2', hostname='db.example.com'))
        self.register_central('central1', url=URL_B)
        self.register(client('node3', description='third'),
                      headers=MEMBER_A2)

    def test_creation_order_with_central_clients(self):
        self.assertEqual([(base.PROJECT_A, 'node1'),
                          (base.PROJECT_A, 'node2'),
                          (base.PROJECT_B, 'central1'),
                          (base.PROJECT_A, 'node3')], self.listed())
        # Re-registering does not move a client.
        self.register(client('node1', description='changed'))
        self.assertEqual('node1', self.listed()[0][1])

    def test_paging(self):
        self.assertEqual(['node2', 'central1'],
                         [c for _p, c in self.listed(
                             query='?limit=2&offset=1')])
        self.assertEqual([], self.listed(query='?offset=4'))
        self.assertFault(self.get(URL + '?limit=-1'), 400)
        self.assertFault(self.get(URL + '?offset=x'), 400)

    def found(self, *match, match_not=()):
        search = {'match': list(match)}
        if match_not:
            search['match_not'] = list(match_not)
        return [c for _p, c in self.listed(search=search)]

    def test_search_inside_client(self):
        self.assertEqual(['node2'], self.found({'client_id': 'node2'}))
        self.assertEqual(['node2'],
                         self.found({'hostname': 'db.example.com'}))
        self.assertEqual(['central1'], self.found({'is_central': True}))
        self.assertEqual(['node1', 'node2', 'node3'],
                         self.found(match_not=[{'is_central': True}]))
        self.assertEqual(['node1'], self.found({'supported_modes': ['fs']}))
        self.assertEqual(['node3'], self.found({'description': 'third'}))
        self.assertEqual(['node1', 'node2'],
                         self.found({'description': None},
                                    match_not=[{'is_central': True}]))

    def test_search_top_level(self):
        self.assertEqual(['node3'], self.found({'user_id': 'user-a2'}))
        self.assertEqual(['central1'],
                         self.found({'project_id': base.PROJECT_B}))
        self.assertEqual(['node1', 'node2', 'central1'],
                         self.found(match_not=[{'user_id': 'user-a2'}]))

    def test_freezerclient_all_form(self):
        search = {'match': [{'_all': '[{"client_id": "node1"}]'}]}
        self.assertEqual(['node1'],
                         [c for _p, c in self.listed(search=search)])

    def test_invalid_search(self):
        self.assertFault(self.get(URL, body={'match': {'client_id': 'x'}}),
                         400, 'Invalid search')
        self.assertFault(self.get(URL, raw='{"match": '), 753)


class TestIsolation(ClientsTestCase):

    def setUp(self):
        super().setUp()
        self.register()
        self.item = URL + '/node1'

    def test_other_project_url_is_forbidden(self):
        for method, url, body in (('GET', self.item, None),
                                  ('DELETE', self.item, None),
                                  ('GET', URL, None),
                                  ('POST', URL, client('node9'))):
            response = self.request(method, url, body=body,
                                    headers=base.MEMBER_B)
            self.assertFault(response, 403, 'Access Forbidden')
        self.assertEqual([(base.PROJECT_A, 'node1')], self.listed())
        self.assertEqual(1, self.show('node1')['_version'])

    def test_other_project_id_is_not_found(self):
        self.assertFault(self.get(URL_B + '/node1', headers=base.MEMBER_B),
                         404)
        self.assertEqual(204, self.delete(URL_B + '/node1',
                                          headers=base.MEMBER_B).status_int)
        self.assertEqual([], self.listed(URL_B, headers=base.MEMBER_B))
        self.assertEqual(1, self.show('node1')['_version'])

    def test_reader(self):
        self.assertEqual(1, self.show('node1',
                                      headers=base.READER_A)['_version'])
        self.assertEqual(1, len(self.listed(headers=base.READER_A)))
        self.assertFault(self.post(URL, client('node9'),
                                   headers=base.READER_A), 403)
        self.assertFault(self.delete(self.item, headers=base.READER_A), 403)
        self.assertEqual([(base.PROJECT_A, 'node1')], self.listed())

    def test_admin_and_service(self):
        for headers in (base.ADMIN, base.SERVICE):
            self.assertEqual(1, self.show('node1',
                                          headers=headers)['_version'])
            self.assertEqual(1, len(self.listed(headers=headers)))
        self.assertFault(self.post(URL, client('node9'),
                                   headers=base.SERVICE), 403)
        self.assertFault(self.delete(self.item, headers=base.SERVICE), 403)
        self.register(client('node9'), headers=base.ADMIN)
        self.assertEqual(204, self.delete(self.item,
                                          headers=base.ADMIN).status_int)
        self.assertEqual([(base.PROJECT_A, 'node9')], self.listed())


class TestConcurrentRegistrations(ClientsTestCase):
    """Schedulers registering at once; every thread has its own app."""

    THREADS = 6

    def run_all(self, requests):
        """POST every (url, body, headers) at once; the statuses."""
        return [r.status_int for r in self.post_concurrently(requests)]

    def test_same_client_in_one_project(self):
        statuses = self.run_all([
            (URL, client(description='run %d' % n), base.MEMBER_A)
            for n in range(self.THREADS)])
        self.assertEqual([201] * self.THREADS, statuses)
        self.assertEqual([(base.PROJECT_A, 'node1')], self.listed())
        # One insert, then one update per registration that changed it.
        self.assertEqual(self.THREADS, self.show('node1')['_version'])

    def test_same_central_client_in_several_projects(self):
        statuses = self.run_all([
            ('/v2/project-%d/clients' % n,
             client('central1', is_central=True), base.ADMIN)
            for n in range(self.THREADS)])
        self.assertEqual([201], [s for s in statuses if s != 409])
        self.assertEqual(1, len(self.listed()))

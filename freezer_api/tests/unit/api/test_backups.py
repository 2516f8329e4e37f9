"""/v2/{project_id}/backups through the whole stack."""

import copy
import json

from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as fx

URL = fx.url('backups')
URL_B = fx.url('backups', base.PROJECT_B)

# What freezer-scheduler posts after freezer-agent ran a backup.
METADATA = {
    'curr_backup_level': 0,
    'fs_real_path': '/var/lib/data',
    'client_os': 'linux',
    'client_version': '19.0.0',
    'time_stamp': 1795740332,
    'action': 'backup',
    'always_level': '',
    'backup_media': 'fs',
    'backup_name': 'e2e',
    'container': '/var/backups',
    'hostname': 'vm',
    'path_to_backup': '/var/lib/data',
    'max_level': '',
    'storage': 'local',
    'mode': 'fs',
    'compression': 'gzip',
    'ssh_port': 22,
    'engine_name': 'tar',
    'job_id': 'e63863b18f2c49deb2e368fc7e5ee274',
}


def metadata(**fields):
    doc = copy.deepcopy(METADATA)
    doc.update(fields)
    return doc


class BackupsTestCase(base.ApiTestCase):

    def create(self, body=None, url=URL, headers=None):
        response = self.post(url, body or METADATA, headers=headers)
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual(['backup_id'], list(response.json))
        return response.json['backup_id']

    def show(self, backup_id, url=URL, headers=None):
        response = self.get('%s/%s' % (url, backup_id), headers=headers)
        self.assertEqual(200, response.status_int, response.text)
        return response.json

    def version(self, backup_id, headers=None):
        """The version of a backup, from the ETag of its GET."""
        response = self.get('%s/%s' % (URL, backup_id), headers=headers)
        self.assertEqual(200, response.status_int, response.text)
        return int(response.headers['ETag'].strip('"'))

    def listed(self, url=URL, search=None, query='?limit=1000',
               headers=None):
        response = self.get(url + query, body=search, headers=headers)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(['backups'], list(response.json))
        return [doc['backup_id'] for doc in response.json['backups']]


class TestCreate(BackupsTestCase):

    def test_create_then_show(self):
        backup_id = self.create()
        self.assertRegex(backup_id, '^[0-9a-f]{32}$')
        response = self.get('%s/%s' % (URL, backup_id))
        self.assertEqual(200, response.status_int)
        self.assertEqual('"1"', response.headers['ETag'])
        self.assertEqual({
            'backup_id': backup_id,
            'project_id': base.PROJECT_A,
            'user_id': 'user-a',
            'status': 'available',
            'backup_metadata': METADATA,
        }, response.json)

    def test_listed_backup_is_exactly_what_was_posted(self):
        # The upstream tempest plugin compares a listed backup, minus its
        # backup_id, with these four keys and nothing more.
        backup_id = self.create(metadata(status='available'))
        listed = self.get(URL).json['backups']
        self.assertEqual([backup_id], [b.pop('backup_id') for b in listed])
        self.assertEqual([{'user_id': 'user-a', 'project_id': base.PROJECT_A,
                           'backup_metadata': METADATA,
                           'status': 'available'}], listed)

    def test_status_goes_to_its_column(self):
        for status in ('creating', 'available', 'restoring', 'error',
                       'deleting', 'deleted'):
            backup_id = self.create(metadata(status=status))
            shown = self.show(backup_id)
            self.assertEqual(status, shown['status'])
            self.assertEqual(METADATA, shown['backup_metadata'])

    def test_ids_in_the_body_stay_in_the_metadata(self):
        body = metadata(backup_id='mine', project_id=base.PROJECT_B,
                        user_id='evil')
        backup_id = self.create(body)
        self.assertNotEqual('mine', backup_id)
        shown = self.show(backup_id)
        self.assertEqual(base.PROJECT_A, shown['project_id'])
        self.assertEqual('user-a', shown['user_id'])
        self.assertEqual(body, shown['backup_metadata'])
        self.assertEqual([], self.listed(URL_B, headers=base.MEMBER_B))

    def test_ids_are_always_new(self):
        self.assertNotEqual(self.create(), self.create())

    def test_without_content_type(self):
        # freezer-scheduler and python-freezerclient may send none.
        response = self.app.request(
            URL, method='POST', body=json.dumps(METADATA).encode(),
            headers=base.MEMBER_A, expect_errors=True)
        self.assertEqual(201, response.status_int, response.text)
        shown = self.show(response.json['backup_id'])
        self.assertEqual(METADATA, shown['backup_metadata'])
        for content_type in ('text/plain', 'application/octet-stream'):
            response = self.post(URL, METADATA, headers=dict(
                base.MEMBER_A, **{'Content-Type': content_type}))
            self.assertEqual(201, response.status_int, response.text)

    def test_trailing_slash(self):
        fx.assert_trailing_slashes_work(self, 'backups', METADATA)

    def test_bad_bodies_change_nothing(self):
        without = {k: v for k, v in METADATA.items() if k != 'container'}
        for body, field in (
                (without, 'container'),
                (metadata(hostname=''), 'hostname'),
                (metadata(backup_name=5), 'backup_name'),
                (metadata(container=None), 'container'),
                (metadata(status='lost'), 'status'),
                (metadata(status=None), 'status'),
                (metadata(job_id=7), 'job_id'),
                ({}, 'required')):
            fault = self.assertFault(self.post(URL, body), 400,
                                     'Bad request format')
            self.assertIn(field, fault['description'])
        for raw in ('[]', '"backup"', '7', 'null'):
            self.assertFault(self.post(URL, raw=raw), 400)
        fault = self.assertFault(self.post(URL, raw=''), 400)
        self.assertEqual('Missing request body', fault['description'])
        self.assertFault(self.post(URL, raw='{"container": '), 753,
                         'Malformed JSON')
        self.assertEqual([], self.listed())

    def test_methods_not_allowed(self):
        backup_id = self.create()
        item = '%s/%s' % (URL, backup_id)
        for method in ('POST', 'PUT'):
            response = self.request(method, item, body=METADATA)
            self.assertFault(response, 405, 'Method Not Allowed')
            self.assertEqual('DELETE, GET, PATCH', response.headers['Allow'])
        for method in ('PUT', 'PATCH', 'DELETE'):
            response = self.request(method, URL, body=METADATA)
            self.assertFault(response, 405)
            self.assertEqual('GET, POST', response.headers['Allow'])
        self.assertEqual([backup_id], self.listed())
        self.assertEqual(1, self.version(backup_id))

    def test_show_missing_is_json_404(self):
        self.assertFault(self.get(URL + '/nope'), 404, 'Not Found')


class TestPatch(BackupsTestCase):

    def setUp(self):
        super().setUp()
        self.backup_id = self.create(metadata(status='creating'))
        self.item = '%s/%s' % (URL, self.backup_id)

    def patched(self, body, headers=None):
        response = self.patch(self.item, body, headers=headers)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual('"%d"' % response.json['version'],
                         response.headers['ETag'])
        shown = dict(response.json)
        del shown['version']
        self.assertEqual(shown, self.show(self.backup_id))
        return response.json

    def test_api_ref_sample(self):
        member_a2 = {'X-User-Id': 'user-a2', 'X-Project-Id': base.PROJECT_A,
                     'X-Roles': 'member'}
        doc = self.patched({'status': 'available', 'backup_metadata': {
            'cinder_backup_id': '8f3b2a1c-99d8-4a1e-b87e-0123456789ab'}},
            headers=member_a2)
        self.assertEqual({
            'backup_id': self.backup_id,
            'project_id': base.PROJECT_A,
            'user_id': 'user-a2',
            'status': 'available',
            'backup_metadata': metadata(
                cinder_backup_id='8f3b2a1c-99d8-4a1e-b87e-0123456789ab'),
            'version': 2,
        }, doc)

    def test_status_only(self):
        doc = self.patched({'status': 'restoring'})
        self.assertEqual('restoring', doc['status'])
        self.assertEqual(METADATA, doc['backup_metadata'])

    def test_metadata_merges(self):
        doc = self.patched({'backup_metadata': {
            'ssh_port': None, 'mode': 'mysql', 'extra': {'a': 1}}})
        expected = metadata(mode='mysql', extra={'a': 1})
        del expected['ssh_port']
        self.assertEqual(expected, doc['backup_metadata'])
        self.assertEqual('creating', doc['status'])
        doc = self.patched({'backup_metadata': {'extra': {'b': 2}}})
        self.assertEqual({'a': 1, 'b': 2}, doc['backup_metadata']['extra'])
        self.assertEqual(3, doc['version'])

    def test_status_in_metadata_goes_to_its_column(self):
        doc = self.patched({'backup_metadata': {'status': 'error'}})
        self.assertEqual('error', doc['status'])
        self.assertEqual(METADATA, doc['backup_metadata'])
        doc = self.patched({'status': 'deleting',
                            'backup_metadata': {'status': 'error'}})
        self.assertEqual('deleting', doc['status'])
        self.assertNotIn('status', doc['backup_metadata'])

    def test_other_keys_are_ignored(self):
        doc = self.patched({'backup_id': 'other', 'project_id': 'p',
                            'user_id': 'evil', '_version': 9,
                            'colour': 'blue', 'status': 'error'})
        self.assertEqual(self.backup_id, doc['backup_id'])
        self.assertEqual(base.PROJECT_A, doc['project_id'])
        self.assertEqual('user-a', doc['user_id'])
        self.assertEqual('error', doc['status'])
        self.assertEqual(METADATA, doc['backup_metadata'])
        self.assertEqual(2, doc['version'])

    def test_shown_backup_is_a_valid_patch(self):
        shown = self.show(self.backup_id)
        self.assertEqual(dict(shown, version=2), self.patched(shown))

    def test_invalid_patches_change_nothing(self):
        for body, field in (
                ({'status': 'lost'}, 'status'),
                ({'status': None}, 'status'),
                ({'backup_metadata': 'x'}, 'backup_metadata'),
                ({'backup_metadata': None}, 'backup_metadata'),
                ({'backup_metadata': {'container': None}}, 'container'),
                ({'backup_metadata': {'hostname': ''}}, 'hostname'),
                ({'backup_metadata': {'backup_name': 3}}, 'backup_name'),
                ({'backup_metadata': {'status': 'lost'}}, 'status'),
                ({'status': 'error',
                  'backup_metadata': {'container': None}}, 'container')):
            fault = self.assertFault(self.patch(self.item, body), 400)
            self.assertIn(field, fault['description'])
        self.assertFault(self.patch(self.item, raw='[]'), 400)
        self.assertFault(self.patch(self.item, raw=''), 400)
        self.assertFault(self.patch(self.item, raw='{"status"'), 753)
        shown = self.show(self.backup_id)
        self.assertEqual(1, self.version(self.backup_id))
        self.assertEqual('creating', shown['status'])
        self.assertEqual(METADATA, shown['backup_metadata'])

    def test_if_match(self):
        response = self.patch(self.item, {'status': 'error'},
                              headers=base.with_if_match(2))
        self.assertFault(response, 412, 'Precondition Failed')
        self.assertEqual('creating', self.show(self.backup_id)['status'])
        response = self.patch(self.item, {'status': 'error'},
                              headers=base.with_if_match(1))
        self.assertEqual(200, response.status_int)
        self.assertEqual('"2"', response.headers['ETag'])
        response = self.delete(self.item, headers=base.with_if_match(1))
        self.assertFault(response, 412)
        self.assertEqual(204, self.delete(
            self.item, headers=base.with_if_match(2)).status_int)

    def test_missing(self):
        self.assertFault(self.patch(URL + '/nope', {'status': 'error'}), 404,
                         'Not Found')


class TestDelete(BackupsTestCase):

    def test_delete(self):
        backup_id = self.create()
        item = '%s/%s' % (URL, backup_id)
        response = self.delete(item)
        self.assertEqual(204, response.status_int)
        self.assertEqual(b'', response.body)
        self.assertFault(self.get(item), 404)
        self.assertEqual(204, self.delete(item).status_int)
        self.assertEqual(204, self.delete(URL + '/never').status_int)
        self.assertEqual([], self.listed())


class TestListAndSearch(BackupsTestCase):

    def setUp(self):
        super().setUp()
        self.ids = [
            self.create(metadata(backup_name='freezer_mysql_backup',
                                 mode='mysql', storage='swift')),
            self.create(metadata(backup_name='freezer_mysql_backup',
                                 mode='mysql', storage='ftps')),
            self.create(metadata(status='error')),
            self.create(metadata(backup_name='freezer_mysql_backup',
                                 status='creating')),
        ]
        self.create(url=URL_B, headers=base.MEMBER_B)

    def found(self, *match, match_not=()):
        search = {'match': list(match)}
        if match_not:
            search['match_not'] = list(match_not)
        return self.listed(search=search)

    def test_project_scoped_in_creation_order(self):
        self.assertEqual(self.ids, self.listed())
        self.assertEqual(self.ids, self.listed(query=''))
        self.assertEqual(self.ids[:3], self.listed(query='?limit=3'))
        self.assertEqual(self.ids[1:3],
                         self.listed(query='?limit=2&offset=1'))
        self.assertEqual([], self.listed(query='?offset=4'))
        self.assertFault(self.get(URL + '?limit=x'), 400)

    def test_api_ref_sample_search(self):
        self.assertEqual([self.ids[0]], self.found(
            {'backup_name': 'freezer_mysql_backup'}, {'status': 'available'},
            match_not=[{'storage': 'ftps'}]))

    def test_search(self):
        self.assertEqual([self.ids[2]], self.found({'status': 'error'}))
        self.assertEqual(self.ids[:2], self.found({'mode': 'mysql'}))
        self.assertEqual(self.ids, self.found(
            {'job_id': METADATA['job_id']}))
        self.assertEqual([self.ids[2]], self.found(
            match_not=[{'backup_name': 'freezer_mysql_backup'}]))
        self.assertEqual([], self.found({'backup_id': self.ids[0][:8]}))
        self.assertEqual([self.ids[1]], self.found(
            {'backup_id': self.ids[1]}))
        self.assertEqual([self.ids[3]], self.listed(search={'match': [
            {'_all': '[{"status": "creating"}]'}]}))

    def test_search_sees_patches(self):
        response = self.patch('%s/%s' % (URL, self.ids[0]), {
            'status': 'deleted', 'backup_metadata': {'mode': None}})
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual('deleted', response.json['status'])
        self.assertNotIn('mode', response.json['backup_metadata'])
        self.assertEqual([self.ids[0]], self.found({'status': 'deleted'}))
        self.assertEqual([self.ids[1]], self.found({'mode': 'mysql'}))

    def test_invalid_search(self):
        self.assertFault(self.get(URL, body={'match': 'x'}), 400,
                         'Invalid search')


class TestIsolation(BackupsTestCase):

    def setUp(self):
        super().setUp()
        self.backup_id = self.create()
        self.item = '%s/%s' % (URL, self.backup_id)
        self.other_item = '%s/%s' % (URL_B, self.backup_id)

    def test_other_project_url_is_forbidden(self):
        for method, url, body in (('GET', self.item, None),
                                  ('PATCH', self.item, {'status': 'error'}),
                                  ('DELETE', self.item, None),
                                  ('GET', URL, None),
                                  ('POST', URL, METADATA)):
            response = self.request(method, url, body=body,
                                    headers=base.MEMBER_B)
            self.assertFault(response, 403, 'Access Forbidden')
        self.assertEqual([self.backup_id], self.listed())
        self.assertEqual(1, self.version(self.backup_id))

    def test_other_project_id_is_not_found(self):
        self.assertFault(self.get(self.other_item, headers=base.MEMBER_B),
                         404)
        self.assertFault(self.patch(self.other_item, {'status': 'error'},
                                    headers=base.MEMBER_B), 404)
        self.assertEqual(204, self.delete(self.other_item,
                                          headers=base.MEMBER_B).status_int)
        self.assertEqual([], self.listed(URL_B, headers=base.MEMBER_B))
        self.assertEqual(1, self.version(self.backup_id))

    def test_reader(self):
        self.assertEqual(1, self.version(self.backup_id,
                                       headers=base.READER_A))
        self.assertEqual([self.backup_id],
                         self.listed(headers=base.READER_A))
        self.assertFault(self.post(URL, METADATA, headers=base.READER_A),
                         403)
        self.assertFault(self.patch(self.item, {'status': 'error'},
                                    headers=base.READER_A), 403)
        self.assertFault(self.delete(self.item, headers=base.READER_A), 403)
        self.assertEqual(1, self.version(self.backup_id))

    def test_service_writes_in_any_project(self):
        self.assertEqual([self.backup_id],
                         self.listed(headers=base.SERVICE))
        created = self.create(headers=base.SERVICE)
        self.assertEqual('freezer', self.show(created)['user_id'])
        response = self.patch(self.item, {'status': 'error'},
                              headers=base.SERVICE)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual('freezer', response.json['user_id'])
        self.assertEqual(204, self.delete(self.item,
                                          headers=base.SERVICE).status_int)
        self.assertEqual([created], self.listed())

    def test_admin(self):
        self.assertEqual(1, self.version(self.backup_id,
                                       headers=base.ADMIN))
        self.assertEqual(200, self.patch(self.item, {'status': 'error'},
                                         headers=base.ADMIN).status_int)
        self.assertEqual(204, self.delete(self.item,
                                          headers=base.ADMIN).status_int)

    def test_noauth_defaults_to_url_project(self):
        backup_id = self.create(headers={})
        shown = self.show(backup_id, headers={})
        self.assertEqual('noauth', shown['user_id'])
        self.assertEqual(base.PROJECT_A, shown['project_id'])

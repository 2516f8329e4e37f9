"""/v2/{project_id}/actions through the whole stack."""

import copy

from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as fx

URL = fx.url('actions')

ACTION = {
    'freezer_action': {
        'backup_name': 'production_backup',
        'container': 'prod_container',
        'no_incremental': True,
        'path_to_backup': '/etc/',
        'snapshot': True,
        'action': 'backup',
        'remove_older_than': 365,
        'log_file': '/var/log/freezer/job0001.log',
    },
    'max_retries': 5,
    'max_retries_interval': 6,
}


def action(**freezer_action):
    doc = copy.deepcopy(ACTION)
    doc['freezer_action'].update(freezer_action)
    return doc


class TestActionsCrud(base.ApiTestCase):

    def create(self, doc=None, **kwargs):
        response = self.post(URL, doc or ACTION, **kwargs)
        self.assertEqual(201, response.status_int, response.text)
        return response.json['action_id']

    def test_create_then_show(self):
        action_id = self.create()
        self.assertRegex(action_id, '^[0-9a-f]{32}$')
        response = self.get('%s/%s' % (URL, action_id))
        self.assertEqual(200, response.status_int)
        self.assertEqual({
            'action_id': action_id,
            'project_id': base.PROJECT_A,
            'user_id': 'user-a',
            'freezer_action': ACTION['freezer_action'],
            'max_retries': 5,
            'max_retries_interval': 6,
            'mandatory': False,
            '_version': 1,
        }, response.json)
        self.assertEqual('"1"', response.headers['ETag'])

    def test_create_defaults(self):
        action_id = self.create({'freezer_action': {'action': 'info'}})
        doc = self.get('%s/%s' % (URL, action_id)).json
        self.assertEqual(5, doc['max_retries'])
        self.assertEqual(6, doc['max_retries_interval'])
        self.assertEqual({'action': 'info'}, doc['freezer_action'])

    def test_create_with_chosen_id_and_conflict(self):
        self.assertEqual('my-action_1',
                         self.create(dict(ACTION, action_id='my-action_1')))
        response = self.post(URL, dict(ACTION, action_id='my-action_1'))
        self.assertFault(response, 409, 'Document already existing')
        # Taken in another project too, and nothing else is told.
        response = self.post('/v2/%s/actions' % base.PROJECT_B,
                             dict(ACTION, action_id='my-action_1'),
                             headers=base.MEMBER_B)
        body = self.assertFault(response, 409)
        self.assertNotIn(base.PROJECT_A, body['description'])

    def test_ids_come_from_identity_not_body(self):
        doc = dict(ACTION, user_id='evil', project_id=base.PROJECT_B)
        action_id = self.create(doc)
        shown = self.get('%s/%s' % (URL, action_id)).json
        self.assertEqual('user-a', shown['user_id'])
        self.assertEqual(base.PROJECT_A, shown['project_id'])

    def test_trailing_slash(self):
        fx.assert_trailing_slashes_work(self, 'actions', ACTION)

    def test_show_missing_is_json_404(self):
        self.assertFault(self.get(URL + '/nope'), 404, 'Not Found')

    def test_replace_creates_then_replaces(self):
        response = self.post(URL + '/a1', ACTION)
        self.assertEqual(201, response.status_int)
        self.assertEqual({'action_id': 'a1', 'version': 1}, response.json)
        response = self.post(URL + '/a1',
                             {'freezer_action': {'action': 'restore'}})
        self.assertEqual({'action_id': 'a1', 'version': 2}, response.json)
        doc = self.get(URL + '/a1').json
        self.assertEqual({'action': 'restore'}, doc['freezer_action'])
        self.assertEqual(5, doc['max_retries'])
        self.assertEqual(2, doc['_version'])

    def test_replace_in_other_project_conflicts(self):
        response = self.post(URL + '/a1', ACTION)
        self.assertEqual(201, response.status_int, response.text)
        response = self.post('/v2/%s/actions/a1' % base.PROJECT_B, ACTION,
                             headers=base.MEMBER_B)
        self.assertFault(response, 409)
        self.assertEqual(1, self.get(URL + '/a1').json['_version'])

    def test_replace_bad_id(self):
        self.assertFault(self.post(URL + '/bad%20id', ACTION), 400)

    def test_patch_merges(self):
        action_id = self.create()
        response = self.patch('%s/%s' % (URL, action_id), {
            'freezer_action': {'backup_name': 'renamed', 'snapshot': None},
            'max_retries': 9})
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual({'action_id': action_id, 'version': 2},
                         response.json)
        doc = self.get('%s/%s' % (URL, action_id)).json
        expected = dict(ACTION['freezer_action'], backup_name='renamed')
        del expected['snapshot']
        self.assertEqual(expected, doc['freezer_action'])
        self.assertEqual(9, doc['max_retries'])
        self.assertEqual(6, doc['max_retries_interval'])

    def test_patch_cannot_change_ids(self):
        action_id = self.create()
        response = self.patch('%s/%s' % (URL, action_id), {
            'action_id': 'other', 'project_id': base.PROJECT_B,
            'user_id': 'evil', 'max_retries': 1})
        # The patch is applied; the ids in it are ignored.
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual({'action_id': action_id, 'version': 2},
                         response.json)
        doc = self.get('%s/%s' % (URL, action_id)).json
        self.assertEqual(action_id, doc['action_id'])
        self.assertEqual(base.PROJECT_A, doc['project_id'])
        self.assertEqual('user-a', doc['user_id'])
        self.assertEqual((1, 2), (doc['max_retries'], doc['_version']))
        self.assertFault(self.get(URL + '/other'), 404)
        response = self.get('/v2/%s/actions' % base.PROJECT_B,
                            headers=base.MEMBER_B)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual([], response.json['actions'])

    def test_patch_invalid_result_changes_nothing(self):
        action_id = self.create()
        for patch in ({'freezer_action': {'action': 'bogus'}},
                      {'freezer_action': {'action': None}},
                      {'freezer_action': None},
                      {'max_retries': 'many'},
                      {'freezer_action': {'mode': 'tape'}}):
            response = self.patch('%s/%s' % (URL, action_id), patch)
            self.assertFault(response, 400)
        doc = self.get('%s/%s' % (URL, action_id)).json
        self.assertEqual(1, doc['_version'])
        self.assertEqual(ACTION['freezer_action'], doc['freezer_action'])

    def test_patch_missing(self):
        self.assertFault(self.patch(URL + '/nope', {'max_retries': 1}), 404)

    def test_patch_of_a_wrong_type_is_refused_naming_the_key(self):
        action_id = self.create()
        before = self.get('%s/%s' % (URL, action_id)).json
        for patch, field in (({'max_retries': 'x'}, 'max_retries'),
                             ({'freezer_action': 3}, 'freezer_action'),
                             ({'freezer_action': {'timeout': '1'}},
                              'freezer_action.timeout'),
                             ({'mandatory': 'yes'}, 'mandatory')):
            fault = self.assertFault(
                self.patch('%s/%s' % (URL, action_id), patch), 400,
                'Bad request format')
            self.assertTrue(fault['description'].startswith(field + ':'),
                            fault)
        self.assertEqual(before, self.get('%s/%s' % (URL, action_id)).json)

    def test_patch_is_checked_before_the_action_is_read(self):
        # The body is refused by the patch schema: whether the action
        # exists is not even looked up.
        self.assertFault(self.patch(URL + '/nope', {'max_retries': 'x'}),
                         400)

    def test_shown_action_is_a_valid_patch(self):
        action_id = self.create()
        shown = self.get('%s/%s' % (URL, action_id)).json
        response = self.patch('%s/%s' % (URL, action_id), shown)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(dict(shown, _version=2),
                         self.get('%s/%s' % (URL, action_id)).json)

    def test_ids_in_a_patch_are_ignored_whatever_their_value(self):
        action_id = self.create()
        response = self.patch('%s/%s' % (URL, action_id), {
            'action_id': 5, 'project_id': None, 'user_id': ['x'],
            '_version': 'old', 'max_retries': 1})
        self.assertEqual(200, response.status_int, response.text)
        doc = self.get('%s/%s' % (URL, action_id)).json
        self.assertEqual((action_id, base.PROJECT_A, 1, 2), (
            doc['action_id'], doc['project_id'], doc['max_retries'],
            doc['_version']))

    def test_if_match(self):
        action_id = self.create()
        item = '%s/%s' % (URL, action_id)
        response = self.patch(item, {'max_retries': 1},
                              headers=base.with_if_match(7))
        self.assertFault(response, 412)
        self.assertEqual(1, self.get(item).json['_version'])
        response = self.patch(item, {'max_retries': 1},
                              headers=base.with_if_match(1))
        self.assertEqual(200, response.status_int)
        self.assertEqual('"2"', response.headers['ETag'])
        response = self.delete(item, headers=base.with_if_match(1))
        self.assertFault(response, 412)
        response = self.post(item, ACTION, headers=base.with_if_match(1))
        self.assertFault(response, 412)
        self.assertEqual(204, self.delete(
            item, headers=base.with_if_match(2)).status_int)

    def test_delete(self):
        action_id = self.create()
        response = self.delete('%s/%s' % (URL, action_id))
        self.assertEqual(204, response.status_int)
        self.assertEqual(b'', response.body)
        self.assertEqual(404, self.get('%s/%s' % (URL, action_id))
                         .status_int)
        # Deleting again, or something that never was, is still 204.
        self.assertEqual(204, self.delete('%s/%s' % (URL, action_id))
                         .status_int)
        # The id can be used again.
        self.assertEqual(action_id,
                         self.create(dict(ACTION, action_id=action_id)))


class TestActionsIsolation(base.ApiTestCase):

    def setUp(self):
        super().setUp()
        self.action_id = self.post(URL, ACTION).json['action_id']
        self.item = '%s/%s' % (URL, self.action_id)
        self.other_item = '/v2/%s/actions/%s' % (base.PROJECT_B,
                                                 self.action_id)

    def test_other_project_url_is_forbidden(self):
        for method, body in (('GET', None), ('PATCH', {'max_retries': 1}),
                             ('DELETE', None), ('POST', ACTION)):
            response = self.request(method, self.item, body=body,
                                    headers=base.MEMBER_B)
            self.assertFault(response, 403, 'Access Forbidden')
        self.assertFault(self.get(URL, headers=base.MEMBER_B), 403)
        self.assertEqual(1, self.get(self.item).json['_version'])

    def test_other_project_id_is_not_found(self):
        self.assertFault(self.get(self.other_item, headers=base.MEMBER_B),
                         404)
        self.assertFault(self.patch(self.other_item, {'max_retries': 1},
                                    headers=base.MEMBER_B), 404)
        self.assertEqual(204, self.delete(self.other_item,
                                          headers=base.MEMBER_B).status_int)
        self.assertEqual([], self.get('/v2/%s/actions' % base.PROJECT_B,
                                      headers=base.MEMBER_B).json['actions'])
        self.assertEqual(1, self.get(self.item).json['_version'])

    def test_reader(self):
        self.assertEqual(200, self.get(self.item,
                                       headers=base.READER_A).status_int)
        self.assertEqual(1, len(self.get(URL, headers=base.READER_A)
                                .json['actions']))
        self.assertFault(self.post(URL, ACTION, headers=base.READER_A), 403)
        self.assertFault(self.patch(self.item, {'max_retries': 1},
                                    headers=base.READER_A), 403)
        self.assertFault(self.delete(self.item, headers=base.READER_A), 403)

    def test_admin_and_service(self):
        self.assertEqual(200, self.get(self.item,
                                       headers=base.ADMIN).status_int)
        self.assertEqual(200, self.get(self.item,
                                       headers=base.SERVICE).status_int)
        self.assertFault(self.post(URL, ACTION, headers=base.SERVICE), 403)
        self.assertEqual(201, self.post(URL, ACTION,
                                        headers=base.ADMIN).status_int)

    def test_noauth_defaults_to_url_project(self):
        response = self.post(URL, ACTION, headers={})
        self.assertEqual(201, response.status_int)
        doc = self.get('%s/%s' % (URL, response.json['action_id']),
                       headers={}).json
        self.assertEqual('noauth', doc['user_id'])
        self.assertEqual(base.PROJECT_A, doc['project_id'])


class TestConcurrentCreateOrReplace(base.ApiTestCase):
    """POST /{resource}/{new id} from several callers at once: one creates,
    the others replace; every caller gets 201."""

    CALLERS = 8

    def setUp(self):
        super().setUp()
        fx.add_client(self, 'node1')

    def post_all(self, path, bodies):
        return [r.status_int for r in self.post_concurrently(
            [(path, body, base.MEMBER_A) for body in bodies])]

    def check(self, resource, bodies):
        path = fx.url(resource, base.PROJECT_A, 'contested')
        self.assertEqual([201] * self.CALLERS, self.post_all(path, bodies))
        doc = self.get(path).json
        # Every caller's write is one version: nothing was lost.
        self.assertEqual(self.CALLERS, doc['_version'])
        listed = self.get(fx.url(resource) + '?limit=100').json[resource]
        return doc, listed

    def test_actions(self):
        doc, listed = self.check('actions', [
            {'freezer_action': {'action': 'info', 'backup_name': 'b%d' % n}}
            for n in range(self.CALLERS)])
        self.assertEqual(['contested'], [a['action_id'] for a in listed])

    def test_jobs(self):
        doc, listed = self.check('jobs', [
            fx.job_body(description='caller %d' % n)
            for n in range(self.CALLERS)])
        self.assertEqual(['contested'], [j['job_id'] for j in listed])

    def test_sessions(self):
        doc, listed = self.check('sessions', [
            {'schedule': {}, 'description': 'caller %d' % n}
            for n in range(self.CALLERS)])
        self.assertEqual(['contested'], [s['session_id'] for s in listed])

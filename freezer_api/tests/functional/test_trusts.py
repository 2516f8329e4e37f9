"""Keystone trusts for the centralized scheduler, with the real Keystone.

The servers run in keystone mode with the default [centralized_scheduler]
options: trusts go to the user of [keystone_authtoken] (the service user
``freezer``), delegating ``member``. What the API did is read back
through Keystone's own API.
"""

import uuid

from freezer_api.tests.functional import base
from freezer_api.tests.functional import fixtures_keystone

TRUSTS = '/OS-TRUST/trusts'


class TrustsTest(base.FunctionalTestCase):

    needs_client = False

    def setUp(self):
        super().setUp()
        ks = self.keystone
        self.alice_id = ks.user_ids['alice']
        self.trustee_id = ks.user_ids['freezer']
        self.project_a = ks.project_ids['project-a']
        self.alice = ks.session('alice')
        self.admin = ks.session(fixtures_keystone.ADMIN_USER,
                                fixtures_keystone.ADMIN_PASSWORD,
                                fixtures_keystone.ADMIN_PROJECT)
        # A trust left by an earlier test of this process would be reused.
        for trust in self.trusts():
            self.alice.delete(ks.auth_url + TRUSTS + '/' + trust['id'])
        self.admin_path = '/v2/%s/' % ks.project_ids[
            fixtures_keystone.ADMIN_PROJECT]
        self.client_id = self.unique('central')
        response = self.http(
            'POST', self.admin_path + 'clients', token=ks.admin_token(),
            json={'client_id': self.client_id, 'hostname': 'central-host',
                  'uuid': uuid.uuid4().hex, 'is_central': True})
        self.assertEqual(201, response.status_code, response.text)
        self.addCleanup(self.http, 'DELETE',
                        self.admin_path + 'clients/' + self.client_id,
                        token=ks.admin_token())

    def trusts(self):
        """Alice's trusts to the service user on project-a, as Keystone's
        admin API lists them."""
        response = self.admin.get(self.keystone.auth_url + TRUSTS)
        return [t for t in response.json()['trusts']
                if (t['trustor_user_id'], t['trustee_user_id'],
                    t['project_id']) == (self.alice_id, self.trustee_id,
                                         self.project_a)]

    def job_body(self, client_id=None, **fields):
        body = {
            'client_id': client_id or self.client_id,
            'description': 'a central job',
            'job_schedule': {'status': 'stop'},
            'job_actions': [{'freezer_action': {
                'action': 'backup', 'mode': 'fs', 'backup_name': 'etc',
                'path_to_backup': '/etc', 'container': '/tmp/backups',
                'storage': 'local'}}],
        }
        body.update(fields)
        return body

    def create_job(self):
        response = self.http('POST', self.v2_path('jobs'), user='alice',
                             json=self.job_body())
        self.assertEqual(201, response.status_code, response.text)
        job_id = response.json()['job_id']
        self.addCleanup(self.http, 'DELETE',
                        self.v2_path('jobs/' + job_id), user='alice')
        return job_id

    def show_job(self, job_id):
        response = self.http('GET', self.v2_path('jobs/' + job_id),
                             user='alice')
        self.assertEqual(200, response.status_code, response.text)
        return response.json()

    def test_trust_made_reused_and_deleted(self):
        first = self.create_job()
        credentials = self.show_job(first)['user_credentials']
        (trust,) = self.trusts()
        self.assertEqual({'trust_id': trust['id'],
                          'trustor_user_id': self.alice_id}, credentials)
        self.assertFalse(trust['impersonation'])
        roles = self.admin.get('%s%s/%s/roles' % (
            self.keystone.auth_url, TRUSTS, trust['id'])).json()['roles']
        self.assertEqual(['member'], [r['name'] for r in roles])

        second = self.create_job()
        self.assertEqual(credentials,
                         self.show_job(second)['user_credentials'])
        self.assertEqual([trust['id']], [t['id'] for t in self.trusts()])

        # Another project's admin, reading every project, sees no trust.
        response = self.http('GET', self.admin_path +
                             'jobs?all_projects=true&limit=1000',
                             token=self.keystone.admin_token())
        self.assertEqual(200, response.status_code, response.text)
        self.assertIn(first, response.text)
        self.assertNotIn(trust['id'], response.text)

        for job_id, left in ((first, [trust['id']]), (second, [])):
            response = self.http('DELETE', self.v2_path('jobs/' + job_id),
                                 user='alice')
            self.assertEqual(204, response.status_code, response.text)
            self.assertEqual(left, [t['id'] for t in self.trusts()])

    def test_rejected_job_leaves_no_trust(self):
        for body, status in (
                (self.job_body(client_id=self.unique('nobody')), 422),
                (self.job_body(job_schedule={'status': 'nonsense'}), 400)):
            response = self.http('POST', self.v2_path('jobs'),
                                 user='alice', json=body)
            self.assertEqual(status, response.status_code, response.text)
            self.assertEqual({'title', 'description'},
                             set(response.json()))
        self.assertEqual([], self.trusts())

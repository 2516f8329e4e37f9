"""What the trustee of the trusts reads: the service user a central
freezer-scheduler runs as sees every project's trust ids (it cannot run
their jobs without them); any other caller of another project sees none.
"""

from unittest import mock

from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as fx
from freezer_api.tests.unit.api import test_trusts

SERVICE = 'service-token'
SERVICE_URL = fx.url('jobs', 'service')
SEARCH = {'match': [{'client_id': 'central1'}]}


class TestTrustee(test_trusts.TrustsTestCase):

    def setUp(self):
        user_id = test_trusts.fake_keystone.FakeKeystone.SERVICE_USER[2]
        personas = mock.patch.dict(test_trusts.PERSONAS, {
            SERVICE: (user_id, 'service', ['service'])})
        personas.start()
        self.addCleanup(personas.stop)
        super().setUp()
        self.job_id = self.create()
        self.trust_id = self.only_trust()['id']

    def central_jobs(self, token):
        """The central client's jobs of every project, as freezer-scheduler
        in centralized mode asks for them."""
        response = self.request(
            'GET', SERVICE_URL + '?all_projects=true&limit=10',
            body=SEARCH, headers=test_trusts.token_headers(token))
        self.assertEqual(200, response.status_int, response.text)
        return {job['job_id']: job for job in response.json['jobs']}

    def test_trustee_sees_the_trust_of_every_project(self):
        job = self.central_jobs(SERVICE)[self.job_id]
        self.assertEqual({'trust_id': self.trust_id,
                          'trustor_user_id': 'user-a'},
                         job['user_credentials'])
        shown = self.get('%s/%s?all_projects=true' % (SERVICE_URL,
                                                      self.job_id),
                         headers=test_trusts.token_headers(SERVICE))
        self.assertEqual(200, shown.status_int, shown.text)
        self.assertEqual(self.trust_id,
                         shown.json['user_credentials']['trust_id'])

    def test_another_service_caller_does_not(self):
        job = self.central_jobs(test_trusts.ADMIN)[self.job_id]
        self.assertNotIn('user_credentials', job)

    def test_unknown_trustee_shows_none(self):
        # The trustee's credentials are refused: nothing to compare with,
        # so the read goes on without trusts.
        self.set_trustee(password='wrong')
        test_trusts.trusts.reset()
        job = self.central_jobs(SERVICE)[self.job_id]
        self.assertNotIn('user_credentials', job)
        self.assertEqual(
            self.trust_id,
            self.show(self.job_id)['user_credentials']['trust_id'])

    def test_own_project_still_sees_it(self):
        self.assertEqual(
            self.trust_id,
            self.show(self.job_id)['user_credentials']['trust_id'])
        response = self.get(fx.url('jobs', base.PROJECT_B) + '?limit=10',
                            headers=test_trusts.token_headers(
                                test_trusts.BOB))
        self.assertNotIn(self.trust_id, response.text)

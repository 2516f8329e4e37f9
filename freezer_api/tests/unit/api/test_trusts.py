"""Keystone trusts for the centralized scheduler, through the whole stack.

The server runs in keystone mode: keystonemiddleware's AuthTokenFixture
accepts the personas' tokens, and a fake Keystone on 127.0.0.1 answers
the trust calls of freezer_api.common.trusts (with Keystone's checks).
"""

import logging

import fixtures
from keystoneauth1 import loading
from keystonemiddleware import fixture as ksm_fixture
from oslo_log import log
import webtest

from freezer_api.api import app
from freezer_api.common import context
from freezer_api.common import exception
from freezer_api.common import trusts
from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import fake_keystone
from freezer_api.tests.unit.api import job_fixtures as fx

URL = fx.url('jobs')
SECTION = 'keystone_authtoken'
ALICE = 'alice-token'
BOB = 'bob-token'
ADMIN = 'admin-token'
# token -> (user, project, roles)
PERSONAS = {
    ALICE: ('user-a', base.PROJECT_A, ['member', 'reader']),
    'colleague-token': ('user-a2', base.PROJECT_A, ['member', 'reader']),
    BOB: ('user-b', base.PROJECT_B, ['member', 'reader']),
    ADMIN: ('admin', 'admin-project', ['admin', 'member', 'reader']),
}
EVIL = {'trust_id': 'evil', 'trustor_user_id': 'admin'}


def token_headers(token):
    return {'X-Auth-Token': token}


class TrustsTestCase(base.ApiTestCase):

    headers = token_headers(ALICE)

    def setUp(self):
        super().setUp()
        self.logs = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        self.keystone = self.useFixture(fake_keystone.FakeKeystone())
        auth = self.useFixture(ksm_fixture.AuthTokenFixture())
        for token, (user, project, roles) in PERSONAS.items():
            auth.add_token_data(token_id=token, user_id=user,
                                project_id=project, role_list=roles)
            self.keystone.add_user(user, token, {project: roles})
        self.addCleanup(trusts.reset)
        self.conf.set_override('auth_strategy', 'keystone')
        app.setup_app(self.conf)  # registers [keystone_authtoken]
        loading.register_auth_conf_options(self.conf, SECTION)
        self.conf.register_opts(
            loading.get_auth_plugin_conf_options('password'), group=SECTION)
        name, password, _user_id = self.keystone.SERVICE_USER
        self.set_trustee(auth_type='password',
                         auth_url=self.keystone.url + '/v3',
                         username=name, password=password,
                         project_name='service', user_domain_id='default',
                         project_domain_id='default',
                         www_authenticate_uri=self.keystone.url,
                         http_connect_timeout=2)
        self.app = webtest.TestApp(app.setup_app(self.conf))
        fx.add_client(self, 'central1', is_central=True)
        self.add_own_client('node1')

    def set_trustee(self, **options):
        for name, value in options.items():
            self.conf.set_override(name, value, group=SECTION)

    def set_option(self, name, value):
        self.conf.set_override(name, value, group='centralized_scheduler')

    def add_own_client(self, client_id, headers=None):
        response = self.post(fx.url('clients'), fx.client_body(client_id),
                             headers=headers)
        self.assertEqual(201, response.status_int, response.text)

    def request(self, method, path, body=None, headers=None, **kwargs):
        # Client registration as an admin uses the admin persona.
        if headers is base.ADMIN:
            headers = token_headers(ADMIN)
        return super().request(method, path, body=body, headers=headers,
                               **kwargs)

    def create(self, client_id='central1', status=201, **fields):
        response = self.post(URL, fx.job_body(client_id, **fields))
        self.assertEqual(status, response.status_int, response.text)
        return response.json['job_id'] if status == 201 else response

    def show(self, job_id, headers=None, url=URL):
        response = self.get('%s/%s' % (url, job_id), headers=headers)
        self.assertEqual(200, response.status_int, response.text)
        return response.json

    def job_ids(self, headers=None):
        response = self.get(URL + '?limit=1000', headers=headers)
        self.assertEqual(200, response.status_int, response.text)
        return [job['job_id'] for job in response.json['jobs']]

    def only_trust(self):
        self.assertEqual(1, len(self.keystone.trusts))
        return next(iter(self.keystone.trusts.values()))

    def assertNoTrustCalls(self):
        self.assertEqual([], self.keystone.trust_calls())


class TestTrustCreation(TrustsTestCase):

    def test_job_of_a_central_client_gets_a_trust(self):
        job_id = self.create()
        trust = self.only_trust()
        self.assertEqual(
            ('user-a', 'service-user-id', base.PROJECT_A,
             [{'name': 'member'}], False, False),
            (trust['trustor_user_id'], trust['trustee_user_id'],
             trust['project_id'], trust['roles'], trust['impersonation'],
             trust['allow_redelegation']))
        self.assertEqual({'trust_id': trust['id'],
                          'trustor_user_id': 'user-a'},
                         self.show(job_id)['user_credentials'])

    def test_job_of_an_own_client_gets_none(self):
        job_id = self.create('node1')
        self.assertNotIn('user_credentials', self.show(job_id))
        self.assertNoTrustCalls()

    def test_enforce_trusts_gives_every_job_one(self):
        self.set_option('enforce_trusts', True)
        job_id = self.create('node1')
        self.assertEqual(self.only_trust()['id'],
                         self.show(job_id)['user_credentials']['trust_id'])

    def test_the_trust_is_reused(self):
        first, second = self.create(), self.create()
        trust = self.only_trust()
        for job_id in (first, second):
            self.assertEqual(trust['id'], self.show(job_id)
                             ['user_credentials']['trust_id'])
        self.assertEqual(1, len(self.keystone.trust_calls('POST')))

    def test_another_trustor_gets_another_trust(self):
        first = self.create()
        response = self.post(URL, fx.job_body('central1'),
                             headers=token_headers('colleague-token'))
        self.assertEqual(201, response.status_int, response.text)
        second = response.json['job_id']
        self.assertEqual(2, len(self.keystone.trusts))
        self.assertNotEqual(
            self.show(first)['user_credentials'],
            self.show(second)['user_credentials'])

    def test_disabled(self):
        self.set_option('enabled', False)
        self.set_option('enforce_trusts', True)
        job_id = self.create()
        self.assertNotIn('user_credentials', self.show(job_id))
        self.assertNoTrustCalls()

    def test_no_roles_configured_delegates_the_caller_s(self):
        self.set_option('trusts_delegated_roles', [])
        self.create()
        self.assertEqual([{'name': 'member'}, {'name': 'reader'}],
                         self.only_trust()['roles'])

    def test_only_post_makes_trusts(self):
        job_id = self.create('node1')
        for response in (
                self.post('%s/%s' % (URL, job_id), fx.job_body('central1')),
                self.post('%s/%s' % (URL, 'new-job'),
                          fx.job_body('central1')),
                self.patch('%s/%s' % (URL, job_id),
                           {'description': 'x'})):
            self.assertIn(response.status_int, (200, 201), response.text)
        self.assertNoTrustCalls()


class TestCredentialErrors(TrustsTestCase):
    """What the caller's credentials cannot give: 422, nothing stored."""

    def assertMissingCredentials(self, response):
        fault = self.assertFault(response, 422,
                                 'Missing required credentials')
        self.assertEqual([], self.job_ids())
        self.assertEqual({}, self.keystone.trusts)
        return fault

    def test_unknown_role(self):
        self.set_option('trusts_delegated_roles', ['no-such-role'])
        fault = self.assertMissingCredentials(
            self.post(URL, fx.job_body('central1')))
        self.assertIn('HTTP 404', fault['description'])

    def test_role_not_held(self):
        self.set_option('trusts_delegated_roles', ['admin'])
        fault = self.assertMissingCredentials(
            self.post(URL, fx.job_body('central1')))
        self.assertIn('delegated roles', fault['description'])

    def test_no_trustee_configured(self):
        self.set_option('auth_section', 'no_such_section')
        fault = self.assertMissingCredentials(
            self.post(URL, fx.job_body('central1')))
        self.assertIn('[no_such_section]', fault['description'])

    def test_trustee_credentials_refused(self):
        self.set_trustee(password='wrong')
        self.assertMissingCredentials(
            self.post(URL, fx.job_body('central1')))

    def test_no_token(self):
        ctx = context.RequestContext(user_id='user-a',
                                     project_id=base.PROJECT_A)
        self.assertRaises(exception.MissingCredentials,
                          trusts.get_trusts(self.conf).ensure, ctx,
                          base.PROJECT_A)
        self.assertNoTrustCalls()


class TestKeystoneUnavailable(TrustsTestCase):
    """Keystone down, slow or failing: 503 with Retry-After, nothing
    stored, never a 500."""

    def assertUnavailable(self, response):
        fault = self.assertFault(response, 503)
        self.assertEqual('5', response.headers['Retry-After'])
        self.assertIn('identity service', fault['description'])
        self.assertIn('nothing was changed', fault['description'])
        self.assertEqual([], self.job_ids())
        self.assertEqual({}, self.keystone.trusts)

    def test_unreachable(self):
        self.set_trustee(auth_url='http://127.0.0.1:9/v3')
        self.assertUnavailable(self.post(URL, fx.job_body('central1')))

    def test_server_error(self):
        self.keystone.fail[('POST', '/v3/OS-TRUST/trusts')] = 500
        self.assertUnavailable(self.post(URL, fx.job_body('central1')))

    def test_answer_not_json(self):
        self.keystone.raw[('GET', '/v3/OS-TRUST/trusts')] = (
            '200 OK', b'<html>proxy error</html>')
        self.assertUnavailable(self.post(URL, fx.job_body('central1')))

    def test_created_trust_without_id(self):
        self.keystone.raw[('POST', '/v3/OS-TRUST/trusts')] = (
            '201 Created', b'{"trust": {}}')
        self.assertUnavailable(self.post(URL, fx.job_body('central1')))

    def test_timeout(self):
        self.set_trustee(http_connect_timeout=1)
        self.keystone.delay = 3
        self.assertUnavailable(self.post(URL, fx.job_body('central1')))


class TestRejectedJobs(TrustsTestCase):
    """A job that is refused costs Keystone nothing and leaves no trust."""

    def test_refused_before_keystone(self):
        self.create('node1', job_id='taken')
        self.keystone.calls.clear()
        cases = [
            (fx.job_body('central1', job_schedule={'status': 'bad'}), 400),
            (fx.job_body('no-such-client'), 422),
            (fx.job_body('central1', job_id='taken'), 409),
            (fx.job_body('central1', job_actions=[{'action_id': 'none'}]),
             422),
        ]
        for body, status in cases:
            self.assertFault(self.post(URL, body), status)
        self.assertEqual([], self.keystone.calls)
        self.assertEqual(['taken'], self.job_ids())

    def test_capability_refused_before_keystone(self):
        self.keystone.calls.clear()
        fx.add_client(self, 'central-tar', is_central=True,
                      supported_engines=['rsync'])
        self.keystone.calls.clear()
        self.assertFault(self.post(URL, fx.job_body('central-tar')), 422)
        self.assertEqual([], self.keystone.calls)

    def test_storage_failure_deletes_a_new_trust(self):
        self.useFixture(fixtures.MockPatch(
            'freezer_api.db.api.create_job',
            side_effect=exception.Conflict(resource='Job', id='x')))
        self.assertFault(self.post(URL, fx.job_body('central1')), 409)
        self.assertEqual(1, len(self.keystone.created))
        self.assertEqual({}, self.keystone.trusts)

    def test_storage_failure_keeps_a_reused_trust(self):
        job_id = self.create()
        trust = self.only_trust()
        self.useFixture(fixtures.MockPatch(
            'freezer_api.db.api.create_job',
            side_effect=exception.StorageError()))
        self.assertFault(self.post(URL, fx.job_body('central1')), 500)
        self.assertEqual([trust['id']], list(self.keystone.trusts))
        self.assertEqual([job_id], self.job_ids())
        self.assertEqual([], self.keystone.trust_calls('DELETE'))

    def test_unknown_commit_outcome_keeps_the_trust(self):
        # The job may have been stored with it.
        self.useFixture(fixtures.MockPatch(
            'freezer_api.db.api.create_job',
            side_effect=exception.CommitOutcomeUnknown()))
        self.assertFault(self.post(URL, fx.job_body('central1')), 503)
        self.assertEqual(1, len(self.keystone.trusts))


class TestTrustDeletion(TrustsTestCase):

    def delete_job(self, job_id, headers=None):
        response = self.delete('%s/%s' % (URL, job_id), headers=headers)
        self.assertEqual(204, response.status_int, response.text)

    def test_the_last_job_takes_its_trust_along(self):
        first, second = self.create(), self.create()
        self.delete_job(first)
        self.assertEqual(1, len(self.keystone.trusts))
        self.assertEqual([], self.keystone.trust_calls('DELETE'))
        self.delete_job(second)
        self.assertEqual({}, self.keystone.trusts)
        self.assertEqual(1, len(self.keystone.trust_calls('DELETE')))

    def test_a_job_without_trust_calls_no_keystone(self):
        job_id = self.create('node1')
        self.delete_job(job_id)
        self.delete_job('no-such-job')
        self.assertNoTrustCalls()

    def test_keystone_failure_does_not_fail_the_delete(self):
        job_id = self.create()
        self.keystone.fail[('DELETE', '/v3/OS-TRUST/trusts')] = 500
        self.delete_job(job_id)
        self.assertEqual([], self.job_ids())
        self.assertEqual(1, len(self.keystone.trusts))
        self.assertIn('could not be deleted from Keystone', self.logs.output)

    def test_another_user_s_delete_keeps_the_trust(self):
        # Keystone lets only the trustor delete a trust (403): logged.
        job_id = self.create()
        self.delete_job(job_id, headers=token_headers('colleague-token'))
        self.assertEqual(1, len(self.keystone.trusts))
        self.assertIn('could not be deleted from Keystone', self.logs.output)

    def test_a_trust_already_gone(self):
        job_id = self.create()
        self.keystone.trusts.clear()
        self.delete_job(job_id)
        self.assertIn('already gone', self.logs.output)


class TestCallersCannotSetTrusts(TrustsTestCase):

    def test_post_put_and_patch_never_change_the_trust(self):
        job_id = self.create(user_credentials=EVIL)
        stored = self.show(job_id)['user_credentials']
        self.assertEqual(self.only_trust()['id'], stored['trust_id'])
        item = '%s/%s' % (URL, job_id)
        for response in (
                self.patch(item, {'user_credentials': EVIL}),
                self.patch(item, {'user_credentials': None}),
                self.post(item, fx.job_body('central1',
                                            user_credentials=EVIL)),
                self.post(item, fx.job_body('central1',
                                            user_credentials=None))):
            self.assertIn(response.status_int, (200, 201), response.text)
            self.assertEqual(stored, self.show(job_id)['user_credentials'])

    def test_own_client_job_with_credentials_stores_none(self):
        job_id = self.create('node1', user_credentials=EVIL)
        self.assertNotIn('user_credentials', self.show(job_id))


class TestTrustVisibility(TrustsTestCase):

    def test_hidden_from_other_projects(self):
        job_id = self.create()
        trust_id = self.only_trust()['id']
        admin = token_headers(ADMIN)
        admin_url = fx.url('jobs', 'admin-project')
        listed = self.get(admin_url + '?all_projects=true&limit=1000',
                          headers=admin).json['jobs']
        found = [job for job in listed if job['job_id'] == job_id]
        self.assertEqual(1, len(found))
        self.assertNotIn('user_credentials', found[0])
        shown = self.get('%s/%s?all_projects=true' % (admin_url, job_id),
                         headers=admin)
        self.assertEqual(200, shown.status_int, shown.text)
        self.assertNotIn('user_credentials', shown.json)
        self.assertNotIn(trust_id, shown.text)
        self.assertEqual(trust_id, self.show(job_id)['user_credentials']
                         ['trust_id'])

    def test_not_searchable(self):
        # Free text over every project would spell a trust id out.
        job_id = self.create()
        trust_id = self.only_trust()['id']
        admin_url = fx.url('jobs', 'admin-project')
        for term in ({'_all': trust_id[:6]}, {'trust_id': trust_id}):
            response = self.request(
                'GET', admin_url + '?all_projects=true',
                body={'match': [term]}, headers=token_headers(ADMIN))
            self.assertEqual(200, response.status_int, response.text)
            self.assertNotIn(job_id, [j['job_id']
                                      for j in response.json['jobs']])


class TestLogs(TrustsTestCase):

    def setUp(self):
        super().setUp()
        # The levels the service sets for libraries (urllib3 and
        # keystoneauth name every URL they fetch at DEBUG).
        for pair in log.get_default_log_levels():
            name, level = pair.split('=')
            logger = logging.getLogger(name)
            self.addCleanup(logger.setLevel, logger.level)
            logger.setLevel(level)

    def test_no_token_password_or_trust_id_is_logged(self):
        self.set_option('trusts_delegated_roles', [])
        first, second = self.create(), self.create()
        self.post(URL, fx.job_body('central1'),
                  headers=token_headers('colleague-token'))
        self.keystone.fail[('POST', '/v3/OS-TRUST/trusts')] = 500
        response = self.post(fx.url('jobs', base.PROJECT_B),
                             fx.job_body('central1'),
                             headers=token_headers(BOB))
        self.assertEqual(503, response.status_int, response.text)
        self.keystone.fail.clear()
        for job_id in (first, second):
            self.delete('%s/%s' % (URL, job_id))
        output = self.logs.output
        self.assertIn('trust', output)
        secrets = (list(self.keystone.tokens) + self.keystone.created +
                   [self.keystone.SERVICE_USER[1]])
        for secret in secrets:
            self.assertNotIn(secret, output)


class TestNoauth(base.ApiTestCase):
    """noauth has no Keystone: jobs are stored without trusts."""

    def test_no_trust_and_a_warning(self):
        self.conf.set_override('enforce_trusts', True,
                               group='centralized_scheduler')
        logs = self.useFixture(fixtures.FakeLogger(level=logging.WARNING))
        trusts.check_config(self.conf)
        self.assertIn('enforce_trusts', logs.output)
        fx.add_client(self, 'central1', is_central=True)
        response = self.post(URL, fx.job_body('central1'))
        self.assertEqual(201, response.status_int, response.text)
        job = self.get('%s/%s' % (URL, response.json['job_id'])).json
        self.assertNotIn('user_credentials', job)

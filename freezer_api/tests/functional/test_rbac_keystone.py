"""The RBAC matrix and the token edge cases, with real Keystone tokens.

The rows of the unit matrix (freezer_api/tests/unit/api/rbac_matrix.yaml,
read and prepared by the helpers of test_rbac.py) run here through
keystonemiddleware's auth_token, each persona played by a Keystone user
with a token of its own, plus two personas the noauth matrix cannot have:
no token, and a forged one. Then the tokens a deployment meets that are
not simply good: expired, scoped to another project, to a domain or to
nothing, revoked, sent with a service token, and Keystone down.

Every refusal is a JSON fault ``{"title", "description"}``: the JSON
faults middleware rewrites auth_token's own error bodies.

Statuses, as documented for operators:

====================================  =====================================
token                                 status
====================================  =====================================
none, or not one Keystone issued      401, ``WWW-Authenticate: Keystone``
expired (its Keystone expiration)     401
revoked (DELETE /v3/auth/tokens)      401 once auth_token's cache of the
                                      token (token_cache_time) has expired
scoped to another project than URL's  403 (the policy's project check)
scoped to a domain                    403 (the rules are project-scoped)
unscoped                              403 (no project, no role)
user token + X-Service-Token          the user's request, the user's roles
expired user token + service token    the user's request (auth_token lets
                                      a service finish a user's work)
user token + forged service token     401
Keystone unreachable                  503, at once (no hang); the service
                                      recovers when Keystone is back
====================================  =====================================
"""

import base64
import os
import time

import requests
import testtools

from freezer_api.tests.functional import base
from freezer_api.tests.functional import fixtures_keystone
from freezer_api.tests.functional import fixtures_server
from freezer_api.tests.functional import utils
from freezer_api.tests.unit.api import base as unit_base
from freezer_api.tests.unit.api import test_rbac

# The Keystone user playing each persona of the matrix.
USERS = {
    'member': 'alice',
    'reader': 'rita',
    'other_member': 'bob',
    'admin': fixtures_keystone.ADMIN_USER,
    'service': 'freezer',
}
# The matrix's project names (test_rbac.PERSONAS), as Keystone names them.
PROJECTS = {
    unit_base.PROJECT_A: 'project-a',
    unit_base.PROJECT_B: 'project-b',
    'admin-project': fixtures_keystone.ADMIN_PROJECT,
    'service': fixtures_keystone.SERVICE_PROJECT,
}
# Personas without a token of Keystone's; their 'own' project is
# project-a, the other project-b.
ANONYMOUS = ('no_token', 'forged_token')
# The routes answered without a token: version discovery.
PUBLIC_ROUTES = frozenset({'GET /'})

# How long auth_token keeps a validated token; the revocation of a token
# must be seen after that.
TOKEN_CACHE_TIME = 2
# The lifetime of the tokens of the short-lived Keystone.
SHORT_EXPIRATION = 5


def forged_token():
    """A random string shaped like a Fernet token (the log check then
    finds it if a server ever logs it)."""
    return 'gAAAAA' + base64.urlsafe_b64encode(os.urandom(120)).decode(
        ).rstrip('=')


class _HttpMaker(test_rbac.DocumentMaker):
    """Makes the matrix's documents as the cloud admin, over HTTP."""

    def __init__(self, test, url, token):
        super().__init__()
        self.test = test
        self.url = url
        self.token = token
        self.http = requests.Session()

    def send(self, method, path, body=None):
        response = self.http.request(method, self.url + path, json=body,
                                     headers={'X-Auth-Token': self.token},
                                     timeout=30)
        return response.status_code, (response.json() if response.content
                                      else None)


class RbacKeystoneTest(base.FunctionalTestCase):
    """The matrix and the edge cases against servers of this class.

    One freezer-api group (one server of two workers, a fresh database)
    with a short ``token_cache_time`` serves the matrix and the edge cases
    of the shared Keystone; a short-lived Keystone (tokens of
    SHORT_EXPIRATION seconds, restored from the same snapshot) and a
    server of its own serve the expired token and the Keystone outage,
    which must not touch the Keystone every other test shares.
    """

    needs_client = False

    @classmethod
    def setUpClass(cls):
        # Not the base's: these tests need neither the shared servers
        # nor the other venvs.
        testtools.TestCase.setUpClass.__func__(cls)
        cls.keystone = base.keystone()
        cls._class_fixtures = []
        authtoken = f'token_cache_time = {TOKEN_CACHE_TIME}\n'
        try:
            cls.server = cls._class_fixture(
                fixtures_server.FreezerApiGroupFixture(
                    'keystone', keystone=cls.keystone, count=1, debug=True,
                    authtoken_conf=authtoken))
            cls.short_keystone = cls._class_fixture(
                fixtures_keystone.KeystoneFixture(
                    token_expiration=SHORT_EXPIRATION))
            cls.short_server = cls._class_fixture(
                fixtures_server.FreezerApiServerFixture(
                    'keystone', keystone=cls.short_keystone, debug=True,
                    authtoken_conf=authtoken))
        except Exception:
            cls._clean_class()
            raise

    @classmethod
    def _class_fixture(cls, fixture):
        fixture.setUp()
        cls._class_fixtures.append(fixture)
        return fixture

    @classmethod
    def _clean_class(cls):
        while cls._class_fixtures:
            cls._class_fixtures.pop().cleanUp()

    @classmethod
    def tearDownClass(cls):
        cls._clean_class()
        super().tearDownClass()

    # ------------------------------------------------------------ helpers
    def call(self, method, path, token=None, service_token=None,
             body=None, url=None, http=None):
        headers = {'Accept': 'application/json'}
        if token is not None:
            headers['X-Auth-Token'] = token
        if service_token is not None:
            headers['X-Service-Token'] = service_token
        return (http or requests).request(
            method, (url or self.server.url) + path, json=body,
            headers=headers, timeout=30)

    def assertFault(self, response, status):
        """``response`` is ``status`` with a JSON fault body."""
        self.assertEqual(status, response.status_code, response.text)
        self.assertEqual('application/json',
                         response.headers.get('Content-Type'))
        body = response.json()
        self.assertEqual({'title', 'description'}, set(body), body)
        if status == 401:
            self.assertTrue(response.headers.get(
                'WWW-Authenticate', '').startswith('Keystone uri='),
                response.headers)

    def project(self, name):
        return self.keystone.project_ids[name]

    def actions_path(self, project='project-a'):
        return f'/v2/{self.project(project)}/actions'

    def persona_token(self, persona):
        user = USERS[persona]
        if user == fixtures_keystone.ADMIN_USER:
            return self.keystone.admin_token()
        return self.keystone.token(user)

    def token_data(self, token):
        """What Keystone says of ``token`` (GET /v3/auth/tokens)."""
        response = requests.get(
            self.keystone.auth_url + '/auth/tokens', timeout=30,
            headers={'X-Auth-Token': self.keystone.admin_token(),
                     'X-Subject-Token': token})
        self.assertEqual(200, response.status_code, response.text)
        return response.json()['token']

    def own_project(self, persona):
        user = USERS[persona]
        if user == fixtures_keystone.ADMIN_USER:
            return fixtures_keystone.ADMIN_PROJECT
        return self.keystone.users[user][1]

    # ------------------------------------------------------------ matrix
    def personas(self):
        """(persona, token or None, own project, other project): the
        matrix's personas with their Keystone tokens and projects, and
        the anonymous ones (as if they were project-a's member)."""
        cases = []
        for persona, (_, own, other) in test_rbac.PERSONAS.items():
            # The Keystone user's own project is the matrix's.
            self.assertEqual(PROJECTS[own], self.own_project(persona),
                             persona)
            cases.append((persona, self.persona_token(persona),
                          self.project(PROJECTS[own]),
                          self.project(PROJECTS[other])))
        forged = forged_token()
        for persona in ANONYMOUS:
            cases.append((persona,
                          forged if persona == 'forged_token' else None,
                          self.project('project-a'),
                          self.project('project-b')))
        return cases

    def expectations(self, row, persona):
        """The matrix's [(status, OWN or OTHER)] for ``persona``; for an
        anonymous one, 401 wherever the matrix's member goes, but on the
        public routes the status every persona of the matrix gets."""
        if persona not in ANONYMOUS:
            return test_rbac.expectations(row, persona)
        member = test_rbac.expectations(row, 'member')
        if row['route'] in PUBLIC_ROUTES:
            for other in test_rbac.PERSONAS:
                self.assertEqual(member,
                                 test_rbac.expectations(row, other))
            return member
        return [(401, where) for _, where in member]

    def test_matrix(self):
        maker = _HttpMaker(self, self.server.url, self.keystone.admin_token())
        http = requests.Session()
        # Documents are made once and reused until a request that may
        # have changed them (a write that succeeded).
        made = {}
        mismatches, requests_sent = [], 0
        personas = self.personas()
        for row in test_rbac.load_matrix():
            method, template, body, names = test_rbac.row_request(row)
            for persona, token, own, other in personas:
                for status, where in self.expectations(row, persona):
                    project = own if where == test_rbac.OWN else other
                    key = (project, frozenset(names), row.get('setup'))
                    if key not in made:
                        made[key] = maker.prepare(project, names,
                                                  row.get('setup'))
                    values = made[key]
                    response = self.call(
                        method, test_rbac.fill(template, values),
                        token=token, body=test_rbac.fill(body, values),
                        http=http)
                    requests_sent += 1
                    got = response.status_code
                    if got != status:
                        mismatches.append(
                            f'{row["route"]} as {persona} in {where} '
                            f'project: expected {status}, got {got} '
                            f'{response.text[:200]}')
                    elif got >= 400:
                        self.assertFault(response, got)
                    if method != 'GET' and got < 400:
                        del made[key]
        self.figures('rbac matrix with keystone tokens',
                     requests=requests_sent, mismatches=len(mismatches))
        self.assertGreater(requests_sent, 400)
        self.assertEqual([], mismatches, '\n'.join(mismatches))

    # -------------------------------------------------------- edge cases
    def test_token_of_another_project_is_403(self):
        """alice's token (project-a) on project-b's URL: the policy's
        project check refuses it, 403."""
        token = self.keystone.token('alice')
        self.assertEqual(200, self.call(
            'GET', self.actions_path(), token).status_code)
        self.assertFault(self.call(
            'GET', self.actions_path('project-b'), token), 403)

    def test_domain_scoped_token_is_403(self):
        """A domain-scoped token, even of the domain's admin, is refused on
        every project route with 403: the rules are project-scoped
        (oslo.policy's enforce_scope). It still reads the JSON home."""
        token = self.keystone.token('dora', domain=fixtures_keystone.DOMAIN)
        data = self.token_data(token)
        self.assertEqual(fixtures_keystone.DOMAIN_ID, data['domain']['id'])
        self.assertIn('admin', [r['name'] for r in data['roles']])
        for path in (self.actions_path(), self.actions_path('project-b')):
            self.assertFault(self.call('GET', path, token), 403)
        self.assertFault(self.call(
            'POST', self.actions_path(), token,
            body={'freezer_action': {'action': 'backup'}}), 403)
        self.assertEqual(200, self.call('GET', '/v2', token).status_code)

    def test_unscoped_token_is_403(self):
        """An unscoped token (dora has no default project) is a valid
        identity with no project and no role: 403 on every project route,
        as any project-scoped OpenStack API refuses it."""
        token = self.keystone.token('dora')
        data = self.token_data(token)
        self.assertEqual(set(), {'project', 'domain', 'system', 'roles'}
                         & set(data), data)
        for path in (self.actions_path(), self.actions_path('project-b')):
            self.assertFault(self.call('GET', path, token), 403)
        self.assertEqual(200, self.call('GET', '/v2', token).status_code)

    def test_revoked_token_is_401_after_the_cache_time(self):
        """A token revoked through Keystone (DELETE /v3/auth/tokens) is
        refused with 401 once auth_token's cache of it has expired, after
        ``[keystone_authtoken] token_cache_time`` seconds at most."""
        token = self.keystone.token('alice', cached=False)
        self.assertEqual(200, self.call(
            'GET', self.actions_path(), token).status_code)
        response = requests.delete(
            self.keystone.auth_url + '/auth/tokens', timeout=30,
            headers={'X-Auth-Token': self.keystone.admin_token(),
                     'X-Subject-Token': token})
        self.assertEqual(204, response.status_code, response.text)
        revoked_at = time.monotonic()
        # Both workers must see it, whichever cached it.
        deadline = revoked_at + TOKEN_CACHE_TIME + 5
        statuses = []
        while time.monotonic() < deadline:
            statuses = [self.call('GET', self.actions_path(), token)
                        for _ in range(4)]
            if all(r.status_code == 401 for r in statuses):
                break
            time.sleep(0.2)
        seen_after = time.monotonic() - revoked_at
        self.figures('revoked token refused', seconds=f'{seen_after:.1f}',
                     token_cache_time=TOKEN_CACHE_TIME)
        for response in statuses:
            self.assertFault(response, 401)
        self.assertLess(seen_after, TOKEN_CACHE_TIME + 5)

    def test_service_token_does_not_lend_its_roles(self):
        """With a user token and the service user's X-Service-Token the
        request is the user's: the user's project and roles decide, the
        documents it writes are the user's, and the service role does not
        add to the user's rights. A forged service token is 401."""
        service = self.keystone.token('freezer')
        alice = self.keystone.token('alice')
        response = self.call('POST', self.actions_path(), alice, service,
                             body={'freezer_action': {'action': 'backup'}})
        self.assertEqual(201, response.status_code, response.text)
        action = self.call('GET', '%s/%s' % (
            self.actions_path(), response.json()['action_id']), alice,
            service).json()
        self.assertEqual(self.keystone.user_ids['alice'], action['user_id'])
        # The service role may read every project; alice may not.
        self.assertFault(self.call(
            'GET', self.actions_path('project-b'), alice, service), 403)
        # rita reads but does not write, service token or not.
        rita = self.keystone.token('rita')
        self.assertEqual(200, self.call(
            'GET', self.actions_path(), rita, service).status_code)
        self.assertFault(self.call(
            'POST', self.actions_path(), rita, service,
            body={'freezer_action': {'action': 'backup'}}), 403)
        self.assertFault(self.call(
            'GET', self.actions_path(), alice, forged_token()), 401)

    def test_expired_token_is_401(self):
        """A token past its expiry is 401. With the service user's
        X-Service-Token beside it, it is still the user's request:
        auth_token accepts an expired user token from a service (Keystone's
        allow_expired_window), so that a service can finish a user's long
        operation."""
        ks, url = self.short_keystone, self.short_server.url
        token = ks.token('alice', cached=False)
        path = f'/v2/{ks.project_ids["project-a"]}/actions'
        self.assertEqual(200, self.call('GET', path, token,
                                        url=url).status_code)
        time.sleep(SHORT_EXPIRATION + 0.5)
        self.assertFault(self.call('GET', path, token, url=url), 401)
        response = self.call('GET', path, token, url=url,
                             service_token=ks.token('freezer', cached=False))
        self.assertEqual(200, response.status_code, response.text)

    def test_keystone_down_is_503_then_recovers(self):
        """Keystone stopped: a token auth_token has not validated yet is
        503 with a JSON fault, at once (not 500, not a hang); once
        Keystone is back the same request succeeds."""
        ks, url = self.short_keystone, self.short_server.url
        path = f'/v2/{ks.project_ids["project-a"]}/actions'
        token = ks.token('alice', cached=False)
        ks.stop()
        self.addCleanup(self._keystone_running, ks)
        started = time.monotonic()
        response = self.call('GET', path, token, url=url)
        seconds = time.monotonic() - started
        self.figures('keystone stopped', status=response.status_code,
                     seconds=f'{seconds:.2f}')
        self.assertFault(response, 503)
        self.assertIn('identity service', response.json()['description'])
        self.assertNotIn(token, response.text)
        self.assertLess(seconds, 10)
        ks.restart()
        token = ks.token('alice', cached=False)
        self.assertEqual(200, self.call('GET', path, token,
                                        url=url).status_code)

    @staticmethod
    def _keystone_running(ks):
        if ks.proc is None:
            ks.restart()
        utils.wait_for_http(ks.auth_url, ks.proc, ks.log_paths,
                            what='keystone')

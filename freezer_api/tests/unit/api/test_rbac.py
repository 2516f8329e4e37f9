"""The policy matrix of rbac_matrix.yaml, request by request.

The helpers above the test classes read the matrix and make the
documents its rows need; the functional test_rbac_keystone.py runs the
same rows with real Keystone tokens through them.
"""

import os
import string
from unittest import mock
import uuid

import fixtures
import webtest
import yaml

from freezer_api.api import app
from freezer_api.api import routes
from freezer_api.api.controllers import root
from freezer_api.api.controllers.v2 import base as v2_base
from freezer_api.common import policy
from freezer_api.tests.unit import base as unit_base
from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as fx

MATRIX = os.path.join(os.path.dirname(__file__), 'rbac_matrix.yaml')

# persona -> (headers, own project, a project that is not its own)
PERSONAS = {
    'member': (base.MEMBER_A, base.PROJECT_A, base.PROJECT_B),
    'reader': (base.READER_A, base.PROJECT_A, base.PROJECT_B),
    'other_member': (base.MEMBER_B, base.PROJECT_B, base.PROJECT_A),
    'admin': (base.ADMIN, 'admin-project', base.PROJECT_A),
    'service': (base.SERVICE, 'service', base.PROJECT_A),
}

# Documents made for the rows are made by an administrator.
MAKER = base.ADMIN

OWN, OTHER = 'own', 'other'


def load_matrix():
    with open(MATRIX) as f:
        return yaml.safe_load(f)['routes']


def placeholders(value):
    """The {names} in a route or body template."""
    if isinstance(value, str):
        return {name for _, name, _, _ in string.Formatter().parse(value)
                if name}
    if isinstance(value, dict):
        return set().union(*map(placeholders, value.values()), set())
    if isinstance(value, list):
        return set().union(*map(placeholders, value), set())
    return set()


def fill(value, values):
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, values) for v in value]
    return value


def expectations(row, persona):
    """[(status, OWN or OTHER)]: what ``row`` expects of ``persona`` with
    its own project in the URL and, for a route with a project, with a
    project that is not its own."""
    expected = row[persona]
    if isinstance(expected, int):
        return [(expected, OWN)]
    if len(expected) != 2:
        raise ValueError('%s: %s needs [own, other], not %r'
                         % (row['route'], persona, expected))
    return [(expected[0], OWN), (expected[1], OTHER)]


def row_request(row):
    """(method, path template, body template, placeholder names)."""
    method, template = row['route'].split(' ', 1)
    body = row.get('body')
    return method, template, body, placeholders(template) | placeholders(body)


class DocumentMaker:
    """Makes, through the API, the documents a row's placeholders name.

    A subclass sends the requests: :meth:`send` returns the status and
    the JSON reply (None when there is none) of one request.
    """

    NODE = 'node1'  # the client the matrix's job bodies name

    def __init__(self):
        self.nodes_made = set()

    def send(self, method, path, body=None):
        raise NotImplementedError

    def expect(self, status, method, path, body=None):
        """The JSON reply of a request that must answer ``status``."""
        got, reply = self.send(method, path, body)
        if got != status:
            raise AssertionError('setup %s %s answered %d: %s'
                                 % (method, path, got, reply))
        return reply

    def post(self, path, body, key):
        return self.expect(201, 'POST', path, body)[key]

    def put(self, path):
        self.expect(204, 'PUT', path)

    def run(self, project, job_id):
        """A run of the job ``job_id``: reported as running, then
        completed, as freezer-scheduler does."""
        path = fx.url('jobs', project, job_id)
        for status in ('running', 'completed'):
            self.expect(200, 'PATCH', path, {'job_schedule': {
                'status': status, 'result': 'success',
                'time_started': 1795740000, 'time_ended': 1795740060}})
        (run,) = self.expect(200, 'GET', path + '/runs')['runs']
        return run['run_id']

    @staticmethod
    def new_id():
        return 'x%s' % uuid.uuid4().hex[:12]

    def client(self, project, client_id):
        return self.post(fx.url('clients', project),
                         fx.client_body(client_id), 'client_id')

    def ensure_node(self, project):
        if project not in self.nodes_made:
            self.client(project, self.NODE)
            self.nodes_made.add(project)

    def prepare(self, project, names, setup):
        """Fresh documents in ``project`` for the row's placeholders:
        the values to fill its templates with."""
        values = {'project': project, 'new_id': self.new_id()}
        if names & {'job_id', 'action_id', 'run_id'} or setup:
            self.ensure_node(project)
        if 'action_id' in names:
            values['action_id'] = self.post(
                fx.url('actions', project),
                {'freezer_action': {'action': 'backup'}}, 'action_id')
        if names & {'job_id', 'run_id'}:
            values['job_id'] = self.post(fx.url('jobs', project),
                                         fx.job_body(), 'job_id')
        if 'run_id' in names:
            values['run_id'] = self.run(project, values['job_id'])
        if 'session_id' in names:
            values['session_id'] = self.post(
                fx.url('sessions', project),
                {'schedule': {'schedule_interval': '2 hours'}},
                'session_id')
        if setup == 'session_job':
            self.put(fx.url('sessions', project, values['session_id'],
                            'jobs', values['job_id']))
        elif setup is not None:
            raise ValueError('unknown setup %r' % setup)
        if 'client_id' in names:
            values['client_id'] = self.client(project, self.new_id())
        if 'backup_id' in names:
            values['backup_id'] = self.post(
                fx.url('backups', project),
                {'container': 'c', 'hostname': 'h', 'backup_name': 'b'},
                'backup_id')
        return values


class _WebtestMaker(DocumentMaker):
    """Makes documents as MAKER through a test's webtest app."""

    def __init__(self, test):
        super().__init__()
        self.test = test

    def send(self, method, path, body=None):
        response = self.test.request(method, path, body, headers=MAKER)
        return response.status_int, (response.json if response.body
                                     else None)


def route_key(method, path):
    """(method, segments) with ids as routes.ID, as controllers route."""
    segments = [s for s in path.split('?')[0].split('/') if s]
    segments = [routes.ID if s.startswith('{') else s for s in segments]
    if segments[:1] == ['v2'] and segments[1:2] == [routes.ID]:
        segments = ['v2', 'PROJECT'] + segments[2:]
    return method, tuple(segments)


def controller_routes():
    """Every (method, path) the controllers answer, as route_key gives."""
    keys = set()
    controller = root.RootController
    for pattern, methods in controller.routes:
        keys.update((m, pattern) for m in methods)
    v2 = controller.v2
    for pattern, methods in v2.routes:
        keys.update((m, ('v2',) + pattern) for m in methods)
    for name, resource in v2.resources.items():
        for pattern, methods in resource.routes:
            keys.update((m, ('v2', 'PROJECT', name) + pattern)
                        for m in methods)
    return keys


class TestRbacMatrix(base.ApiTestCase):

    def setUp(self):
        super().setUp()
        self.maker = _WebtestMaker(self)

    def status_of(self, row, headers, project):
        method, template, body, names = row_request(row)
        values = self.maker.prepare(project, names, row.get('setup'))
        response = self.request(method, fill(template, values),
                                body=fill(body, values), headers=headers)
        return response

    def test_matrix(self):
        mismatches = []
        rows = 0
        for row in load_matrix():
            for persona, (headers, own, other) in PERSONAS.items():
                for status, where in expectations(row, persona):
                    project = own if where == OWN else other
                    rows += 1
                    response = self.status_of(row, headers, project)
                    if response.status_int != status:
                        mismatches.append('%s as %s in %s: expected %d, '
                                          'got %d %s' % (
                                              row['route'], persona,
                                              project, status,
                                              response.status_int,
                                              response.text[:200]))
                    elif status == 403:
                        self.assertFault(response, 403, 'Access Forbidden')
        self.assertGreater(rows, 300)
        self.assertEqual([], mismatches, '\n'.join(mismatches))

    def test_every_route_is_in_the_matrix(self):
        listed = {route_key(*row['route'].split(' ', 1))
                  for row in load_matrix()}
        served = controller_routes()
        self.assertEqual(set(), served - listed, 'routes missing from '
                         'rbac_matrix.yaml')
        self.assertEqual(set(), listed - served, 'rows of routes the '
                         'controllers do not have')

    def test_every_row_names_every_persona(self):
        for row in load_matrix():
            self.assertLessEqual({'route'} | set(PERSONAS), set(row),
                                 row['route'])
            self.assertLessEqual(set(row), {'route', 'body', 'setup'} |
                                 set(PERSONAS), row['route'])


class TestPolicyFileChanges(base.ApiTestCase):
    """Decisions are remembered, yet a changed policy file (or policy.d
    file) takes effect on the next request, as oslo.policy makes it."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.policy_file = os.path.join(self.dir, 'policy.yaml')
        self.policy_d = os.path.join(self.dir, 'policy.d')
        os.mkdir(self.policy_d)
        self.write(self.policy_file, {})
        self.conf.set_override('policy_file', self.policy_file,
                               group='oslo_policy')
        self.conf.set_override('policy_dirs', [self.policy_d],
                               group='oslo_policy')
        # The enforcer reads those options when it is made, with the app.
        policy.reset()
        self.app = webtest.TestApp(app.setup_app(self.conf))
        self.url = '/v2/%s/actions' % base.PROJECT_A

    def write(self, path, rules):
        # A new mtime every time: oslo.policy reloads a file whose mtime
        # changed.
        stamp = os.stat(path).st_mtime_ns + 10**9 if os.path.exists(
            path) else None
        with open(path, 'w') as f:
            yaml.safe_dump(rules, f)
        if stamp:
            os.utime(path, ns=(stamp, stamp))

    def test_a_changed_policy_file_takes_effect_at_once(self):
        for _ in range(3):
            self.assertEqual(200, self.get(self.url).status_int)
        self.write(self.policy_file, {'actions:get_all': '!'})
        for _ in range(3):
            self.assertFault(self.get(self.url), 403)
        self.write(self.policy_file, {})
        self.assertEqual(200, self.get(self.url).status_int)

    def test_a_policy_d_file_takes_effect_at_once(self):
        self.assertEqual(200, self.get(self.url).status_int)
        extra = os.path.join(self.policy_d, 'deny.yaml')
        self.write(extra, {'actions:get_all': 'role:nobody'})
        self.assertFault(self.get(self.url), 403)
        os.unlink(extra)
        # oslo.policy notices the directory's new mtime.
        stamp = os.stat(self.policy_d).st_mtime_ns + 10**9
        os.utime(self.policy_d, ns=(stamp, stamp))
        self.assertEqual(200, self.get(self.url).status_int)

    def test_callers_are_decided_apart(self):
        self.write(self.policy_file, {'actions:get_all': 'role:member'})
        self.assertEqual(200, self.get(self.url).status_int)
        self.assertFault(self.get(self.url, headers=base.READER_A), 403)
        self.assertEqual(200, self.get(self.url).status_int)

    def test_a_policy_file_that_appears_takes_effect_at_once(self):
        # A relative policy_file is searched for in the configuration
        # directories, as oslo.config's find_file does.
        config_file = os.path.join(self.dir, 'freezer-api.conf')
        with open(config_file, 'w') as f:
            f.write('[DEFAULT]\n')
        self.conf([], project='freezer', default_config_files=[config_file])
        self.conf.set_override('policy_file', 'late-policy.yaml',
                               group='oslo_policy')
        self.conf.set_override('policy_dirs', [], group='oslo_policy')
        policy.reset()
        self.app = webtest.TestApp(app.setup_app(self.conf))
        self.assertEqual(200, self.get(self.url).status_int)
        late = os.path.join(self.dir, 'late-policy.yaml')
        self.write(late, {'actions:get_all': '!'})
        self.assertEqual(late, self.conf.find_file('late-policy.yaml'))
        self.assertFault(self.get(self.url), 403)


class TestPolicySearchDirs(base.ApiTestCase):
    """The places the enforcer watches are those oslo.config searches."""

    def test_same_order_as_find_file(self):
        root_dir = self.useFixture(fixtures.TempDir()).path
        conf_dir, extra_dir = (os.path.join(root_dir, name)
                               for name in ('etc', 'conf.d'))
        os.mkdir(conf_dir)
        os.mkdir(extra_dir)
        config_file = os.path.join(conf_dir, 'freezer-api.conf')
        with open(config_file, 'w') as f:
            f.write('[DEFAULT]\n')
        self.conf(['--config-dir', extra_dir], project='freezer',
                  default_config_files=[config_file])
        dirs = policy._search_dirs(self.conf)
        self.assertEqual([extra_dir, conf_dir], dirs[:2])
        for where in (conf_dir, extra_dir):
            path = os.path.join(where, 'some-policy.yaml')
            with open(path, 'w') as f:
                f.write('{}\n')
            found = self.conf.find_file('some-policy.yaml')
            first = next(p for p in policy._candidates(
                ('some-policy.yaml',), tuple(dirs)) if os.path.exists(p))
            self.assertEqual(found, first)


class _Authorized(Exception):
    """What the patched authorize raises: the extra rule a handler asked
    for, None for its route's own."""

    def __init__(self, extra):
        super().__init__(extra)
        self.extra = extra


def _stop_at_authorize(extra=None):
    raise _Authorized(extra)


class TestHandlerRules(unit_base.TestCase):
    """A route's policy rule is written once, in its route table; its
    handler's first call, ``authorize()``, checks that rule (which the
    policy defaults document for the route: test_policy_defaults.py)."""

    def test_every_handler_authorizes_first_with_its_routes_rule(self):
        v2 = root.RootController.v2
        checked = 0
        for plural, resource in v2.resources.items():
            for route in resource.routes:
                ids = ['id'] * route.pattern.count(routes.ID)
                for method, handler_name in route.methods.items():
                    handler = getattr(resource, handler_name)
                    with mock.patch.object(v2_base, 'authorize',
                                           side_effect=_stop_at_authorize):
                        error = self.assertRaises(_Authorized, handler,
                                                  *ids)
                    self.assertIsNone(error.extra, '%s %s.%s' % (
                        method, plural, handler_name))
                    self.assertTrue(route.rules[method])
                    checked += 1
        self.assertGreater(checked, 25)

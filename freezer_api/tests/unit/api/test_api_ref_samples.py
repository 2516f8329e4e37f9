"""The api-ref's samples are what the service answers.

``TestSamples`` runs a fixed scenario of real requests through the whole
stack and compares every request and response body it names with
``api-ref/source/samples/<name>.json``. With ``FREEZER_API_REF_WRITE=1``
it writes the samples instead, and removes those it no longer makes::

    FREEZER_API_REF_WRITE=1 tox -e py3 -- test_api_ref_samples

The caller chooses what it can (ids, the Host of the links, times it
sends), so that only what the service makes up is normalized, the same
way on every run and every database:

* the ids the service generates (a session's, a backup's, a run's) become
  the fixed ids of ``GENERATED_IDS``;
* an integer between the scenario's first and last second is a time the
  service read from its clock; it becomes ``SAMPLE_TIME``;
* the documents of a list reply are sorted by their id, but for runs,
  which keep the service's order (newest first, by when they opened);
* health, which depends on "now", is read at the fixed ``HEALTH_NOW``,
  after a poll of the client noted at a fixed time.

``TestCoverage`` checks the api-ref against the code: every route (the
OpenAPI document's, ``/`` and ``/healthcheck``) has a ``rest_method`` with
the statuses the route answers, and no other; every sample the api-ref
includes exists, and every sample is included.
"""

import copy
import difflib
import json
import os
import pathlib
import re
import time
from unittest import mock

from freezer_api.api import openapi
from freezer_api.api.controllers import root
from freezer_api.api.controllers.v2 import root as v2_root
from freezer_api.db.sqlalchemy import health as health_db
from freezer_api.db.sqlalchemy import liveness
from freezer_api.tests.unit import base as unit_base
from freezer_api.tests.unit import helpers
from freezer_api.tests.unit.api import base

WRITE_ENV = 'FREEZER_API_REF_WRITE'
REGENERATE = ('FREEZER_API_REF_WRITE=1 tox -e py3 -- test_api_ref_samples '
              '(or, in a virtualenv with the test requirements, '
              'FREEZER_API_REF_WRITE=1 stestr run test_api_ref_samples), '
              'then review and commit the changes under %s')

SOURCE = pathlib.Path(helpers.ROOT) / 'api-ref' / 'source'
SAMPLES = SOURCE / 'samples'

HOST = 'freezer.example.com:9090'
PROJECT_ID = '4d6a8c2e0f1b4e3d9a7c5b3e1f2d4c6a'
USER_ID = '7e1f3a5c9b2d4f6e8a0c1b3d5e7f9a2c'
HEADERS = {'Host': HOST, 'X-User-Id': USER_ID, 'X-Project-Id': PROJECT_ID,
           'X-Roles': 'member,reader'}

CLIENT_ID = PROJECT_ID + '_backup-node1'
CLIENT_UUID = '0b3e5d7f9a1c4e2b8d6f4a2c0e8b6d4f'
ACTION_ID = '1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6'
JOB_ID = '2c4e6a8b0d1f43e5a7c9b1d3f5e7a9c1'
INLINE_ACTION_ID = '3e5a7c9d1f2b44c6b8d0e2f4a6c8e0b2'

# The ids the service generates, in samples: name -> fixed id.
GENERATED_IDS = {
    'session_id': '5f7b9d1e3a4c45d7c9e1f3b5d7a9c1e3',
    'backup_id': '6a8c0e2f4b5d46e8d0f2a4c6e8b0d2f4',
    'run_id': '7b9d1f3a5c6e47f9e1a3b5d7f9c1e3a5',
    # The backup freezer-agent records during the run.
    'run_backup_id': '8c0e2a4b6d7f48a0f2b4c6e8a0d2f4b6',
}
# 2026-01-01T00:00:00Z: what every time read from the clock becomes. The
# times the scenario sends itself are fixed ones of that day and the next,
# which no run of the scenario's few seconds overlaps.
SAMPLE_TIME = 1767225600
# The run of the sample job that freezer-scheduler reports: the next night,
# 2026-01-02T02:00:00Z to 02:05:00Z, by the agent of this PID.
RUN_STARTED = 1767319200
RUN_ENDED = 1767319500
RUN_PID = 28114
# Health is judged at a fixed "now", that morning at 08:00:00Z, half a
# minute after freezer-scheduler last polled: the job is ok, due again at
# 14:00 (the 12 hours it kept from its session, after its run started),
# and its client online.
HEALTH_NOW = 1767340800
POLLED = HEALTH_NOW - 30

# How a route that is not in the OpenAPI document answers.
OTHER_ROUTES = {
    ('GET', '/'): {300},
    # oslo.middleware's healthcheck, in front of the Pecan app.
    ('GET', '/healthcheck'): {200, 503},
    ('HEAD', '/healthcheck'): {204, 503},
    # Prometheus's text format, which no JSON sample shows.
    ('GET', '/metrics'): {200, 401, 403, 503},
}
# The Syntax Error status, outside the range OpenAPI allows as a key.
SYNTAX_ERROR = 753


def project_url(*segments):
    return '/'.join(('/v2', PROJECT_ID) + segments)


def sample_text(body):
    """How a sample is stored: stable whatever the key order."""
    return json.dumps(body, indent=4, sort_keys=True) + '\n'


class Normalizer:
    """Makes the volatile values of a scenario's bodies fixed.

    :param started: the first second of the scenario.
    :param ended: the last second of the scenario.
    :param ids: {generated id: the fixed id that replaces it}.
    """

    def __init__(self, started, ended, ids):
        self.started = started
        self.ended = ended
        self.ids = ids

    def __call__(self, body):
        if isinstance(body, dict):
            return {self.ids.get(k, k): self(v) for k, v in body.items()}
        if isinstance(body, list):
            return [self(v) for v in body]
        if isinstance(body, str):
            return self.ids.get(body, body)
        if (isinstance(body, int) and not isinstance(body, bool)
                and self.started <= body <= self.ended):
            return SAMPLE_TIME
        return body


def _document_id(document):
    # A client's id is in its "client" object, every other id at the top.
    for key in ('action_id', 'job_id', 'session_id', 'backup_id'):
        if key in document:
            return document[key]
    return document['client']['client_id']


def sorted_list(body, key):
    """A list reply ``{key: [...]}`` with its documents sorted by id:
    the samples do not depend on a database's order of equal rows."""
    return dict(body, **{key: sorted(body[key], key=_document_id)})


FS_ACTION = {
    'action': 'backup',
    'mode': 'fs',
    'backup_name': 'etc-nightly',
    'container': 'freezer_etc',
    'path_to_backup': '/etc',
    'storage': 'swift',
    'engine_name': 'tar',
    'log_file': '/var/log/freezer-agent/etc-nightly.log',
}


def etc_backup(level, time_stamp, **extra):
    """freezer-agent's metadata of a level ``level`` tar backup of /etc
    to Swift, made by the job JOB_ID."""
    return {'action': 'backup', 'backup_name': 'etc-nightly',
            'container': 'freezer_etc', 'hostname': 'backup-node1',
            'mode': 'fs', 'engine_name': 'tar', 'storage': 'swift',
            'path_to_backup': '/etc', 'curr_backup_level': level,
            'time_stamp': time_stamp, 'job_id': JOB_ID, **extra}


SCHEDULE = {'schedule_interval': '1 days',
            'schedule_start_date': '2026-01-01T02:00:00'}


class TestSamples(base.ApiTestCase):
    """The scenario the samples come from."""

    headers = HEADERS

    def setUp(self):
        super().setUp()
        if not SOURCE.is_dir():
            self.skipTest('no api-ref source tree at %s' % SOURCE)
        self.samples = {}

    def call(self, method, path, status, body=None, request=None,
             response=None, headers=None, listed=None):
        """Send a request, check its status and keep the samples named.

        :param request: the sample name of the request body.
        :param response: the sample name of the response body.
        :param listed: the key of a list reply's documents.
        """
        reply = self.request(method, path, body=body,
                             headers=dict(HEADERS, **(headers or {})))
        self.assertEqual(status, reply.status_int,
                         '%s %s: %s' % (method, path, reply.text))
        if request:
            self.keep(request, body)
        if response:
            answer = json.loads(reply.body)
            if listed:
                answer = sorted_list(answer, listed)
            self.keep(response, answer)
        return reply

    def keep(self, name, body):
        self.assertNotIn(name, self.samples, 'two samples named %s' % name)
        self.samples[name] = copy.deepcopy(body)

    def create(self, resource, body):
        """POST a new document of ``resource`` and GET it back, keeping
        the create and get samples.

        :returns: (the id the reply gives, the document's URL)
        """
        reply = self.call('POST', project_url(resource), 201, body=body,
                          request=resource + '-create-request',
                          response=resource + '-create-response')
        doc_id = reply.json[resource[:-1] + '_id']
        url = project_url(resource, doc_id)
        self.call('GET', url, 200, response=resource + '-get-response')
        return doc_id, url

    def test_samples(self):
        started = int(time.time())
        self.versions()
        self.clients()
        self.actions()
        self.jobs()
        generated = {self.sessions(): GENERATED_IDS['session_id'],
                     self.backups(): GENERATED_IDS['backup_id']}
        run_id, run_backup_id = self.runs()
        generated.update({run_id: GENERATED_IDS['run_id'],
                          run_backup_id: GENERATED_IDS['run_backup_id']})
        self.health()
        self.cleanup()
        normalize = Normalizer(started, int(time.time()) + 1, generated)
        samples = {name: sample_text(normalize(body))
                   for name, body in self.samples.items()}
        if os.environ.get(WRITE_ENV) == '1':
            self.write(samples)
        else:
            self.compare(samples)

    # --- the scenario ---------------------------------------------------

    def versions(self):
        self.call('GET', '/', 300, response='versions-response')
        self.call('GET', '/v2', 200, response='v2-home-response')
        # Long, and it names the service's version: documented, no sample.
        self.call('GET', '/v2/openapi.json', 200)
        self.call('GET', '/healthcheck', 200,
                  headers={'Accept': 'application/json'},
                  response='healthcheck-response')
        self.call('HEAD', '/healthcheck', 204)
        self.call('GET', project_url('actions', 'no-such-action'), 404,
                  response='fault-response')

    def clients(self):
        # The flat body freezer-scheduler posts when it starts.
        self.create('clients', {
            'client_id': CLIENT_ID,
            'hostname': 'backup-node1',
            'description': 'freezer-scheduler on backup-node1',
            'uuid': CLIENT_UUID,
            'supported_actions': ['backup', 'restore', 'info'],
            'supported_modes': ['fs', 'mysql', 'cinder', 'nova'],
            'supported_storages': ['swift', 'local'],
            'supported_engines': ['tar', 'rsync'],
        })
        self.call('GET', project_url('clients'), 200,
                  body={'match': [{'hostname': 'backup-node1'}]},
                  request='clients-list-request',
                  response='clients-list-response', listed='clients')

    def actions(self):
        self.create('actions', {
            'action_id': ACTION_ID,
            'freezer_action': FS_ACTION,
            'max_retries': 3,
            'max_retries_interval': 60,
        })
        self.call('POST', project_url('actions', ACTION_ID), 201, body={
            'freezer_action': dict(FS_ACTION, remove_older_than=30),
            'max_retries': 5,
            'max_retries_interval': 60,
        }, headers={'If-Match': '"1"'}, request='actions-replace-request',
            response='actions-replace-response')
        self.call('PATCH', project_url('actions', ACTION_ID), 200, body={
            'freezer_action': {'storage': 'local',
                               'container': '/var/backups/freezer'},
            'mandatory': True,
        }, request='actions-update-request',
            response='actions-update-response')
        self.call('GET', project_url('actions'), 200, body={
            'match': [{'backup_name': 'etc-nightly'}],
            'match_not': [{'mode': 'mysql'}],
        }, request='actions-list-request',
            response='actions-list-response', listed='actions')

    def jobs(self):
        self.create('jobs', {
            'job_id': JOB_ID,
            'client_id': CLIENT_ID,
            'description': 'etc every night',
            'job_schedule': SCHEDULE,
            'job_actions': [
                {'action_id': ACTION_ID},
                {'action_id': INLINE_ACTION_ID,
                 'freezer_action': {'action': 'info', 'storage': 'swift',
                                    'container': 'freezer_etc'},
                 'max_retries': 1},
            ],
        })
        self.call('POST', project_url('jobs', JOB_ID), 201, body={
            'client_id': CLIENT_ID,
            'description': 'etc every night, then list the backups',
            'job_schedule': dict(SCHEDULE, time_created=1767139200),
            'job_actions': [
                {'action_id': ACTION_ID},
                {'action_id': INLINE_ACTION_ID},
            ],
        }, request='jobs-replace-request', response='jobs-replace-response')
        self.call('PATCH', project_url('jobs', JOB_ID), 200, body={
            'job_schedule': {'status': 'scheduled', 'result': 'success',
                             'time_started': 1767232800,
                             'time_ended': 1767233100},
        }, request='jobs-update-request', response='jobs-update-response')
        self.call('GET', project_url('jobs'), 200,
                  body={'match': [{'client_id': CLIENT_ID}]},
                  request='jobs-list-request', response='jobs-list-response',
                  listed='jobs')
        for event in ('start', 'stop', 'abort'):
            self.call('POST', project_url('jobs', JOB_ID, 'event'), 202,
                      body={event: None},
                      request='jobs-event-%s-request' % event,
                      response='jobs-event-%s-response' % event)

    def sessions(self):
        """The session's part; returns the session id it was given."""
        session_id, session = self.create('sessions', {
            'description': 'etc of every node, together',
            'hold_off': 60,
            'schedule': SCHEDULE,
        })
        self.call('POST', session, 201, body={
            'description': 'etc of every node, together',
            'hold_off': 120,
            'schedule': dict(SCHEDULE, schedule_interval='12 hours'),
        }, request='sessions-replace-request',
            response='sessions-replace-response')
        self.call('PATCH', session, 200, body={'hold_off': 30},
                  request='sessions-update-request',
                  response='sessions-update-response')
        self.call('PUT', session + '/jobs/' + JOB_ID, 204)
        self.call('GET', session, 200,
                  response='sessions-get-with-job-response')
        self.call('POST', session + '/action', 202,
                  body={'start': {'job_id': JOB_ID, 'current_tag': 0}},
                  request='sessions-start-request',
                  response='sessions-start-response')
        self.call('POST', session + '/action', 202,
                  body={'end': {'job_id': JOB_ID, 'current_tag': 1,
                                'result': 'success'}},
                  request='sessions-end-request',
                  response='sessions-end-response')
        self.call('GET', project_url('sessions'), 200,
                  body={'match': [{'status': 'completed'}]},
                  request='sessions-list-request',
                  response='sessions-list-response', listed='sessions')
        self.call('DELETE', session + '/jobs/' + JOB_ID, 204)
        self.call('DELETE', session, 204)
        return session_id

    def backups(self):
        """The backups' part; returns the backup id it was given."""
        backup_id, backup = self.create('backups', etc_backup(
            0, 1767232800, client_version='15.0.0', status='creating'))
        self.call('PATCH', backup, 200, body={
            'status': 'available',
            'backup_metadata': {'time_stamp_end': 1767233100},
        }, headers={'If-Match': '"1"'}, request='backups-update-request',
            response='backups-update-response')
        self.call('GET', project_url('backups'), 200, body={
            'match': [{'backup_name': 'etc-nightly'},
                      {'status': 'available'}],
        }, request='backups-list-request',
            response='backups-list-response', listed='backups')
        self.call('DELETE', backup, 204)
        return backup_id

    def runs(self):
        """A run of the job, as freezer-scheduler reports it, and the
        run history it makes; returns the ids of the run and of the backup
        linked to it."""
        job = project_url('jobs', JOB_ID)
        # The scheduler first takes the stop the session part left (a
        # report of a run made before seeing it would keep it), and is
        # started again.
        self.call('PATCH', job, 200, body={'job_schedule': {
            'status': 'stop', 'event': ''}})
        # (at a time of the scenario's: it arms the job again)
        with mock.patch('time.time', return_value=RUN_STARTED - 3600):
            self.call('POST', project_url('jobs', JOB_ID, 'event'), 202,
                      body={'start': None})
        self.call('PATCH', job, 200, body={'job_schedule': {
            'status': 'scheduled', 'event': ''}})
        self.call('PATCH', job, 200, body={'job_schedule': {
            'status': 'running', 'result': '', 'event': '',
            'time_started': RUN_STARTED, 'time_ended': -1}})
        self.call('PATCH', job, 200,
                  body={'job_schedule': {'current_pid': RUN_PID}})
        # freezer-agent's metadata of the backup it made, posted meanwhile.
        reply = self.call('POST', project_url('backups'), 201,
                          body=etc_backup(1, RUN_STARTED))
        backup_id = reply.json['backup_id']
        # The job recurs: freezer-scheduler schedules it again.
        self.call('PATCH', job, 200, body={'job_schedule': {
            'status': 'scheduled', 'result': 'success',
            'time_ended': RUN_ENDED}})
        # Lists of runs keep the service's order, newest first.
        reply = self.call('GET', project_url('runs'), 200,
                          body={'match': [{'result': 'success'}]},
                          request='runs-list-request',
                          response='runs-list-response')
        (run,) = reply.json['runs']
        self.call('GET', project_url('runs', run['run_id']), 200,
                  response='runs-get-response')
        self.call('GET', project_url('jobs', JOB_ID, 'runs'), 200,
                  response='jobs-runs-list-response')
        self.call('DELETE', project_url('backups', backup_id), 204)
        return run['run_id'], backup_id

    def health(self):
        """The health of the job after its run, and its client's, at
        ``HEALTH_NOW``."""
        # freezer-scheduler's poll, noted at a fixed time (a real poll
        # would note the clock's).
        liveness.saw(PROJECT_ID, CLIENT_ID, POLLED)
        with mock.patch.object(health_db, '_now', return_value=HEALTH_NOW):
            self.call('GET', project_url('health'), 200,
                      body={'match': [{'client_id': CLIENT_ID}]},
                      request='health-list-request',
                      response='health-list-response', listed='jobs')
            self.call('GET', project_url('jobs', JOB_ID, 'health'), 200,
                      response='jobs-health-response')

    def cleanup(self):
        self.call('DELETE', project_url('jobs', JOB_ID), 204)
        self.call('DELETE', project_url('actions', ACTION_ID), 204)
        self.call('DELETE', project_url('actions', INLINE_ACTION_ID), 204)
        self.call('DELETE', project_url('clients', CLIENT_ID), 204)

    # --- samples on disk -----------------------------------------------

    def write(self, samples):
        SAMPLES.mkdir(exist_ok=True)
        for path in SAMPLES.glob('*.json'):
            if path.stem not in samples:
                path.unlink()
        for name, text in samples.items():
            (SAMPLES / (name + '.json')).write_text(text)

    def compare(self, samples):
        problems = []
        for name, text in sorted(samples.items()):
            path = SAMPLES / (name + '.json')
            if not path.exists():
                problems.append('%s is missing' % path.name)
                continue
            committed = path.read_text()
            if committed != text:
                diff = difflib.unified_diff(
                    committed.splitlines(), text.splitlines(),
                    'committed ' + path.name, 'answered', lineterm='', n=2)
                problems.append('%s differs from what the service answers:'
                                '\n%s' % (path.name, '\n'.join(diff)))
        for path in sorted(SAMPLES.glob('*.json')):
            if path.stem not in samples:
                problems.append('%s is no longer written by this test'
                                % path.name)
        if problems:
            self.fail('\n\n'.join(problems) + '\n\nRegenerate with: '
                      + REGENERATE % SAMPLES)


# --- the api-ref against the code ----------------------------------------

_REST_METHOD = re.compile(r'^\.\. rest_method:: +(\S+) +(\S+)\s*$', re.M)
_STATUS = re.compile(r'^\.\. rest_status_code:: +(success|error) +\S+'
                     r'\s*\n\n((?:[ \t]+- .*\n)+)', re.M)
_INCLUDE = re.compile(r'^\.\. literalinclude:: +samples/(\S+)\s*$', re.M)


def documented_routes():
    """{(method, path): (file name, {status})} of the api-ref's .inc
    files."""
    routes = {}
    for path in sorted(SOURCE.glob('*.inc')):
        text = path.read_text()
        starts = list(_REST_METHOD.finditer(text))
        for index, match in enumerate(starts):
            end = (starts[index + 1].start() if index + 1 < len(starts)
                   else len(text))
            statuses = set()
            for block in _STATUS.finditer(text, match.end(), end):
                for line in block.group(2).splitlines():
                    code = line.strip()[2:].split(':')[0].strip()
                    statuses.add(int(code))
            key = (match.group(1), match.group(2))
            if key in routes:
                raise AssertionError('%s %s is documented twice' % key)
            routes[key] = (path.name, statuses)
    return routes


def code_routes():
    """{(method, path): {status}} of every route the service has."""
    document = openapi.build(v2_root.V2Controller())
    routes = {}
    for path, item in document['paths'].items():
        for method, operation in item.items():
            if method == 'parameters':
                continue
            routes[(method.upper(), path)] = {
                SYNTAX_ERROR if code == openapi.SYNTAX_ERROR else int(code)
                for code in operation['responses']}
    for pattern, methods in root.RootController.routes:
        for method in methods:
            key = (method, '/' + '/'.join(pattern))
            routes[key] = OTHER_ROUTES[key]
    routes.update(OTHER_ROUTES)
    return routes


class TestCoverage(unit_base.TestCase):
    """Every route is documented as it answers, with samples that exist."""

    def setUp(self):
        super().setUp()
        if not SOURCE.is_dir():
            self.skipTest('no api-ref source tree at %s' % SOURCE)

    def test_every_route_is_documented(self):
        documented = documented_routes()
        routes = code_routes()
        missing = sorted(set(routes) - set(documented))
        self.assertEqual([], missing, 'routes without a ".. rest_method::" '
                         'in %s/*.inc' % SOURCE)
        unknown = sorted(set(documented) - set(routes))
        self.assertEqual([], unknown, '".. rest_method::" of routes the '
                         'service does not have')

    def test_statuses_are_those_the_route_answers(self):
        routes = code_routes()
        wrong = ['%s %s (%s): documented %s, answers %s'
                 % (method, path, name, sorted(statuses),
                    sorted(routes[(method, path)]))
                 for (method, path), (name, statuses)
                 in sorted(documented_routes().items())
                 if (method, path) in routes
                 and statuses != routes[(method, path)]]
        self.assertEqual([], wrong)

    def test_included_samples_exist_and_every_sample_is_included(self):
        included = set()
        for path in [*SOURCE.glob('*.inc'), *SOURCE.glob('*.rst')]:
            included.update(_INCLUDE.findall(path.read_text()))
        existing = {path.name for path in SAMPLES.glob('*.json')}
        self.assertEqual([], sorted(included - existing),
                         'samples included by an .inc that do not exist')
        self.assertEqual([], sorted(existing - included),
                         'samples that no .inc or .rst includes')

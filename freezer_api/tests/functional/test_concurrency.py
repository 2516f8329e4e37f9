"""Concurrent writers on the production topology.

Two freezer-api servers of two workers each share the run's database
(SQLite, PostgreSQL or MariaDB: see fixtures_db). Each writer thread sends
its requests to both servers in turn, so conflicting writes meet in the
database, not in one process. Every test prints its figures (see
utils.report_figures).
"""

import concurrent.futures
import threading
import uuid

import requests

from freezer_api.tests.functional import base
from freezer_api.tests.functional import utils

PROJECT = 'concurrency'
MEMBER = utils.member_headers(PROJECT)

BACKUP = utils.fs_backup_action('etc', 'freezer_etc')


class _Writer:
    """One thread's HTTP connections: one keep-alive session per server,
    used in turn."""

    def __init__(self, urls):
        self.sessions = [(url, requests.Session()) for url in urls]
        self.turn = 0

    def __call__(self, method, path, body=None, headers=None):
        url, session = self.sessions[self.turn % len(self.sessions)]
        self.turn += 1
        return session.request(method, f'{url}/v2/{PROJECT}/{path}',
                               json=body, headers=dict(MEMBER,
                                                       **(headers or {})),
                               timeout=60)

    def close(self):
        for _, session in self.sessions:
            session.close()


class ConcurrencyTest(base.FunctionalTestCase):

    auth_strategy = 'noauth'
    needs_client = False

    def setUp(self):
        super().setUp()
        self.api = _Writer(self.server.urls)
        self.addCleanup(self.api.close)

    def run_threads(self, count, target, timeout=600):
        """``target(writer, index)`` in ``count`` threads started together;
        returns their results in index order (a thread's exception is
        raised here)."""
        barrier = threading.Barrier(count)

        def run(index):
            writer = _Writer(self.server.urls)
            writer.turn = index
            try:
                barrier.wait(30)
                return target(writer, index)
            finally:
                writer.close()

        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            futures = [pool.submit(run, i) for i in range(count)]
            done, pending = concurrent.futures.wait(futures, timeout)
            self.assertEqual(set(), pending, 'writers did not finish')
            return [f.result() for f in futures]

    def create(self, resource, body, key):
        response = self.api('POST', resource, body)
        self.assertEqual(201, response.status_code, response.text)
        return response.json()[key]

    def show(self, resource, doc_id):
        response = self.api('GET', f'{resource}/{doc_id}')
        self.assertEqual(200, response.status_code, response.text)
        return response

    # ----------------------------------------------------------------
    def test_if_match_read_modify_write_loses_nothing(self):
        """20 threads x 50 If-Match read-modify-writes of one action: the
        version counts every write, and the document holds every one."""
        threads, writes = 20, 50
        action_id = self.create('actions', BACKUP, 'action_id')
        path = f'actions/{action_id}'

        def writer(api, index):
            attempts = 0
            for n in range(writes):
                while True:
                    attempts += 1
                    current = api('GET', path)
                    assert current.status_code == 200, current.text
                    marks = current.json()['freezer_action'].get(
                        'remove_from_date', '')
                    response = api('PATCH', path, {'freezer_action': {
                        'remove_from_date': f'{marks} {index}.{n}'}},
                        headers={'If-Match': current.headers['ETag']})
                    if response.status_code != 412:
                        assert response.status_code == 200, response.text
                        break
            return attempts

        attempts = self.run_threads(threads, writer)
        doc = self.show('actions', action_id).json()
        found = doc['freezer_action']['remove_from_date'].split()
        expected = {f'{i}.{n}' for i in range(threads) for n in range(writes)}
        self.figures('If-Match writes of one action',
                     writes_acknowledged=threads * writes,
                     attempts=sum(attempts),
                     version_expected=1 + threads * writes,
                     version_found=doc['_version'],
                     writes_present=len(expected & set(found)),
                     writes_lost=len(expected - set(found)))
        self.assertEqual(1 + threads * writes, doc['_version'])
        self.assertEqual(sorted(expected), sorted(found))

    def test_job_and_embedded_action_written_at_once(self):
        """If-Match PATCHes of a job race PATCHes of an action it embeds
        (each of which renews the job): every write is a version, and both
        writers' last values are in the job."""
        writes = 60
        client_id = self.register_client()
        action_id = self.create('actions', BACKUP, 'action_id')
        job_id = self.create('jobs', {
            'client_id': client_id, 'description': 'race',
            'job_schedule': {'schedule_interval': '1 days'},
            'job_actions': [{'action_id': action_id}]}, 'job_id')
        before = self.show('jobs', job_id).json()['_version']

        def writer(api, index):
            for n in range(writes):
                if index == 0:
                    while True:
                        current = api('GET', f'jobs/{job_id}')
                        response = api(
                            'PATCH', f'jobs/{job_id}',
                            {'description': f'job write {n}'},
                            headers={'If-Match': current.headers['ETag']})
                        if response.status_code != 412:
                            break
                else:
                    response = api('PATCH', f'actions/{action_id}', {
                        'freezer_action': {'backup_name': f'action {n}'}})
                assert response.status_code == 200, response.text

        self.run_threads(2, writer)
        job = self.show('jobs', job_id).json()
        self.figures('job vs embedded action',
                     writes_acknowledged=2 * writes,
                     version_expected=before + 2 * writes,
                     version_found=job['_version'])
        self.assertEqual(before + 2 * writes, job['_version'])
        self.assertEqual(f'job write {writes - 1}', job['description'])
        self.assertEqual(f'action {writes - 1}', job['job_actions'][0][
            'freezer_action']['backup_name'])

    def test_create_or_replace_of_a_new_id(self):
        """8 callers POST the same new id at once: all get 201."""
        callers = 8
        for resource, body in (('actions', BACKUP),
                               ('sessions', {'schedule': {
                                   'schedule_interval': '1 days'}})):
            doc_id = uuid.uuid4().hex

            def post(api, index, resource=resource, body=body,
                     doc_id=doc_id):
                response = api('POST', f'{resource}/{doc_id}',
                               dict(body, description=f'caller {index}'))
                return response.status_code, response.text

            results = self.run_threads(callers, post)
            self.figures(f'create-or-replace of a new {resource[:-1]} id',
                         callers=callers,
                         answered_201=[r[0] for r in results].count(201))
            self.assertEqual([201] * callers, [r[0] for r in results],
                             results)
            doc = self.show(resource, doc_id).json()
            self.assertLessEqual(doc['_version'], callers)

    def register_client(self, client_id=None):
        client_id = client_id or f'node-{uuid.uuid4().hex[:8]}'
        response = self.api('POST', 'clients', {
            'client_id': client_id, 'hostname': client_id})
        self.assertEqual(201, response.status_code, response.text)
        return client_id

    def test_concurrent_registration_of_one_client(self):
        callers = 8
        client_id = f'node-{uuid.uuid4().hex[:8]}'

        def register(api, index):
            return api('POST', 'clients', {
                'client_id': client_id, 'hostname': f'host-{index}'}
            ).status_code

        statuses = self.run_threads(callers, register)
        response = self.api('GET', 'clients', {
            'match': [{'client_id': client_id}]})
        clients = [c for c in response.json()['clients']
                   if c['client']['client_id'] == client_id]
        self.figures('registration of one client id', callers=callers,
                     answered_201=statuses.count(201),
                     clients_found=len(clients))
        self.assertEqual([201] * callers, statuses)
        self.assertEqual(1, len(clients), clients)

    def test_concurrent_starts_open_one_generation(self):
        """8 jobs of one session start at once with the session's tag:
        the session moves on by one generation, not eight."""
        jobs = 8
        client_id = self.register_client()
        session_id = self.create('sessions', {
            'hold_off': 60, 'schedule': {'schedule_interval': '1 days'}},
            'session_id')
        job_ids = []
        for _ in range(jobs):
            job_ids.append(self.create('jobs', {
                'client_id': client_id,
                'job_schedule': {'schedule_interval': '1 days'},
                'job_actions': [BACKUP]}, 'job_id'))
            response = self.api(
                'PUT', f'sessions/{session_id}/jobs/{job_ids[-1]}')
            self.assertEqual(204, response.status_code, response.text)

        def start(api, index):
            response = api('POST', f'sessions/{session_id}/action', {
                'start': {'job_id': job_ids[index], 'current_tag': 0}})
            return response.status_code, response.json()

        results = self.run_threads(jobs, start)
        session = self.show('sessions', session_id).json()
        outcomes = [r[1].get('result') for r in results]
        self.figures('session start by 8 jobs with one tag', jobs=jobs,
                     generations_opened=session['session_tag'],
                     outcomes=sorted(outcomes))
        self.assertEqual([202] * jobs, [r[0] for r in results], results)
        self.assertEqual(1, session['session_tag'])
        self.assertLessEqual(set(outcomes), {'success', 'hold-off'})
        running = [j for j, entry in session['jobs'].items()
                   if entry['status'] == 'running']
        self.assertEqual(outcomes.count('success'), len(running))

    def test_jobs_created_while_their_actions_are_deleted(self):
        """Jobs naming actions by id are created while those actions are
        deleted (each pair of requests sent at the same moment): no job is
        left embedding an action that is gone."""
        count = 40
        client_id = self.register_client()
        action_ids = [self.create('actions', BACKUP, 'action_id')
                      for _ in range(count)]
        step = threading.Barrier(2)

        def work(api, index):
            statuses = []
            for action_id in action_ids:
                step.wait(30)
                if index == 0:
                    response = api('DELETE', f'actions/{action_id}')
                else:
                    response = api('POST', 'jobs', {
                        'client_id': client_id,
                        'description': f'uses {action_id}',
                        'job_schedule': {'schedule_interval': '1 days'},
                        'job_actions': [{'action_id': action_id}]})
                statuses.append(response.status_code)
            return statuses

        results = self.run_threads(2, work)
        self.assertEqual([204] * count, results[0])
        self.assertLessEqual(set(results[1]), {201, 404, 422}, results[1])
        left = []
        for action_id in action_ids:
            self.assertEqual(404, self.api(
                'GET', f'actions/{action_id}').status_code)
            response = self.api('GET', 'jobs?limit=1000', {
                'match': [{'description': f'uses {action_id}'}]})
            self.assertEqual(200, response.status_code, response.text)
            for job in response.json()['jobs']:
                left += [a.get('action_id') for a in job['job_actions']
                         if a.get('action_id') == action_id]
        self.figures('jobs created while their actions are deleted',
                     actions_deleted=count,
                     jobs_created=results[1].count(201),
                     jobs_refused=count - results[1].count(201),
                     jobs_embedding_a_deleted_action=len(left))
        self.assertEqual([], left)

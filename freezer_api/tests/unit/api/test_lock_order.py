"""Writes that change several resources at once, raced against each other.

Each pair below locked its rows in opposite orders before there was one
global lock order (freezer_api.db.sqlalchemy.relations): on PostgreSQL
and MySQL the database then found a deadlock, which only oslo.db's retry
survived. Every test runs its pair many times and checks that nothing was
lost, that no row points at a missing one, and that the database saw no
deadlock. On SQLite writers take turns, so the races are checked for
their results only.
"""

import functools
import json
import threading

import fixtures
import sqlalchemy as sa
import webtest

from freezer_api.api import app
from freezer_api.db.sqlalchemy import models
from freezer_api.tests.unit import helpers
from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as fx

JOBS = fx.url('jobs')
ACTIONS = fx.url('actions')
SESSIONS = fx.url('sessions')

# DB-API errors that report a deadlock: PostgreSQL's SQLSTATE, MySQL's
# error number.
PG_DEADLOCK = '40P01'
MYSQL_DEADLOCK = 1213


def is_deadlock(error):
    if getattr(error, 'pgcode', None) == PG_DEADLOCK:
        return True
    args = getattr(error, 'args', ())
    return bool(args) and args[0] == MYSQL_DEADLOCK


class DeadlockCounter(fixtures.Fixture):
    """Counts the deadlocks the database reports on ``engine``."""

    def __init__(self, engine):
        super().__init__()
        self.engine = engine
        self.count = 0
        self.lock = threading.Lock()

    def _setUp(self):
        sa.event.listen(self.engine, 'handle_error', self._seen)
        self.addCleanup(sa.event.remove, self.engine, 'handle_error',
                        self._seen)

    def _seen(self, context):
        if is_deadlock(context.original_exception):
            with self.lock:
                self.count += 1


class RaceTestCase(base.ApiTestCase):
    """Runs requests at once, each from a thread with an app of its own."""

    ROUNDS = 12
    THREADS = 3

    def setUp(self):
        super().setUp()
        fx.add_client(self, 'node1')
        self.deadlocks = self.useFixture(
            DeadlockCounter(self.database.engine))
        # Built before any thread starts: building a Pecan app resets
        # Pecan's thread-local request state.
        self.apps = [webtest.TestApp(app.setup_app(self.conf))
                     for _ in range(self.THREADS)]

    def together(self, *calls, timeout=120):
        """Run every ``call(app)`` at once; their results, in order."""
        results = helpers.run_concurrently(
            self, [functools.partial(call, self.apps[index])
                   for index, call in enumerate(calls)], timeout,
            names=['request %d' % i for i in range(len(calls))])
        self.assertEqual(0, self.deadlocks.count,
                         'the database found deadlocks')
        return results

    def status(self, method, path, body=None):
        """A request for :meth:`together`: (app) -> status code."""
        headers = dict(base.MEMBER_A)
        params = {}
        if body is not None:
            headers['Content-Type'] = 'application/json'
            params['body'] = json.dumps(body).encode()

        def call(wsgi):
            return wsgi.request(path, method=method, headers=headers,
                                expect_errors=True, **params).status_int
        return call

    def post_job(self, body, created):
        """A job POST for :meth:`together`: its status; the new job's id
        is appended to ``created``."""
        def call(wsgi):
            response = wsgi.post_json(JOBS, body, headers=base.MEMBER_A,
                                      expect_errors=True)
            created.append(response.json.get('job_id'))
            return response.status_int
        return call

    def document(self, resource, doc_id):
        response = self.get(fx.url(resource, base.PROJECT_A, doc_id))
        self.assertEqual(200, response.status_int, response.text)
        return response.json

    def missing(self, resource, doc_id):
        response = self.get(fx.url(resource, base.PROJECT_A, doc_id))
        return response.status_int == 404

    def new_action(self, **freezer_action):
        body = {'freezer_action': dict(fx.FS_BACKUP['freezer_action'],
                                       **freezer_action)}
        response = self.post(ACTIONS, body)
        self.assertEqual(201, response.status_int, response.text)
        return response.json['action_id']

    def job_of(self, *action_ids, **fields):
        return fx.create_job(self, fx.job_body(
            job_actions=[{'action_id': a} for a in action_ids], **fields))

    def dangling_links(self):
        """job_actions rows whose action or job is gone."""
        link = models.JobAction
        with self.database.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(link).where(sa.or_(
                    ~sa.exists().where(models.Action.seq == link.action_seq),
                    ~sa.exists().where(models.Job.seq == link.job_seq))
                )).scalar_one()


class TestSessionsAndJobs(RaceTestCase):
    """Session writes lock the session then its jobs; a job delete locks
    the job's session first too."""

    def member(self, session_id=None):
        """A job in a session (a new one unless given)."""
        session_id = session_id or fx.create_session(self)
        job_id = fx.create_job(self)
        fx.add_to_session(self, session_id, job_id)
        return session_id, job_id

    def test_add_job_while_the_job_is_deleted(self):
        for _ in range(self.ROUNDS):
            session_id, job_id = self.member()
            before = self.document('sessions', session_id)['_version']
            put, delete = self.together(
                self.status('PUT', '%s/%s/jobs/%s' % (SESSIONS, session_id,
                                                      job_id)),
                self.status('DELETE', '%s/%s' % (JOBS, job_id)))
            self.assertEqual(204, delete)
            self.assertIn(put, (204, 404))
            self.assertTrue(self.missing('jobs', job_id))
            session = self.document('sessions', session_id)
            self.assertEqual({}, session['jobs'])
            # One write for the delete, one for an add that found the job.
            self.assertEqual(before + 1 + (put == 204), session['_version'])

    def test_start_while_the_job_is_deleted(self):
        for _ in range(self.ROUNDS):
            session_id, job_id = self.member()
            _, other = self.member(session_id)
            tag = self.document('sessions', session_id)['session_tag']
            before = self.document('sessions', session_id)['_version']
            start, delete = self.together(
                self.status('POST', '%s/%s/action' % (SESSIONS, session_id),
                            {'start': {'job_id': job_id,
                                       'current_tag': tag}}),
                self.status('DELETE', '%s/%s' % (JOBS, job_id)))
            self.assertEqual(204, delete)
            self.assertIn(start, (202, 404))
            session = self.document('sessions', session_id)
            self.assertEqual([other], list(session['jobs']))
            self.assertEqual(before + 1 + (start == 202),
                             session['_version'])

    def test_session_delete_while_a_member_is_deleted(self):
        for _ in range(self.ROUNDS):
            session_id, job_id = self.member()
            _, stays = self.member(session_id)
            before = self.document('jobs', stays)['_version']
            self.assertEqual([204, 204], self.together(
                self.status('DELETE', '%s/%s' % (SESSIONS, session_id)),
                self.status('DELETE', '%s/%s' % (JOBS, job_id))))
            self.assertTrue(self.missing('sessions', session_id))
            self.assertTrue(self.missing('jobs', job_id))
            job = self.document('jobs', stays)
            self.assertEqual(('', 0, before + 1), (
                job['session_id'], job['session_tag'], job['_version']))

    def test_a_job_moved_between_two_sessions(self):
        first, job_id = self.member()
        second = fx.create_session(self)
        for n in range(self.ROUNDS):
            # The job is in one session; one caller moves it to the
            # other while one adds it again where it is.
            here, there = (first, second) if n % 2 == 0 else (second, first)
            if self.document('jobs', job_id)['session_id'] != here:
                fx.add_to_session(self, here, job_id)
            self.assertEqual([204, 204], self.together(
                self.status('PUT', '%s/%s/jobs/%s' % (SESSIONS, here,
                                                      job_id)),
                self.status('PUT', '%s/%s/jobs/%s' % (SESSIONS, there,
                                                      job_id))))
            job = self.document('jobs', job_id)
            members = {s: list(self.document('sessions', s)['jobs'])
                       for s in (first, second)}
            self.assertIn(job['session_id'], (first, second))
            self.assertEqual({s: [job_id] if s == job['session_id'] else []
                              for s in (first, second)}, members)


class TestActionsAndJobs(RaceTestCase):
    """Action writes lock the jobs embedding the action, then the action;
    job writes lock their jobs, then the actions they name."""

    def links(self, job_id):
        return [a['action_id']
                for a in self.document('jobs', job_id)['job_actions']]

    def test_job_created_while_its_action_is_deleted(self):
        for _ in range(self.ROUNDS):
            action_id = self.new_action()
            created = []
            status, delete = self.together(
                self.post_job(fx.job_body(
                    job_actions=[{'action_id': action_id}]), created),
                self.status('DELETE', '%s/%s' % (ACTIONS, action_id)))
            self.assertEqual(204, delete)
            self.assertIn(status, (201, 422))
            if status == 201:
                # Created first: the delete unlinked the action.
                job = self.document('jobs', created[0])
                self.assertEqual(([], 2), (job['job_actions'],
                                           job['_version']))
            self.assertTrue(self.missing('actions', action_id))
            self.assertEqual(0, self.dangling_links())

    def test_job_patched_while_its_action_is_deleted(self):
        for _ in range(self.ROUNDS):
            action_id = self.new_action()
            job_id = self.job_of(action_id)
            before = self.document('jobs', job_id)['_version']
            patch, delete = self.together(
                self.status('PATCH', '%s/%s' % (JOBS, job_id), {
                    'description': 'patched',
                    'job_actions': [{'action_id': action_id}]}),
                self.status('DELETE', '%s/%s' % (ACTIONS, action_id)))
            self.assertEqual(204, delete)
            # After the delete, the job names an action that is gone.
            self.assertIn(patch, (200, 422))
            job = self.document('jobs', job_id)
            self.assertEqual([], job['job_actions'])
            self.assertEqual(before + 1 + (patch == 200), job['_version'])
            self.assertEqual(0, self.dangling_links())

    def test_jobs_naming_two_actions_in_opposite_orders(self):
        first, second = self.new_action(), self.new_action()
        orders = ([first, second], [second, first])
        for _ in range(self.ROUNDS):
            # Each entry changes its action too (max_retries), so each
            # write also renews every job that embeds one of them.
            created = ([], [])
            self.assertEqual([201, 201], self.together(*(
                self.post_job(fx.job_body(job_actions=[
                    {'action_id': a, 'max_retries': index + 1}
                    for a in orders[index]]), created[index])
                for index in (0, 1))))
            for index in (0, 1):
                self.assertEqual(orders[index], self.links(created[index][0]))

    def test_action_and_job_patches_give_every_write_a_version(self):
        """A job PATCH that changes its shared action renews the other job
        that embeds it, while the action is patched itself."""
        writes = self.ROUNDS * 2
        action_id = self.new_action()
        edited, other = self.job_of(action_id), self.job_of(action_id)
        before = {doc_id: self.document(resource, doc_id)['_version']
                  for resource, doc_id in (('actions', action_id),
                                           ('jobs', edited), ('jobs', other))}
        action_url = '%s/%s' % (ACTIONS, action_id)

        def patch_action(wsgi):
            return [wsgi.patch_json(action_url, {'freezer_action': {
                'backup_name': 'action write %d' % n}},
                headers=base.MEMBER_A, expect_errors=True).status_int
                for n in range(writes)]

        def patch_through_job(wsgi):
            return [wsgi.patch_json('%s/%s' % (JOBS, edited), {
                'job_actions': [{'action_id': action_id, 'freezer_action':
                                 dict(fx.FS_BACKUP['freezer_action'],
                                      backup_name='job write %d' % n)}]},
                headers=base.MEMBER_A, expect_errors=True).status_int
                for n in range(writes)]

        def patch_other_job(wsgi):
            return [wsgi.patch_json('%s/%s' % (JOBS, other), {
                'description': 'other write %d' % n},
                headers=base.MEMBER_A, expect_errors=True).status_int
                for n in range(writes)]

        self.assertEqual([[200] * writes] * 3, self.together(
            patch_action, patch_through_job, patch_other_job, timeout=300))
        action = self.document('actions', action_id)
        self.assertEqual(before[action_id] + 2 * writes, action['_version'])
        # The edited job: its own writes and the action's; the other job:
        # its own, the action's and the edited job's changes of it.
        self.assertEqual(before[edited] + 2 * writes,
                         self.document('jobs', edited)['_version'])
        self.assertEqual(before[other] + 3 * writes,
                         self.document('jobs', other)['_version'])
        for job_id in (edited, other):
            self.assertEqual([action],
                             self.document('jobs', job_id)['job_actions'])

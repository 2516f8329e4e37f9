"""The periodic look for what no request reports (db/sqlalchemy/sweep.py):
run.lost, run.missed and client.offline, each told once."""

import time
from unittest import mock

import fixtures as fixtures_lib

from freezer_api.common import notifications
from freezer_api.db.sqlalchemy import liveness
from freezer_api.db.sqlalchemy import sweep
from freezer_api.tests.unit.api import job_fixtures as fixtures
from freezer_api.tests.unit.api import test_notifications
from freezer_api.tests.unit.api import test_runs

report = test_runs.report


class SweepTestCase(test_notifications.NotificationsTestCase):

    def setUp(self):
        super().setUp()
        self.now = int(time.time())
        self.conf.set_override('run_timeout', 60, 'history')
        self.conf.set_override('client_timeout', 10, 'history')
        self.conf.set_override('grace', 30, 'history')
        self.addCleanup(liveness.flush)
        fixtures.add_client(self)
        self.sent()

    def job(self, **schedule):
        job_id = fixtures.create_job(self, fixtures.job_body(
            job_schedule=schedule))
        self.sent()
        return job_id

    def send(self, body, job_id):
        response = self.patch(fixtures.url('jobs', 'project-a', job_id),
                              body)
        self.assertEqual(200, response.status_int, response.text)
        self.sent()

    def sweep(self, now=None):
        told = sweep.sweep(self.now if now is None else now)
        return told, self.sent()


class TestLostRuns(SweepTestCase):

    def test_a_lost_run_is_told_once(self):
        job_id = self.job(schedule_interval='1 days')
        self.send(report('running', self.now - 100), job_id)
        told, sent = self.sweep()
        self.assertEqual(1, told['run.lost'])
        ((event_type, payload),) = [e for e in sent if e[0] == 'run.lost']
        self.assertEqual(job_id, payload['job_id'])
        self.assertEqual(self.now - 100, payload['time_started'])
        self.assertIsNone(payload['client_seen'])
        # A second look, or another process's, tells nothing more.
        told, sent = self.sweep()
        self.assertEqual(0, told['run.lost'])
        self.assertNotIn('run.lost', [t for t, _p in sent])

    def test_a_run_whose_client_polls_is_not_lost(self):
        job_id = self.job(schedule_interval='1 days')
        self.send(report('running', self.now - 100), job_id)
        liveness.saw('project-a', 'node1', self.now - 5)
        told, _sent = self.sweep()
        self.assertEqual(0, told['run.lost'])


class TestMissedRuns(SweepTestCase):

    def test_an_overdue_job_is_told_once_per_due_time(self):
        job_id = self.job(schedule_interval='10 minutes')
        self.send(report('running', self.now - 1000), job_id)
        self.send(report('scheduled', self.now - 1000, self.now - 990,
                         'success', schedule_interval='10 minutes'),
                  job_id)
        told, sent = self.sweep()
        self.assertEqual(1, told['run.missed'])
        ((_type, payload),) = [e for e in sent if e[0] == 'run.missed']
        self.assertEqual({'project_id': 'project-a', 'job_id': job_id,
                          'client_id': 'node1',
                          'next_due': self.now - 400}, payload)
        self.assertEqual(0, self.sweep()[0]['run.missed'])
        # The next run, late again: told again.
        self.send(report('running', self.now - 300,
                         schedule_interval='10 minutes'), job_id)
        self.send(report('scheduled', self.now - 300, self.now - 290,
                         'success', schedule_interval='10 minutes'),
                  job_id)
        told, sent = self.sweep(self.now + 600)
        self.assertEqual(1, told['run.missed'])

    def test_running_or_stopped_jobs_are_not_missed(self):
        running = self.job(schedule_interval='1 minutes')
        self.send(report('running', self.now - 1000), running)
        liveness.saw('project-a', 'node1', self.now)
        stopped = self.job(schedule_interval='1 minutes')
        self.post(fixtures.url('jobs', 'project-a', stopped, 'event'),
                  {'stop': None})
        self.sent()
        self.assertEqual(0, self.sweep()[0]['run.missed'])

    def test_a_job_started_again_is_due_from_the_start(self):
        with mock.patch('time.time', return_value=self.now - 5000):
            job_id = self.job(schedule_interval='10 minutes')
        self.send(report('running', self.now - 4000), job_id)
        self.send(report('stop', self.now - 4000, self.now - 3990,
                         'success', schedule_interval='10 minutes'),
                  job_id)
        with mock.patch('time.time', return_value=self.now - 100):
            self.post(fixtures.url('jobs', 'project-a', job_id, 'event'),
                      {'start': None})
        self.sent()
        # Due 10 minutes after the start, not after the run before.
        self.assertEqual(0, self.sweep()[0]['run.missed'])
        told, sent = self.sweep(self.now + 600)
        self.assertEqual(1, told['run.missed'])
        self.assertIn(('run.missed', {
            'project_id': 'project-a', 'job_id': job_id,
            'client_id': 'node1', 'next_due': self.now - 100 + 600}), sent)


class TestOfflineClients(SweepTestCase):

    def test_offline_is_told_once_until_it_polls_again(self):
        liveness.saw('project-a', 'node1', self.now - 100)
        told, sent = self.sweep()
        self.assertEqual(1, told['client.offline'])
        self.assertIn(('client.offline', {
            'project_id': 'project-a', 'client_id': 'node1',
            'last_seen': self.now - 100}), sent)
        self.assertEqual(0, self.sweep()[0]['client.offline'])
        # It polls again, then goes quiet again: told again.
        liveness.saw('project-a', 'node1', self.now)
        self.assertEqual(0, self.sweep()[0]['client.offline'])
        self.assertEqual(1, self.sweep(self.now + 100)[0]['client.offline'])

    def test_a_client_that_never_polled_is_not_told(self):
        self.assertEqual(0, self.sweep()[0]['client.offline'])

    def test_an_online_or_stale_client_is_not_told(self):
        liveness.saw('project-a', 'node1', self.now - 25)
        self.assertEqual(0, self.sweep()[0]['client.offline'])


# The real one: ApiTestCase replaces it in every test.
REAL_START = sweep.start


class TestBackground(SweepTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures_lib.MockPatchObject(sweep, 'start',
                                                     REAL_START))

    def test_started_by_a_request_only_when_notifications_are_sent(self):
        with mock.patch('threading.Thread') as thread:
            sweep.SWEEPER.thread = None
            self.addCleanup(setattr, sweep.SWEEPER, 'thread', None)
            self.get(fixtures.url('jobs'))
            thread.assert_called_once()
            thread.return_value.start.assert_called_once_with()

    def test_not_started_without_notifications(self):
        self.conf.set_override('driver', [], 'oslo_messaging_notifications')
        notifications.configure(self.conf)
        with mock.patch('threading.Thread') as thread:
            sweep.SWEEPER.thread = None
            self.addCleanup(setattr, sweep.SWEEPER, 'thread', None)
            self.get(fixtures.url('jobs'))
            thread.assert_not_called()

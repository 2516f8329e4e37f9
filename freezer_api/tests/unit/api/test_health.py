"""Job health and client liveness (GET /v2/{p}/health and
/v2/{p}/jobs/{id}/health), judged from the scheduler's reports and polls."""

import time
from unittest import mock

from freezer_api.db.sqlalchemy import liveness
from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as fixtures
from freezer_api.tests.unit.api import test_runs

report = test_runs.report

# The scheduler's poll, as freezer-scheduler 19.0.0 sends it.
POLL = {'match_not': [{'status': 'completed'}],
        'match': [{'client_id': 'node1'}]}


class HealthTestCase(test_runs.RunsTestCase):

    def setUp(self):
        super().setUp()
        self.now = int(time.time())
        self.conf.clear_override('run_timeout', 'history')
        self.addCleanup(liveness.flush)

    def health(self, job_id=None, **kwargs):
        return self.read('health', job_id, **kwargs)

    def poll(self, client_id='node1', project_id=base.PROJECT_A):
        body = dict(POLL, match=[{'client_id': client_id}])
        response = self.request('GET', fixtures.url('jobs', project_id) +
                                '?limit=10&offset=0&all_projects=False',
                                body=body,
                                headers=fixtures.headers_for(project_id))
        self.assertEqual(200, response.status_int, response.text)

    def job(self, **schedule):
        """A job whose schedule is ``schedule`` (created now)."""
        return fixtures.create_job(self, fixtures.job_body(
            job_schedule=schedule))

    def run_job(self, job_id, started, ended=None, result='success',
                end_status='scheduled', **schedule):
        self.send(report('running', started, **schedule), job_id=job_id)
        if ended is not None:
            self.send(report(end_status, started, ended, result,
                             **schedule), job_id=job_id)

    def event(self, job_id, event):
        self.post(fixtures.url('jobs', base.PROJECT_A, job_id, 'event'),
                  {event: None})

    def assert_due_no_more(self, job_id):
        health = self.health(job_id)
        self.assertEqual(('ok', None), (health['state'],
                                        health['next_due']))


class TestJobStates(HealthTestCase):

    def test_a_new_job_has_never_run(self):
        job_id = self.job(schedule_interval='1 days')
        health = self.health(job_id)
        self.assertEqual('never-run', health['state'])
        self.assertIsNone(health['last_run'])
        self.assertIsNone(health['last_success'])
        self.assertEqual(0, health['consecutive_failures'])
        # Due one interval after the scheduler armed it.
        self.assertAlmostEqual(self.now + 86400, health['next_due'],
                               delta=5)
        self.assertEqual(('node1', job_id),
                         (health['client_id'], health['job_id']))

    def test_a_run_that_succeeded_is_ok(self):
        job_id = self.job(schedule_interval='1 days')
        self.run_job(job_id, self.now - 100, self.now - 40)
        health = self.health(job_id)
        self.assertEqual('ok', health['state'])
        self.assertEqual(self.now - 40, health['last_success'])
        self.assertEqual(self.now - 100 + 86400, health['next_due'])
        self.assertEqual(('ended', 'success'),
                         (health['last_run']['status'],
                          health['last_run']['result']))

    def test_failures_in_a_row(self):
        job_id = self.job(schedule_interval='1 hours')
        self.run_job(job_id, self.now - 500, self.now - 490, 'fail')
        self.run_job(job_id, self.now - 400, self.now - 390, 'success')
        self.run_job(job_id, self.now - 300, self.now - 290, 'fail')
        self.run_job(job_id, self.now - 200, self.now - 190, 'aborted')
        health = self.health(job_id)
        self.assertEqual('failing', health['state'])
        self.assertEqual(2, health['consecutive_failures'])
        self.assertEqual(self.now - 390, health['last_success'])

    def test_a_late_run_is_overdue(self):
        self.conf.set_override('grace', 60, 'history')
        job_id = self.job(schedule_interval='10 minutes')
        self.run_job(job_id, self.now - 1000, self.now - 990)
        health = self.health(job_id)
        self.assertEqual('overdue', health['state'])
        self.assertEqual(self.now - 400, health['next_due'])
        # Within the grace, it is not.
        self.conf.set_override('grace', 600, 'history')
        self.assertEqual('ok', self.health(job_id)['state'])

    def test_a_running_job_is_not_overdue(self):
        self.conf.set_override('grace', 0, 'history')
        job_id = self.job(schedule_interval='1 minutes')
        self.run_job(job_id, self.now - 300)
        self.poll()
        self.assertEqual('ok', self.health(job_id)['state'])

    def test_running_too_long(self):
        self.conf.set_override('run_timeout', 60, 'history')
        job_id = self.job(schedule_interval='1 days')
        self.run_job(job_id, self.now - 100)
        self.poll()
        health = self.health(job_id)
        self.assertEqual('running-too-long', health['state'])
        self.assertEqual('running', health['last_run']['status'])

    def test_a_lost_run_fails_the_job(self):
        self.conf.set_override('run_timeout', 60, 'history')
        job_id = self.job(schedule_interval='1 days')
        self.run_job(job_id, self.now - 100)
        # The client never polled since: its run is lost.
        health = self.health(job_id)
        self.assertEqual('failing', health['state'])
        self.assertEqual('lost', health['last_run']['status'])
        self.assertEqual(1, health['consecutive_failures'])
        (run,) = self.runs(job_id)
        self.assertEqual('lost', run['status'])
        self.assertIn('run_timeout', run['error'])

    def test_stopped(self):
        job_id = self.job(schedule_interval='1 minutes')
        self.event(job_id, 'stop')
        self.assertEqual('stopped', self.health(job_id)['state'])
        other = self.job(schedule_interval='1 minutes')
        self.send(report('stop', -1, schedule_interval='1 minutes'),
                  job_id=other)
        self.assertEqual('stopped', self.health(other)['state'])

    def test_a_completed_run_once_job_is_due_no_more(self):
        job_id = self.job()
        self.run_job(job_id, self.now - 10, self.now - 5,
                     end_status='completed')
        self.assert_due_no_more(job_id)

    def test_a_run_once_job_never_picked_up_is_overdue(self):
        self.conf.set_override('grace', 0, 'history')
        with mock.patch('time.time', return_value=self.now - 100):
            job_id = self.job()
        self.assertEqual('overdue', self.health(job_id)['state'])

    def test_a_run_once_job_started_again_is_due_again(self):
        self.conf.set_override('grace', 0, 'history')
        with mock.patch('time.time', return_value=self.now - 100):
            job_id = self.job()
        self.run_job(job_id, self.now - 90, self.now - 80,
                     end_status='completed')
        with mock.patch('time.time', return_value=self.now - 50):
            self.event(job_id, 'start')
        # Armed when the start was asked for: due 2 s later, and the
        # scheduler has not started it since.
        health = self.health(job_id)
        self.assertEqual(('overdue', self.now - 48),
                         (health['state'], health['next_due']))
        # Its run of the start: done, and due no more.
        self.run_job(job_id, self.now - 10, self.now - 5,
                     end_status='completed')
        self.assert_due_no_more(job_id)

    def test_an_interval_job_started_again_counts_from_the_start(self):
        with mock.patch('time.time', return_value=self.now - 10000):
            job_id = self.job(schedule_interval='1 hours')
        self.run_job(job_id, self.now - 9000, self.now - 8990,
                     schedule_interval='1 hours')
        self.send(report('stop', self.now - 9000, self.now - 8990,
                         'success', schedule_interval='1 hours'),
                  job_id=job_id)
        self.assertEqual('stopped', self.health(job_id)['state'])
        with mock.patch('time.time', return_value=self.now - 60):
            self.event(job_id, 'start')
        # One interval after the start, not after the run before the stop
        # (which would have it overdue for hours).
        health = self.health(job_id)
        self.assertEqual(('ok', self.now - 60 + 3600),
                         (health['state'], health['next_due']))
        # A start of a job that is scheduled arms nothing again.
        self.send(report('scheduled', self.now - 9000, self.now - 8990,
                         'success', schedule_interval='1 hours'),
                  job_id=job_id)
        self.event(job_id, 'start')
        self.assertEqual(self.now - 60 + 3600,
                         self.health(job_id)['next_due'])

    def test_a_changed_schedule_counts_from_the_change(self):
        with mock.patch('time.time', return_value=self.now - 10000):
            job_id = self.job(schedule_interval='1 hours')
        self.run_job(job_id, self.now - 9000, self.now - 8990,
                     schedule_interval='1 hours')
        self.assertEqual('overdue', self.health(job_id)['state'])
        # Status reports of the same schedule change nothing.
        self.run_job(job_id, self.now - 9000, self.now - 8990,
                     schedule_interval='1 hours')
        self.assertEqual('overdue', self.health(job_id)['state'])
        with mock.patch('time.time', return_value=self.now - 30):
            response = self.patch(
                fixtures.url('jobs', base.PROJECT_A, job_id),
                {'job_schedule': {'schedule_interval': '2 hours'}})
        self.assertEqual(200, response.status_int, response.text)
        health = self.health(job_id)
        self.assertEqual(('ok', self.now - 30 + 7200),
                         (health['state'], health['next_due']))

    def test_cron_fields_in_the_scheduler_s_time_zone(self):
        job_id = self.job(schedule_hour='3', schedule_minute='30')

        def due_at():
            due = self.health(job_id)['next_due']
            self.assertLess(due - self.now, 86400)
            return time.strftime('%H:%M', time.gmtime(due))

        self.assertEqual('03:30', due_at())
        self.conf.set_override('scheduler_timezone', 'Europe/Berlin',
                               'history')
        # 3:30 in Berlin: 1:30 UTC in summer time, 2:30 in winter.
        self.assertIn(due_at(), ('01:30', '02:30'))


class TestHealthList(HealthTestCase):

    def test_jobs_and_clients(self):
        fixtures.add_client(self, 'node2')
        first = self.job(schedule_interval='1 days')
        second = self.job(schedule_interval='1 days')
        self.run_job(first, self.now - 100, self.now - 50)
        self.poll()
        body = self.health()
        self.assertEqual([self.job_id, first, second],
                         [job['job_id'] for job in body['jobs']])
        self.assertEqual(['never-run', 'ok', 'never-run'],
                         [job['state'] for job in body['jobs']])
        clients = {c['client_id']: c for c in body['clients']}
        self.assertEqual('online', clients['node1']['state'])
        self.assertAlmostEqual(self.now, clients['node1']['last_seen'],
                               delta=5)
        self.assertEqual(('offline', None), (clients['node2']['state'],
                                             clients['node2']['last_seen']))
        self.assertEqual('online', body['jobs'][0]['client_state'])

    def test_paging_and_search(self):
        jobs = [self.job(schedule_interval='1 days') for _ in range(3)]
        self.run_job(jobs[1], self.now - 100, self.now - 50, 'fail')
        page = self.health(query='?limit=1&offset=2')['jobs']
        self.assertEqual([jobs[1]], [job['job_id'] for job in page])
        self.assertEqual('failing', page[0]['state'])
        found = self.health(body={'match': [{'job_id': jobs[2]}]})['jobs']
        self.assertEqual([jobs[2]], [job['job_id'] for job in found])

    def test_other_projects(self):
        job_id = self.job()
        self.assertFault(self.health(job_id, status=403,
                                     headers=base.MEMBER_B), 403)
        response = self.get(fixtures.url('jobs', base.PROJECT_B, job_id,
                                         'health'), headers=base.MEMBER_B)
        self.assertFault(response, 404)
        response = self.get(fixtures.url('health', base.PROJECT_B),
                            headers=base.MEMBER_B)
        self.assertEqual({'jobs': [], 'clients': []}, response.json)

    def test_readers_may_read(self):
        self.job()
        self.assertEqual(2, len(self.health(headers=base.READER_A)['jobs']))

    def test_bad_requests(self):
        self.assertFault(self.health(query='?offset=x', status=400), 400)
        self.assertFault(self.health(body={'match_not': 3}, status=400), 400)
        self.assertFault(self.health('nope', status=404), 404)
        response = self.request('DELETE', fixtures.url('health'))
        self.assertFault(response, 405)


class TestLiveness(HealthTestCase):

    def clients(self):
        return {c['client_id']: c for c in self.health()['clients']}

    def test_states_by_client_timeout(self):
        self.conf.set_override('client_timeout', 100, 'history')
        liveness.saw(base.PROJECT_A, 'node1', self.now - 50)
        self.assertEqual('online', self.clients()['node1']['state'])
        fixtures.add_client(self, 'node2')
        liveness.saw(base.PROJECT_A, 'node2', self.now - 250)
        fixtures.add_client(self, 'node3')
        liveness.saw(base.PROJECT_A, 'node3', self.now - 350)
        clients = self.clients()
        self.assertEqual(('stale', 'offline'),
                         (clients['node2']['state'],
                          clients['node3']['state']))

    def test_only_the_scheduler_s_poll_counts(self):
        # A job list naming the client without leaving out completed
        # jobs is someone looking, not the scheduler polling.
        self.request('GET', fixtures.url('jobs'),
                     body={'match': [{'client_id': 'node1'}]})
        self.assertIsNone(self.clients()['node1']['last_seen'])
        self.poll()
        self.assertIsNotNone(self.clients()['node1']['last_seen'])

    def test_time_only_moves_forward(self):
        liveness.saw(base.PROJECT_A, 'node1', self.now)
        liveness.flush()
        liveness.saw(base.PROJECT_A, 'node1', self.now - 1000)
        self.assertEqual(self.now, self.clients()['node1']['last_seen'])

    def test_a_poll_of_another_project_s_client_id_changes_nothing(self):
        fixtures.add_client(self, 'node1', project_id=base.PROJECT_B)
        self.poll(project_id=base.PROJECT_B)
        self.assertIsNone(self.clients()['node1']['last_seen'])

    def test_the_client_document_is_unchanged(self):
        before = self.get(fixtures.url('clients', base.PROJECT_A,
                                       'node1')).json
        self.poll()
        liveness.flush()
        after = self.get(fixtures.url('clients', base.PROJECT_A,
                                      'node1')).json
        self.assertEqual(before, after)

    def test_notes_survive_a_database_failure(self):
        liveness.saw(base.PROJECT_A, 'node1', self.now)
        with mock.patch.object(liveness, '_write',
                               side_effect=RuntimeError('down')):
            self.assertRaises(RuntimeError, liveness.flush)
        self.assertEqual(self.now, self.clients()['node1']['last_seen'])

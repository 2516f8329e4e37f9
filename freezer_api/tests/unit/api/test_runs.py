"""Run history: runs derived from freezer-scheduler's status reports
(GET /v2/{p}/runs, /v2/{p}/runs/{id} and /v2/{p}/jobs/{id}/runs)."""

from unittest import mock

import fixtures as fixtures_lib

from freezer_api.db.sqlalchemy import runs as runs_db
from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as fixtures

# The first job of the recorded scheduler run: a backup, run once, then
# started again by an operator and run a second time.
RECORDED = fixtures.SCHEDULER_PATCHES[0]
SECOND_START = next(i for i, patch in enumerate(RECORDED)
                    if i and patch['job_schedule']['status'] == 'running'
                    and patch['job_schedule']['time_started'] !=
                    RECORDED[1]['job_schedule']['time_started'])


def report(status, started, ended=-1, result='', pid=None, **schedule):
    """A status PATCH body as freezer-scheduler sends it."""
    job_schedule = dict(schedule, time_created=1795740000,
                        time_started=started, time_ended=ended, event='',
                        status=status, result=result)
    if pid is not None:
        job_schedule['current_pid'] = pid
    return {'job_schedule': job_schedule, 'session_id': '',
            'session_tag': 0}


class RunsTestCase(base.ApiTestCase):

    def setUp(self):
        super().setUp()
        # The recorded runs started weeks before today, and their client
        # never polls here: they must not read as lost.
        self.conf.set_override('run_timeout', 10 ** 9, 'history')
        fixtures.add_client(self)
        self.job_id = fixtures.create_job(self)

    def send(self, body, job_id=None, project_id=base.PROJECT_A):
        response = self.patch(
            fixtures.url('jobs', project_id, job_id or self.job_id), body,
            headers=fixtures.headers_for(project_id))
        self.assertEqual(200, response.status_int, response.text)

    def read(self, route, job_id=None, body=None, query='', status=200,
             headers=None):
        """GET ``route`` of PROJECT_A, or of its job ``job_id``: the
        reply's body, or the response when ``status`` is not 200."""
        path = (fixtures.url('jobs', base.PROJECT_A, job_id, route)
                if job_id else fixtures.url(route))
        response = self.request('GET', path + query, body=body,
                                headers=headers)
        self.assertEqual(status, response.status_int, response.text)
        return response.json if status == 200 else response

    def runs(self, job_id=None, status=200, **kwargs):
        reply = self.read('runs', job_id, status=status, **kwargs)
        return reply['runs'] if status == 200 else reply

    def post_backup(self, job_id=None, **metadata):
        body = dict({'container': 'c', 'hostname': 'h',
                     'backup_name': 'b'}, **metadata)
        if job_id is not None:
            body['job_id'] = job_id
        response = self.post(fixtures.url('backups'), body)
        self.assertEqual(201, response.status_int, response.text)
        return response.json['backup_id']


class TestRecordedScheduler(RunsTestCase):

    def test_recorded_reports_make_two_runs(self):
        backups = []
        for index, body in enumerate(RECORDED):
            self.send(body)
            schedule = body['job_schedule']
            if schedule['status'] == 'running' and 'current_pid' in schedule \
                    and index + 1 < len(RECORDED) and \
                    RECORDED[index + 1]['job_schedule']['status'] != \
                    'running':
                # The scheduler posts the agent's metadata here.
                backups.append(self.post_backup(self.job_id))
        runs = self.runs()
        self.assertEqual(2, len(runs))
        newest, oldest = runs
        first_end = next(b['job_schedule'] for b in RECORDED
                         if b['job_schedule']['status'] == 'completed')
        self.assertEqual(RECORDED[1]['job_schedule']['time_started'],
                         oldest['time_started'])
        self.assertEqual(first_end['time_ended'], oldest['time_ended'])
        self.assertEqual(first_end['time_ended'] -
                         first_end['time_started'], oldest['duration'])
        self.assertEqual('ended', oldest['status'])
        self.assertEqual('success', oldest['result'])
        self.assertNotIn('error', oldest)
        self.assertEqual(first_end['current_pid'], oldest['current_pid'])
        self.assertEqual([backups[0]], oldest['backup_ids'])
        self.assertEqual(
            RECORDED[SECOND_START]['job_schedule']['time_started'],
            newest['time_started'])
        self.assertEqual([backups[1]], newest['backup_ids'])
        self.assertEqual(RECORDED[-1]['job_schedule']['current_pid'],
                         newest['current_pid'])
        for run in runs:
            self.assertEqual(self.job_id, run['job_id'])
            self.assertEqual('node1', run['client_id'])
            self.assertEqual(base.PROJECT_A, run['project_id'])
            self.assertEqual([{'action_id': run['actions'][0]['action_id'],
                               'action': 'backup', 'mode': 'fs',
                               'backup_name': 'etc-backup'}],
                             run['actions'])
        self.assertEqual(runs, self.runs(self.job_id))

    def test_the_job_document_is_unchanged(self):
        before = set(fixtures.get_job(self, self.job_id))
        self.send(report('running', 1795740100, pid=42))
        job = fixtures.get_job(self, self.job_id)
        self.assertEqual(before, set(job))
        self.assertNotIn('open_run_seq', str(job))


class TestRunLifecycle(RunsTestCase):

    def test_running_opens_and_completed_ends(self):
        self.send(report('scheduled', -1))
        self.assertEqual([], self.runs())
        self.send(report('running', 1795740100))
        (run,) = self.runs()
        self.assertEqual('running', run['status'])
        self.assertIsNone(run['result'])
        self.assertIsNone(run['time_ended'])
        self.assertIsNone(run['duration'])
        self.assertIsNone(run['current_pid'])
        self.send(report('running', 1795740100, pid=4242))
        (run,) = self.runs()
        self.assertEqual(4242, run['current_pid'])
        self.send(report('completed', 1795740100, 1795740160, 'fail',
                         pid=4242))
        (run,) = self.runs()
        self.assertEqual(('ended', 'fail', 60),
                         (run['status'], run['result'], run['duration']))
        self.assertIn('failed', run['error'])

    def test_a_recurring_job_back_to_scheduled_ends_its_run(self):
        interval = {'schedule_interval': '10 seconds'}
        self.send(report('running', 1795740100, **interval))
        self.send(report('scheduled', 1795740100, 1795740102, 'success',
                         **interval))
        self.send(report('running', 1795740110, **interval))
        newest, oldest = self.runs()
        self.assertEqual(('ended', 'success'),
                         (oldest['status'], oldest['result']))
        self.assertEqual('running', newest['status'])

    def test_repeated_reports_change_nothing(self):
        self.send(report('running', 1795740100, pid=7))
        (run,) = self.runs()
        for _ in range(3):
            self.send(report('running', 1795740100, pid=7))
        self.assertEqual([run], self.runs())

    def test_a_new_start_ends_the_open_run_without_result(self):
        self.send(report('running', 1795740100))
        self.send(report('running', 1795740200))
        newest, oldest = self.runs()
        self.assertEqual('ended', oldest['status'])
        self.assertIsNone(oldest['result'])
        self.assertIn('without a result', oldest['error'])
        self.assertEqual('running', newest['status'])

    def test_an_end_before_the_start_is_not_negative(self):
        self.send(report('running', 1795740100))
        self.send(report('completed', 1795740100, 1795740000, 'success'))
        (run,) = self.runs()
        self.assertEqual(0, run['duration'])

    def test_events_while_running_are_recorded(self):
        self.send(report('running', 1795740100))
        response = self.post(fixtures.url('jobs', base.PROJECT_A,
                                          self.job_id, 'event'),
                             {'abort': None})
        self.assertEqual(202, response.status_int, response.text)
        self.send(report('completed', 1795740100, 1795740105, 'aborted'))
        (run,) = self.runs()
        self.assertEqual(['abort'], [e['event'] for e in run['events']])
        self.assertIsInstance(run['events'][0]['time'], int)
        self.assertEqual('aborted', run['result'])
        self.assertIn('aborted', run['error'])

    def test_events_without_a_run_record_nothing(self):
        self.post(fixtures.url('jobs', base.PROJECT_A, self.job_id,
                               'event'), {'stop': None})
        self.assertEqual([], self.runs())

    def test_only_backups_of_the_running_job_are_linked(self):
        other_job = fixtures.create_job(self)
        self.post_backup(self.job_id)
        self.send(report('running', 1795740100))
        linked = self.post_backup(self.job_id)
        self.post_backup(other_job)
        self.post_backup()
        self.post_backup('no-such-job')
        self.send(report('completed', 1795740100, 1795740101, 'success'))
        self.post_backup(self.job_id)
        (run,) = self.runs()
        self.assertEqual([linked], run['backup_ids'])

    def test_a_backup_of_another_project_s_job_is_not_linked(self):
        self.send(report('running', 1795740100))
        response = self.post(fixtures.url('backups', base.PROJECT_B),
                             {'container': 'c', 'hostname': 'h',
                              'backup_name': 'b', 'job_id': self.job_id},
                             headers=base.MEMBER_B)
        self.assertEqual(201, response.status_int)
        (run,) = self.runs()
        self.assertEqual([], run['backup_ids'])

    def test_a_deleted_job_keeps_its_runs_and_ends_the_open_one(self):
        self.send(report('running', 1795740100))
        response = self.delete(fixtures.url('jobs', base.PROJECT_A,
                                            self.job_id))
        self.assertEqual(204, response.status_int)
        (run,) = self.runs()
        self.assertEqual('ended', run['status'])
        self.assertIsNotNone(run['time_ended'])
        self.assertEqual(self.job_id, run['job_id'])
        self.assertFault(self.runs(self.job_id, status=404), 404)

    def test_a_replaced_job_is_followed_too(self):
        body = fixtures.job_body(job_schedule={'status': 'running',
                                               'time_started': 1795740100})
        response = self.post(fixtures.url('jobs', base.PROJECT_A,
                                          self.job_id), body)
        self.assertEqual(201, response.status_int, response.text)
        (run,) = self.runs()
        self.assertEqual(1795740100, run['time_started'])

    def test_a_new_job_reported_running_has_no_run(self):
        # Only the reports of a stored job make runs.
        fixtures.create_job(self, fixtures.job_body(
            job_schedule={'status': 'running'}))
        self.assertEqual([], self.runs())


class TestReadingRuns(RunsTestCase):

    def make_runs(self, results):
        for number, result in enumerate(results):
            started = 1795740000 + 100 * number
            self.send(report('running', started))
            self.send(report('scheduled', started, started + 10, result))

    def test_newest_first_with_paging(self):
        self.make_runs(['success', 'fail', 'success', 'fail'])
        runs = self.runs()
        starts = [run['time_started'] for run in runs]
        self.assertEqual(sorted(starts, reverse=True), starts)
        page = self.runs(query='?limit=2&offset=1')
        self.assertEqual(runs[1:3], page)

    def test_search(self):
        self.make_runs(['success', 'fail', 'success'])
        failed = self.runs(body={'match': [{'result': 'fail'}]})
        self.assertEqual(['fail'], [run['result'] for run in failed])
        succeeded = self.runs(self.job_id,
                              body={'match_not': [{'result': 'fail'}]})
        self.assertEqual(['success', 'success'],
                         [run['result'] for run in succeeded])
        other_job = fixtures.create_job(self)
        self.send(report('running', 1795750000), job_id=other_job)
        self.assertEqual(1, len(self.runs(other_job)))
        self.assertEqual(3, len(self.runs(self.job_id)))
        by_job = self.runs(body={'match': [{'job_id': other_job}]})
        self.assertEqual([other_job], [run['job_id'] for run in by_job])

    def test_search_means_what_it_means_for_documents(self):
        self.make_runs(['success', 'fail'])
        self.send(report('running', 1795750000))
        ended, running = ('ended', 'running')

        def statuses(body):
            return sorted(run['status'] for run in self.runs(body=body))

        # A running run's result is null: match_not finds it.
        self.assertEqual([ended, running], statuses(
            {'match_not': [{'result': 'fail'}]}))
        self.assertEqual([running], statuses({'match': [{'result': None}]}))
        # Numbers are numbers: 10 is not "10", nor true.
        self.assertEqual([ended, ended], statuses(
            {'match': [{'duration': 10}]}))
        self.assertEqual([ended, ended], statuses(
            {'match': [{'duration': 10.0}]}))
        self.assertEqual([], statuses({'match': [{'duration': '10'}]}))
        self.assertEqual([], statuses({'match': [{'result': True}]}))
        # A field runs do not search counts as null.
        self.assertEqual(3, len(self.runs(body={'match': [{'nope': None}]})))
        self.assertEqual([], self.runs(body={'match': [{'nope': 1}]}))
        # Free text: in the string fields, any case; a number; null.
        self.assertEqual([ended], statuses({'match': [{'_all': 'FAI'}]}))
        # (A start time: ten digits no random hex id holds by chance.)
        self.assertEqual([1795740100], [run['time_started'] for run in
                                        self.runs(body={'match': [
                                            {'_all': '1795740100'}]})])
        self.assertEqual([running], statuses(
            {'match': [{'_all': 'null'}], 'match_not': [
                {'result': 'success'}, {'result': 'fail'}]}))
        self.assertEqual([], self.runs(body={'match': [{'_all': '%'}]}))

    def test_show(self):
        self.make_runs(['success'])
        (run,) = self.runs()
        response = self.get(fixtures.url('runs', base.PROJECT_A,
                                         run['run_id']))
        self.assertEqual(200, response.status_int)
        self.assertEqual(run, response.json)
        self.assertEqual('"%s"' % run['_version'], response.headers['ETag'])

    def test_other_projects_see_nothing(self):
        self.make_runs(['success'])
        (run,) = self.runs()
        response = self.get(fixtures.url('runs', base.PROJECT_B,
                                         run['run_id']),
                            headers=base.MEMBER_B)
        self.assertFault(response, 404)
        response = self.get(fixtures.url('runs', base.PROJECT_B),
                            headers=base.MEMBER_B)
        self.assertEqual([], response.json['runs'])
        response = self.get(fixtures.url('jobs', base.PROJECT_B,
                                         self.job_id, 'runs'),
                            headers=base.MEMBER_B)
        self.assertFault(response, 404)
        # Nor through the URL of the project they do not belong to.
        response = self.get(fixtures.url('runs'), headers=base.MEMBER_B)
        self.assertFault(response, 403)

    def test_readers_may_read(self):
        self.make_runs(['success'])
        self.assertEqual(1, len(self.runs(headers=base.READER_A)))
        self.assertEqual(1, len(self.runs(self.job_id,
                                          headers=base.READER_A)))

    def test_bad_requests(self):
        self.assertFault(self.runs(query='?limit=-1', status=400), 400)
        self.assertFault(self.runs(body={'match': 'x'}, status=400), 400)
        response = self.get(fixtures.url('runs', base.PROJECT_A, 'nope'))
        self.assertFault(response, 404)
        response = self.get(fixtures.url('jobs', base.PROJECT_A, 'nope',
                                         'runs'))
        self.assertFault(response, 404)
        response = self.request('POST', fixtures.url('runs'), body={})
        self.assertFault(response, 405)
        response = self.request('DELETE', fixtures.url('jobs', base.PROJECT_A,
                                                       self.job_id, 'runs'))
        self.assertFault(response, 405)


class TestRetention(RunsTestCase):

    def test_runs_past_retention_are_pruned_in_batches(self):
        # Every run that starts looks for expired ones.
        self.useFixture(fixtures_lib.MockPatchObject(runs_db,
                                                     'PRUNE_EVERY', 1))
        # Runs of 1970, kept while they are made.
        self.conf.set_override('retention_days', 100000, 'history')
        self.conf.set_override('prune_batch', 2, 'history')
        backup_ids = []
        for number in range(5):
            started = 1000000 + number
            self.send(report('running', started))
            backup_ids.append(self.post_backup(self.job_id))
            self.send(report('scheduled', started, started + 1, 'success'))
        self.assertEqual(5, len(self.runs()))
        self.conf.set_override('retention_days', 1, 'history')
        # Each run that starts deletes at most two of the old ones.
        self.send(report('running', 1795740000))
        self.assertEqual(4, len(self.runs()))
        self.send(report('scheduled', 1795740000, 1795740001, 'success'))
        self.send(report('running', 1795740100))
        runs = self.runs()
        self.assertEqual([1795740100, 1795740000, 1000004],
                         [run['time_started'] for run in runs])
        self.assertEqual([backup_ids[-1]], runs[-1]['backup_ids'])
        # Neither their search entries nor their links are left.
        self.assertEqual([], self.runs(body={'match': [
            {'time_started': 1000000}]}))

    def test_recent_and_open_runs_are_kept(self):
        self.conf.set_override('retention_days', 1, 'history')
        self.send(report('running', 1000000))
        other_job = fixtures.create_job(self)
        self.send(report('running', 1795740000), job_id=other_job)
        self.assertEqual(2, len(self.runs()))

    def test_one_start_in_prune_every_looks(self):
        self.conf.set_override('retention_days', 100000, 'history')
        for number in range(3):
            self.send(report('running', 1000000 + number))
            self.send(report('scheduled', 1000000 + number, 1000001 + number,
                             'success'))
        self.conf.set_override('retention_days', 1, 'history')
        with mock.patch.object(runs_db, 'prune') as prune:
            for number in range(2 * runs_db.PRUNE_EVERY):
                started = 1795740000 + 100 * number
                self.send(report('running', started))
                self.send(report('scheduled', started, started + 1,
                                 'success'))
        self.assertEqual(2, prune.call_count)

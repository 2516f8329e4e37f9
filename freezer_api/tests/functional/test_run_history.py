"""Run history as the real freezer-scheduler and freezer-agent make it.

One scheduler (fixtures_scheduler.py) runs as alice in project-a and runs
real fs backups to local storage; the tests read back the runs the service
derived from the scheduler's status PATCHes (freezer_api/db/sqlalchemy/
runs.py): ``GET /v2/{p}/jobs/{id}/runs``, ``GET /v2/{p}/runs`` and
``GET /v2/{p}/runs/{id}``.

The scenario, one job each (made on first use by :meth:`ensure_job` or
a helper built on it, so that every test can also run alone):

* ``interval``: a backup every few seconds, stopped once it has run
  often enough (:meth:`interval_runs`): the scheduler has one worker
  (``concurrent_jobs = 1``), and a job that keeps it busy delays every
  other job's runs;
* ``failing``: a backup of a path that does not exist, run once;
* ``stopped``: an interval backup stopped between two runs;
* ``stopped_running``: an interval job stopped while its run is open (a
  failing action retried after a pause keeps the run open long enough).

Interval jobs get a ``schedule_start_date`` in the past: the scheduler
then arms them to start 2 s later instead of one interval later.

The same jobs' health (``GET /v2/{p}/jobs/{id}/health``) and their
client's liveness (``GET /v2/{p}/health``), by the rules of
freezer_api/common/health.py and the short ``[history]`` options of the
shared servers (base.KEYSTONE_HISTORY), are checked too; the last test
stops the scheduler and waits for its client to go offline and for a job
it no longer runs to become overdue.

With ``FREEZER_FUNC_RABBIT_URL`` set, the shared servers send
notifications to that broker and sweep every few seconds
(base.keystone_server()), and a :class:`fixtures_broker.Listener`, bound
before the scheduler starts, receives them; the tests then check, of
this client and these jobs only (other tests share the servers and the
broker), envelopes as in test_notifications.py:

* the runs the API lists of the interval, failing and stopped jobs: each
  told once as it opened (``run.start``) and once as it ended
  (``run.end``), with the run's fields as the API reads them; each job's
  creation once (``job.create``), each stop once (``job.event``), each
  backup linked to a run once (``backup.create``), the client's
  registration once; the scheduler's status reports as ``job.update``,
  at least one per run (their number is the scheduler's), no version of
  a job told twice;
* once the scheduler is stopped: ``client.offline`` for its client and
  ``run.missed`` for the job that became overdue (of the due time its
  health reads), each once although all four API processes sweep.

Unset, those tests are skipped.
"""

import itertools
import json
import os
import shutil
import tempfile
import time

from freezer_api.tests.functional import base
from freezer_api.tests.functional import fixtures_broker
from freezer_api.tests.functional import fixtures_scheduler

POLL_INTERVAL = 2            # the scheduler's, in seconds
REGISTER_TIMEOUT = 60
RUN_TIMEOUT = 90             # for a run to start or end
PAST = '2020-01-01T00:00:00'  # a schedule_start_date: start at once

INTERVAL_SECONDS = 5         # the interval job
# The job stopped between two runs: its next run must not start before
# the scheduler has seen the stop (an agent run takes 2-6 s here, then up
# to a poll interval passes).
STOP_SECONDS = 15
# The job stopped while it runs: its firings during the run are skipped
# (apscheduler's max_instances=1), so any interval does.
STOP_RUNNING_SECONDS = 6
# The job stopped while it runs keeps its run open with a failing action
# tried RETRIES + 1 times, RETRY_PAUSE s apart: at least 8 s, so that
# several of the scheduler's polls (every POLL_INTERVAL s, later on a
# loaded machine) fall inside the run and one of them sees the stop.
RETRIES, RETRY_PAUSE = 2, 4
MIN_INTERVAL_RUNS = 3

# The shared servers' [history] options (base.keystone_server()).
GRACE = base.KEYSTONE_HISTORY['grace']
CLIENT_TIMEOUT = base.KEYSTONE_HISTORY['client_timeout']
# A poll another API process took reaches the database (and health) at
# most this late (freezer_api/db/sqlalchemy/liveness.py FLUSH_INTERVAL).
FLUSH_DELAY = 5
# The job of the last test: one run, then the scheduler is stopped well
# before the next one (an agent run takes 2-6 s).
ORPHAN_SECONDS = 15

# The notifications (with FREEZER_FUNC_RABBIT_URL): a request's are sent
# before its reply, so those of a run that the API lists have been sent
# (WAIT allows for the broker); each API process sweeps every
# SWEEP_INTERVAL s, so what the sweep tells comes that long after it
# became true, and a second telling would come within TWICE_WAIT.
NOTIFY_WAIT = 15
SWEEP_INTERVAL = base.KEYSTONE_HISTORY['sweep_interval']
TWICE_WAIT = 2 * SWEEP_INTERVAL + 1
RUN_START_KEYS = ('run_id', 'job_id', 'client_id', 'project_id', 'user_id',
                  'session_id', 'time_started')
RUN_END_KEYS = RUN_START_KEYS + ('result', 'time_ended', 'duration',
                                 'backup_ids')


class RunHistoryTest(fixtures_scheduler.SchedulerLogOnFailure,
                     base.FunctionalTestCase):

    auth_strategy = 'keystone'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work_dir = tempfile.mkdtemp(prefix='freezer-func-runs-')
        cls.data_dir = os.path.join(cls.work_dir, 'data')
        os.makedirs(os.path.join(cls.data_dir, 'nested'))
        for name, data in (('README.txt', b'run history test\n'),
                           ('nested/random.bin', os.urandom(64 * 1024))):
            with open(os.path.join(cls.data_dir, name), 'wb') as f:
                f.write(data)
        cls.started = int(time.time())
        # Bound before the scheduler starts: every notification of its
        # client and jobs comes to it (the shared servers send them when
        # the broker is named, base.keystone_server()).
        url = fixtures_broker.rabbit_url()
        cls.listener = fixtures_broker.Listener(url) if url else None
        try:
            cls.client_id, cls.scheduler = (
                fixtures_scheduler.start_scheduler(
                    cls.keystone, 'runs', cls.work_dir, POLL_INTERVAL))
        except Exception:
            if cls.listener is not None:
                cls.listener.close()
            raise
        cls._registered = False
        # name -> {'job_id', 'backup_name', ...}, see ensure_job()
        cls.jobs = {}

    @classmethod
    def tearDownClass(cls):
        problem = cls.scheduler.stop_problem()
        cls.scheduler.cleanUp()
        if cls.listener is not None:
            cls.listener.close()
        shutil.rmtree(cls.work_dir, True)
        super().tearDownClass()
        if problem:
            raise AssertionError(problem)

    # ------------------------------------------------------ HTTP helpers
    def get_json(self, path, user='alice', expect=200, **kwargs):
        resp = self.http('GET', path, user=user, **kwargs)
        self.assertEqual(expect, resp.status_code,
                         f'GET {path} as {user}: {resp.text}')
        return resp.json()

    def runs_of(self, job_id, match=None):
        """The job's runs, newest first (GET /jobs/{id}/runs)."""
        self.assertTrue(self.scheduler.running(),
                        'freezer-scheduler exited\n' +
                        self.scheduler_details())
        kwargs = {'json': {'match': match}} if match else {}
        return self.get_json(
            self.v2_path('jobs') + f'/{job_id}/runs',
            params={'limit': 100}, **kwargs)['runs']

    def run_doc(self, run_id, user='alice', expect=200):
        return self.get_json(self.v2_path('runs', user) + '/' + run_id,
                             user=user, expect=expect)

    def search_runs(self, match, user='alice'):
        """Every run of ``user``'s project that ``match`` finds, paging
        through GET /runs with the search in the body."""
        found, offset, page = [], 0, 100
        while True:
            got = self.get_json(self.v2_path('runs', user), user=user,
                                params={'limit': page, 'offset': offset},
                                json={'match': match})['runs']
            found.extend(got)
            if len(got) < page:
                return found
            offset += page

    def post_event(self, job_id, event):
        resp = self.http('POST', self.v2_path('jobs') + f'/{job_id}/event',
                         user='alice', json={event: None})
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual({'result': 'success'}, resp.json())
        return int(time.time())

    def job_health(self, job_id):
        """GET /jobs/{id}/health, and when it was read (the time it was
        asked for: the service's "now" is no earlier)."""
        asked = int(time.time())
        return self.get_json(self.v2_path('jobs') + f'/{job_id}/health'), \
            asked

    def client_health(self):
        """Our client's entry in GET /health's clients, and when it was
        asked for."""
        asked = int(time.time())
        doc = self.get_json(self.v2_path('health'), json={
            'match': [{'client_id': self.client_id}]})
        self.assertEqual({'jobs', 'clients'}, set(doc), doc)
        for job in doc['jobs']:
            self.assertEqual(self.client_id, job['client_id'], doc)
        ours = [c for c in doc['clients']
                if c['client_id'] == self.client_id]
        self.assertEqual(1, len(ours), doc)
        return ours[0], asked

    # ---------------------------------------------------- waiting helpers
    def wait_registered(self):
        if not type(self)._registered:
            path = self.v2_path('clients') + '/' + self.client_id
            self.wait_for(
                f'freezer-scheduler to register client {self.client_id}',
                lambda: self.get_document(path), lambda doc: doc is not None,
                timeout=REGISTER_TIMEOUT, details=self.scheduler_details)
            type(self)._registered = True

    def wait_for_runs(self, job_id, n, ended=None, timeout=RUN_TIMEOUT):
        """The job's runs once it has at least ``n``, of which at least
        ``ended`` (default: ``n``) have ended."""
        ended = n if ended is None else ended
        return self.wait_for(
            f'job {job_id} to have {n} runs, {ended} of them ended',
            lambda: self.runs_of(job_id),
            lambda runs: (len(runs) >= n and sum(
                r['status'] == 'ended' for r in runs) >= ended),
            timeout=timeout, interval=0.5, details=self.scheduler_details)

    def wait_for_open_run(self, job_id, timeout=RUN_TIMEOUT):
        """The job's newest run once one is open (status running)."""
        runs = self.wait_for(
            f'job {job_id} to have an open run',
            lambda: self.runs_of(job_id),
            lambda runs: bool(runs) and runs[0]['status'] == 'running',
            timeout=timeout, interval=0.3, details=self.scheduler_details)
        return runs[0]

    def wait_job_health(self, job_id, states, timeout=RUN_TIMEOUT,
                        details=None):
        """The job's health once its state is one of ``states``, and when
        it was read; on timeout the failure lists the states seen."""
        seen = []

        def fetch():
            doc, asked = self.job_health(job_id)
            if not seen or seen[-1] != doc['state']:
                seen.append(doc['state'])
            return doc, asked
        return self.wait_for(
            f'job {job_id} health in {states}',
            fetch, lambda got: got[0]['state'] in states,
            timeout=timeout, interval=0.3,
            details=lambda: f'states seen: {seen}\n' + (
                details or self.scheduler_details)())

    def wait_job_status(self, job_id, statuses, timeout=RUN_TIMEOUT):
        return self.wait_for(
            f'job {job_id} to reach job_schedule.status in {statuses}',
            lambda: self.get_job(job_id),
            lambda doc: (doc or {}).get('job_schedule', {}).get(
                'status') in statuses,
            timeout=timeout, details=self.scheduler_details)

    # ------------------------------------------------------- the scenario
    def backup_action(self, backup_name, path=None):
        container = os.path.join(self.work_dir, 'backups-' + backup_name)
        return {'action': 'backup', 'mode': 'fs', 'storage': 'local',
                'path_to_backup': path or self.data_dir,
                'container': container, 'backup_name': backup_name}

    def ensure_job(self, name, job_schedule, path=None, max_retries=0,
                   retry_pause=1):
        """Create the scenario's job ``name`` once per class; its facts."""
        if name not in self.jobs:
            self.wait_registered()
            backup_name = self.unique('runs-' + name)
            action = self.backup_action(backup_name, path)
            doc = {'client_id': self.client_id,
                   'description': backup_name,
                   'job_schedule': dict(job_schedule),
                   'job_actions': [{
                       'freezer_action': action,
                       'max_retries': max_retries,
                       'max_retries_interval': retry_pause}]}
            resp = self.http('POST', self.v2_path('jobs'), user='alice',
                             json=doc)
            self.assertEqual(201, resp.status_code, resp.text)
            self.jobs[name] = {'job_id': resp.json()['job_id'],
                               'backup_name': backup_name,
                               'action': action,
                               'created': int(time.time())}
        return self.jobs[name]

    def ensure_interval_job(self, name, seconds, **kwargs):
        """The scenario's job ``name``, run every ``seconds`` from its
        arming (a start date in the past), made once per class."""
        return self.ensure_job(name, {
            'schedule_interval': f'{seconds} seconds',
            'schedule_start_date': PAST}, **kwargs)

    def interval_job(self):
        return self.ensure_interval_job('interval', INTERVAL_SECONDS)

    def interval_runs(self):
        """The interval job's runs once at least MIN_INTERVAL_RUNS have
        ended, as they were then; the job is stopped afterwards. Its
        facts gain ``health_at_stop`` (its health just after the stop)
        and ``sched`` (its job_schedule once the scheduler has seen the
        stop: status ``stop``, or ``completed`` when a run was open
        then, as in test_d)."""
        job = self.interval_job()
        if 'runs' not in job:
            runs = self.wait_for_runs(job['job_id'], MIN_INTERVAL_RUNS)
            self.interval_health()
            self.post_event(job['job_id'], 'stop')
            job['health_at_stop'], _ = self.job_health(job['job_id'])
            job['sched'] = self.wait_job_status(
                job['job_id'], ('stop', 'completed'))['job_schedule']
            job['runs'] = runs
        return job['runs']

    def interval_health(self):
        """The interval job's health while it runs (ok), when it was read,
        and its runs just after; read once, before interval_runs() stops
        it.

        Read until ok: between two runs it may read overdue for a
        moment, as an agent run (2-6 s) longer than the 5 s interval
        makes the scheduler skip a firing (max_instances=1), and the
        service counts the intervals from the job's creation, the
        scheduler from its first poll of it (up to a poll later).
        """
        job = self.interval_job()
        if 'health' not in job:
            self.assertNotIn('runs', job, 'the interval job is stopped')
            self.wait_for_runs(job['job_id'], 1)
            doc, asked = self.wait_job_health(job['job_id'], ('ok',))
            job['health'] = doc, asked, self.runs_of(job['job_id'])
        return job['health']

    def failing_job(self):
        return self.ensure_job('failing', {}, path=os.path.join(
            self.work_dir, 'does-not-exist'))

    def failed_run(self):
        """The failing job's run, once it has ended."""
        job = self.failing_job()
        return self.wait_for_runs(job['job_id'], 1)[0]

    def stopped_job(self):
        """The job stopped between two runs, once the scheduler has
        reported it stopped; its facts gain ``runs`` (before the stop),
        ``at_stop`` (just after it) and ``sched`` (its job_schedule
        then)."""
        job = self.ensure_interval_job('stopped', STOP_SECONDS)
        if 'sched' not in job:
            job_id = job['job_id']
            job['runs'] = self.wait_for_runs(job_id, 1)
            self.post_event(job_id, 'stop')
            job['at_stop'] = self.runs_of(job_id)
            job['sched'] = self.wait_job_status(
                job_id, ('stop', 'completed'))['job_schedule']
        return job

    def stopped_running_job(self):
        """The job stopped while its run is open, once the scheduler has
        reported it no longer running; its facts gain ``opened`` (the
        open run), ``stopped_at``, ``at_stop`` (its runs just after the
        stop), ``health_at_stop`` (its health then, with when it was
        read) and ``sched`` (its job_schedule at the end)."""
        job = self.ensure_interval_job(
            'stopped_running', STOP_RUNNING_SECONDS,
            path=os.path.join(self.work_dir, 'missing-too'),
            max_retries=RETRIES, retry_pause=RETRY_PAUSE)
        if 'sched' not in job:
            job_id = job['job_id']
            job['opened'] = self.wait_for_open_run(job_id)
            job['stopped_at'] = self.post_event(job_id, 'stop')
            job['at_stop'] = self.runs_of(job_id)
            job['health_at_stop'] = self.job_health(job_id)
            job['sched'] = self.wait_job_status(
                job_id, ('stop', 'completed'))['job_schedule']
        return job

    def orphaned_job(self):
        """The job of the last test (the scheduler stays stopped): one
        run, then the scheduler stopped, and then its client read offline
        and the job overdue. Its facts gain ``run`` (its one run),
        ``stopped`` (when the scheduler had stopped), ``runs_at_stop``
        and ``health_at_stop`` (just after), ``due`` (its next run then),
        ``offline`` (the client's liveness once offline, with when it was
        read), ``client_states`` (the states it read until then) and
        ``overdue`` (the job's health once overdue, with when it was
        read)."""
        job = self.ensure_interval_job('orphaned', ORPHAN_SECONDS)
        if 'overdue' not in job:
            job_id = job['job_id']
            (job['run'],) = self.wait_for_runs(job_id, 1)
            self.wait_online()
            self.assertEqual(0, self.scheduler.stop(),
                             'freezer-scheduler did not stop cleanly on '
                             'SIGTERM\n' + self.scheduler.log_tail())
            job['stopped'] = time.time()
            # runs_of() wants a running scheduler
            job['runs_at_stop'] = self.get_json(
                self.v2_path('jobs') + f'/{job_id}/runs')['runs']
            health, _ = self.job_health(job_id)
            job['health_at_stop'] = health
            job['due'] = due = health['next_due']
            self.assertIsNotNone(due, health)

            states = job['client_states'] = []

            def client():
                got = self.client_health()
                if not states or states[-1] != got[0]['state']:
                    states.append(got[0]['state'])
                return got
            # its last poll, at most a poll before the stop, reaches the
            # database at most a flush later
            job['offline'] = self.wait_for(
                f'client {self.client_id} to read offline', client,
                lambda got: got[0]['state'] == 'offline',
                timeout=3 * CLIENT_TIMEOUT + FLUSH_DELAY + 10, interval=1,
                details=lambda: f'states seen: {states}')
            job['overdue'] = self.wait_job_health(
                job_id, ('overdue',),
                timeout=max(0, due + GRACE - time.time()) + 5,
                details=lambda: 'freezer-scheduler stopped')
        return job

    # ---------------------------------------------------- run assertions
    def assert_run_of(self, run, job):
        """What every run of ``job`` says about who ran what."""
        self.assertEqual(job['job_id'], run['job_id'], run)
        self.assertEqual(self.project_id('alice'), run['project_id'], run)
        self.assertEqual(self.keystone.user_ids['alice'], run['user_id'],
                         run)
        self.assertEqual(self.client_id, run['client_id'], run)
        self.assertEqual('', run['session_id'], run)
        self.assertIsInstance(run['run_id'], str, run)
        self.assertIsInstance(run['_version'], int, run)
        self.assertEqual(1, len(run['actions']), run)
        action = run['actions'][0]
        self.assertEqual(('backup', 'fs', job['backup_name']),
                         (action['action'], action['mode'],
                          action['backup_name']), run)
        self.assertIsInstance(action['action_id'], str, run)
        self.assertIsInstance(run['time_started'], int, run)
        self.assertGreaterEqual(run['time_started'], job['created'] - 1, run)

    def assert_ended(self, run, result):
        self.assertEqual(('ended', result), (run['status'], run['result']),
                         run)
        self.assertIsInstance(run['time_ended'], int, run)
        self.assertGreaterEqual(run['time_ended'], run['time_started'], run)
        self.assertEqual(run['time_ended'] - run['time_started'],
                         run['duration'], run)
        self.assertIsInstance(run['current_pid'], int, run)
        self.assertGreater(run['current_pid'], 0, run)

    def assert_backup_of(self, backup_id, job):
        backup = self.get_json(self.v2_path('backups') + '/' + backup_id)
        meta = backup['backup_metadata']
        self.assertEqual(job['job_id'], meta.get('job_id'), backup)
        self.assertEqual(job['backup_name'], meta.get('backup_name'), backup)
        self.assertEqual('available', backup['status'], backup)

    def assert_stays_stopped(self, job_id, runs, interval, status):
        """Two intervals later: no new run, none open, the job's status
        still ``status``."""
        time.sleep(2 * interval + POLL_INTERVAL)
        later = self.runs_of(job_id)
        self.assertEqual([r['run_id'] for r in runs],
                         [r['run_id'] for r in later],
                         f'a run started after the stop:\n{later}\n'
                         f'{self.scheduler_details()}')
        self.assertEqual(['ended'] * len(later),
                         [r['status'] for r in later], later)
        self.assertEqual(status,
                         self.get_job(job_id)['job_schedule']['status'])
        return later

    # -------------------------------------------------------------- tests
    def test_a_interval_job_runs_are_recorded(self):
        job = self.interval_job()
        runs = self.interval_runs()
        self.assertGreaterEqual(len(runs), MIN_INTERVAL_RUNS)
        starts = [r['time_started'] for r in runs]
        self.assertEqual(sorted(starts, reverse=True), starts,
                         'runs not newest first')
        self.assertEqual(len(set(starts)), len(starts),
                         f'two runs with one time_started: {starts}')
        newest, ended = runs[0], runs[1:]
        if newest['status'] == 'running':
            self.assertIsNone(newest['result'], newest)
            self.assertIsNone(newest['time_ended'], newest)
            self.assertIsNone(newest['duration'], newest)
        else:
            ended = runs
        seen_backups = set()
        for run in runs:
            self.assert_run_of(run, job)
            self.assertEqual([], run['events'], run)
            self.assertNotIn('error', run, run)
        for newer, older in itertools.pairwise(ended):
            # a run ends before the next one starts (one agent at a time)
            self.assertLessEqual(older['time_ended'], newer['time_started'])
        for run in ended:
            self.assert_ended(run, 'success')
            self.assertEqual(1, len(run['backup_ids']), run)
            backup_id = run['backup_ids'][0]
            self.assertNotIn(backup_id, seen_backups)
            seen_backups.add(backup_id)
            self.assert_backup_of(backup_id, job)
        # an agent per run
        pids = [r['current_pid'] for r in ended]
        self.assertEqual(len(set(pids)), len(pids), pids)
        # a run reads the same alone (the newest may have changed since)
        for run in runs[1:]:
            self.assertEqual(run, self.run_doc(run['run_id']))

    def test_b_failing_job_run_fails(self):
        job = self.failing_job()
        run = self.failed_run()
        self.assert_run_of(run, job)
        self.assert_ended(run, 'fail')
        self.assertIsInstance(run.get('error'), str, run)
        self.assertTrue(run['error'], run)
        self.assertEqual([], run['backup_ids'], run)
        self.assertEqual([], run['events'], run)
        sched = self.wait_job_status(job['job_id'], ('completed',))[
            'job_schedule']
        self.assertEqual('fail', sched.get('result'), sched)
        self.assertEqual([run['run_id']],
                         [r['run_id'] for r in self.runs_of(job['job_id'])])
        self.assertEqual(run, self.run_doc(run['run_id']))

    def test_c_job_stopped_between_runs(self):
        """Stopped while it waits for its next run: the scheduler reports
        status stop and runs it no more; the ended run has no event."""
        job = self.stopped_job()
        job_id, runs, sched = job['job_id'], job['runs'], job['sched']
        self.assertEqual(1, len(runs), runs)
        self.assertEqual(runs, job['at_stop'],
                         'the run changed with the stop request')
        self.assertEqual(('stop', ''), (sched['status'], sched['event']),
                         sched)
        later = self.assert_stays_stopped(job_id, runs, STOP_SECONDS, 'stop')
        run = later[0]
        self.assert_run_of(run, job)
        self.assert_ended(run, 'success')
        self.assertEqual([], run['events'], run)
        self.assertEqual(1, len(run['backup_ids']), run)
        self.assert_backup_of(run['backup_ids'][0], job)

    def test_d_job_stopped_while_running(self):
        """Stopped while a run is open: the run records the stop; the
        scheduler lets the agent finish, then reports the job completed
        (freezer-scheduler's Job.finish: a stop seen during a run
        unschedules the job and ends it ``completed``, not ``stop``)."""
        job = self.stopped_running_job()
        job_id, opened, at_stop, sched = (
            job['job_id'], job['opened'], job['at_stop'], job['sched'])
        stopped_at = job['stopped_at']
        self.assertEqual(1, len(at_stop), at_stop)
        self.assertEqual(opened['run_id'], at_stop[0]['run_id'])
        self.assertEqual('running', at_stop[0]['status'],
                         'the run ended before the stop was posted (the '
                         'retry pause is too short for this machine?)')
        self.assertEqual(['stop'],
                         [e['event'] for e in at_stop[0]['events']],
                         at_stop[0])
        self.assertEqual(('completed', '', 'fail'),
                         (sched['status'], sched['event'],
                          sched.get('result')),
                         f'{sched}\n(status stop: no poll of the scheduler '
                         f'fell inside the run)\n{self.scheduler_details()}')
        runs = self.wait_for_runs(job_id, 1)
        later = self.assert_stays_stopped(job_id, runs,
                                          STOP_RUNNING_SECONDS, 'completed')
        run = later[0]
        self.assert_run_of(run, job)
        self.assert_ended(run, 'fail')
        self.assertEqual(1, len(run['events']), run)
        event = run['events'][0]
        self.assertEqual('stop', event['event'])
        self.assertLessEqual(abs(event['time'] - stopped_at), 1, event)
        self.assertLessEqual(run['time_started'], event['time'], run)
        self.assertLessEqual(event['time'], run['time_ended'], run)
        self.assertEqual([], run['backup_ids'], run)
        self.assertIn('error', run)

    def test_e_search_finds_failed_runs_only(self):
        failed = self.failed_run()
        self.interval_runs()
        ours = {}
        for name, job in self.jobs.items():
            for run in self.runs_of(job['job_id']):
                ours[run['run_id']] = (name, run)
        found = self.search_runs([{'result': 'fail'}])
        self.assertEqual(len(found), len({r['run_id'] for r in found}))
        for run in found:
            self.assertEqual('fail', run['result'], run)
        found_ours = {r['run_id'] for r in found if r['run_id'] in ours}
        self.assertIn(failed['run_id'], found_ours)
        self.assertEqual(
            {run_id for run_id, (_, run) in ours.items()
             if run['result'] == 'fail'},
            found_ours)
        self.assertEqual(
            set(), {ours[i][0] for i in found_ours} - {
                'failing', 'stopped_running'})
        # the same search on one job
        self.assertEqual([], self.runs_of(self.interval_job()['job_id'],
                                          match=[{'result': 'fail'}]))
        # and the whole list, newest first
        interval_runs = [r['run_id'] for r in self.runs_of(
            self.interval_job()['job_id']) if r['status'] == 'ended']
        listed = [r['run_id'] for r in self.search_runs([])]
        self.assertEqual(interval_runs,
                         [i for i in listed if i in interval_runs])

    def test_f_runs_of_another_project_are_hidden(self):
        failed = self.failed_run()
        run_id = failed['run_id']
        self.run_doc(run_id)
        self.run_doc(run_id, user='bob', expect=404)
        job_id = failed['job_id']
        self.get_json(self.v2_path('jobs', 'bob') + f'/{job_id}/runs',
                      user='bob', expect=404)
        self.assertNotIn(run_id, [r['run_id'] for r in self.search_runs(
            [{'result': 'fail'}], user='bob')])
        # bob's token on alice's project
        resp = self.http('GET', self.v2_path('runs') + '/' + run_id,
                         user='bob')
        self.assertIn(resp.status_code, (403, 404), resp.text)

    # ------------------------------------------------------------- health
    def assert_health_of(self, health, job):
        """What every health document of ``job`` says about whose job it
        is."""
        self.assertEqual(
            (job['job_id'], self.client_id, job['backup_name']),
            (health['job_id'], health['client_id'], health['description']),
            health)

    def assert_last_run(self, health, run):
        self.assertEqual(
            {key: run[key] for key in ('run_id', 'status', 'result',
                                       'time_started', 'time_ended')},
            health['last_run'], health)

    def test_g_interval_job_health_is_ok(self):
        job = self.interval_job()
        self.interval_runs()
        health, asked, runs = self.interval_health()
        self.assert_health_of(health, job)
        self.assertEqual(('ok', 0, 'online'),
                         (health['state'], health['consecutive_failures'],
                          health['client_state']), health)
        last = health['last_run']
        ids = [r['run_id'] for r in runs]
        self.assertIn(last['run_id'], ids, runs)
        index = ids.index(last['run_id'])
        if last['status'] == 'running':
            self.assertEqual((None, None), (last['result'],
                                            last['time_ended']), health)
            before = runs[index + 1:]
        else:
            self.assert_last_run(health, runs[index])
            self.assertEqual('success', last['result'], health)
            before = runs[index:]
        # last_success: when the newest successful run it knew of ended
        self.assertEqual(
            next(r['time_ended'] for r in before
                 if r['result'] == 'success'),
            health['last_success'], (health, runs))
        # due one interval after the last start at most (the service
        # counts intervals from the job's creation, the scheduler from
        # its first poll of it: up to a poll interval later)...
        started = last['time_started']
        self.assertGreater(health['next_due'], started, health)
        self.assertLessEqual(health['next_due'], started + INTERVAL_SECONDS,
                             health)
        # ... and not yet past its grace (it would be overdue)
        self.assertGreaterEqual(health['next_due'] + GRACE, asked, health)
        # the stop is seen at once (read before the scheduler saw it: a
        # stop seen during a run ends the job completed, test_j)
        health = job['health_at_stop']
        self.assertEqual('stopped', health['state'], health)

    def test_h_failing_job_health_is_failing(self):
        job = self.failing_job()
        run = self.failed_run()
        # completed: no further run is due
        self.wait_job_status(job['job_id'], ('completed',))
        health, _ = self.job_health(job['job_id'])
        self.assert_health_of(health, job)
        self.assertEqual(('failing', 1, None, None),
                         (health['state'], health['consecutive_failures'],
                          health['last_success'], health['next_due']),
                         health)
        self.assert_last_run(health, run)

    def test_i_stopped_job_health_is_stopped(self):
        job = self.stopped_job()
        health, _ = self.job_health(job['job_id'])
        self.assert_health_of(health, job)
        (run,) = self.runs_of(job['job_id'])
        self.assertEqual(('stopped', 0, run['time_ended']),
                         (health['state'], health['consecutive_failures'],
                          health['last_success']), health)
        self.assert_last_run(health, run)
        # stopped, its next run would be due after its interval
        self.assertTrue(run['time_started'] < health['next_due'] <=
                        run['time_started'] + STOP_SECONDS, health)

    def test_j_job_stopped_while_running_health(self):
        """Stopped while its run is open, the job is stopped while the
        stop is pending (the scheduler lets the agent finish and leaves
        ``event: stop`` in place until then); once the scheduler reports
        it completed (event cleared, status completed, test_d), nothing
        in job_schedule says stopped any more and the run it ended with
        failed: failing, with no run due (health.py: ``stopped`` is
        ``event: stop`` or ``status: stop`` only)."""
        job = self.stopped_running_job()
        at_stop, _ = job['health_at_stop']
        self.assert_health_of(at_stop, job)
        self.assertEqual('stopped', at_stop['state'], at_stop)
        self.assertEqual((job['opened']['run_id'], 'running'),
                         (at_stop['last_run']['run_id'],
                          at_stop['last_run']['status']), at_stop)
        (run,) = self.wait_for_runs(job['job_id'], 1)
        health, _ = self.job_health(job['job_id'])
        self.assertEqual(('failing', 1, None, None),
                         (health['state'], health['consecutive_failures'],
                          health['last_success'], health['next_due']),
                         health)
        self.assert_last_run(health, run)

    def wait_online(self):
        """Our client's liveness once it reads online (its first polls
        may not have reached the database yet), and when it was read."""
        self.wait_registered()
        return self.wait_for(
            f'client {self.client_id} to read online',
            self.client_health, lambda got: got[0]['state'] == 'online',
            timeout=CLIENT_TIMEOUT + FLUSH_DELAY + 2 * POLL_INTERVAL,
            details=self.scheduler_details)

    def test_k_client_is_online(self):
        client, asked = self.wait_online()
        registered = self.get_document(
            self.v2_path('clients') + '/' + self.client_id)['client']
        self.assertEqual(registered.get('hostname'), client['hostname'],
                         client)
        self.assertIsInstance(client['last_seen'], int, client)
        self.assertGreaterEqual(client['last_seen'], self.started, client)
        self.assertLessEqual(asked - CLIENT_TIMEOUT - 1, client['last_seen'],
                             client)
        self.assertLessEqual(client['last_seen'], int(time.time()), client)

    def test_z_scheduler_stopped_client_offline_job_overdue(self):
        """Last (the scheduler stays stopped): a job between two runs
        whose scheduler is stopped becomes overdue once its next run is
        more than ``grace`` late; its client goes stale, then offline
        three client_timeouts after its last poll. Jobs stopped before
        stay stopped."""
        job = self.orphaned_job()
        run, due = job['run'], job['due']
        self.assertEqual([run], job['runs_at_stop'],
                         'a run started before the scheduler stopped')
        health = job['health_at_stop']
        self.assertEqual('ok', health['state'], health)
        self.assertLess(run['time_started'], due, health)
        self.assertLessEqual(due, run['time_started'] + ORPHAN_SECONDS,
                             health)

        offline, asked = job['offline']
        # online (for a few seconds at most), stale, offline: never back
        self.assertIn(job['client_states'], (['online', 'stale', 'offline'],
                                             ['stale', 'offline']))
        self.assertGreater(asked - offline['last_seen'], 3 * CLIENT_TIMEOUT,
                           offline)
        self.assertLessEqual(offline['last_seen'], job['stopped'], offline)

        health, asked = job['overdue']
        self.assertGreater(asked, due + GRACE - 1, health)
        self.assert_health_of(health, job)
        self.assertEqual((due, 'offline', 0, run['time_ended']),
                         (health['next_due'], health['client_state'],
                          health['consecutive_failures'],
                          health['last_success']), health)
        self.assert_last_run(health, run)
        for name in ('interval', 'stopped'):
            if name in self.jobs:
                other = self.jobs[name]
                health, _ = self.job_health(other['job_id'])
                # stopped mid-run, the interval job ended completed: no
                # run is due (never overdue), its last one succeeded
                if other.get('sched', {}).get('status') == 'completed':
                    expected = ('ok', 'offline', None)
                else:
                    expected = ('stopped', 'offline', health['next_due'])
                self.assertEqual(expected,
                                 (health['state'], health['client_state'],
                                  health['next_due']), health)

    # ------------------------------------------------------ notifications
    def require_listener(self):
        if self.listener is None:
            self.skipTest(fixtures_broker.skip_reason())

    def told(self, done, timeout=NOTIFY_WAIT):
        """The notifications of this test's client and jobs (and of the
        backups linked to their runs) received so far, once
        ``done(them)`` is true, or when ``timeout`` seconds have passed;
        their envelopes checked. Other tests share the servers and the
        broker: what concerns neither is left out."""
        job_ids = {job['job_id'] for job in self.jobs.values()}

        def ours(message):
            payload = message.get('payload')
            if not isinstance(payload, dict):
                return False
            return (payload.get('client_id') == self.client_id or
                    payload.get('job_id') in job_ids or
                    payload.get('backup_id') in self._backup_ids)
        deadline = time.monotonic() + timeout
        while True:
            self.listener.drain(0.2)
            got = [m for m in self.listener.received if ours(m)]
            if done(got) or time.monotonic() >= deadline:
                break
        for message in got:
            fixtures_broker.check_envelope(self, message)
        return got

    _backup_ids = frozenset()

    def payloads(self, told, event_type, key=None, value=None):
        """The payloads of ``event_type`` in ``told`` (of those whose
        ``key`` is ``value``, when given)."""
        return [m['payload'] for m in told if m['event_type'] == event_type
                and (key is None or m['payload'].get(key) == value)]

    def dump(self, told):
        return 'received:\n' + json.dumps(
            [(m['event_type'], m['payload']) for m in told], indent=1,
            default=str)

    def test_l_runs_are_notified(self):
        """Each run the API lists of the interval, failing and stopped
        jobs was told once as it opened (``run.start``) and once as it
        ended (``run.end``), as the API stores it; each job's creation
        once, each stop once, each backup of a run once. The scheduler's
        status PATCHes are told as ``job.update``, at least one per run
        (how many depends on what the scheduler sends), each write of a
        job once: no version told twice."""
        self.require_listener()
        self.failed_run()
        self.interval_runs()
        self.stopped_job()
        self.stopped_running_job()
        stopped = ('interval', 'stopped', 'stopped_running')
        names = ('failing',) + stopped
        runs, docs = {}, {}
        for name in names:
            job_id = self.jobs[name]['job_id']
            # the interval job's newest run may still be open
            listed = self.runs_of(job_id)
            runs[name] = self.wait_for_runs(job_id, len(listed))
            # after its runs: every write it tells of was told by then
            docs[name] = self.get_job(job_id)
        every_run = [run for name in names for run in runs[name]]
        self.assertTrue(all(run['status'] == 'ended' for run in every_run))
        linked = [b for run in every_run for b in run['backup_ids']]
        type(self)._backup_ids = frozenset(linked)

        def complete(told):
            kinds = {(m['event_type'], m['payload'].get('run_id') or
                      m['payload'].get('job_id') or
                      m['payload'].get('backup_id')) for m in told}
            return ({('run.start', r['run_id']) for r in every_run} |
                    {('run.end', r['run_id']) for r in every_run} |
                    {('job.create', self.jobs[n]['job_id'])
                     for n in names} |
                    {('job.event', self.jobs[n]['job_id'])
                     for n in stopped} |
                    {('backup.create', b) for b in linked}) <= kinds
        told = self.told(complete)
        # anything told twice is there already: each request's are sent
        # before its reply
        self.listener.drain(0.5)
        told = self.told(lambda told: True, timeout=0)
        self.assertTrue(complete(told), self.dump(told))
        alice = self.keystone.user_ids['alice']
        project = self.project_id('alice')
        for name in names:
            job_id = self.jobs[name]['job_id']
            of_job = [m for m in told
                      if m['payload'].get('job_id') == job_id]
            why = f'{name} job {job_id}, ' + self.dump(of_job)
            listed = runs[name]
            self.assertEqual(
                sorted(r['run_id'] for r in listed),
                sorted(p['run_id'] for p in self.payloads(of_job,
                                                          'run.start')), why)
            self.assertEqual(
                sorted(r['run_id'] for r in listed),
                sorted(p['run_id'] for p in self.payloads(of_job,
                                                          'run.end')), why)
            for run in listed:
                (start,) = self.payloads(of_job, 'run.start', 'run_id',
                                         run['run_id'])
                (end,) = self.payloads(of_job, 'run.end', 'run_id',
                                       run['run_id'])
                self.assertEqual({k: run[k] for k in RUN_START_KEYS},
                                 start, why)
                self.assertEqual({k: run[k] for k in RUN_END_KEYS},
                                 end, why)
            self.assertEqual(
                [{'project_id': project, 'user_id': alice, 'job_id': job_id,
                  'version': 1}], self.payloads(of_job, 'job.create'), why)
            events = self.payloads(of_job, 'job.event')
            self.assertEqual(['stop'] if name in stopped else [],
                             [e['event'] for e in events], why)
            for event in events:
                self.assertEqual((project, alice),
                                 (event['project_id'], event['user_id']),
                                 why)
            updates = self.payloads(of_job, 'job.update')
            self.assertGreaterEqual(len(updates), len(listed), why)
            for update in updates:
                self.assertEqual({'project_id', 'user_id', 'job_id',
                                  'version'}, set(update), why)
                self.assertEqual(project, update['project_id'], why)
            versions = [p['version'] for p in self.payloads(of_job,
                                                            'job.create')
                        + events + updates]
            self.assertEqual(len(versions), len(set(versions)),
                             'a write of the job told twice: ' + why)
            # the write GET read after its runs had been told
            self.assertIn(docs[name]['_version'], versions, why)
        for backup_id in linked:
            (created,) = self.payloads(told, 'backup.create', 'backup_id',
                                       backup_id)
            self.assertEqual({'project_id': project, 'user_id': alice,
                              'backup_id': backup_id, 'version': 1},
                             created)
        # the scheduler registered its client once
        self.assertEqual(
            1, len(self.payloads(told, 'client.create', 'client_id',
                                 self.client_id)), self.dump(told))
        self.figures('run history notifications', runs=len(every_run),
                     told=len(told))

    def test_zz_sweep_tells_offline_and_missed_once(self):
        """After the last test (the scheduler stopped): the client going
        offline was told once (``client.offline``), with the last poll
        its liveness reads, and the job that became overdue once for the
        due time its health reads (``run.missed``), although every API
        process (two servers of two workers) sweeps. The job may have
        been told missed before, for the due time of its first run, if
        that run started more than ``grace`` late (the scheduler arms a
        job at its first poll of it, up to a poll after its creation,
        the service counts from its creation); never told twice for one
        due time."""
        self.require_listener()
        job = self.orphaned_job()
        job_id, due, run = job['job_id'], job['due'], job['run']
        offline, _ = job['offline']

        def sweep_told(told):
            return (self.payloads(told, 'client.offline') and any(
                p['next_due'] == due for p in self.payloads(
                    told, 'run.missed', 'job_id', job_id)))
        told = self.told(sweep_told, timeout=2 * SWEEP_INTERVAL +
                         FLUSH_DELAY + 5)
        self.assertTrue(sweep_told(told), self.dump(told))
        # a second telling would come within TWICE_WAIT of the first
        last = max(m['taken_at'] for m in told if m['event_type'] in (
            'client.offline', 'run.missed'))
        self.listener.drain(max(0, last + TWICE_WAIT - time.monotonic()))
        told = self.told(lambda told: True, timeout=0)
        project = self.project_id('alice')
        self.assertEqual(
            [{'project_id': project, 'client_id': self.client_id,
              'last_seen': offline['last_seen']}],
            self.payloads(told, 'client.offline'), self.dump(told))
        missed = self.payloads(told, 'run.missed', 'job_id', job_id)
        self.assertEqual(
            [{'project_id': project, 'job_id': job_id,
              'client_id': self.client_id, 'next_due': due}],
            [p for p in missed if p['next_due'] == due], self.dump(told))
        self.assertEqual([], [p for p in missed if p['next_due'] != due and
                              p['next_due'] >= run['time_started']],
                         'missed while it ran: ' + self.dump(told))
        self.assertEqual(len(missed), len({p['next_due'] for p in missed}),
                         'one due time told twice: ' + self.dump(told))
        # no run was lost: every run ended before the scheduler stopped
        self.assertEqual([], self.payloads(told, 'run.lost'),
                         self.dump(told))

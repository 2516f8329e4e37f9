"""Notifications on a real broker: what freezer-api tells, as a consumer
of the RabbitMQ named by ``FREEZER_FUNC_RABBIT_URL`` receives it.

Two freezer-api servers of two workers each (the production topology,
:class:`fixtures_server.FreezerApiGroupFixture`, noauth) send with
``[oslo_messaging_notifications] driver = messagingv2`` to that broker.
Before the first request, the test binds a queue of its own to the
exchange the servers publish on (a :class:`fixtures_broker.Listener`:
every priority, of which only ``info`` may come).

The requests: a client registered (and again, unchanged), an action
created, patched and deleted (twice), a job whose run freezer-scheduler
reports (running, its agent's pid, a backup of the run, completed), a
stop event, a PATCH refused with 412 and the job deleted; then a second
job whose run starts again (a new time_started) and is open when the job
is deleted, and the client deleted.

Every request is followed by a wait for the notifications it must send
(each request's are sent before its reply, after its commit), so that
each notification is known to come from its request and in order: the
requests of a job or a run land on different workers, whose connections
the broker does not order. A refused request (412) must send nothing,
and at the end no more may come (nothing is sent twice). Only this
test's notifications (its own project) are looked at: another run may
share the broker.

A second pair of servers, with short ``[history]`` options and a sweep
each second, shows what no request tells (the sweep, ``sweep.py``): a
client polls once, a job of it starts running and is never reported
again, an interval job is never run; ``run.missed``, ``run.lost`` and
``client.offline`` must come, each once though every process sweeps.

Environment: ``FREEZER_FUNC_RABBIT_URL`` (``rabbit://user:pw@host:port/``,
as .ci/run exports it); unset, the test is skipped.
"""

import json
import time
import uuid

import requests
import testtools

from freezer_api.tests.functional import base
from freezer_api.tests.functional import fixtures_broker
from freezer_api.tests.functional import fixtures_server
from freezer_api.tests.functional import utils

WAIT = 15.0                     # for a request's notifications, seconds
QUIET = 2.0                     # without any, to say none came

# The sweep's [history] options (SweepNotificationsTest), seconds: short,
# so that all it tells comes within SWEEP_WAIT.
SWEEP_INTERVAL = 1
SWEEP_GRACE = 1
SWEEP_CLIENT_TIMEOUT = 2
SWEEP_RUN_TIMEOUT = 4
SWEEP_WAIT = 30.0               # for all it tells, from the last request
SWEEP_AFTER = 5.0               # and then for anything told twice

CRUD_KEYS = {'project_id', 'user_id', 'version'}
RUN_START_KEYS = {'run_id', 'job_id', 'client_id', 'project_id', 'user_id',
                  'session_id', 'time_started'}
RUN_END_KEYS = RUN_START_KEYS | {'result', 'time_ended', 'duration',
                                 'backup_ids'}


class _BrokerTestCase(base.FunctionalTestCase):
    """A server pair of its own sending to the broker, a listener on it,
    and the helpers to read what it receives."""

    auth_strategy = 'noauth'
    needs_client = False
    # More of the servers' config file (sections of it), if any.
    server_conf = ''

    @classmethod
    def setUpClass(cls):
        # Not FunctionalTestCase's: it would build the Keystone, client,
        # Horizon and tempest venvs and start the shared servers, none of
        # which this test uses (it starts servers of its own).
        testtools.TestCase.setUpClass()

    def setUp(self):
        self.server = None
        super().setUp()
        self.rabbit_url = fixtures_broker.rabbit_url()
        if not self.rabbit_url:
            self.skipTest(fixtures_broker.skip_reason())
        self.project = f'notify-{uuid.uuid4().hex[:12]}'
        self.headers = utils.member_headers(self.project)
        self.listener = fixtures_broker.Listener(self.rabbit_url)
        self.addCleanup(self.listener.close)
        self.server = self.useFixture(fixtures_server.FreezerApiGroupFixture(
            'noauth', extra_conf=(
                fixtures_broker.server_conf(self.rabbit_url) +
                self.server_conf)))
        self.taken = 0      # of self.listener.received
        self.foreign = 0    # notifications of other projects, ignored

    def _attach_logs(self, exc_info):
        if self.server is not None:
            super()._attach_logs(exc_info)

    # ------------------------------------------------------------ helpers
    def request(self, method, resource, *ids, expect, **kwargs):
        path = '/'.join([f'/v2/{self.project}/{resource}'] + list(ids))
        headers = dict(self.headers, Accept='application/json',
                       **kwargs.pop('headers', {}))
        response = requests.request(method, self.server.url + path,
                                    headers=headers, timeout=30, **kwargs)
        self.assertEqual(expect, response.status_code,
                         f'{method} {path}: {response.text}')
        return response.json() if response.content else None

    def _ours(self):
        """The notifications of this test's project not taken yet."""
        new = self.listener.received[self.taken:]
        self.taken = len(self.listener.received)
        ours = []
        for message in new:
            payload = message.get('payload')
            if (isinstance(payload, dict)
                    and payload.get('project_id') == self.project):
                ours.append(message)
            else:
                self.foreign += 1
        return ours

    def expect(self, what, *event_types):
        """Wait for the notifications of the request just answered,
        ``event_types`` in this order; check their envelopes; return
        their payloads."""
        got = []
        deadline = time.monotonic() + WAIT
        while len(got) < len(event_types) and time.monotonic() < deadline:
            self.listener.drain(0.2)
            got += self._ours()
        # Whatever else is already there (a notification sent twice).
        self.listener.drain(0.1)
        got += self._ours()
        self.assertEqual(list(event_types),
                         [m['event_type'] for m in got],
                         f'{what}: the notifications received:\n' +
                         json.dumps(got, indent=1, default=str))
        for message in got:
            self.check_envelope(message)
        return [m['payload'] for m in got]

    def expect_none(self, what, seconds=QUIET):
        self.listener.drain(seconds)
        got = self._ours()
        self.assertEqual([], [(m['event_type'], m['payload']) for m in got],
                         f'{what} sent notifications')

    def check_envelope(self, message):
        fixtures_broker.check_envelope(self, message)

    def crud(self, payload, resource, doc_id, version, **more):
        self.assertEqual(dict({'project_id': self.project,
                               'user_id': 'writer',
                               f'{resource}_id': doc_id,
                               'version': version}, **more), payload)

    def scheduler_patch(self, job_id, **schedule):
        """A job status PATCH as freezer-scheduler sends it."""
        body = {'job_schedule': dict({'event': '', 'result': ''},
                                     **schedule),
                'session_id': '', 'session_tag': 0}
        return self.request('PATCH', 'jobs', job_id, expect=200, json=body)


    def check_server_logs(self):
        """The servers sent without trouble, and never logged the URL."""
        for fx in self.server.servers:
            for path in (fx.log_file, fx.out_file):
                with open(path, encoding='utf-8', errors='replace') as f:
                    text = f.read()
                self.assertNotIn('Notifications cannot be sent', text)
                self.assertNotIn('Notifications are off', text)
                self.assertNotIn(self.rabbit_url, text)


class NotificationsTest(_BrokerTestCase):
    """Every write of a client, an action, a job and its run, seen on the
    broker."""

    def test_every_write_told_once_after_commit(self):
        t0 = time.monotonic()
        p = self.project

        # A client, as freezer-scheduler registers itself.
        client_id = f'{p}_node'
        client = {'client_id': client_id, 'hostname': 'node',
                  'description': 'notifications', 'uuid': uuid.uuid4().hex}
        self.request('POST', 'clients', expect=201, json=client)
        (created,) = self.expect('client registration', 'client.create')
        self.crud(created, 'client', client_id, 1)
        # Registered again as it was (a restarted scheduler): no write.
        self.request('POST', 'clients', expect=201, json=client)
        self.expect_none('an unchanged registration', seconds=0.5)

        # An action: create, patch, delete.
        action_id = self.request(
            'POST', 'actions', expect=201,
            json=utils.fs_backup_action(self.unique('notify')))['action_id']
        (created,) = self.expect('action create', 'action.create')
        self.crud(created, 'action', action_id, 1)
        self.request('PATCH', 'actions', action_id, expect=200,
                     json={'max_retries': 3})
        (updated,) = self.expect('action patch', 'action.update')
        self.crud(updated, 'action', action_id, 2)
        self.request('DELETE', 'actions', action_id, expect=204)
        (deleted,) = self.expect('action delete', 'action.delete')
        self.crud(deleted, 'action', action_id, 2)
        self.request('DELETE', 'actions', action_id, expect=204)
        self.expect_none('a delete of nothing', seconds=0.5)

        # A job and one run of it, reported as freezer-scheduler does.
        job_id = self.request('POST', 'jobs', expect=201, json={
            'client_id': client_id, 'description': 'notifications',
            'job_schedule': {},
            'job_actions': [utils.fs_backup_action(self.unique('job'))],
        })['job_id']
        (created,) = self.expect('job create', 'job.create')
        self.crud(created, 'job', job_id, 1)

        started = int(time.time()) - 60
        self.scheduler_patch(job_id, status='running', time_started=started)
        run_start, updated = self.expect('status running', 'run.start',
                                         'job.update')
        self.assertEqual(RUN_START_KEYS, set(run_start), run_start)
        run_id = run_start['run_id']
        self.assertTrue(run_id)
        self.assertEqual({'job_id': job_id, 'client_id': client_id,
                          'project_id': p, 'user_id': 'writer',
                          'session_id': '', 'time_started': started},
                         {k: v for k, v in run_start.items()
                          if k != 'run_id'})
        self.crud(updated, 'job', job_id, 2)

        self.scheduler_patch(job_id, status='running', time_started=started,
                             current_pid=4242)
        (updated,) = self.expect('current_pid', 'job.update')
        self.crud(updated, 'job', job_id, 3)

        backup_id = self.request('POST', 'backups', expect=201, json={
            'container': 'notifications', 'hostname': 'node',
            'backup_name': 'notify', 'job_id': job_id})['backup_id']
        (created,) = self.expect('backup create', 'backup.create')
        self.crud(created, 'backup', backup_id, 1)

        ended = started + 42
        self.scheduler_patch(job_id, status='completed', result='success',
                             time_started=started, time_ended=ended)
        run_end, updated = self.expect('status completed', 'run.end',
                                       'job.update')
        self.assertEqual(RUN_END_KEYS, set(run_end), run_end)
        self.assertEqual(dict(run_start, result='success', time_ended=ended,
                              duration=42, backup_ids=[backup_id]), run_end)
        self.crud(updated, 'job', job_id, 4)
        # What was told is what is stored.
        run = self.request('GET', 'runs', run_id, expect=200)
        self.assertEqual((job_id, started, ended, 'success'),
                         (run['job_id'], run['time_started'],
                          run['time_ended'], run['result']), run)

        self.request('POST', 'jobs', job_id, 'event', expect=202,
                     json={'stop': None})
        (event,) = self.expect('stop event', 'job.event')
        self.crud(event, 'job', job_id, 5, event='stop')

        # Refused: a stale If-Match; nothing is written, nothing told.
        self.request('PATCH', 'jobs', job_id, expect=412,
                     headers={'If-Match': '"1"'},
                     json={'description': 'stale'})
        self.expect_none('a PATCH refused with 412')
        self.assertEqual(5, self.request('GET', 'jobs', job_id,
                                         expect=200)['_version'])

        self.request('DELETE', 'jobs', job_id, expect=204)
        (deleted,) = self.expect('job delete', 'job.delete')
        self.crud(deleted, 'job', job_id, 5)

        # A run that starts again (a new time_started while it is open)
        # and one whose job is deleted: both end without a result.
        job_id = self.request('POST', 'jobs', expect=201, json={
            'client_id': client_id, 'description': 'notifications 2',
            'job_schedule': {},
            'job_actions': [utils.fs_backup_action(self.unique('job'))],
        })['job_id']
        (created,) = self.expect('second job create', 'job.create')
        self.crud(created, 'job', job_id, 1)
        self.scheduler_patch(job_id, status='running', time_started=started)
        first, _updated = self.expect('second job running', 'run.start',
                                      'job.update')
        again = started + 5
        before = int(time.time())
        self.scheduler_patch(job_id, status='running', time_started=again)
        first_end, second, updated = self.expect(
            'a new time_started', 'run.end', 'run.start', 'job.update')
        self.assertEqual(RUN_END_KEYS, set(first_end), first_end)
        self.assertEqual(first, {k: first_end[k] for k in RUN_START_KEYS})
        self.assertIsNone(first_end['result'])
        self.assertEqual([], first_end['backup_ids'])
        self.assertGreaterEqual(first_end['time_ended'], before)
        self.assertEqual(first_end['time_ended'] - started,
                         first_end['duration'])
        self.assertNotEqual(first['run_id'], second['run_id'])
        self.assertEqual(again, second['time_started'])
        self.crud(updated, 'job', job_id, 3)
        self.request('DELETE', 'jobs', job_id, expect=204)
        deleted, second_end = self.expect('a job deleted while it runs',
                                          'job.delete', 'run.end')
        self.crud(deleted, 'job', job_id, 3)
        self.assertEqual(second, {k: second_end[k] for k in RUN_START_KEYS})
        self.assertIsNone(second_end['result'])
        self.assertEqual([], second_end['backup_ids'])

        self.request('DELETE', 'clients', client_id, expect=204)
        (deleted,) = self.expect('client delete', 'client.delete')
        self.assertEqual(client_id, deleted['client_id'])
        self.assertEqual(CRUD_KEYS | {'client_id'}, set(deleted))

        # Nothing more: nothing was sent twice, or late.
        self.expect_none('the requests, afterwards')
        self.check_server_logs()
        self.figures('notifications', received=self.taken,
                     others_ignored=self.foreign,
                     seconds=round(time.monotonic() - t0, 1))


class SweepNotificationsTest(_BrokerTestCase):
    """What time alone makes, told by the servers' periodic sweep: a run
    missed, a run lost and a client gone offline, each once although
    every API process of both servers sweeps the same rows."""

    server_conf = (
        '[history]\n'
        f'sweep_interval = {SWEEP_INTERVAL}\n'
        f'grace = {SWEEP_GRACE}\n'
        f'client_timeout = {SWEEP_CLIENT_TIMEOUT}\n'
        f'run_timeout = {SWEEP_RUN_TIMEOUT}\n')

    def poll(self, client_id):
        """One poll for jobs, as freezer-scheduler sends it."""
        return self.request(
            'GET', 'jobs', expect=200,
            params={'limit': 10, 'offset': 0, 'all_projects': 'False'},
            json={'match_not': [{'status': 'completed'}],
                  'match': [{'client_id': client_id}]})

    def test_sweep_tells_missed_lost_and_offline_once(self):
        t0 = time.monotonic()
        p = self.project
        client_id = f'{p}_node'
        self.request('POST', 'clients', expect=201, json={
            'client_id': client_id, 'hostname': 'node',
            'description': 'sweep', 'uuid': uuid.uuid4().hex})
        self.expect('client registration', 'client.create')
        # Requests for every worker (the proxy takes turns), so that
        # each process's sweep has started: all of them look.
        for _ in range(8):
            self.request('GET', 'clients', expect=200)

        # The one poll: the client's last_seen (each process writes the
        # polls it saw within liveness.FLUSH_INTERVAL, and before each
        # of its sweeps).
        polled_from = int(time.time())
        self.poll(client_id)
        polled_to = int(time.time())

        # A job the scheduler starts, and of which it never says more.
        running_id = self.request('POST', 'jobs', expect=201, json={
            'client_id': client_id, 'description': 'sweep running',
            'job_schedule': {},
            'job_actions': [utils.fs_backup_action(self.unique('run'))],
        })['job_id']
        self.expect('running job create', 'job.create')
        started = int(time.time())
        self.scheduler_patch(running_id, status='running',
                             time_started=started)
        run_start, _updated = self.expect('status running', 'run.start',
                                          'job.update')

        # A job due every second, never run: due one interval after it
        # was created, and that stays its due time (no run moves it).
        created_from = int(time.time())
        interval_id = self.request('POST', 'jobs', expect=201, json={
            'client_id': client_id, 'description': 'sweep interval',
            'job_schedule': {'schedule_interval': '1 seconds'},
            'job_actions': [utils.fs_backup_action(self.unique('due'))],
        })['job_id']
        created_to = int(time.time())
        self.expect('interval job create', 'job.create')

        # No more polls. Missed after due + grace, lost after
        # run_timeout without a poll, offline after three
        # client_timeouts without one.
        wanted = ('run.missed', 'run.lost', 'client.offline')
        got = []
        deadline = time.monotonic() + SWEEP_WAIT
        while time.monotonic() < deadline and not all(
                any(m['event_type'] == kind for m in got)
                for kind in wanted):
            self.listener.drain(0.2)
            got += self._ours()
        # Every process sweeps each second: a second telling would come
        # within a few.
        self.listener.drain(SWEEP_AFTER)
        got += self._ours()
        received = json.dumps(got, indent=1, default=str)
        self.assertEqual(sorted(wanted),
                         sorted(m['event_type'] for m in got),
                         'the sweep told:\n' + received)
        for message in got:
            self.check_envelope(message)
        told = {m['event_type']: m['payload'] for m in got}

        missed = told['run.missed']
        self.assertEqual({'project_id', 'job_id', 'client_id', 'next_due'},
                         set(missed), missed)
        self.assertEqual((p, interval_id, client_id),
                         (missed['project_id'], missed['job_id'],
                          missed['client_id']), missed)
        self.assertGreaterEqual(missed['next_due'], created_from + 1)
        self.assertLessEqual(missed['next_due'], created_to + 1)

        lost = told['run.lost']
        self.assertEqual({'project_id', 'run_id', 'job_id', 'client_id',
                          'time_started', 'client_seen'}, set(lost), lost)
        self.assertEqual((p, run_start['run_id'], running_id, client_id,
                          started),
                         (lost['project_id'], lost['run_id'],
                          lost['job_id'], lost['client_id'],
                          lost['time_started']), lost)

        offline = told['client.offline']
        self.assertEqual({'project_id', 'client_id', 'last_seen'},
                         set(offline), offline)
        self.assertEqual((p, client_id),
                         (offline['project_id'], offline['client_id']))
        self.assertGreaterEqual(offline['last_seen'], polled_from)
        self.assertLessEqual(offline['last_seen'], polled_to)
        # The lost run was judged by the same poll.
        self.assertEqual(offline['last_seen'], lost['client_seen'], lost)

        # What the service reads now agrees with what it told.
        run = self.request('GET', 'runs', run_start['run_id'], expect=200)
        self.assertEqual('lost', run['status'], run)
        self.check_server_logs()
        self.figures('sweep notifications', received=len(got),
                     others_ignored=self.foreign,
                     seconds=round(time.monotonic() - t0, 1))

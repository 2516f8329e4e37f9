"""The real freezer-scheduler and freezer-agent against freezer-api.

One scheduler per test class (fixtures_scheduler.py), authenticated as
alice in project-a through the real Keystone, finds the API in the
catalog and runs real fs backups to local storage. The tests drive it the
way an operator does, with raw HTTP and alice's token, and read back what
the scheduler reported: job status, backup records, session state.

The tests are named in the order they tell the story (register, back up,
restore, session), but each can run alone: the restore makes its own
backup when the backup test did not run in this process.
"""

import filecmp
import hashlib
import os
import shutil
import socket
import stat
import subprocess
import tempfile

from freezer_api.tests.functional import base
from freezer_api.tests.functional import fixtures_scheduler

POLL_INTERVAL = 2          # the scheduler's, in seconds
REGISTER_TIMEOUT = 60
JOB_TIMEOUT = 90


def make_work_dir(prefix):
    """A new work directory and, in it, a data tree to back up:
    (work_dir, data_dir)."""
    work_dir = tempfile.mkdtemp(prefix=prefix)
    data_dir = os.path.join(work_dir, 'data')
    os.makedirs(data_dir)
    make_data_tree(data_dir)
    return work_dir, data_dir


def make_data_tree(root):
    """A small tree with what a file backup must keep: nested and empty
    directories, a dotfile, an empty file, random binary data, modes, a
    relative and a dangling symlink, non-ASCII and blank-containing
    names."""
    def write(rel, data, mode=None):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)
        if mode is not None:
            os.chmod(path, mode)

    write('README.txt', b'freezer functional test data\n')
    write('.hidden', b'a dotfile\n')
    write('empty.dat', b'')
    write('run.sh', b'#!/bin/sh\necho hi\n', 0o755)
    write('nested/level1/level2/deep.txt', b'deep\n' * 100)
    write('nested/random.bin', os.urandom(256 * 1024), 0o600)
    write('with space/\u00fcn\u00efcode.txt', '\u00e9t\u00e9\n'.encode())
    os.makedirs(os.path.join(root, 'empty-dir'))
    os.symlink('../README.txt', os.path.join(root, 'nested', 'readme-link'))
    os.symlink('does-not-exist', os.path.join(root, 'dangling-link'))


def tree_manifest(root):
    """{relative path: what it is} for everything below ``root``:
    ('link', target), ('dir', mode) or ('file', mode, sha256)."""
    manifest = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                manifest[rel] = ('link', os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                manifest[rel] = ('dir', stat.S_IMODE(st.st_mode))
            else:
                with open(path, 'rb') as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                manifest[rel] = ('file', stat.S_IMODE(st.st_mode), digest)
    return manifest


class SchedulerAgentTest(fixtures_scheduler.SchedulerLogOnFailure,
                         base.FunctionalTestCase):

    auth_strategy = 'keystone'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work_dir, cls.data_dir = make_work_dir('freezer-func-e2e-')
        cls.client_id, cls.scheduler = fixtures_scheduler.start_scheduler(
            cls.keystone, 'sched', cls.work_dir, POLL_INTERVAL)
        cls._registered = None
        cls._backup = None

    @classmethod
    def tearDownClass(cls):
        problem = cls.scheduler.stop_problem()
        cls.scheduler.cleanUp()
        shutil.rmtree(cls.work_dir, True)
        super().tearDownClass()
        if problem:
            raise AssertionError(problem)

    # ------------------------------------------------------------ helpers
    def _session(self, session_id):
        return self.get_document(self.v2_path('sessions') + '/' + session_id)

    def _backups(self, match):
        resp = self.http('GET', self.v2_path('backups'), user='alice',
                         params={'limit': 100}, json={'match': match})
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()['backups']

    def _post(self, resource, doc, expect=201):
        resp = self.http('POST', self.v2_path(resource), user='alice',
                         json=doc)
        self.assertEqual(expect, resp.status_code,
                         f'POST {resource}: {resp.text}')
        return resp.json()

    def wait_registered(self):
        """The scheduler's client document, once it has registered."""
        if type(self)._registered is None:
            path = self.v2_path('clients') + '/' + self.client_id
            type(self)._registered = self.wait_for(
                f'freezer-scheduler to register client {self.client_id}',
                lambda: self.get_document(path), lambda doc: doc is not None,
                timeout=REGISTER_TIMEOUT, details=self.scheduler_details)
        return type(self)._registered

    def job_doc(self, freezer_action, job_schedule=None, description=None):
        return {
            'client_id': self.client_id,
            'description': description or self.unique('e2e'),
            'job_schedule': job_schedule or {},
            'job_actions': [{
                'freezer_action': dict(freezer_action),
                'max_retries': 1,
                'max_retries_interval': 1,
            }],
        }

    def backup_action(self, backup_name, container):
        return {'action': 'backup', 'mode': 'fs', 'storage': 'local',
                'path_to_backup': self.data_dir, 'container': container,
                'backup_name': backup_name}

    def create_job(self, doc):
        self.wait_registered()
        job_id = self._post('jobs', doc)['job_id']
        self.assertTrue(job_id)
        return job_id

    def wait_job_completed(self, job_id, timeout=JOB_TIMEOUT):
        """Wait until the scheduler reports the job ``completed``; assert
        its result is ``success``; return the job document."""
        job = self.wait_for(
            f'job {job_id} to reach job_schedule.status "completed"',
            lambda: self.get_job(job_id),
            lambda doc: (doc or {}).get('job_schedule', {}).get(
                'status') == 'completed',
            timeout=timeout, details=self.scheduler_details)
        self.assertEqual(
            'success', job['job_schedule'].get('result'),
            f'job {job_id} completed without success:\n{job}\n'
            f'{self.scheduler_details()}')
        return job

    def ensure_backup(self):
        """Run the backup job once per class; its facts for later tests."""
        if type(self)._backup is None:
            name = self.unique('e2e-backup')
            container = os.path.join(self.work_dir, 'backups-' + name)
            os.makedirs(container)
            job_id = self.create_job(self.job_doc(
                self.backup_action(name, container)))
            job = self.wait_job_completed(job_id)
            type(self)._backup = {'job_id': job_id, 'name': name,
                                  'container': container, 'job': job}
        return type(self)._backup

    # -------------------------------------------------------------- tests
    def test_a_scheduler_registers_its_client(self):
        doc = self.wait_registered()
        client = doc['client']
        self.assertEqual(self.client_id, client['client_id'])
        self.assertEqual(socket.gethostname(), client['hostname'])
        self.assertFalse(client.get('is_central'))
        # the scheduler's defaults (freezer/scheduler/arguments.py), as
        # it sends them (scheduler-calls.jsonl, scenario "startup")
        self.assertEqual(
            {'supported_actions': ['backup', 'restore', 'info', 'admin',
                                   'exec'],
             'supported_modes': ['fs', 'mongo', 'mysql', 'sqlserver',
                                 'cinder', 'glance', 'cindernative', 'nova'],
             'supported_storages': ['local', 'swift', 'ssh', 's3', 'ftp',
                                    'ftps'],
             'supported_engines': ['tar', 'rsync', 'rsyncv2', 'nova',
                                   'osbrick', 'glance']},
            {key: client.get(key) for key in (
                'supported_actions', 'supported_modes',
                'supported_storages', 'supported_engines')})
        self.assertEqual(self.project_id('alice'), doc['project_id'])
        self.assertEqual(self.keystone.user_ids['alice'], doc['user_id'])

        resp = self.http('GET', self.v2_path('clients'), user='alice',
                         params={'limit': 1000})
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertIn(self.client_id, [c['client']['client_id']
                                       for c in resp.json()['clients']])
        # another project does not see it
        resp = self.http('GET', self.v2_path('clients', 'bob') + '/'
                         + self.client_id, user='bob')
        self.assertEqual(404, resp.status_code, resp.text)

    def test_b_backup_job_runs_and_records_backup(self):
        b = self.ensure_backup()
        sched = b['job']['job_schedule']
        self.assertEqual('', sched.get('event'), sched)
        self.assertGreater(sched.get('time_started', -1), 0, sched)
        self.assertGreaterEqual(sched.get('time_ended', -1),
                                sched['time_started'], sched)
        self.assertIsInstance(sched.get('current_pid'), int, sched)
        self.assertEqual(self.client_id, b['job']['client_id'])

        # the scheduler POSTed the agent's metadata as a backup record
        by_job = self._backups([{'job_id': b['job_id']}])
        self.assertEqual(1, len(by_job), by_job)
        backup = by_job[0]
        self.assertEqual('available', backup['status'])
        self.assertEqual(self.project_id('alice'), backup['project_id'])
        self.assertEqual(self.keystone.user_ids['alice'], backup['user_id'])
        meta = backup['backup_metadata']
        expected = {'backup_name': b['name'], 'container': b['container'],
                    'path_to_backup': self.data_dir, 'mode': 'fs',
                    'storage': 'local', 'action': 'backup',
                    'job_id': b['job_id'], 'curr_backup_level': 0,
                    'hostname': socket.gethostname()}
        for key, value in expected.items():
            self.assertEqual(value, meta.get(key), key)
        by_name = self._backups([{'backup_name': b['name']}])
        self.assertEqual([backup['backup_id']],
                         [x['backup_id'] for x in by_name])
        got = self.get_document(
            self.v2_path('backups') + '/' + backup['backup_id'])
        self.assertEqual(backup['backup_metadata'], got['backup_metadata'])
        self.assertEqual('available', got['status'])

        # and the agent really wrote the backup to the container
        files = [f for _, _, fs in os.walk(b['container']) for f in fs]
        self.assertTrue(files, f'nothing in {b["container"]}')

    def test_c_restore_job_restores_identical_tree(self):
        b = self.ensure_backup()
        restore_dir = os.path.join(self.work_dir, self.unique('restore'))
        os.makedirs(restore_dir)
        job_id = self.create_job(self.job_doc({
            'action': 'restore', 'mode': 'fs', 'storage': 'local',
            'container': b['container'], 'backup_name': b['name'],
            'restore_abs_path': restore_dir}))
        self.wait_job_completed(job_id)

        res = subprocess.run(  # noqa: S603
            ['diff', '-r', '--no-dereference', self.data_dir, restore_dir],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(('', 0), (res.stdout, res.returncode),
                         f'diff -r: {res.stderr}')
        cmp = filecmp.dircmp(self.data_dir, restore_dir)
        self.assertEqual([], cmp.left_only + cmp.right_only)
        # diff does not look at modes; this also pins symlink targets
        self.assertEqual(tree_manifest(self.data_dir),
                         tree_manifest(restore_dir))
        # a restore posts no backup record (the agent prints {})
        self.assertEqual([], self._backups([{'job_id': job_id}]))

    def test_d_session_runs_job_and_completes(self):
        """A session with one job, run by the scheduler.

        freezer-scheduler 19.0.0 keeps a job it knows in its own state
        when only the definition changes: the job is created stopped, so
        the scheduler cannot run it before it joins the session, and a
        start event runs it once it has.
        """
        session_id = self._post('sessions', {
            'description': self.unique('e2e-session'),
            'hold_off': 2, 'schedule': {}})['session_id']
        name = self.unique('e2e-session-backup')
        container = os.path.join(self.work_dir, 'backups-' + name)
        os.makedirs(container)
        job_id = self.create_job(self.job_doc(
            self.backup_action(name, container),
            job_schedule={'event': 'stop'}))
        self.wait_for(
            f'freezer-scheduler to acknowledge stopped job {job_id}',
            lambda: self.get_job(job_id),
            lambda doc: doc['job_schedule'].get('status') == 'stop',
            timeout=30, details=self.scheduler_details)

        resp = self.http('PUT', self.v2_path('sessions')
                         + f'/{session_id}/jobs/{job_id}', user='alice')
        self.assertEqual(204, resp.status_code, resp.text)
        session = self._session(session_id)
        self.assertIn(job_id, session.get('jobs') or {}, session)
        self.assertEqual(self.client_id,
                         session['jobs'][job_id].get('client_id'))
        self.assertEqual(session_id, self.get_job(job_id)['session_id'])

        resp = self.http('POST', self.v2_path('jobs') + f'/{job_id}/event',
                         user='alice', json={'start': None})
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual({'result': 'success'}, resp.json())

        job = self.wait_job_completed(job_id)
        self.assertEqual(session_id, job['session_id'])
        self.assertGreaterEqual(job['session_tag'], 1, job)

        session = self.wait_for(
            f'session {session_id} to complete',
            lambda: self._session(session_id),
            lambda doc: doc.get('status') == 'completed',
            timeout=30, details=self.scheduler_details)
        self.assertEqual('success', session.get('result'), session)
        self.assertGreaterEqual(session['session_tag'], 1, session)
        self.assertGreater(session.get('time_start', -1), 0, session)
        self.assertGreaterEqual(session.get('time_end', -1),
                                session['time_start'], session)
        entry = session['jobs'][job_id]
        self.assertEqual(('completed', 'success'),
                         (entry.get('status'), entry.get('result')), entry)
        self.assertEqual(1, len(self._backups([{'job_id': job_id}])))

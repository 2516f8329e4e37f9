"""A central freezer-scheduler runs other projects' jobs through trusts.

The real freezer-scheduler 19.0.0, in centralized mode
(``[scheduler] centralized_scheduler``), runs as the service user
``freezer``: the user of the servers' ``[keystone_authtoken]``, to whom
the API gives a Keystone trust for every job of a central client. It is
scoped to a project of its own where it holds ``member`` and ``service``
(fixtures_scheduler.central_project: registering a client takes a
member, a central one the service role too). It registers its client as
central, lists the jobs of every project, and runs each one whose
``user_credentials`` hold a trust id with a token of that trust, in the
job's project: its status updates, the backup record it posts and
freezer-agent's own authentication all go through the trust. A job
without a trust is skipped.

Alice (member of project-a) creates the jobs. A job without a trust is
one created while trusts were off: a third server on the same database,
with ``[centralized_scheduler] enabled = false``, stores it.
"""

import os
import shutil
import socket
import uuid

import requests

from freezer_api.tests.functional import base
from freezer_api.tests.functional import fixtures_keystone
from freezer_api.tests.functional import fixtures_scheduler
from freezer_api.tests.functional import fixtures_server
from freezer_api.tests.functional import test_scheduler_agent
from freezer_api.tests.functional import utils

POLL_INTERVAL = 2
REGISTER_TIMEOUT = 60
JOB_TIMEOUT = 90
TRUSTS = '/OS-TRUST/trusts'
SERVICE_USER = fixtures_scheduler.CENTRAL_USER


class CentralSchedulerTest(fixtures_scheduler.SchedulerLogOnFailure,
                           base.FunctionalTestCase):

    auth_strategy = 'keystone'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work_dir, cls.data_dir = test_scheduler_agent.make_work_dir(
            'freezer-func-central-')
        # Trusts off: the jobs it stores have no user_credentials.
        cls.untrusted = fixtures_server.FreezerApiServerFixture(
            'keystone', keystone=cls.keystone, db_url=cls.server.db_url,
            extra_conf='[centralized_scheduler]\nenabled = false\n')
        cls.client_id = f'central-{uuid.uuid4().hex[:12]}'
        cls.project = fixtures_scheduler.central_project(cls.keystone)
        cls.scheduler = fixtures_scheduler.FreezerSchedulerFixture(
            cls.keystone, cls.client_id, user=SERVICE_USER,
            project=cls.project, interval=POLL_INTERVAL, central=True)
        try:
            cls.untrusted.setUp()
            cls.scheduler.setUp()
        except Exception:
            cls._clean_up()
            raise

    @classmethod
    def _clean_up(cls):
        for fixture in (cls.scheduler, cls.untrusted):
            try:
                fixture.cleanUp()
            except Exception:  # noqa: S110,BLE001 - not set up
                pass
        shutil.rmtree(cls.work_dir, True)

    @classmethod
    def tearDownClass(cls):
        problem = cls.scheduler.stop_problem()
        cls._clean_up()
        super().tearDownClass()
        if problem:
            raise AssertionError(problem)

    def extra_logs(self):
        return {'untrusted-freezer-api-log': self.untrusted.log_tail()}

    # ------------------------------------------------------------ helpers
    def wait_registered(self):
        return self.wait_for(
            f'freezer-scheduler to register central client '
            f'{self.client_id}',
            lambda: self.get_document(self.v2_path('clients') + '/'
                              + self.client_id),
            lambda doc: doc is not None, timeout=REGISTER_TIMEOUT,
            details=self.scheduler_details)

    def job_doc(self, backup_name):
        container = os.path.join(self.work_dir, 'backups-' + backup_name)
        os.makedirs(container)
        return {
            'client_id': self.client_id,
            'description': self.unique('central'),
            'job_schedule': {},
            'job_actions': [{
                'freezer_action': {
                    'action': 'backup', 'mode': 'fs', 'storage': 'local',
                    'path_to_backup': self.data_dir,
                    'container': container, 'backup_name': backup_name},
                'max_retries': 1,
                'max_retries_interval': 1,
            }],
        }

    def create_job(self, doc, base_url=None):
        """POST the job as alice (to ``base_url``, default the servers
        behind the catalog); deleted again after the test."""
        url = (base_url or self.server.url) + self.v2_path('jobs')
        resp = requests.post(url, json=doc, timeout=30, headers={
            'X-Auth-Token': self.keystone.token('alice')})
        self.assertEqual(201, resp.status_code, resp.text)
        job_id = resp.json()['job_id']
        self.addCleanup(self.http, 'DELETE',
                        self.v2_path('jobs') + '/' + job_id, user='alice')
        return job_id

    def trustee_trusts(self):
        """The trusts of alice to the service user on project-a, as
        Keystone's admin API lists them."""
        ks = self.keystone
        admin = ks.session(fixtures_keystone.ADMIN_USER,
                           fixtures_keystone.ADMIN_PASSWORD,
                           fixtures_keystone.ADMIN_PROJECT)
        wanted = (ks.user_ids['alice'], ks.user_ids[SERVICE_USER],
                  ks.project_ids['project-a'])
        return [t['id'] for t in admin.get(ks.auth_url + TRUSTS).json()
                ['trusts']
                if (t['trustor_user_id'], t['trustee_user_id'],
                    t['project_id']) == wanted]

    # -------------------------------------------------------------- tests
    def test_registers_a_central_client(self):
        doc = self.wait_registered()
        self.assertTrue(doc['client']['is_central'], doc)
        self.assertEqual(socket.gethostname(), doc['client']['hostname'])
        self.assertEqual(self.keystone.project_ids[self.project],
                         doc['project_id'])
        self.assertEqual(self.keystone.user_ids[SERVICE_USER],
                         doc['user_id'])
        # Every project sees it, as a client its jobs can name.
        listed = self.http('GET', self.v2_path('clients', 'bob'),
                           user='bob', params={'limit': 1000})
        self.assertEqual(200, listed.status_code, listed.text)
        self.assertIn(self.client_id, [c['client']['client_id']
                                       for c in listed.json()['clients']])

    def test_runs_a_job_through_its_trust_and_ignores_one_without(self):
        self.wait_registered()
        untrusted_id = self.create_job(self.job_doc(self.unique('no-trust')),
                                       base_url=self.untrusted.url)
        self.assertNotIn('user_credentials', self.get_job(untrusted_id))

        name = self.unique('central-backup')
        job_id = self.create_job(self.job_doc(name))
        credentials = self.get_job(job_id)['user_credentials']
        self.assertEqual(self.keystone.user_ids['alice'],
                         credentials['trustor_user_id'])
        self.assertIn(credentials['trust_id'], self.trustee_trusts())

        job = self.wait_for(
            f'the central scheduler to complete job {job_id}',
            lambda: self.get_job(job_id),
            lambda doc: doc['job_schedule'].get('status') == 'completed',
            timeout=JOB_TIMEOUT, details=self.scheduler_details)
        self.assertEqual('success', job['job_schedule'].get('result'),
                         f'{job}\n{self.scheduler_details()}')

        # The backup record was posted in project-a by the trustee: the
        # service user holds no role there, only the trust's.
        resp = self.http('GET', self.v2_path('backups'), user='alice',
                         params={'limit': 100},
                         json={'match': [{'job_id': job_id}]})
        self.assertEqual(200, resp.status_code, resp.text)
        (backup,) = resp.json()['backups']
        self.assertEqual(self.project_id('alice'), backup['project_id'])
        self.assertEqual(self.keystone.user_ids[SERVICE_USER],
                         backup['user_id'])
        self.assertEqual(('available', name, 'backup'),
                         (backup['status'],
                          backup['backup_metadata']['backup_name'],
                          backup['backup_metadata']['action']))
        files = [f for _, _, fs in os.walk(
            job['job_actions'][0]['freezer_action']['container'])
            for f in fs]
        self.assertTrue(files, 'freezer-agent wrote no backup')

        # No freezer-api logged the trust id.
        for server in self.server.servers + [self.untrusted]:
            for path in (server.log_file, server.out_file):
                with open(path, encoding='utf-8', errors='replace') as f:
                    self.assertNotIn(credentials['trust_id'], f.read(),
                                     path)

        # The job without a trust was polled all along, and skipped.
        self.assertIn(f'Job {untrusted_id} ignored: missing trust_id',
                      utils.tail(self.scheduler.log_file, 2000))
        schedule = self.get_job(untrusted_id)['job_schedule']
        self.assertEqual('', schedule.get('status', ''), schedule)
        self.assertEqual(-1, schedule.get('time_started'), schedule)
        self.assertFalse(os.path.exists(os.path.join(
            self.scheduler.jobs_dir, f'job_{untrusted_id}.conf')))

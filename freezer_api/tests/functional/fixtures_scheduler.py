"""The real freezer-scheduler (and, through it, freezer-agent) as a fixture.

Both come from the client venv (``freezer==19.0.0``, see
fixtures_client.py). The scheduler runs in the foreground (``no_daemon``)
with a config file of its own; it authenticates as a Keystone user with
password auth and finds the API in the Keystone catalog (service type
``backup``, public interface), as on a real node. It passes the same
credentials to every freezer-agent it starts, as ``OS_*`` variables.

Everything the two write stays in the fixture's temp dir: ``HOME`` (the
agent logs to ``~/.freezer/freezer.log`` and looks for config files
there), ``TMPDIR`` (the scheduler writes each action's agent config file
there) and ``jobs_dir`` (the scheduler saves every polled job there).

With ``central=True`` it is a central scheduler (``[scheduler]
centralized_scheduler``): it registers its client with ``is_central``,
lists the jobs of every project, skips those without a trust id in
``user_credentials``, and acts on each job (status updates, backup
records, the agent's own authentication) with its own password and the
job's trust, in the job's project.

Attributes after setUp: ``client_id``, ``state_dir``, ``conf_file``,
``log_file`` (the scheduler's log), ``out_file`` (its stdout/stderr),
``agent_log`` (freezer-agent's log), ``pid``; after cleanUp:
``returncode``.
"""

import os
import shutil
import signal
import tempfile
import textwrap
import uuid

import fixtures
from keystoneauth1 import exceptions as ks_exc
from testtools import content

from freezer_api.tests.functional import fixtures_client
from freezer_api.tests.functional import fixtures_keystone
from freezer_api.tests.functional import utils

# The project a central scheduler runs in, as the service user.
CENTRAL_PROJECT = 'central-scheduler'
CENTRAL_USER = 'freezer'
# Registering a client needs clients:create (a member of the project) and
# a central one clients:create_central (admin or service); reading every
# project's jobs needs jobs:get_all_projects (admin or service).
CENTRAL_ROLES = ('member', 'service')


def central_project(keystone):
    """Make (once per Keystone) the project a central scheduler runs in,
    the service user holding CENTRAL_ROLES there; its name.

    Its own project: the service user's token on the service project
    (keystonemiddleware's, and the RBAC tests' service persona) keeps the
    ``service`` role alone.
    """
    if CENTRAL_PROJECT in keystone.project_ids:
        return CENTRAL_PROJECT
    admin = keystone.session(fixtures_keystone.ADMIN_USER,
                             fixtures_keystone.ADMIN_PASSWORD,
                             fixtures_keystone.ADMIN_PROJECT)
    url = keystone.auth_url
    try:
        project_id = admin.post(url + '/projects', json={'project': {
            'name': CENTRAL_PROJECT,
            'domain_id': fixtures_keystone.DOMAIN_ID}}).json()[
                'project']['id']
    except ks_exc.Conflict:
        project_id = admin.get(url + '/projects?name=' + CENTRAL_PROJECT
                               ).json()['projects'][0]['id']
    user_id = keystone.user_ids[CENTRAL_USER]
    for role in CENTRAL_ROLES:
        admin.put(f'{url}/projects/{project_id}/users/{user_id}/roles/'
                  f'{keystone.role_ids[role]}')
    keystone.project_ids[CENTRAL_PROJECT] = project_id
    return CENTRAL_PROJECT


class FreezerSchedulerFixture(fixtures.Fixture):
    """Run ``freezer-scheduler start`` in no-daemon mode.

    :param keystone: a set-up KeystoneFixture whose catalog holds the
        freezer-api under test
    :param client_id: the scheduler's client id (it registers it at start)
    :param user: the Keystone user it authenticates as; its password is
        the user's own (fixtures_keystone.USERS)
    :param project: the project it is scoped to (default: the user's own)
    :param interval: seconds between two polls of the job list
    :param venv: the client venv (default: fixtures_client.client_venv())
    :param central: run as a central scheduler (run it as the service
        user the API's trusts are given to)
    """

    def __init__(self, keystone, client_id, user='alice', interval=2,
                 venv=None, central=False, project=None):
        super().__init__()
        self.keystone = keystone
        self.client_id = client_id
        self.user = user
        self.interval = interval
        self.venv = venv or fixtures_client.client_venv()
        self.central = central
        self.project = project
        self.proc = None
        self.returncode = None

    def _setUp(self):
        self.state_dir = tempfile.mkdtemp(prefix='freezer-func-sched-')
        self.addCleanup(shutil.rmtree, self.state_dir, True)
        self.home = os.path.join(self.state_dir, 'home')
        self.tmp = os.path.join(self.state_dir, 'tmp')
        self.jobs_dir = os.path.join(self.state_dir, 'jobs')
        for d in (self.home, self.tmp, self.jobs_dir):
            os.makedirs(d)
        self.conf_file = os.path.join(self.state_dir, 'scheduler.conf')
        self.log_file = os.path.join(self.state_dir, 'scheduler.log')
        self.out_file = os.path.join(self.state_dir, 'scheduler.out')
        self.agent_log = os.path.join(self.home, '.freezer', 'freezer.log')
        with open(self.conf_file, 'w') as f:
            f.write(self.config_text())

        executable = os.path.join(self.venv, 'bin', 'freezer-scheduler')
        if not os.access(executable, os.X_OK):
            raise utils.ServiceError(f'{executable} not found: the client '
                                     'venv lacks freezer')
        self.addCleanup(self.stop)
        self.proc = utils.start_process(
            [executable, '--config-file', self.conf_file, 'start'],
            self.out_file, env=self._env(), cwd=self.state_dir,
            pid_file=os.path.join(self.state_dir, 'scheduler.pid'))
        self.pid = self.proc.pid

    def config_text(self):
        """The scheduler's config file.

        ``[service_auth]`` keys are the options' *dest* names (``os_*``):
        oslo.config silently ignores ``auth_url`` and friends there.
        """
        password, project, _ = fixtures_keystone.USERS[self.user]
        project = self.project or project
        return textwrap.dedent("""\
            [DEFAULT]
            log_file = {log}
            debug = false

            [scheduler]
            client_id = {client_id}
            jobs_dir = {jobs_dir}
            interval = {interval}
            no_daemon = true
            concurrent_jobs = 1
            centralized_scheduler = {central}

            [service_auth]
            os_auth_url = {auth_url}
            os_username = {user}
            os_password = {password}
            os_project_name = {project}
            os_user_domain_name = {domain}
            os_project_domain_name = {domain}
            os_region_name = {region}
            os_endpoint_type = public
            """).format(
            log=self.log_file, client_id=self.client_id,
            jobs_dir=self.jobs_dir, interval=self.interval,
            central=str(self.central).lower(),
            auth_url=self.keystone.auth_url, user=self.user,
            password=password, project=project,
            domain=fixtures_keystone.DOMAIN,
            region=fixtures_keystone.REGION)

    def _env(self):
        env = fixtures_client.client_env()
        # The scheduler finds freezer-agent on PATH.
        env['PATH'] = os.pathsep.join(
            [os.path.join(self.venv, 'bin'), env.get('PATH', os.defpath)])
        env['HOME'] = self.home
        env['TMPDIR'] = self.tmp
        return env

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=60):
        """The tails of the scheduler's log and output and the agent's
        log, for failure messages."""
        return '\n'.join(
            f'----- {p} -----\n{utils.tail(p, lines)}'
            for p in (self.log_file, self.out_file, self.agent_log))

    def stop(self, timeout=20):
        """SIGTERM (the scheduler's clean exit), SIGKILL after
        ``timeout``; returns the exit code (0 for a clean stop)."""
        if self.proc is not None:
            self.returncode = utils.stop_process(self.proc, signal.SIGTERM,
                                                 timeout)
            self.proc = None
        return self.returncode

    def stop_problem(self):
        """Stop; what went wrong, for an AssertionError, or None when the
        scheduler stopped cleanly on SIGTERM."""
        rc = self.stop()
        if rc == 0:
            return None
        return (f'freezer-scheduler did not stop cleanly on SIGTERM '
                f'(rc={rc})\n{self.log_tail()}')


def start_scheduler(keystone, name, work_dir, interval):
    """(client_id, scheduler): a FreezerSchedulerFixture of alice in
    project-a, set up, with a new client id ``<project>_func-<name>-<hex>``;
    ``work_dir`` (the test class's) is removed if it does not start."""
    project = keystone.project_ids['project-a']
    client_id = f'{project}_func-{name}-{uuid.uuid4().hex[:8]}'
    scheduler = FreezerSchedulerFixture(keystone, client_id, user='alice',
                                        interval=interval)
    try:
        scheduler.setUp()
    except Exception:
        shutil.rmtree(work_dir, True)
        raise
    return client_id, scheduler


class SchedulerLogOnFailure:
    """Test mixin for tests of ``self.scheduler``: a failing test carries
    the tail of its log, and the logs :meth:`extra_logs` names; reads
    check that it still runs."""

    def setUp(self):
        super().setUp()
        self.addOnException(self._attach_scheduler_logs)

    def extra_logs(self):
        """{detail name: text} to attach too."""
        return {}

    def _attach_scheduler_logs(self, exc_info):
        self.addDetail('freezer-scheduler-log', content.text_content(
            self.scheduler.log_tail(200)))
        for name, text in self.extra_logs().items():
            self.addDetail(name, content.text_content(text))

    def scheduler_details(self):
        """Whether the scheduler runs, and the tail of its log."""
        proc = self.scheduler.proc
        if self.scheduler.running():
            state = 'running'
        elif proc is None:  # stop() was called
            state = f'stopped rc={self.scheduler.returncode}'
        else:
            state = f'EXITED rc={proc.returncode}'
        return f'freezer-scheduler is {state}\n{self.scheduler.log_tail()}'

    def get_document(self, path, user='alice'):
        """GET as ``user`` while the scheduler runs: the JSON document,
        or None when 404."""
        self.assertTrue(self.scheduler.running(),
                        'freezer-scheduler exited\n' +
                        self.scheduler_details())
        resp = self.http('GET', path, user=user)
        if resp.status_code == 404:
            return None
        self.assertEqual(200, resp.status_code, f'GET {path}: {resp.text}')
        return resp.json()

    def get_job(self, job_id):
        return self.get_document(self.v2_path('jobs') + '/' + job_id)

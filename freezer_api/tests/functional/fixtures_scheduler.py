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

import fixtures

from freezer_api.tests.functional import fixtures_client
from freezer_api.tests.functional import fixtures_keystone
from freezer_api.tests.functional import utils


class FreezerSchedulerFixture(fixtures.Fixture):
    """Run ``freezer-scheduler start`` in no-daemon mode.

    :param keystone: a set-up KeystoneFixture whose catalog holds the
        freezer-api under test
    :param client_id: the scheduler's client id (it registers it at start)
    :param user: the Keystone user it authenticates as; password and
        project are the user's own (fixtures_keystone.USERS)
    :param interval: seconds between two polls of the job list
    :param venv: the client venv (default: fixtures_client.client_venv())
    """

    def __init__(self, keystone, client_id, user='alice', interval=2,
                 venv=None):
        super().__init__()
        self.keystone = keystone
        self.client_id = client_id
        self.user = user
        self.interval = interval
        self.venv = venv or fixtures_client.client_venv()
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

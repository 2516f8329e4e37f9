"""The upstream freezer-tempest-plugin, run by tempest against our API.

tempest and the plugin (PyPI, pinned below) live in a venv of their own:
they pin their own oslo.* libraries, as Keystone and the client do. The
plugin's CLI, agent and scheduler tests run ``freezer``, ``freezer-agent``
and ``freezer-scheduler`` from PATH: the client venv's bin comes first on
the tempest process's PATH, so they are the same pinned clients as in the
other functional tests.

:class:`TempestFixture` makes a workspace (``tempest init``) whose
``etc/tempest.conf`` points at the functional Keystone, whose catalog
holds our API as the ``backup`` service. :meth:`TempestFixture.run` runs
``tempest run --regex ... --serial --subunit`` and returns every test's
outcome, parsed from the subunit stream.

The plugin writes fixed paths under /tmp (:data:`PLUGIN_FIXED_PATHS`), so
two runs must never overlap, in this process or another: every run holds
a lock file under utils.func_dir() and removes those paths before and
after. Everything else the run writes (HOME, TMPDIR, the schedulers' job
and log directories) stays in the fixture's temp dir.

The central scenario runs its scheduler with "the service credentials":
the plugin reads them from /etc/freezer/freezer-api.conf
``[keystone_authtoken]``, else /etc/freezer/scheduler.conf
``[service_auth]`` (else it uses tempest's admin, who is no trustee of the
API's trusts). ``run(..., service_credentials=True)`` writes the second,
for the service user ``freezer`` in fixtures_scheduler.central_project,
for that run only, and removes it after; a file an operator put there is
never touched (the run then uses it).

Environment:
  FREEZER_FUNC_TEMPEST_VENV  venv path (default /tmp/freezer-func/
                             tempest-venv); built with pip if unusable
  FREEZER_FUNC_TEMPEST_KEEP=1  keep the workspace (path in the results)
"""

import configparser
import contextlib
import dataclasses
import glob
import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import fixtures
import subunit
import testtools

from freezer_api.tests.functional import fixtures_client
from freezer_api.tests.functional import fixtures_keystone
from freezer_api.tests.functional import fixtures_scheduler
from freezer_api.tests.functional import utils

TEMPEST_REQUIREMENTS = {
    'tempest': '47.0.0',
    'freezer-tempest-plugin': '3.5.0',
}

# Absolute paths the plugin's tests write, whatever TMPDIR says: CLI
# input files, the scenarios' backup containers, the agent tests' trees.
PLUGIN_FIXED_PATHS = (
    '/tmp/test_client.json',
    '/tmp/test_action.json',
    '/tmp/freezer_test',
    '/tmp/freezer_central_test',
    '/tmp/freezer_no_trust',
    '/tmp/freezer-test-backup-source',
    '/tmp/freezer-test-backup-restore',
    '/tmp/freezer-test-backup-local-storage',
)

# Where the plugin's central scenario looks for the service user's
# credentials (freezer_tempest_plugin/tests/freezer/scenario/
# test_backups.py, _get_service_credentials), in its order.
SERVICE_CONF_DIR = '/etc/freezer'
SERVICE_CONF_FILES = (os.path.join(SERVICE_CONF_DIR, 'freezer-api.conf'),
                      os.path.join(SERVICE_CONF_DIR, 'scheduler.conf'))
# The first line of the file the fixture writes: one a killed run left
# behind is replaced, not taken for an operator's.
SERVICE_CONF_MARK = ('# Written for one tempest run by freezer-api\'s '
                     'functional tests (fixtures_tempest.py).\n')

# tempest's [service_available] options besides the plugin's two: none of
# those services runs here, and tempest must not look for them.
OTHER_SERVICES = ('cinder', 'neutron', 'glance', 'swift', 'nova', 'horizon')

# A tempest test id ends with its attributes, e.g. "[id-...,gate]".
_ATTRS = re.compile(r'\[[^\]]*\]$')


def tempest_venv():
    return os.environ.get('FREEZER_FUNC_TEMPEST_VENV') or os.path.join(
        utils.func_dir(), 'tempest-venv')


def ensure_tempest_venv(path=None):
    """Build the tempest venv if needed; returns the seconds spent."""
    return utils.ensure_venv(path or tempest_venv(), TEMPEST_REQUIREMENTS)


def short_id(test_id):
    """``test_id`` without tempest's trailing ``[attributes]``."""
    return _ATTRS.sub('', test_id)


def remove_plugin_paths():
    """Remove what the plugin leaves at its fixed paths."""
    for path in PLUGIN_FIXED_PATHS:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


@dataclasses.dataclass
class Outcome:
    """One test of a tempest run, as its subunit stream told it."""

    test_id: str
    status: str  # subunit's: success, fail, skip, xfail, uxsuccess, ...
    seconds: float
    details: dict

    @property
    def short_id(self):
        return short_id(self.test_id)

    def text(self, name):
        """A detail (e.g. 'traceback', 'reason') as text, '' if absent."""
        content = self.details.get(name)
        if content is None:
            return ''
        return content.as_text()

    def report(self):
        """Everything tempest recorded for this test, for a failure."""
        parts = [f'{self.test_id}: {self.status} ({self.seconds:.1f}s)']
        for name in sorted(self.details):
            parts.append(f'--- {name}\n{self.text(name)}')
        return '\n'.join(parts)


@dataclasses.dataclass
class TempestRun:
    """The result of one ``tempest run``."""

    regex: str
    returncode: int
    seconds: float
    outcomes: list
    stderr_file: str
    timed_out: bool = False

    def stderr_tail(self, lines=80):
        return utils.tail(self.stderr_file, lines)


def parse_subunit(stream):
    """The tests of a subunit v2 byte stream, as Outcome objects."""
    outcomes = []

    def on_test(test):
        start, stop = (test['timestamps'] + [None, None])[:2]
        seconds = ((stop - start).total_seconds()
                   if start is not None and stop is not None else 0.0)
        outcomes.append(Outcome(test['id'], test['status'], seconds,
                                    dict(test['details'])))

    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    try:
        # Bytes that are not subunit (a stray print) become a pseudo
        # test's 'stdout' and are dropped below.
        subunit.ByteStreamToStreamResult(
            stream, non_subunit_name='stdout').run(result)
    finally:
        result.stopTestRun()
    # 'exists' is a listed-but-not-run marker; an id of None carries the
    # non-subunit bytes.
    return [o for o in outcomes
            if o.test_id is not None and o.status != 'exists']


class TempestFixture(fixtures.Fixture):
    """A tempest workspace configured for ``keystone`` and our API.

    :param keystone: a set-up KeystoneFixture; its catalog's ``backup``
        endpoint is the freezer-api under test
    :param client_venv: the venv with python-freezerclient and freezer
        (default: fixtures_client.client_venv())
    :param venv: the tempest venv (default: tempest_venv())

    Attributes after setUp: ``root`` (the temp dir), ``workspace``,
    ``conf_file``, ``timings`` (seconds: 'venv', 'init').
    """

    def __init__(self, keystone, client_venv=None, venv=None):
        super().__init__()
        self.keystone = keystone
        self.client_venv = client_venv or fixtures_client.client_venv()
        self.venv = venv or tempest_venv()
        self.timings = {}
        self._runs = 0

    def _setUp(self):
        self.timings['venv'] = ensure_tempest_venv(self.venv)
        t0 = time.monotonic()
        self.keep = os.environ.get('FREEZER_FUNC_TEMPEST_KEEP', '') not in (
            '', '0')
        self.root = tempfile.mkdtemp(prefix='freezer-func-tempest-')
        if not self.keep:
            self.addCleanup(shutil.rmtree, self.root, True)
        self.home = os.path.join(self.root, 'home')
        self.tmp = os.path.join(self.root, 'tmp')
        self.log_dir = os.path.join(self.root, 'logs')
        self.scheduler_conf_d = os.path.join(self.root, 'scheduler-conf.d')
        for d in (self.home, self.tmp, self.log_dir, self.scheduler_conf_d):
            os.makedirs(d)
        self.workspace = os.path.join(self.root, 'workspace')
        # HOME is ours: "tempest init" registers the workspace in
        # ~/.tempest/workspace.yaml.
        res = self._tempest(['init', self.workspace], capture_output=True,
                            text=True, timeout=120)
        if res.returncode:
            raise utils.ServiceError(
                f'tempest init failed (rc={res.returncode})\n'
                f'{res.stdout}\n{res.stderr}')
        self.conf_file = os.path.join(self.workspace, 'etc', 'tempest.conf')
        self.write_config()
        self.timings['init'] = time.monotonic() - t0

    # ----------------------------------------------------------- config
    def config(self):
        """tempest.conf as a ConfigParser: what ``tempest init`` wrote
        (log and lock paths) plus our cloud."""
        conf = configparser.ConfigParser(interpolation=None)
        conf.optionxform = str  # keep "freezer-api" and friends verbatim
        conf.read(self.conf_file)
        ks = self.keystone
        region = fixtures_keystone.REGION
        domain = fixtures_keystone.DOMAIN
        values = {
            'DEFAULT': {
                # Request and response bodies in each test's log detail.
                'debug': 'true',
            },
            'auth': {
                # Each test class gets a fresh project and user(s).
                'use_dynamic_credentials': 'true',
                'create_isolated_networks': 'false',
                'default_credentials_domain_name': domain,
                'admin_username': fixtures_keystone.ADMIN_USER,
                'admin_password': fixtures_keystone.ADMIN_PASSWORD,
                'admin_project_name': fixtures_keystone.ADMIN_PROJECT,
                'admin_domain_name': domain,
            },
            'identity': {
                'uri_v3': ks.auth_url,
                'auth_version': 'v3',
                'region': region,
            },
            'identity-feature-enabled': {
                'api_v2': 'false',
            },
            'service_available': dict(
                {'freezer': 'true', 'freezer-api': 'true'},
                **{name: 'false' for name in OTHER_SERVICES}),
            # freezer_tempest_plugin/config.py: the API client finds our
            # server in the catalog by these.
            'backup': {
                'catalog_type': fixtures_keystone.BACKUP_SERVICE_TYPE,
                'endpoint_type': 'publicURL',
                'region': region,
            },
        }
        for section, options in values.items():
            if section != 'DEFAULT' and not conf.has_section(section):
                conf.add_section(section)
            for key, value in options.items():
                conf.set(section, key, value)
        return conf

    def write_config(self):
        conf = self.config()
        with open(self.conf_file, 'w') as f:
            conf.write(f)

    # -------------------------------------------------------------- run
    def env(self):
        """The tempest process's environment.

        The client venv's bin comes first on PATH (the plugin runs the
        freezer commands from there). OS_* of this process are dropped
        (the plugin sets its own from tempest's credentials, and keeps an
        OS_AUTH_URL it finds); OS_*_CAPTURE make tempest attach each
        test's log and output to the subunit stream.
        """
        env = fixtures_client.client_env()
        env['PATH'] = os.pathsep.join([
            os.path.join(self.client_venv, 'bin'),
            os.path.join(self.venv, 'bin'),
            env.get('PATH', os.defpath)])
        env.update({
            'HOME': self.home,
            # Temp trees, job files and the daemon scheduler's pid file.
            'TMPDIR': self.tmp,
            # Where the scenario tests write their schedulers' output.
            'LOGDIR': self.log_dir,
            # A scheduler started without -f would use (and, as root,
            # create) /etc/freezer/scheduler/conf.d.
            'FREEZER_SCHEDULER_CONF_D': self.scheduler_conf_d,
            'OS_STDOUT_CAPTURE': '1',
            'OS_STDERR_CAPTURE': '1',
            'OS_LOG_CAPTURE': '1',
        })
        return env

    def _tempest(self, args, **kwargs):
        argv = [os.path.join(self.venv, 'bin', 'tempest')] + list(args)
        return subprocess.run(argv, env=self.env(),  # noqa: S603
                              stdin=subprocess.DEVNULL, check=False,
                              **kwargs)

    def list_tests(self, regex):
        """The ids of the tests ``regex`` selects (``--list-tests``)."""
        res = self._tempest(
            ['run', '--config-file', self.conf_file, '--list-tests',
             '--regex', regex],
            cwd=self.workspace, capture_output=True, text=True, timeout=300)
        if res.returncode:
            raise utils.ServiceError(
                f'tempest run --list-tests failed (rc={res.returncode})\n'
                f'{res.stdout}\n{res.stderr}')
        return [line.strip() for line in res.stdout.splitlines()
                if line.strip().startswith('freezer_tempest_plugin.')]

    def service_conf_text(self):
        """/etc/freezer/scheduler.conf as a central scheduler of the
        service user has it: ``[service_auth]`` with the options' dest
        names, which the plugin reads as well."""
        project = fixtures_scheduler.central_project(self.keystone)
        user = fixtures_scheduler.CENTRAL_USER
        conf = configparser.ConfigParser(interpolation=None)
        conf['service_auth'] = {
            'os_auth_url': self.keystone.auth_url,
            'os_username': user,
            'os_password': self.keystone.users[user][0],
            'os_project_name': project,
            'os_user_domain_name': fixtures_keystone.DOMAIN,
            'os_project_domain_name': fixtures_keystone.DOMAIN,
        }
        text = io.StringIO(SERVICE_CONF_MARK)
        text.seek(0, io.SEEK_END)
        conf.write(text)
        return text.getvalue()

    @contextlib.contextmanager
    def _service_credentials(self):
        """The service credentials file, for the time of a run (nothing
        when one of the plugin's files exists already)."""
        path = SERVICE_CONF_FILES[1]
        with contextlib.suppress(OSError), open(path) as f:
            if f.readline() == SERVICE_CONF_MARK:
                os.unlink(path)
        if any(os.path.exists(p) for p in SERVICE_CONF_FILES):
            yield
            return
        made_dir = not os.path.isdir(SERVICE_CONF_DIR)
        os.makedirs(SERVICE_CONF_DIR, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, 'w') as f:
                f.write(self.service_conf_text())
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            if made_dir:
                with contextlib.suppress(OSError):
                    os.rmdir(SERVICE_CONF_DIR)

    def run(self, regex, timeout=1800, exclude=None,
            service_credentials=False):
        """Run the tests ``regex`` selects (less those ``exclude``
        selects), one at a time; a TempestRun.

        Serial: the plugin's tests share fixed paths and client ids. The
        run is killed after ``timeout`` seconds (the outcomes streamed so
        far are kept). ``service_credentials``: give the central
        scenario the service user's credentials (see the module's doc).
        """
        self._runs += 1
        name = f'run-{self._runs}'
        stream_file = os.path.join(self.log_dir, f'{name}.subunit')
        stderr_file = os.path.join(self.log_dir, f'{name}.stderr')
        argv = [os.path.join(self.venv, 'bin', 'tempest'), 'run',
                '--config-file', self.conf_file, '--regex', regex,
                '--serial', '--subunit']
        if exclude:
            argv += ['--exclude-regex', exclude]
        lock = os.path.join(utils.func_dir(), 'tempest-run.lock')
        credentials = (self._service_credentials() if service_credentials
                       else contextlib.nullcontext())
        with utils.file_lock(lock), credentials:
            remove_plugin_paths()
            t0 = time.monotonic()
            timed_out = False
            try:
                with open(stream_file, 'wb') as out, \
                        open(stderr_file, 'wb') as err:
                    proc = subprocess.Popen(  # noqa: S603
                        argv, env=self.env(), cwd=self.workspace,
                        stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                        start_new_session=True)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                # Also whatever the tests left in tempest's process group
                # (a scheduler a failed test did not stop).
                rc = utils.stop_process(proc, signal.SIGTERM, 20)
            finally:
                self._stop_daemon_schedulers()
                remove_plugin_paths()
            seconds = time.monotonic() - t0
        with open(stream_file, 'rb') as f:
            outcomes = parse_subunit(f)
        return TempestRun(regex, rc, seconds, outcomes, stderr_file,
                          timed_out)

    def scheduler_logs(self, lines=100):
        """[(path, tail)] of the logs the scenario tests' schedulers
        wrote (to LOGDIR)."""
        return [(p, utils.tail(p, lines)) for p in sorted(glob.glob(
            os.path.join(self.log_dir, 'freezer-scheduler-*.log')))]

    def _stop_daemon_schedulers(self):
        """Stop a ``freezer-scheduler start`` daemon a test left running.

        The daemon leaves tempest's process group, so it is found by the
        pid file it writes in TMPDIR (ours), and only ended when that pid
        is still a freezer-scheduler.
        """
        for pid_file in glob.glob(os.path.join(self.tmp,
                                               'freezer_sched_*.pid')):
            try:
                with open(pid_file) as f:
                    pid = int(f.read().strip())
                with open(f'/proc/{pid}/cmdline', 'rb') as f:
                    cmdline = f.read()
            except (OSError, ValueError):
                continue
            if b'freezer-scheduler' not in cmdline:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    os.kill(pid, 0)
                    time.sleep(0.2)
                os.kill(pid, signal.SIGKILL)

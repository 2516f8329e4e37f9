"""Shared services and the base TestCase of the functional tests.

Keystone, the freezer-api servers and the client venv are started lazily,
once per test process (stestr worker), and stopped by pid at interpreter
exit; every test class of that process reuses them. Tests therefore must
not depend on an empty database: they create their own objects and look
for those.
"""

import atexit
import concurrent.futures
import json
import os
import tempfile
import time
import urllib.parse
import uuid

import fixtures
import requests
import testtools
from testtools import content

from freezer_api.tests.functional import fixtures_broker
from freezer_api.tests.functional import fixtures_client
from freezer_api.tests.functional import fixtures_db
from freezer_api.tests.functional import fixtures_horizon
from freezer_api.tests.functional import fixtures_keystone
from freezer_api.tests.functional import fixtures_server
from freezer_api.tests.functional import fixtures_tempest
from freezer_api.tests.functional import utils

_shared = {}


def _shared_fixture(name, factory):
    """Set up ``factory()`` once per process; clean it up at exit.

    A failed set-up is remembered, so later classes fail at once with the
    same error instead of waiting for another timeout.
    """
    if name not in _shared:
        fx = factory()
        try:
            fx.setUp()
        except Exception as e:  # noqa: BLE001
            _shared[name] = e
            raise
        _shared[name] = fx
        atexit.register(fx.cleanUp)
    got = _shared[name]
    if isinstance(got, Exception):
        raise utils.ServiceError(f'{name} failed to start earlier in this '
                                 f'process: {got}')
    return got


def shared_fixtures():
    """The shared fixtures set up so far in this process."""
    return [fx for fx in _shared.values() if not isinstance(fx, Exception)]


class VenvsFixture(fixtures.Fixture):
    """Build the venvs of the functional layer, in parallel, when missing.

    Keystone, the clients, Horizon and tempest each have their own; from
    nothing, building them one after the other takes about twice as long
    (pip mostly waits for downloads). When they exist this costs a quick
    probe of each.
    """

    BUILDERS = {
        'keystone': lambda: utils.ensure_venv(
            fixtures_keystone.keystone_venv(),
            fixtures_keystone.KEYSTONE_REQUIREMENTS),
        'client': fixtures_client.ensure_client_venv,
        'horizon': fixtures_horizon.ensure_horizon_venv,
        'tempest': fixtures_tempest.ensure_tempest_venv,
    }

    def _setUp(self):
        with concurrent.futures.ThreadPoolExecutor(len(self.BUILDERS)) as pool:
            futures = {name: pool.submit(build)
                       for name, build in self.BUILDERS.items()}
            self.seconds = {name: f.result() for name, f in futures.items()}


def venvs():
    return _shared_fixture('venvs', VenvsFixture)


def client_venv():
    return _shared_fixture('client-venv', fixtures_client.ClientVenvFixture)


def keystone():
    """The Keystone; its backup endpoint points at keystone_server()."""
    return _shared_fixture('keystone', lambda: (
        fixtures_keystone.KeystoneFixture(
            backup_url=f'http://{utils.HOST}:{utils.free_port()}')))


# The [history] options of keystone_server(), in seconds. The defaults
# (15 min of grace, a client offline after 15 min, a run lost after a
# day) would keep every health state but ok and never-run out of reach
# of a test; test_run_history.py waits for overdue and offline with
# these. client_timeout stays above liveness.FLUSH_INTERVAL (5 s) plus
# the schedulers' 2 s poll interval: a health read may see a poll that
# late (another API process flushes it), and a live scheduler must read
# online. run_timeout is longer than any run here: no run reads lost.
# sweep_interval matters only when the servers send notifications
# (FREEZER_FUNC_RABBIT_URL set; the sweep runs only then): each API
# process looks every 2 s, so that test_run_history.py's run.missed and
# client.offline come soon after the job reads overdue and the client
# offline.
KEYSTONE_HISTORY = {'grace': 3, 'client_timeout': 8, 'run_timeout': 120,
                    'sweep_interval': 2}


def keystone_server():
    """freezer-api with auth_strategy=keystone: two servers behind the
    catalog's port. They log at debug level, the level that would show a
    token or password if anything logged one. Their [history] options
    are short: KEYSTONE_HISTORY. With ``FREEZER_FUNC_RABBIT_URL`` set
    they send notifications to that broker (fixtures_broker.py), which
    a test may listen to (test_run_history.py); unset, none."""
    ks = keystone()
    port = urllib.parse.urlsplit(ks.backup_url).port
    history = ''.join(f'{name} = {value}\n'
                      for name, value in KEYSTONE_HISTORY.items())
    rabbit_url = fixtures_broker.rabbit_url()
    notify = fixtures_broker.server_conf(rabbit_url) if rabbit_url else ''
    return _shared_fixture('server-keystone', lambda: (
        fixtures_server.FreezerApiGroupFixture(
            'keystone', keystone=ks, port=port, debug=True,
            extra_conf='[history]\nscheduler_timezone = UTC\n' +
            history + notify)))


def horizon():
    """Horizon + freezer-web-ui, logging in to keystone(); its panels
    reach keystone_server() through the catalog."""
    ks = keystone()
    keystone_server()
    return _shared_fixture('horizon', lambda: (
        fixtures_horizon.HorizonFixture(ks)))


def noauth_server():
    """freezer-api with auth_strategy=noauth: two servers behind a proxy."""
    return _shared_fixture('server-noauth', lambda: (
        fixtures_server.FreezerApiGroupFixture('noauth')))


class FunctionalTestCase(testtools.TestCase):
    """Base class: a real freezer-api (+ Keystone) and the client venv.

    ``self.server`` is a :class:`fixtures_server.FreezerApiGroupFixture`:
    ``self.server.url`` spreads connections over its servers,
    ``self.server.urls`` reaches each one.

    ``auth_strategy`` picks the server; with 'keystone', ``self.keystone``
    is the KeystoneFixture and the CLI authenticates against it.
    """

    auth_strategy = 'keystone'
    needs_client = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        venvs()
        if cls.needs_client:
            cls.client = client_venv()
        if cls.auth_strategy == 'keystone':
            cls.keystone = keystone()
            cls.server = keystone_server()
        else:
            cls.keystone = None
            cls.server = noauth_server()

    def setUp(self):
        super().setUp()
        self._transcript = []
        self.addOnException(self._attach_logs)

    def _attach_logs(self, exc_info):
        """On failure only: the CLI calls of this test and the server log."""
        if self._transcript:
            self.addDetail('cli-transcript', content.text_content(
                '\n\n'.join(self._transcript)))
        self.addDetail('freezer-api-log',
                       content.text_content(self.server.log_tail()))

    # ------------------------------------------------------------ helpers
    def figures(self, name, **values):
        """Record what the test measured, named after the run's database
        (see utils.report_figures)."""
        utils.report_figures(self, f'{fixtures_db.backend()}: {name}',
                             values)

    def unique(self, prefix='func'):
        return f'{prefix}-{uuid.uuid4().hex[:12]}'

    def write_json(self, doc):
        """Write ``doc`` to a temp JSON file (removed after the test)."""
        fd, path = tempfile.mkstemp(suffix='.json', prefix='freezer-func-')
        with os.fdopen(fd, 'w') as f:
            json.dump(doc, f)
        self.addCleanup(os.unlink, path)
        return path

    def cli(self, *args, user='alice', password=None, project=None):
        """Run the freezer CLI as ``user``; returns (rc, stdout, stderr)."""
        dflt_pw, dflt_project, _ = self.keystone.users[user]
        rc, out, err = self.client.run_cli(
            list(args), user, password or dflt_pw, project or dflt_project,
            self.keystone.auth_url)
        self._transcript.append(
            f'$ freezer {" ".join(args)}  (as {user})\nrc={rc}\n'
            f'--- stdout\n{out}\n--- stderr\n{err}')
        return rc, out, err

    def cli_json(self, *args, user='alice'):
        """Run a CLI command with ``-f json``; assert rc=0, return JSON."""
        rc, out, err = self.cli(*(list(args) + ['-f', 'json']), user=user)
        self.assertEqual(0, rc, f'freezer {args} failed: {err}')
        return json.loads(out)

    def project_id(self, user='alice'):
        return self.keystone.project_ids[self.keystone.users[user][1]]

    def v2_path(self, resource, user='alice'):
        """``/v2/<project of user>/<resource>``."""
        return f'/v2/{self.project_id(user)}/{resource}'

    def wait_for(self, what, fetch, done, timeout=90.0, interval=0.5,
                 details=None):
        """Poll ``fetch()`` until ``done(value)`` is true; return the value.

        On timeout the test fails naming ``what``, with the last value
        (as JSON) and ``details()`` (e.g. a log tail), when given.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = fetch()
            if done(value):
                return value
            if time.monotonic() >= deadline:
                break
            time.sleep(interval)
        msg = (f'timed out after {timeout:.0f}s waiting for {what}; '
               f'last value:\n{json.dumps(value, indent=1, default=str)}')
        if details is not None:
            msg += '\n' + details()
        self.fail(msg)

    def http(self, method, path, user=None, token=None, headers=None,
             **kwargs):
        """A raw request to the server with ``user``'s token (or
        ``token``; neither: no X-Auth-Token)."""
        hdrs = {'Accept': 'application/json'}
        if user is not None:
            hdrs['X-Auth-Token'] = self.keystone.token(user)
        elif token is not None:
            hdrs['X-Auth-Token'] = token
        hdrs.update(headers or {})
        kwargs.setdefault('timeout', 30)
        return requests.request(method, self.server.url + path,
                                headers=hdrs, **kwargs)

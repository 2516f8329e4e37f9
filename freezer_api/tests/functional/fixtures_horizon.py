"""Horizon with the freezer-web-ui plugin, and a headless Chromium.

Horizon 27.0.0, freezer-web-ui 19.0.0 and python-freezerclient 6.5.0 come
from PyPI into a venv of their own (Horizon pins Django and much else).
The venv is prepared once and reused by later runs: a ``local_settings.py``
that takes the Keystone URL from the environment (so the prepared venv
does not depend on this run's ports), the plugin's ``enabled`` files copied
into ``openstack_dashboard/local/enabled/`` (that is how the plugin's
panels are switched on), then ``collectstatic`` and ``compress``. A stamp
file records what the preparation was made from, so a change of the
settings below redoes it.

Each test process then serves it with Django's ``runserver --insecure``
(it serves the static files too) on 127.0.0.1:<free port>, against the
functional layer's Keystone; freezer-web-ui finds our API through that
Keystone's catalog (the ``backup`` endpoint).

The browser is Debian's ``chromium`` with its ``chromedriver`` (apt
packages ``chromium`` and ``chromium-driver``), driven by Selenium. A
missing browser is an error, not a skip: ``.ci/run`` installs it.

Environment:
  FREEZER_FUNC_HORIZON_VENV  venv path (default /tmp/freezer-func/
                             horizon-venv); built with pip if unusable
  FREEZER_FUNC_CHROMIUM      browser binary (default /usr/bin/chromium)
  FREEZER_FUNC_CHROMEDRIVER  driver binary (default /usr/bin/chromedriver)
"""

import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time

import fixtures
from selenium import webdriver
from selenium.webdriver.chrome import service as chrome_service

from freezer_api.tests.functional import utils

HORIZON_REQUIREMENTS = {
    'horizon': '27.0.0',
    'freezer-web-ui': '19.0.0',
    'python-freezerclient': '6.5.0',
}
DEFAULT_CHROMIUM = '/usr/bin/chromium'
DEFAULT_CHROMEDRIVER = '/usr/bin/chromedriver'
KEYSTONE_URL_ENV = 'FREEZER_FUNC_HORIZON_KEYSTONE_URL'
RECORD_ENV = 'FREEZER_FUNC_HORIZON_RECORD'

# Written into the venv once; everything that changes per run comes from
# the environment of the runserver process.
_LOCAL_SETTINGS = f"""\
# Written by freezer-api's functional tests (fixtures_horizon.py).
import os
import sys

DEBUG = False
SECRET_KEY = 'freezer-func-horizon-throw-away'
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
OPENSTACK_KEYSTONE_URL = os.environ.get(
    '{KEYSTONE_URL_ENV}', 'http://127.0.0.1:5000/v3')
OPENSTACK_KEYSTONE_DEFAULT_DOMAIN = 'Default'
# One process, no memcached: sessions live in the process's memory.
CACHES = {{
    'default': {{
        'BACKEND': 'django.core.cache.backends.locmem.LocMemCache',
    }},
}}
SESSION_ENGINE = 'django.contrib.sessions.backends.cache'
COMPRESS_OFFLINE = True
# Inside the venv, not next to site-packages' other directories.
STATIC_ROOT = os.path.join(sys.prefix, 'horizon-static')
# Warnings and errors (freezer-web-ui logs every failed API call with its
# traceback) go to stderr, i.e. to the fixture's log file.
LOGGING = {{
    'version': 1,
    'disable_existing_loggers': False,
    'formatters': {{
        'plain': {{
            'format': '%(asctime)s %(levelname)s %(name)s: %(message)s',
        }},
    }},
    'handlers': {{
        'stderr': {{
            'class': 'logging.StreamHandler',
            'formatter': 'plain',
        }},
    }},
    'root': {{'handlers': ['stderr'], 'level': 'WARNING'}},
    'loggers': {{
        # There is no Neutron: this panel would log an error on every page.
        'openstack_dashboard.dashboards.admin.rbac_policies.panel': {{
            'level': 'CRITICAL',
        }},
    }},
}}

# Record what python-freezerclient (plain requests) sends to freezer-api's
# /v2 routes: method, path, JSON body and status, one JSON line each.
# Keystone's /v3 requests (which carry passwords) and every header
# (tokens) are left out.
_RECORD = os.environ.get('{RECORD_ENV}')
if _RECORD:
    import json as _json
    import urllib.parse as _urlparse

    import requests as _requests

    _send = _requests.sessions.Session.request

    def _recording_request(self, method, url, *args, **kwargs):
        response = _send(self, method, url, *args, **kwargs)
        path = _urlparse.urlsplit(url).path
        if path.startswith('/v2'):
            body = kwargs.get('data', kwargs.get('json'))
            if isinstance(body, bytes):
                body = body.decode('utf-8', 'replace')
            try:
                body = _json.loads(body) if isinstance(body, str) else body
            except ValueError:
                pass
            with open(_RECORD, 'a') as f:
                f.write(_json.dumps({{
                    'method': method.upper(), 'path': path,
                    'query': _urlparse.urlsplit(url).query, 'body': body,
                    'status': response.status_code}}) + '\\n')
        return response

    _requests.sessions.Session.request = _recording_request
"""


def horizon_venv():
    return os.environ.get('FREEZER_FUNC_HORIZON_VENV') or os.path.join(
        utils.func_dir(), 'horizon-venv')


def chromium_paths():
    """(browser, driver) paths, from the environment or Debian's."""
    return (os.environ.get('FREEZER_FUNC_CHROMIUM') or DEFAULT_CHROMIUM,
            os.environ.get('FREEZER_FUNC_CHROMEDRIVER')
            or DEFAULT_CHROMEDRIVER)


def _horizon_env(venv, keystone_url=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('OS_', 'PYTHONPATH', 'VIRTUAL_ENV',
                                'DJANGO_'))}
    env['DJANGO_SETTINGS_MODULE'] = 'openstack_dashboard.settings'
    env['PYTHONWARNINGS'] = 'ignore'
    if keystone_url:
        env[KEYSTONE_URL_ENV] = keystone_url
    return env


def _package_dir(venv, package):
    found = glob.glob(os.path.join(venv, 'lib', 'python*', 'site-packages',
                                   package))
    if not found:
        raise utils.ServiceError(f'{package} is not installed in {venv}')
    return found[0]


def prepare_dashboard(venv):
    """Configure the installed Horizon and build its static files.

    Done once per venv (the stamp file says from what); returns the
    seconds spent.
    """
    t0 = time.monotonic()
    dashboard = _package_dir(venv, 'openstack_dashboard')
    plugin_enabled = os.path.join(_package_dir(venv, 'freezer_ui'),
                                  'enabled')
    enabled_files = sorted(glob.glob(os.path.join(plugin_enabled,
                                                  '_50*.py')))
    if not enabled_files:
        raise utils.ServiceError(f'no _50*.py files in {plugin_enabled}')
    recipe = hashlib.sha256(json.dumps(
        [_LOCAL_SETTINGS, [os.path.basename(f) for f in enabled_files]]
    ).encode()).hexdigest()
    stamp = os.path.join(venv, 'freezer-func-dashboard.stamp')

    def done():
        try:
            with open(stamp) as f:
                return f.read().strip() == recipe
        except OSError:
            return False

    if done():
        return time.monotonic() - t0
    with utils.file_lock(venv.rstrip('/') + '.prepare.lock'):
        if done():
            return time.monotonic() - t0
        with open(os.path.join(dashboard, 'local', 'local_settings.py'),
                  'w') as f:
            f.write(_LOCAL_SETTINGS)
        local_enabled = os.path.join(dashboard, 'local', 'enabled')
        for path in enabled_files:
            shutil.copy(path, local_enabled)
        log = venv.rstrip('/') + '.prepare.log'
        with open(log, 'w') as logf:
            for cmd in (['collectstatic', '--noinput'],
                        ['compress', '--force']):
                argv = [utils.venv_python(venv), '-m', 'django'] + cmd
                logf.write(f"$ {' '.join(argv)}\n")
                logf.flush()
                rc = subprocess.call(  # noqa: S603
                    argv, stdout=logf, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=_horizon_env(venv),
                    timeout=600)
                if rc:
                    raise utils.ServiceError(
                        f'horizon {cmd[0]} failed (rc={rc})\n'
                        f'{utils.tail(log)}')
        with open(stamp, 'w') as f:
            f.write(recipe + '\n')
    return time.monotonic() - t0


def ensure_horizon_venv(path=None):
    """Build and prepare the Horizon venv if needed; returns seconds."""
    path = path or horizon_venv()
    return (utils.ensure_venv(path, HORIZON_REQUIREMENTS)
            + prepare_dashboard(path))


class HorizonFixture(fixtures.Fixture):
    """Serve Horizon + freezer-web-ui on 127.0.0.1:<free port>.

    :param keystone: a set-up KeystoneFixture; Horizon logs in there and
        takes the backup endpoint from its catalog

    Attributes after setUp: ``url`` (no trailing slash), ``port``,
    ``log_file``, ``record_file`` (see :meth:`recorded`), ``pid``,
    ``timings``.
    """

    def __init__(self, keystone, venv=None, timeout=120):
        super().__init__()
        self.keystone = keystone
        self.venv = venv or horizon_venv()
        self.timeout = timeout
        self.proc = None
        self.timings = {}

    def _setUp(self):
        t0 = time.monotonic()
        self.timings['venv'] = ensure_horizon_venv(self.venv)
        self.state_dir = tempfile.mkdtemp(prefix='freezer-func-horizon-')
        self.addCleanup(shutil.rmtree, self.state_dir, True)
        self.port = utils.free_port()
        self.url = f'http://{utils.HOST}:{self.port}'
        self.log_file = os.path.join(self.state_dir, 'horizon.log')
        self.record_file = os.path.join(self.state_dir,
                                        'freezer-api-requests.jsonl')
        env = _horizon_env(self.venv, self.keystone.auth_url)
        env[RECORD_ENV] = self.record_file
        self.addCleanup(self.stop)
        t1 = time.monotonic()
        # --noreload: no autoreloader parent, so the pid we stop is the
        # server; threads stay on (the browser loads assets in parallel).
        self.proc = utils.start_process(
            [utils.venv_python(self.venv), '-m', 'django', 'runserver',
             '--insecure', '--noreload', f'{utils.HOST}:{self.port}'],
            self.log_file, env=env,
            cwd=self.state_dir,
            pid_file=os.path.join(self.state_dir, 'horizon.pid'))
        self.pid = self.proc.pid
        utils.wait_for_http(self.url + '/auth/login/', self.proc,
                            [self.log_file], timeout=self.timeout,
                            what='horizon')
        self.timings['start'] = time.monotonic() - t1
        self.timings['total'] = time.monotonic() - t0

    def recorded(self, start=0):
        """The freezer-api requests freezer-web-ui made, from the
        ``start``-th on: dicts of method, path, query, body, status."""
        try:
            with open(self.record_file) as f:
                return [json.loads(line) for line in f][start:]
        except FileNotFoundError:
            return []

    def log_tail(self, lines=80):
        return f'----- {self.log_file} -----\n' \
               f'{utils.tail(self.log_file, lines)}'

    def stop(self):
        if self.proc is not None:
            utils.stop_process(self.proc)
            self.proc = None


class ChromiumFixture(fixtures.Fixture):
    """A headless Chromium under chromedriver, with a fresh profile.

    ``driver`` is the Selenium WebDriver. Fails (does not skip) when the
    browser or the driver is not installed.
    """

    def __init__(self, window_size=(1400, 1000)):
        super().__init__()
        self.window_size = window_size
        self.driver = None

    def _setUp(self):
        browser, driver = chromium_paths()
        missing = [p for p in (browser, driver) if not os.access(p, os.X_OK)]
        if missing:
            raise utils.ServiceError(
                f'{" and ".join(missing)} not found: the Horizon tests need '
                'Chromium and its driver; install them with "apt-get install '
                'chromium chromium-driver" (.ci/run does)')
        self.profile_dir = tempfile.mkdtemp(prefix='freezer-func-chromium-')
        self.addCleanup(shutil.rmtree, self.profile_dir, True)
        opts = webdriver.ChromeOptions()
        opts.binary_location = browser
        for flag in ('--headless', '--no-sandbox', '--disable-gpu',
                     '--disable-quic', '--no-first-run',
                     '--disable-background-networking',
                     '--disable-component-update', '--disable-sync',
                     '--disable-dev-shm-usage',
                     f'--user-data-dir={self.profile_dir}',
                     '--window-size=%d,%d' % self.window_size):
            opts.add_argument(flag)
        # Console messages of the pages, for failure reports.
        opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        self.driver_log = os.path.join(self.profile_dir, 'chromedriver.log')
        # An explicit driver path: Selenium Manager (which would go to the
        # network to find a driver) is not involved.
        svc = chrome_service.Service(executable_path=driver,
                                     log_output=self.driver_log)
        self.driver = webdriver.Chrome(options=opts, service=svc)
        self.addCleanup(self._quit)

    def _quit(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            finally:
                self.driver = None

"""The python-freezerclient (``freezer`` CLI) venv and how to run it.

The client lives in its own venv, apart from the test env: it pins its own
libraries, and it is what an operator installs. The same venv also holds
the freezer agent/scheduler (``freezer==19.0.0``) for later tests.

Environment:
  FREEZER_FUNC_CLIENT_VENV  venv path (default /tmp/freezer-func/client-venv);
                            built with pip if it lacks the pinned versions
"""

import os
import subprocess

import fixtures

from freezer_api.tests.functional import fixtures_keystone
from freezer_api.tests.functional import utils

CLIENT_REQUIREMENTS = {
    'python-freezerclient': '6.5.0',
    'freezer': '19.0.0',
    # README's quick start drives the noauth server with the openstack CLI.
    'python-openstackclient': None,
}


def client_venv():
    return os.environ.get('FREEZER_FUNC_CLIENT_VENV') or os.path.join(
        utils.func_dir(), 'client-venv')


def ensure_client_venv(path=None):
    """Build the client venv if needed; returns the seconds spent."""
    return utils.ensure_venv(path or client_venv(), CLIENT_REQUIREMENTS)


def client_env():
    """This process's environment without OpenStack/Python settings that
    would leak into the client (OS_*, PYTHONPATH, a venv)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('OS_', 'PYTHONPATH', 'VIRTUAL_ENV'))}
    env['PYTHONWARNINGS'] = 'ignore'
    return env


def run_freezer_cli(args, user, password, project, auth_url=None,
                    venv=None, extra_env=None, timeout=120):
    """Run ``freezer ARGS`` with password auth through the Keystone catalog.

    The backup endpoint comes from the catalog (service type ``backup``,
    public interface), as for a real user: no --os-backup-url.
    ``auth_url`` defaults to this process's shared Keystone (base.py).
    Returns (rc, stdout, stderr).
    """
    if auth_url is None:
        from freezer_api.tests.functional import base
        auth_url = base.keystone().auth_url
    venv = venv or client_venv()
    env = client_env()
    env.update({
        'OS_AUTH_URL': auth_url,
        'OS_USERNAME': user,
        'OS_PASSWORD': password,
        'OS_PROJECT_NAME': project,
        'OS_USER_DOMAIN_NAME': fixtures_keystone.DOMAIN,
        'OS_PROJECT_DOMAIN_NAME': fixtures_keystone.DOMAIN,
        'OS_IDENTITY_API_VERSION': '3',
        'OS_REGION_NAME': fixtures_keystone.REGION,
        'OS_ENDPOINT_TYPE': 'public',
        'OS_BACKUP_API_VERSION': '2',
    })
    env.update(extra_env or {})
    argv = [os.path.join(venv, 'bin', 'freezer')] + list(args)
    res = subprocess.run(argv, env=env, capture_output=True,  # noqa: S603
                         text=True, timeout=timeout,
                         stdin=subprocess.DEVNULL)
    return res.returncode, res.stdout, res.stderr


def run_client_python(code, args=(), venv=None, extra_env=None,
                      timeout=120):
    """Run a Python snippet with the client venv's interpreter.

    Returns (rc, stdout, stderr).
    """
    venv = venv or client_venv()
    env = client_env()
    env.update(extra_env or {})
    res = subprocess.run(  # noqa: S603
        [utils.venv_python(venv), '-c', code] + list(args), env=env,
        capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL)
    return res.returncode, res.stdout, res.stderr


class ClientVenvFixture(fixtures.Fixture):
    """Makes sure the client venv exists; ``path`` and ``seconds``."""

    def __init__(self, path=None):
        super().__init__()
        self.path = path or client_venv()

    def _setUp(self):
        self.seconds = ensure_client_venv(self.path)

    def run_cli(self, args, user, password, project, auth_url=None, **kw):
        return run_freezer_cli(args, user, password, project, auth_url,
                               venv=self.path, **kw)

    def run_python(self, code, args=(), **kw):
        return run_client_python(code, args, venv=self.path, **kw)

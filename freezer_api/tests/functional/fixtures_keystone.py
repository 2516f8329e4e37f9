"""A real OpenStack Keystone (PyPI wheel) on 127.0.0.1 for functional tests.

Keystone runs from its own venv (it pins its own oslo.* libraries and
shares oslo.config's global CONF, so it can neither live in the test venv
nor run in-process) under gunicorn, with SQLite and fernet tokens.

First start (about 5 s): keystone-manage db_sync, fernet_setup,
credential_setup and bootstrap run in one Python process (one import,
one fork per step) while gunicorn imports in parallel; then the projects,
users, roles and catalog below are created through the v3 API, and the
database and keys are saved as a snapshot. Later starts, by any test
process of this or a later run, copy the snapshot, point the catalog URLs
at the new ports and only start gunicorn (about 1.5 s).

Environment:
  FREEZER_FUNC_KEYSTONE_VENV    venv path (default /tmp/freezer-func/
                                keystone-venv); built with pip if unusable
  FREEZER_FUNC_KEYSTONE_SNAPSHOT_DIR  where snapshots are kept (default
                                /tmp/freezer-func/keystone-snapshot)
  FREEZER_FUNC_KEYSTONE_NO_SNAPSHOT=1  always provision from scratch
"""

import glob
import grp
import hashlib
import json
import os
import pwd
import shutil
import sqlite3
import subprocess
import tempfile
import textwrap
import time

import fixtures
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from freezer_api.tests.functional import utils

DOMAIN = 'Default'
DOMAIN_ID = 'default'
REGION = 'RegionOne'
ADMIN_USER = 'admin'
ADMIN_PASSWORD = 'admin-secret'  # noqa: S105 - throw-away test keystone
ADMIN_PROJECT = 'admin'
SERVICE_PROJECT = 'service'
PROJECTS = ('project-a', 'project-b', SERVICE_PROJECT)
# name -> (password, project, role). Roles are bootstrap's, with its
# implications: admin => manager => member => reader.
USERS = {
    'alice': ('alice-secret', 'project-a', 'member'),
    'bob': ('bob-secret', 'project-b', 'member'),
    'rita': ('rita-secret', 'project-a', 'reader'),
    'adam': ('adam-secret', 'project-a', 'admin'),
    # keystonemiddleware's service user: keystone's default policy lets
    # "role:service" validate other users' tokens; it needs no admin role.
    'freezer': ('freezer-secret', SERVICE_PROJECT, 'service'),
}
# name -> (password, role on the domain). No project role and no default
# project: such a user's token is domain-scoped, or truly unscoped.
DOMAIN_USERS = {
    'dora': ('dora-secret', 'admin'),
}
BACKUP_SERVICE_NAME = 'freezer'
BACKUP_SERVICE_TYPE = 'backup'
INTERFACES = ('public', 'internal', 'admin')
DEFAULT_BACKUP_URL = 'http://127.0.0.1:9090'

KEYSTONE_REQUIREMENTS = {'keystone': None, 'gunicorn': None}
# Every token a KeystoneFixture of this process handed out (for the log
# check, which knows only the shared Keystone).
_ISSUED = set()
# Bump when the provisioning below changes: old snapshots are then ignored.
SNAPSHOT_FORMAT = 2


def keystone_venv():
    return os.environ.get('FREEZER_FUNC_KEYSTONE_VENV') or os.path.join(
        utils.func_dir(), 'keystone-venv')


def snapshot_root():
    return os.environ.get('FREEZER_FUNC_KEYSTONE_SNAPSHOT_DIR') or \
        os.path.join(utils.func_dir(), 'keystone-snapshot')


_KEYSTONE_CONF = """\
[DEFAULT]
log_dir = {state}/log
log_file = keystone.log
use_stderr = false
debug = false

[database]
connection = sqlite:///{state}/keystone.db

[token]
provider = fernet
expiration = {expiration}

[fernet_tokens]
key_repository = {state}/fernet-keys
max_active_keys = 3

[fernet_receipts]
key_repository = {state}/fernet-keys

[credential]
key_repository = {state}/credential-keys

[identity]
# cheapest bcrypt cost: the default (12) costs ~0.25 s per login
password_hash_rounds = 4
# bcrypt's limit; avoids a "truncating password" warning on every login
max_password_length = 72

[resource]
# without these every token says is_admin_project=True
admin_project_domain_name = {domain}
admin_project_name = {admin_project}
"""

# keystone.server.configure() parses sys.argv with oslo.config; under
# gunicorn that is gunicorn's command line, which keystone rejects (and the
# worker then boot-loops while the master keeps accepting connections).
_WSGI_SHIM = """\
import sys
sys.argv = sys.argv[:1]
from keystone.server.wsgi import initialize_public_application
application = initialize_public_application()
"""

# Settings unknown to an older gunicorn are ignored in a config file, so
# this works with and without the gunicorn 25.1+ control socket.
_GUNICORN_CONF = """\
bind = '127.0.0.1:{port}'
workers = 1
threads = 4
graceful_timeout = 3
accesslog = '{state}/log/access.log'
control_socket_disable = True
"""

# Runs keystone-manage sub-commands, paying keystone's ~1.4 s import once:
# oslo.config's global CONF can be parsed once per process only, so every
# sub-command runs in a forked child of the process that did the import.
_MANAGE_MANY = """\
import os, shlex, sys, traceback, warnings
warnings.simplefilter('ignore')
from keystone.cmd import cli
import keystone.cmd.bootstrap  # noqa

conf_file = sys.argv[1]
for step in sys.argv[2:]:
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            cli.main(argv=['keystone-manage', '--config-file', conf_file]
                     + shlex.split(step))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else int(bool(e.code))
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if code:
        sys.exit('keystone-manage %s failed with rc=%s' % (step, code))
"""


class KeystoneFixture(fixtures.Fixture):
    """Provision and run a Keystone on 127.0.0.1:<free port>.

    ``token_expiration`` is Keystone's ``[token] expiration`` in seconds:
    a second, short-lived instance (restored from the same snapshot)
    issues tokens that expire during a test.

    Attributes after setUp: ``auth_url`` (http://127.0.0.1:PORT/v3),
    ``url`` (without /v3), ``port``, ``project_ids`` / ``user_ids`` /
    ``role_ids`` by name, ``users`` (name -> (password, project, role)),
    ``backup_url``, ``state_dir``, ``pid``, ``timings``.
    """

    def __init__(self, backup_url=None, state_dir=None, venv=None,
                 use_snapshot=None, token_expiration=7200):
        super().__init__()
        self.backup_url = (backup_url or DEFAULT_BACKUP_URL).rstrip('/')
        self._state_dir = state_dir
        self.venv = venv or keystone_venv()
        if use_snapshot is None:
            use_snapshot = os.environ.get(
                'FREEZER_FUNC_KEYSTONE_NO_SNAPSHOT', '') in ('', '0')
        self.use_snapshot = use_snapshot
        self.token_expiration = token_expiration
        self.users = dict(USERS)
        self.users.update((name, (password, None, role))
                          for name, (password, role) in DOMAIN_USERS.items())
        self.proc = None
        self.timings = {}
        self._tokens = {}

    # ------------------------------------------------------------ set up
    def _setUp(self):
        t0 = time.monotonic()
        self.timings['venv'] = utils.ensure_venv(self.venv,
                                                 KEYSTONE_REQUIREMENTS)
        if self._state_dir:
            self.state_dir = self._state_dir
            os.makedirs(self.state_dir, exist_ok=True)
        else:
            self.state_dir = tempfile.mkdtemp(prefix='freezer-func-ks-')
            self.addCleanup(shutil.rmtree, self.state_dir, True)
        self.port = utils.free_port()
        self.url = f'http://{utils.HOST}:{self.port}'
        self.auth_url = self.url + '/v3'
        self.addCleanup(self.stop)
        self.log_paths = [os.path.join(self.state_dir, 'log', n)
                          for n in ('gunicorn.out', 'keystone.log')]

        t1 = time.monotonic()
        if self.use_snapshot:
            snap = os.path.join(snapshot_root(), self._snapshot_key())
            with utils.file_lock(snap + '.lock'):
                if os.path.exists(os.path.join(snap, 'meta.json')):
                    self._restore(snap)
                    self.timings['mode'] = 'snapshot'
                else:
                    self._provision()
                    self._save_snapshot(snap)
                    self.timings['mode'] = 'provisioned+saved'
        else:
            self._provision()
            self.timings['mode'] = 'provisioned'
        self.timings['start'] = time.monotonic() - t1
        self.timings['total'] = time.monotonic() - t0

    def _snapshot_key(self):
        dists = sorted(os.path.basename(p) for p in glob.glob(os.path.join(
            self.venv, 'lib', 'python*', 'site-packages',
            'keystone-*.dist-info')))
        recipe = json.dumps([SNAPSHOT_FORMAT, dists, PROJECTS, USERS,
                             DOMAIN_USERS, ADMIN_PASSWORD, _KEYSTONE_CONF,
                             REGION],
                            sort_keys=True)
        return hashlib.sha256(recipe.encode()).hexdigest()[:16]

    def _layout(self):
        """Config files and empty dirs of the state dir."""
        s = self.state_dir
        os.makedirs(os.path.join(s, 'etc'), exist_ok=True)
        os.makedirs(os.path.join(s, 'log'), exist_ok=True)
        for d in ('fernet-keys', 'credential-keys'):
            os.makedirs(os.path.join(s, d), mode=0o700, exist_ok=True)
        self.conf_file = os.path.join(s, 'etc', 'keystone.conf')
        files = {
            self.conf_file: _KEYSTONE_CONF.format(
                state=s, domain=DOMAIN, admin_project=ADMIN_PROJECT,
                expiration=self.token_expiration),
            os.path.join(s, 'keystone_wsgi.py'): _WSGI_SHIM,
            os.path.join(s, 'gunicorn.conf.py'): _GUNICORN_CONF.format(
                port=self.port, state=s),
            os.path.join(s, 'manage_many.py'): _MANAGE_MANY,
        }
        for path, text in files.items():
            with open(path, 'w') as f:
                f.write(text)

    def _env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('OS_', 'PYTHONPATH'))}
        env['OS_KEYSTONE_CONFIG_DIR'] = os.path.join(self.state_dir, 'etc')
        env['PYTHONWARNINGS'] = 'ignore'
        env['XDG_RUNTIME_DIR'] = self.state_dir  # control socket, if any
        return env

    def _start_server(self):
        argv = [os.path.join(self.venv, 'bin', 'gunicorn'),
                '--chdir', self.state_dir,
                '-c', os.path.join(self.state_dir, 'gunicorn.conf.py'),
                'keystone_wsgi:application']
        self.proc = utils.start_process(
            argv, self.log_paths[0], env=self._env(), cwd=self.state_dir,
            pid_file=os.path.join(self.state_dir, 'keystone.pid'))
        self.pid = self.proc.pid

    def _wait_ready(self):
        utils.wait_for_http(self.auth_url, self.proc, self.log_paths,
                            timeout=90, what='keystone')

    def _provision(self):
        self._layout()
        # gunicorn first: its import overlaps keystone-manage below, and it
        # touches neither database nor keys before the first request.
        self._start_server()
        steps = [
            'db_sync',
            'fernet_setup --keystone-user {u} --keystone-group {g}',
            'credential_setup --keystone-user {u} --keystone-group {g}',
            'bootstrap --bootstrap-password {pw} '
            '--bootstrap-username {admin} --bootstrap-project-name {ap} '
            '--bootstrap-admin-url {url} --bootstrap-internal-url {url} '
            '--bootstrap-public-url {url} --bootstrap-region-id {region}',
        ]
        names = dict(u=pwd.getpwuid(os.getuid()).pw_name,
                     g=grp.getgrgid(os.getgid()).gr_name,
                     pw=ADMIN_PASSWORD, admin=ADMIN_USER, ap=ADMIN_PROJECT,
                     url=self.auth_url, region=REGION)
        manage_log = os.path.join(self.state_dir, 'log', 'manage.out')
        with open(manage_log, 'wb') as log:
            rc = subprocess.call(  # noqa: S603
                [os.path.join(self.venv, 'bin', 'python'),
                 os.path.join(self.state_dir, 'manage_many.py'),
                 self.conf_file] + [s.format(**names) for s in steps],
                stdout=log, stderr=subprocess.STDOUT, env=self._env(),
                stdin=subprocess.DEVNULL, timeout=300)
        if rc:
            raise utils.ServiceError(
                f'keystone-manage failed (rc={rc})\n'
                f'{utils.tail(manage_log)}\n{utils.tail(self.log_paths[1])}')
        self._wait_ready()

        sess = self._admin_session()
        ks = self.auth_url

        def call(method, path, body=None):
            resp = sess.request(ks + path, method, json=body,
                                raise_exc=True)
            return resp.json() if resp.content else None

        self.role_ids = {r['name']: r['id']
                         for r in call('GET', '/roles')['roles']}
        self.project_ids = {
            ADMIN_PROJECT: call('GET', '/projects?name=' + ADMIN_PROJECT)
            ['projects'][0]['id']}
        for name in PROJECTS:
            self.project_ids[name] = call('POST', '/projects', {
                'project': {'name': name, 'domain_id': DOMAIN_ID}
            })['project']['id']
        self.user_ids = {ADMIN_USER: call(
            'GET', '/users?name=' + ADMIN_USER)['users'][0]['id']}
        for name, (password, project, role) in USERS.items():
            uid = call('POST', '/users', {'user': {
                'name': name, 'password': password, 'domain_id': DOMAIN_ID,
                # python-freezerclient under Horizon re-authenticates with
                # the token and no scope: Keystone then scopes it here.
                'default_project_id': self.project_ids[project],
            }})['user']['id']
            self.user_ids[name] = uid
            call('PUT', f'/projects/{self.project_ids[project]}'
                        f'/users/{uid}/roles/{self.role_ids[role]}')
        for name, (password, role) in DOMAIN_USERS.items():
            uid = call('POST', '/users', {'user': {
                'name': name, 'password': password,
                'domain_id': DOMAIN_ID}})['user']['id']
            self.user_ids[name] = uid
            call('PUT', f'/domains/{DOMAIN_ID}/users/{uid}'
                        f'/roles/{self.role_ids[role]}')
        self.backup_service_id = call('POST', '/services', {'service': {
            'name': BACKUP_SERVICE_NAME, 'type': BACKUP_SERVICE_TYPE,
            'description': 'Backup/Restore (freezer)'}})['service']['id']
        self.identity_service_id = call(
            'GET', '/services?type=identity')['services'][0]['id']
        for iface in INTERFACES:
            call('POST', '/endpoints', {'endpoint': {
                'service_id': self.backup_service_id, 'interface': iface,
                'url': self.backup_url, 'region_id': REGION}})

    def _meta(self):
        return {
            'port': self.port, 'project_ids': self.project_ids,
            'user_ids': self.user_ids, 'role_ids': self.role_ids,
            'backup_service_id': self.backup_service_id,
            'identity_service_id': self.identity_service_id,
        }

    def _save_snapshot(self, snap):
        """Copy the database (consistently, while keystone runs) and keys."""
        tmp = f'{snap}.tmp-{os.getpid()}'
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        src = sqlite3.connect(os.path.join(self.state_dir, 'keystone.db'))
        dst = sqlite3.connect(os.path.join(tmp, 'keystone.db'))
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        for d in ('fernet-keys', 'credential-keys'):
            shutil.copytree(os.path.join(self.state_dir, d),
                            os.path.join(tmp, d))
        with open(os.path.join(tmp, 'meta.json'), 'w') as f:
            json.dump(self._meta(), f, indent=1)
        shutil.rmtree(snap, ignore_errors=True)
        os.rename(tmp, snap)

    def _restore(self, snap):
        self._layout()
        with open(os.path.join(snap, 'meta.json')) as f:
            meta = json.load(f)
        for key in ('project_ids', 'user_ids', 'role_ids',
                    'backup_service_id', 'identity_service_id'):
            setattr(self, key, meta[key])
        db = os.path.join(self.state_dir, 'keystone.db')
        shutil.copyfile(os.path.join(snap, 'keystone.db'), db)
        for d in ('fernet-keys', 'credential-keys'):
            dst = os.path.join(self.state_dir, d)
            shutil.rmtree(dst)
            shutil.copytree(os.path.join(snap, d), dst)
            os.chmod(dst, 0o700)
        # The catalog holds this run's ports: identity endpoints (used by
        # keystonemiddleware to find keystone) and the backup endpoints.
        conn = sqlite3.connect(db)
        try:
            with conn:
                conn.execute('UPDATE endpoint SET url=? WHERE service_id=?',
                             (self.auth_url, self.identity_service_id))
                conn.execute('UPDATE endpoint SET url=? WHERE service_id=?',
                             (self.backup_url, self.backup_service_id))
        finally:
            conn.close()
        self._start_server()
        self._wait_ready()

    # ----------------------------------------------------------- helpers
    def _admin_session(self):
        return self.session(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)

    def session(self, user, password=None, project=None, domain=None):
        """A keystoneauth1 Session with password auth, scoped to
        ``project`` (default: the user's own), or to ``domain`` (a domain
        name) when given. A user of DOMAIN_USERS has no project: without
        ``domain`` the session's token is unscoped."""
        if password is None or project is None:
            dflt_pw, dflt_project, _ = self.users.get(user, (None, None,
                                                             None))
            password = dflt_pw if password is None else password
            project = dflt_project if project is None else project
        if domain is not None:
            scope = {'domain_name': domain}
        elif project is not None:
            scope = {'project_name': project, 'project_domain_name': DOMAIN}
        else:
            scope = {}
        auth = v3.Password(auth_url=self.auth_url, username=user,
                           password=password, user_domain_name=DOMAIN,
                           **scope)
        return ks_session.Session(auth=auth)

    def token(self, user, password=None, project=None, cached=True,
              domain=None):
        """A token scoped as :meth:`session` scopes it (password and
        project default to the user's own). Cached per (user, password,
        project, domain) unless ``cached=False``: a fresh token then,
        which the cache does not keep (a test may revoke it)."""
        key = (user, password, project, domain)
        if cached and key in self._tokens:
            return self._tokens[key]
        tok = self.session(user, password, project, domain).get_token()
        _ISSUED.add(tok)
        if cached:
            self._tokens[key] = tok
        return tok

    def admin_token(self):
        return self.token(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)

    @staticmethod
    def issued_tokens():
        """Every token :meth:`token` of any KeystoneFixture of this
        process has handed out (not the CLI's own)."""
        return set(_ISSUED)

    def set_backup_url(self, url):
        """Point the backup service's endpoints at ``url`` (v3 API)."""
        url = url.rstrip('/')
        sess = self._admin_session()
        eps = sess.get(self.auth_url + '/endpoints?service_id='
                       + self.backup_service_id).json()['endpoints']
        for ep in eps:
            sess.patch(self.auth_url + '/endpoints/' + ep['id'],
                       json={'endpoint': {'url': url}})
        self.backup_url = url

    def stop(self):
        if self.proc is not None:
            utils.stop_process(self.proc)
            self.proc = None

    def restart(self):
        """Start Keystone again after :meth:`stop`, on the same port and
        state (its tokens stay valid)."""
        self.stop()
        self._start_server()
        self._wait_ready()


def service_user_conf(keystone):
    """The [keystone_authtoken] options of a service using ``keystone``."""
    password, project, _ = keystone.users['freezer']
    return textwrap.dedent("""\
        www_authenticate_uri = {ks}
        auth_url = {ks}
        auth_type = password
        username = freezer
        password = {pw}
        project_name = {project}
        user_domain_name = {domain}
        project_domain_name = {domain}
        region_name = {region}
        interface = public
        service_token_roles_required = true
        """).format(ks=keystone.auth_url, pw=password, project=project,
                    domain=DOMAIN, region=REGION)

"""Build, start, watch and stop the servers under test.

* ``reference``: ``freezer-api==REF_VERSION`` from PyPI, installed once in a
  virtualenv cached in the bench directory, served by gunicorn (gthread
  workers) from the reference's own paste pipeline minus ``authtoken``.
* ``ours``: the ``freezer-api`` command of the environment running the
  benchmark (the tox env), with ``auth_strategy = noauth``.
* ``floor``: ``floor.py``, a plain WSGI function on sqlite3, under the
  gunicorn of the tox env.

All three get the same number of worker processes and threads, a SQLite
file of their own in the bench directory, and the default logging of their
code. :func:`make_ours_default` is ours with the default configuration, on
any database URL (the PostgreSQL simulation).
"""

import importlib.metadata
import os
import pathlib
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import requests

HERE = pathlib.Path(__file__).resolve().parent
REF_VERSION = '19.0.0'
CLK_TCK = os.sysconf('SC_CLK_TCK')
PAGE_KB = os.sysconf('SC_PAGE_SIZE') // 1024

REF_PASTE = """\
# The reference's etc/freezer/freezer-paste.ini "main" app, minus
# keystonemiddleware's authtoken filter (the benchmark sends the identity
# headers authtoken would set) and minus /healthcheck.
[composite:main]
use = egg:Paste#urlmap
/ = api

[pipeline:api]
pipeline = http_proxy_to_wsgi versionsNegotiator context backupapp

[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory

[filter:versionsNegotiator]
paste.filter_factory = freezer_api.api.versions:VersionNegotiator.factory

[filter:context]
paste.filter_factory = {context_factory}

[composite:backupapp]
paste.composite_factory = freezer_api.service:root_app_factory
/: api_versions
/v2: appv2

[app:api_versions]
paste.app_factory = freezer_api.api.versions:api_versions

[app:appv2]
paste.app_factory = freezer_api.service:freezer_appv2_factory
"""

REF_CONF = """\
[storage]
backend = sqlalchemy
driver = sqlalchemy

[database]
connection = sqlite:///{db}

[paste_deploy]
config_file = {paste}

[oslo_policy]
# No file: the policy defaults in the code.
policy_file = {rundir}/no-policy.yaml
"""

OURS_CONF = """\
[DEFAULT]
bind_host = 127.0.0.1
bind_port = {port}
auth_strategy = noauth

[database]
connection = sqlite:///{db}

[api]
workers = {workers}
threads = {threads}

[oslo_policy]
# No file: the policy defaults in the code.
policy_file = {rundir}/no-policy.yaml
"""

# Ours as deployed, but for noauth (no Keystone here) and the address:
# [api] workers and threads, the pool and everything else at their
# defaults.
OURS_DEFAULT_CONF = """\
[DEFAULT]
bind_host = 127.0.0.1
bind_port = {port}
auth_strategy = noauth

[database]
connection = {url}
"""


def log(msg):
    print('[bench] %s' % msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def gunicorn_version():
    return importlib.metadata.version('gunicorn')


def ensure_ref_venv(bench_dir):
    """The cached virtualenv with the reference, built if missing."""
    venv = bench_dir / ('ref-venv-%s' % REF_VERSION)
    spec = ['freezer-api==%s' % REF_VERSION,
            'gunicorn==%s' % gunicorn_version()]
    marker = venv / '.bench-ready'
    if marker.exists() and marker.read_text().split('\n')[0] == ' '.join(spec):
        log('reusing %s' % venv)
        return venv
    if venv.exists():
        shutil.rmtree(venv)
    log('building %s (%s)' % (venv, ' '.join(spec)))
    env = clean_env()
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True,
                   env=env)
    pip = subprocess.run(
        [str(venv / 'bin' / 'python'), '-m', 'pip', 'install', '--quiet',
         '--disable-pip-version-check'] + spec,
        env=env, capture_output=True, text=True)
    if pip.returncode:
        raise RuntimeError('installing the reference failed:\n%s%s'
                           % (pip.stdout, pip.stderr[-5000:]))
    freeze = subprocess.run(
        [str(venv / 'bin' / 'python'), '-m', 'pip', 'freeze',
         '--disable-pip-version-check'],
        check=True, env=env, capture_output=True, text=True).stdout
    marker.write_text(' '.join(spec) + '\n' + freeze)
    return venv


def ref_versions(venv):
    """Versions of a few key packages installed in the reference venv."""
    marker = venv / '.bench-ready'
    wanted = {'freezer-api', 'falcon', 'sqlalchemy', 'gunicorn',
              'oslo.db', 'oslo.policy', 'jsonschema'}
    found = {}
    for line in marker.read_text().splitlines()[1:]:
        name, _, version = line.partition('==')
        if name.lower() in wanted:
            found[name.lower()] = version
    return found


def clean_env(**extra):
    """The environment without the tox venv's Python settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('VIRTUAL_ENV', 'PYTHONPATH', 'PYTHONHOME',
                        '__PYVENV_LAUNCHER__')}
    env.update(extra)
    return env


class Server:
    """A gunicorn master process and its workers."""

    def __init__(self, name, label, cmd, env, port, rundir):
        self.name = name
        self.label = label
        self.cmd = cmd
        self.env = env
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        self.log_path = rundir / ('%s.log' % name)
        # Not the repository: gunicorn puts its cwd first on sys.path, and
        # the reference must not import our freezer_api.
        self.cwd = rundir
        self.proc = None

    def start(self):
        log('starting %s on port %d (log %s)'
            % (self.label, self.port, self.log_path))
        with open(self.log_path, 'wb') as out:
            self.proc = subprocess.Popen(
                self.cmd, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=self.env,
                cwd=self.cwd, start_new_session=True)

    def wait_ready(self, path, headers, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('%s exited with %s; see %s' % (
                    self.label, self.proc.returncode, self.log_path))
            try:
                resp = requests.get(self.url + path, headers=headers,
                                    timeout=5)
                if resp.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError('%s not ready after %ds; see %s'
                           % (self.label, timeout, self.log_path))

    def pids(self):
        """The master's pid and its children's (the workers)."""
        if self.proc is None:
            return []
        master = self.proc.pid
        children = []
        for entry in pathlib.Path('/proc').iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / 'stat').read_text()
            except OSError:
                continue
            fields = stat.rsplit(')', 1)[1].split()
            if int(fields[1]) == master:
                children.append(int(entry.name))
        return [master] + sorted(children)

    @staticmethod
    def _status_kb(pid, key):
        try:
            for line in pathlib.Path('/proc/%d/status' % pid).read_text(
                    ).splitlines():
                if line.startswith(key + ':'):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def memory(self):
        """Peak RSS (VmHWM, KiB) of the master and of each worker."""
        pids = self.pids()
        if not pids:
            return {'master': 0, 'workers': []}
        return {'master': self._status_kb(pids[0], 'VmHWM'),
                'workers': [self._status_kb(p, 'VmHWM') for p in pids[1:]]}

    def cpu_seconds(self):
        """User + system CPU time used so far by the master and workers."""
        total = 0
        for pid in self.pids():
            try:
                stat = pathlib.Path('/proc/%d/stat' % pid).read_text()
            except OSError:
                continue
            fields = stat.rsplit(')', 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / CLK_TCK

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def fresh(path):
    """Remove an SQLite file and its journals."""
    for suffix in ('', '-wal', '-shm', '-journal'):
        candidate = pathlib.Path(str(path) + suffix)
        if candidate.exists():
            candidate.unlink()


def copy_database(src, dst):
    """Copy an SQLite file (and its WAL, if any) over ``dst``."""
    fresh(dst)
    for suffix in ('', '-wal'):
        if pathlib.Path(str(src) + suffix).exists():
            shutil.copyfile(str(src) + suffix, str(dst) + suffix)


def reference_conf(rundir, db):
    """Write the reference's paste and config files for the SQLite file
    ``db``; returns the config file."""
    paste = rundir / 'reference-paste.ini'
    paste.write_text(REF_PASTE.format(context_factory=(
        'freezer_api.api.common.middleware:ContextMiddleware.factory')))
    conf = rundir / ('reference-%s.conf' % pathlib.Path(db).stem)
    conf.write_text(REF_CONF.format(db=db, paste=paste, rundir=rundir))
    return conf


def sync_reference(venv, conf, db, cwd):
    """``freezer-manage db sync``, the reference's way to make its
    schema."""
    sync = subprocess.run(
        [str(venv / 'bin' / 'freezer-manage'), '--config-file', str(conf),
         'db', 'sync'], env=clean_env(), cwd=cwd, capture_output=True,
        text=True)
    # freezer-manage always exits 0: look at the database instead.
    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
    if not {'actions', 'jobs', 'clients', 'backups'} <= tables:
        raise RuntimeError('reference db sync failed:\n%s%s'
                           % (sync.stdout, sync.stderr))


def _gunicorn_args(port, workers, threads):
    """The server settings ours uses (freezer_api/cmd/api.py), for the
    reference and the floor."""
    return ['--worker-class', 'gthread',
            '--workers', str(workers), '--threads', str(threads),
            '--bind', '127.0.0.1:%d' % port,
            '--keep-alive', '60', '--timeout', '120',
            '--graceful-timeout', '30', '--error-logfile', '-']


def make_reference(venv, rundir, db, workers, threads):
    """The reference on the SQLite file ``db`` (already synced)."""
    conf = reference_conf(rundir, db)
    shutil.copy(HERE / 'ref_wsgi.py', rundir / 'ref_wsgi.py')
    port = free_port()
    cmd = [str(venv / 'bin' / 'gunicorn'),
           '--chdir', str(rundir), '--pythonpath', str(rundir)]
    cmd += _gunicorn_args(port, workers, threads)
    if _supports_no_control_socket(venv / 'bin' / 'gunicorn'):
        cmd.append('--no-control-socket')
    cmd.append('ref_wsgi:application')
    env = clean_env(FREEZER_BENCH_REF_CONF=str(conf))
    return Server('reference', 'reference %s' % REF_VERSION, cmd, env, port,
                  rundir)


def _supports_no_control_socket(gunicorn):
    out = subprocess.run([str(gunicorn), '--help'],
                         capture_output=True, text=True, env=clean_env())
    return '--no-control-socket' in out.stdout


def _our_exe(name):
    exe = pathlib.Path(sys.executable).parent / name
    if not exe.exists():
        raise RuntimeError('%s not found: run the benchmark from an '
                           'environment where freezer-api is installed '
                           '(tox -e bench)' % exe)
    return exe


def make_ours(rundir, db, workers, threads):
    """Ours on the SQLite file ``db``."""
    port = free_port()
    conf = rundir / 'ours.conf'
    conf.write_text(OURS_CONF.format(db=db, port=port, workers=workers,
                                     threads=threads, rundir=rundir))
    return Server('ours', 'ours', [str(_our_exe('freezer-api')),
                                   '--config-file', str(conf)],
                  dict(os.environ), port, rundir)


def make_ours_default(rundir, url):
    """Ours on the database ``url`` with the default configuration: only
    what noauth, the address and the database need."""
    port = free_port()
    conf = rundir / 'ours-default.conf'
    conf.write_text(OURS_DEFAULT_CONF.format(url=url, port=port))
    return Server('ours-pg', 'ours (default configuration)',
                  [str(_our_exe('freezer-api')), '--config-file', str(conf)],
                  dict(os.environ), port, rundir)


def sync_ours(url, rundir):
    """``freezer-manage db sync`` on ``url``, as a deployment does."""
    conf = rundir / 'ours-sync.conf'
    conf.write_text('[database]\nconnection = %s\n' % url)
    res = subprocess.run([str(_our_exe('freezer-manage')), '--config-file',
                          str(conf), 'db', 'sync'], capture_output=True,
                         text=True, cwd=rundir)
    if res.returncode:
        raise RuntimeError('freezer-manage db sync failed:\n%s%s'
                           % (res.stdout, res.stderr))


def make_floor(rundir, db, workers, threads):
    """The floor (floor.py) on the SQLite file ``db``, under the
    gunicorn of this environment (the one ours runs under)."""
    port = free_port()
    gunicorn = _our_exe('gunicorn')
    cmd = [str(gunicorn), '--chdir', str(rundir), '--pythonpath', str(HERE)]
    cmd += _gunicorn_args(port, workers, threads)
    if _supports_no_control_socket(gunicorn):
        cmd.append('--no-control-socket')
    cmd.append('floor:application')
    env = dict(os.environ, FREEZER_FLOOR_DB=str(db))
    return Server('floor', 'floor', cmd, env, port, rundir)

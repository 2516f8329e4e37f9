"""Small process, port, HTTP and venv helpers for the functional tests.

Only the standard library (and testtools) is used here, so nothing extra
has to be installed (no curl, no jq).
"""

import contextlib
import ctypes
import ctypes.util
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import testtools.content

HOST = '127.0.0.1'

FIGURES_ENV = 'FREEZER_FUNC_FIGURES'


def member_headers(project, user='writer'):
    """The noauth headers of a member of ``project``."""
    return {'X-User-Id': user, 'X-Project-Id': project,
            'X-Roles': 'member,reader'}


def fs_backup_action(name, container=None):
    """An action body: back /etc up by tar to local storage, as ``name``
    into ``container`` (default: ``name``)."""
    return {'freezer_action': {
        'action': 'backup', 'mode': 'fs', 'backup_name': name,
        'container': container or name, 'path_to_backup': '/etc',
        'storage': 'local', 'engine_name': 'tar'}}


def func_dir():
    """Directory for things kept between runs (venvs, Keystone snapshot)."""
    return os.environ.get('FREEZER_FUNC_DIR', '/tmp/freezer-func')


def free_port():
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def tail(path, lines=40):
    """The last ``lines`` lines of a text file ('' when missing)."""
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read().decode('utf-8', 'replace')
    except OSError:
        return ''
    return '\n'.join(data.splitlines()[-lines:])


def report_figures(test, name, values):
    """Record what a test measured: as a detail of ``test``, and as a line
    appended to the file named by $FREEZER_FUNC_FIGURES (which
    tools/run-tests.sh prints after the functional tests)."""
    line = '%s: %s' % (name, ', '.join(
        f'{key}={value}' for key, value in values.items()))
    test.addDetail(name, testtools.content.text_content(line))
    path = os.environ.get(FIGURES_ENV)
    if path:
        with open(path, 'a') as f:
            f.write(line + '\n')


class ServiceError(RuntimeError):
    """A service process did not start or answer as expected."""


def http_status(url, timeout=2.0, headers=None):
    """Status code of a GET, or None when nothing answered."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, ValueError):
        return None


def wait_for_http(url, proc, log_paths, timeout=60.0, expect=(200,),
                  what='service'):
    """Poll ``url`` until it answers with a status in ``expect``.

    Fails early when ``proc`` (a Popen) exits; the error carries the tail
    of every file in ``log_paths``. Each poll has its own short timeout: a
    server whose listener is up but whose worker is not may accept a
    connection and never answer it.
    """
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = http_status(url, timeout=2.0)
        if status in expect:
            return status
        if proc is not None and proc.poll() is not None:
            raise ServiceError(f'{what} exited with rc={proc.returncode} '
                               f'before {url} answered\n{_tails(log_paths)}')
        time.sleep(0.05)
    raise ServiceError(f'{what}: {url} did not answer {expect} within '
                       f'{timeout:.0f}s (last status '
                       f'{status})\n{_tails(log_paths)}')


def _tails(paths):
    out = []
    for p in paths:
        out.append(f'----- tail of {p} -----\n{tail(p)}')
    return '\n'.join(out)


_PR_SET_PDEATHSIG = 1


def _child_setup():
    """Run in the child before exec: die with SIGTERM when we die.

    Linux sends it when the *thread* that started the child exits, so
    start long-lived processes from the test's own thread. This only
    guards against a killed test worker leaving servers behind; the
    normal path is an explicit stop by pid in the fixtures' cleanUp.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6',
                           use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:  # noqa: S110 - best effort, Linux only
        pass


def start_process(argv, log_path, env=None, cwd=None, pid_file=None):
    """Start ``argv`` in its own session, output appended to ``log_path``.

    The pid is written to ``pid_file`` when given. Returns the Popen.
    """
    with open(log_path, 'ab') as log:
        proc = subprocess.Popen(  # noqa: S603
            argv, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, env=env, cwd=cwd,
            start_new_session=True, preexec_fn=_child_setup)
    if pid_file:
        with open(pid_file, 'w') as f:
            f.write(f'{proc.pid}\n')
    return proc


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_process(proc, sig=signal.SIGINT, timeout=5.0):
    """Stop a process started by :func:`start_process`, by its pid.

    ``sig`` first (SIGINT is gunicorn's quick shutdown: SIGTERM would wait
    for idle keep-alive connections), SIGKILL after ``timeout``. Whatever
    is left in the process group we created for it (e.g. a worker whose
    master died) is then killed too. Returns the exit code.
    """
    if proc is None:
        return None
    pid = proc.pid
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            proc.wait(10)
    # start_new_session=True made pid the id of a process group of our own.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    return proc.returncode


@contextlib.contextmanager
def file_lock(path):
    """An exclusive flock held for the ``with`` block (across processes)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'a+') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def venv_python(venv):
    return os.path.join(venv, 'bin', 'python')


def _probe_versions(venv, dists):
    """{dist: version or None} as installed in ``venv`` (None: no venv)."""
    py = venv_python(venv)
    if not os.access(py, os.X_OK):
        return None
    code = ('import importlib.metadata as m, json, sys\n'
            'out = {}\n'
            'for d in sys.argv[1:]:\n'
            '    try:\n'
            '        out[d] = m.version(d)\n'
            '    except m.PackageNotFoundError:\n'
            '        out[d] = None\n'
            'print(json.dumps(out))\n')
    try:
        res = subprocess.run([py, '-c', code] + list(dists),  # noqa: S603
                             capture_output=True, text=True, timeout=60,
                             check=True)
        return json.loads(res.stdout)
    except (subprocess.SubprocessError, OSError, ValueError):
        return None


def _usable(versions, requirements):
    if not versions:
        return False
    for dist, want in requirements.items():
        have = versions.get(dist)
        if have is None or (want is not None and have != want):
            return False
    return True


def ensure_venv(path, requirements, timeout=900):
    """Make sure ``path`` is a venv holding ``requirements``; build it if not.

    ``requirements`` maps a distribution name to an exact version, or to
    None for "any version". The venv is kept and reused by later runs;
    concurrent test workers serialise on a lock file next to it. Returns
    the seconds spent (0.0-ish when it was already usable).
    """
    t0 = time.monotonic()
    if _usable(_probe_versions(path, requirements), requirements):
        return time.monotonic() - t0
    with file_lock(path.rstrip('/') + '.lock'):
        if _usable(_probe_versions(path, requirements), requirements):
            return time.monotonic() - t0
        if os.path.exists(path):
            if not os.path.exists(os.path.join(path, 'pyvenv.cfg')):
                raise ServiceError(f'{path} exists and is not a venv; '
                                   'refusing to replace it')
            shutil.rmtree(path)
        base_python = getattr(sys, '_base_executable', None) or sys.executable
        log = path.rstrip('/') + '.install.log'
        specs = [d if v is None else f'{d}=={v}'
                 for d, v in requirements.items()]
        steps = [
            [base_python, '-m', 'venv', path],
            [venv_python(path), '-m', 'pip', 'install', '-q',
             '--disable-pip-version-check', '-U', 'pip'],
            [venv_python(path), '-m', 'pip', 'install', '-q',
             '--disable-pip-version-check'] + specs,
        ]
        with open(log, 'w') as logf:
            for argv in steps:
                logf.write(f"$ {' '.join(argv)}\n")
                logf.flush()
                rc = subprocess.call(argv, stdout=logf,  # noqa: S603
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     timeout=timeout)
                if rc:
                    raise ServiceError(f'building venv {path} failed at '
                                       f'{argv!r} '
                                       f'(rc={rc})\n{tail(log)}')
        if not _usable(_probe_versions(path, requirements), requirements):
            raise ServiceError(f'venv {path} still lacks {specs} after '
                               f'install\n{tail(log)}')
    return time.monotonic() - t0

"""1,000 simulated freezer-schedulers against ours on PostgreSQL.

A private PostgreSQL 15 (``initdb`` into the bench directory, ``pg_ctl`` on
a free port of 127.0.0.1, ``fsync = off``, everything else default) holds
a database whose schema ``freezer-manage db sync`` makes. Our server runs
on it with the default configuration (``servers.make_ours_default``: no
``[api]`` options, so the default number of workers and threads), noauth.

The data (``dataset.sim_plan``, seeded by ``seed_ours.py`` through our
database layer and its bulk writer): in one project, ``clients``
registered schedulers, each with 2 recurring jobs (one backup action,
every ``job_interval`` s) and a completed one-off job, and 2 backups.

Every simulated scheduler does what a running freezer-scheduler does
(/work/shared/reference/scheduler-contract.md, §3 and §5; it registered
and armed its jobs when it started, before the simulation: the seeded
clients and ``scheduled`` jobs are that state):

* every ``poll_interval`` s, the poll ``GET /v2/{p}/jobs/?limit=10&
  offset=0&all_projects=False`` with the body ``{"match_not": [{"status":
  "completed"}], "match": [{"client_id": C}]}``;
* for every run of a job: ``PATCH`` ``status: running`` (``time_started``,
  ``time_ended: -1``), the same with ``current_pid`` right after, then,
  when the agent ends (``agent_seconds`` later, 3 to 15 s), ``POST
  /v2/{p}/backups/`` with the agent's metadata and ``job_id``, and a
  ``PATCH`` ``status: scheduled, result: success`` with ``time_ended``.
  Each PATCH sends the whole local ``job_schedule`` plus ``session_id``
  and ``session_tag``, as the scheduler does.

The polls and job runs of every scheduler have random phases; the ramp
(by default one poll interval) lets every scheduler poll once before the
measurement starts. The load is **open-loop**: every
request has a scheduled send time, a dispatcher hands it at that time to a
pool of sender threads, and its latency is measured from the scheduled
time to the end of the response, so a slow server cannot slow the
generator down and hide its own queueing (no coordinated omission). Like
python-freezerclient, which calls ``requests.get`` and friends without a
session, every request opens its own TCP connection. Only requests
scheduled after the ramp (``ramp`` s) count; a poll is also checked to
return the scheduler's 2 active jobs.
"""

import dataclasses
import heapq
import http.client
import json
import os
import pathlib
import queue
import random
import shutil
import subprocess
import sys
import threading
import time

import dataset
import loadgen
import servers
import workload

HERE = pathlib.Path(__file__).resolve().parent


# --- PostgreSQL --------------------------------------------------------------

def pg_bindir():
    for candidate in sorted(pathlib.Path('/usr/lib/postgresql').glob(
            '*/bin/pg_ctl'), reverse=True):
        return candidate.parent
    found = shutil.which('pg_ctl')
    if found:
        return pathlib.Path(found).parent
    raise RuntimeError('pg_ctl not found: install PostgreSQL')


class Postgres:
    """A private PostgreSQL server in ``directory``."""

    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.data = self.dir / 'data'
        self.log = self.dir / 'postgres.log'
        self.bindir = pg_bindir()
        self.port = servers.free_port()

    def _run(self, *argv):
        if os.geteuid() == 0:  # initdb refuses to run as root
            argv = ('runuser', '-u', 'postgres', '--') + argv
        subprocess.run(argv, check=True, capture_output=True, timeout=120)

    def version(self):
        out = subprocess.run([str(self.bindir / 'postgres'), '--version'],
                             capture_output=True, text=True)
        return out.stdout.strip()

    def start(self):
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, 'postgres')
        self._run(str(self.bindir / 'initdb'), '-D', str(self.data),
                  '-A', 'trust', '-U', 'postgres')
        self._run(str(self.bindir / 'pg_ctl'), '-D', str(self.data), '-l',
                  str(self.log), '-w', '-o',
                  '-h 127.0.0.1 -p %d -k %s -c fsync=off'
                  % (self.port, self.dir), 'start')

    def url(self, database='postgres'):
        return 'postgresql+psycopg2://postgres@127.0.0.1:%d/%s' % (
            self.port, database)

    def create_database(self, name):
        import sqlalchemy as sa
        engine = sa.create_engine(self.url(), isolation_level='AUTOCOMMIT')
        with engine.connect() as conn:
            conn.exec_driver_sql('CREATE DATABASE %s' % name)
        engine.dispose()
        return self.url(name)

    def analyze(self, url):
        import sqlalchemy as sa
        engine = sa.create_engine(url, isolation_level='AUTOCOMMIT')
        with engine.connect() as conn:
            conn.exec_driver_sql('ANALYZE')
        engine.dispose()

    def stop(self):
        try:
            self._run(str(self.bindir / 'pg_ctl'), '-D', str(self.data),
                      '-m', 'fast', '-w', 'stop')
        except (subprocess.CalledProcessError, OSError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the schedule ------------------------------------------------------------

@dataclasses.dataclass(order=True)
class Event:
    at: float
    kind: str = dataclasses.field(compare=False)
    request: loadgen.Request = dataclasses.field(compare=False)
    expected: int = dataclasses.field(compare=False, default=200)
    client: int = dataclasses.field(compare=False, default=-1)


P = dataset.SIM_PROJECT


def _schedule(k, interval):
    return dataset.created_schedule(dataset.sim_schedule(k, interval))


def _patch(client, k, schedule):
    j = dataset.sim_job_number(client, k)
    return loadgen.Request('PATCH', '/v2/%s/jobs/%s' % (
        P, dataset.job_id(P, j)), workload.schedule_patch(schedule))


def run_events(client, k, at, interval, rng, wall0):
    """One run of job ``k``: 3 PATCHes and a POST backup."""
    base = _schedule(k, interval)
    started = int(wall0 + at)
    running = dict(base, status='running', result='', event='',
                   time_started=started, time_ended=-1)
    pid = 20000 + rng.randrange(40000)
    agent = 3 + 12 * rng.random()
    j = dataset.sim_job_number(client, k)
    backup = dataset.backup_doc(j, dataset.job_id(P, j))
    done = dict(running, current_pid=pid, status='scheduled',
                result='success', time_ended=int(started + agent))
    return [
        Event(at, 'patch_job', _patch(client, k, running), 200, client),
        Event(at + 0.1, 'patch_job', _patch(
            client, k, dict(running, current_pid=pid)), 200, client),
        Event(at + agent, 'post_backup', loadgen.Request(
            'POST', '/v2/%s/backups/' % P, json.dumps(backup).encode()),
            201, client),
        Event(at + agent + 0.05, 'patch_job', _patch(client, k, done), 200,
              client),
    ]


def build_schedule(clients, poll_interval, job_interval, total, seed=0):
    """Every request of the run, by scheduled time (s from the start)."""
    rng = random.Random(seed)
    wall0 = time.time()
    events = []
    for client in range(clients):
        start = rng.uniform(0, poll_interval)
        at = start
        while at < total:
            events.append(Event(at, 'poll', workload.poll_request(
                P, dataset.client_id(P, client)), 200, client))
            at += poll_interval
        for k in (0, 1):
            at = rng.uniform(0, job_interval)
            while at < total:
                events += [e for e in run_events(client, k, at,
                                                 job_interval, rng, wall0)
                           if e.at < total]
                at += job_interval
    heapq.heapify(events)
    return [heapq.heappop(events) for _ in range(len(events))]


# --- the open-loop generator -------------------------------------------------

@dataclasses.dataclass
class Outcome:
    kind: str
    scheduled: float
    latency: float   # from the scheduled time
    service: float   # from the send
    ok: bool
    detail: str = ''


def _send(port, headers, event):
    """One request on a new connection: (status, body)."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    try:
        conn.request(event.request.method, event.request.path,
                     body=event.request.body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _check(event, status, body):
    if status != event.expected:
        return '%s %s -> %s %s' % (event.request.method, event.request.path,
                                   status, body[:200])
    if event.kind == 'poll':
        jobs = json.loads(body).get('jobs', [])
        if len(jobs) != 2:
            return 'poll of client %d returned %d jobs, not 2' % (
                event.client, len(jobs))
    return ''


def run_open_loop(port, events, senders=64):
    """Send ``events`` on schedule; returns (outcomes, generator lag)."""
    headers = dict(workload.headers(P))
    work = queue.Queue()
    outcomes = []
    lock = threading.Lock()
    t0 = time.perf_counter() + 0.5

    def sender():
        while (event := work.get()) is not None:
            sent = time.perf_counter()
            try:
                status, body = _send(port, headers, event)
                detail = _check(event, status, body)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                detail = repr(exc)
            end = time.perf_counter()
            with lock:
                outcomes.append(Outcome(
                    event.kind, event.at, end - (t0 + event.at),
                    end - sent, not detail, detail))

    threads = [threading.Thread(target=sender, daemon=True)
               for _ in range(senders)]
    for thread in threads:
        thread.start()
    lag = 0.0
    for event in events:
        delay = t0 + event.at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        else:
            lag = max(lag, -delay)
        work.put(event)
    for _ in threads:
        work.put(None)
    for thread in threads:
        thread.join()
    return outcomes, lag


def summarise(outcomes, ramp, duration):
    """Rates and latency percentiles (ms) per kind and overall, of the
    requests scheduled in [ramp, ramp + duration)."""
    measured = [o for o in outcomes if ramp <= o.scheduled < ramp + duration]
    kinds = sorted({o.kind for o in measured})
    summary = {}
    for kind in kinds + ['all']:
        subset = [o for o in measured if kind in ('all', o.kind)]
        ok = loadgen.Result(planned=len(subset))
        ok.latencies = [o.latency for o in subset if o.ok]
        service = loadgen.Result(planned=len(subset))
        service.latencies = [o.service for o in subset if o.ok]
        errors = [o for o in subset if not o.ok]
        summary[kind] = {
            'count': len(subset), 'rate': len(subset) / duration,
            'errors': len(errors),
            'first_error': errors[0].detail if errors else '',
            'p50': ok.percentile(50), 'p95': ok.percentile(95),
            'p99': ok.percentile(99), 'max': ok.percentile(100),
            'service_p99': service.percentile(99),
        }
    return summary


# --- the whole simulation ----------------------------------------------------

def seed(url, clients, job_interval, cwd):
    spec = {'url': url, 'sim_clients': clients,
            'sim_interval': job_interval}
    res = subprocess.run([sys.executable, '-W', 'ignore',
                          str(HERE / 'seed_ours.py'), json.dumps(spec)],
                         capture_output=True, text=True, cwd=cwd)
    if res.returncode:
        raise RuntimeError('seeding PostgreSQL failed:\n%s'
                           % res.stderr[-5000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def simulate(bench_dir, clients=1000, poll_interval=30.0, job_interval=600,
             ramp=30.0, duration=60.0):
    """Run the simulation; returns its results (a JSON-able dict)."""
    rundir = bench_dir / 'pgsim'
    rundir.mkdir(parents=True, exist_ok=True)
    pg = Postgres(bench_dir / 'pg')
    server = None
    t_start = time.perf_counter()
    try:
        pg.start()
        url = pg.create_database('freezer')
        servers.sync_ours(url, rundir)
        seeded = seed(url, clients, job_interval, rundir)
        pg.analyze(url)
        servers.log('PostgreSQL seeded: %d documents in %.1f s' % (
            seeded['documents'], seeded['seconds']))
        server = servers.make_ours_default(rundir, url)
        server.start()
        server.wait_ready('/v2/%s/actions?limit=1' % P, workload.headers(P))
        events = build_schedule(clients, poll_interval, job_interval,
                                ramp + duration)
        servers.log('simulating %d schedulers: %d requests in %.0f s '
                    '(%.0f s ramp), %d worker process(es)' % (
                        clients, len(events), ramp + duration, ramp,
                        len(server.pids()) - 1))
        cpu = {}

        def sample_cpu():
            time.sleep(ramp + 0.5)
            cpu['t0'], cpu['c0'] = time.perf_counter(), server.cpu_seconds()
            time.sleep(duration)
            cpu['t1'], cpu['c1'] = time.perf_counter(), server.cpu_seconds()

        sampler = threading.Thread(target=sample_cpu, daemon=True)
        sampler.start()
        outcomes, lag = run_open_loop(server.port, events)
        sampler.join()
        summary = summarise(outcomes, ramp, duration)
        workers = len(server.pids()) - 1
        memory = server.memory()
        return {
            'clients': clients, 'poll_interval': poll_interval,
            'job_interval': job_interval, 'ramp': ramp,
            'duration': duration, 'requests': len(events),
            'generator_lag': lag, 'workers': workers,
            'server_cores': (cpu['c1'] - cpu['c0']) / (cpu['t1'] - cpu['t0']),
            'memory': memory, 'postgres': pg.version(),
            'seeded': seeded, 'summary': summary,
            'seconds': time.perf_counter() - t_start,
        }
    finally:
        if server is not None:
            server.stop()
        pg.stop()

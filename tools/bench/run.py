#!/usr/bin/env python3
"""Benchmark this freezer-api against the reference freezer-api (PyPI) and
a floor, at several project sizes, and on PostgreSQL under 1,000
simulated freezer-schedulers.

Usage (from the repository root; ``tox -e bench`` runs it)::

    python tools/bench/run.py --output doc/source/performance.rst \\
        --plot doc/source/performance-latency.png

1. Builds (once, cached in ``$FREEZER_BENCH_DIR`` or /tmp/freezer-bench) a
   virtualenv with the reference.
2. Seeds, or takes from the cache, a database of every ``--sizes`` for
   each of the three servers (``seeding.py``).
3. For each size: starts the reference, ours and the floor (``floor.py``)
   with the same gunicorn size on copies of their files, checks that they
   give the same answers, and measures every scenario on every server,
   the servers taking turns, ``--repeat`` times: first with one
   sequential keep-alive client, then with ``--concurrency`` clients;
   then reads every server's peak memory and stops them.
4. Unless ``--no-pg``, runs ``pgsim.py``: ours with its default
   configuration on a private PostgreSQL under ``--pg-clients`` simulated
   schedulers, open-loop.
5. Prints a summary, saves the raw numbers to ``results.json`` in the
   bench directory, and with ``--output FILE`` writes the report between
   the ``.. bench-results-begin`` and ``.. bench-results-end`` markers of
   FILE (``--plot PNG``: the latency plot, referenced from it).
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import pathlib
import platform
import sqlite3
import statistics
import sys
import time

import loadgen
import report
import requests
import seeding
import servers
import workload

BEGIN = '.. bench-results-begin'
END = '.. bench-results-end'
ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVERS = report.SERVERS
KEYS = ('rps', 'p50', 'p95', 'p99', 'cpu_ms')


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--output', help='reStructuredText file to write')
    parser.add_argument('--plot', help='PNG file of the latency plot')
    parser.add_argument('--bench-dir', default=os.environ.get(
        'FREEZER_BENCH_DIR', '/tmp/freezer-bench'))
    parser.add_argument('--sizes', default='1000,10000,100000',
                        help='documents in the measured project, comma-'
                             'separated multiples of 100 ("": none, only '
                             'the PostgreSQL simulation)')
    parser.add_argument('--workers', type=int, default=1,
                        help='gunicorn worker processes of each server')
    parser.add_argument('--threads', type=int, default=8,
                        help='threads per worker of each server')
    parser.add_argument('--concurrency', type=int, default=8,
                        help='client connections of the load generator')
    parser.add_argument('--requests', type=int, default=250,
                        help='requests per measurement with --concurrency '
                             'clients')
    parser.add_argument('--seq-requests', type=int, default=50,
                        help='requests per measurement with one client')
    parser.add_argument('--warmup', type=int, default=16,
                        help='unmeasured requests before each measurement')
    parser.add_argument('--time-cap', type=float, default=3.5,
                        help='seconds after which a measurement with '
                             '--concurrency clients stops sending')
    parser.add_argument('--seq-time-cap', type=float, default=1.5,
                        help='the same, with one client')
    parser.add_argument('--slow', type=float, default=3.0,
                        help='seconds: a server whose first request of a '
                             'scenario takes longer is measured by that '
                             'request alone')
    parser.add_argument('--repeat', type=int, default=1)
    parser.add_argument('--only', action='append', metavar='SCENARIO',
                        choices=sorted(workload.BY_NAME),
                        help='run only these scenarios (repeatable)')
    parser.add_argument('--no-pg', action='store_true',
                        help='skip the PostgreSQL scheduler simulation')
    parser.add_argument('--pg-clients', type=int, default=1000)
    parser.add_argument('--pg-ramp', type=float, default=30.0,
                        help='seconds before measuring')
    parser.add_argument('--pg-duration', type=float, default=60.0,
                        help='seconds measured after the ramp')
    parser.add_argument('--pg-poll-interval', type=float, default=30.0)
    parser.add_argument('--pg-job-interval', type=int, default=600,
                        help='seconds between two runs of a job')
    parser.add_argument('--from-results', metavar='JSON',
                        help='measure nothing: write the report (and '
                             'plot) of a results.json of an earlier run')
    args = parser.parse_args(argv)
    args.sizes = sorted({int(n) for n in args.sizes.split(',') if n.strip()})
    if any(n < 1000 or n % 100 for n in args.sizes):
        parser.error('--sizes: multiples of 100, at least 1000')
    return args


def delete_pool(args):
    """Actions seeded per size for the DELETE scenario: enough for every
    request a run may send (probe, warm-ups and measurements)."""
    per_rep = args.seq_requests + args.requests + 2 * args.warmup + 1
    return max(1000, args.repeat * per_rep)


# --- measuring ---------------------------------------------------------------

def measure(server, scenario, size, reqs, warm, concurrency, cap):
    """One run of ``reqs`` after ``warm``; the server's CPU time per
    request counts the warm-up requests too."""
    cpu0 = server.cpu_seconds()
    res = loadgen.run(server.url, reqs, scenario.expected_status,
                      workload.headers(), concurrency=concurrency,
                      time_cap=cap, warmup=warm)
    cpu = server.cpu_seconds() - cpu0
    total = res.done + res.errors + len(warm)
    return {
        'rps': res.throughput, 'p50': res.percentile(50),
        'p95': res.percentile(95), 'p99': res.percentile(99),
        'done': res.done, 'errors': res.errors, 'capped': res.capped,
        'first_error': res.first_error,
        'cpu_ms': 1000.0 * cpu / total if total else float('nan'),
    }


class Cursor:
    """Numbers the requests of a scenario on one server, so that no two
    DELETEs name the same pool action."""

    def __init__(self):
        self.next = 0

    def take(self, scenario, size, count, seed):
        reqs = scenario.requests(size, count, seed, self.next)
        self.next += count
        return reqs


def measure_both_ways(server, scenario, size, args, rep, cursor,
                      probe=None):
    """A probe request (or ``probe``, the check of the answers), then one
    client, then ``--concurrency`` clients; a server whose probe takes
    more than ``--slow`` s is measured by the probe alone (8 concurrent
    requests of it would take minutes)."""
    seed = 'rep%d' % rep
    if probe is None or rep:
        probe = measure(server, scenario, size,
                        cursor.take(scenario, size, 1, seed + 'probe'), [],
                        1, args.seq_time_cap)
    if probe['p50'] > args.slow * 1000.0 or probe['done'] == 0:
        return {'seq': probe, 'conc': None,
                'skipped': 'one request took %.1f s' % (probe['p50'] / 1e3)}
    seq = measure(server, scenario, size,
                  cursor.take(scenario, size, args.seq_requests, seed + 's'),
                  cursor.take(scenario, size, 4, seed + 'sw'), 1,
                  args.seq_time_cap)
    conc = measure(server, scenario, size,
                   cursor.take(scenario, size, args.requests, seed),
                   cursor.take(scenario, size, args.warmup, seed + 'w'),
                   args.concurrency, args.time_cap)
    return {'seq': seq, 'conc': conc, 'skipped': ''}


def answer_shape(resp):
    """(status, documents): the length of a list reply, else 1."""
    try:
        body = resp.json() if resp.content else {}
    except ValueError:
        return (resp.status_code, 'not JSON')
    if isinstance(body, dict) and len(body) == 1:
        (only,) = body.values()
        if isinstance(only, list):
            return (resp.status_code, len(only))
    return (resp.status_code, 1)


def timed_request(server, scenario, req):
    """One request, as :func:`measure` reports it, and the response."""
    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
    resp = requests.request(req.method, server.url + req.path,
                            data=req.body, headers=workload.headers(),
                            timeout=300)
    elapsed = time.perf_counter() - t0
    ok = resp.status_code == scenario.expected_status
    return resp, {
        'rps': 1.0 / elapsed, 'p50': elapsed * 1e3, 'p95': elapsed * 1e3,
        'p99': elapsed * 1e3, 'done': int(ok), 'errors': int(not ok),
        'capped': False, 'first_error': '' if ok else resp.text[:200],
        'cpu_ms': 1000.0 * (server.cpu_seconds() - cpu0)}


def check_same_answers(running, size, scenarios):
    """The first request of every read scenario, to every server: the
    statuses and numbers of documents must agree. Returns the answers
    and the timed requests (the probes of :func:`measure_both_ways`)."""
    answers, probes = {}, {}
    for scenario in scenarios:
        if not scenario.read:
            continue
        req = scenario.requests(size, 1, 'check')[0]
        seen = {}
        for name, server in running.items():
            resp, probes[scenario.name, name] = timed_request(
                server, scenario, req)
            seen[name] = answer_shape(resp)
        answers[scenario.name] = seen
        same = len(set(seen.values())) == 1
        servers.log('%6d %-15s answers (status, documents): %s%s' % (
            size, scenario.name, seen, '' if same else '  <-- DIFFERENT'))
    return answers, probes


def log_result(size, scenario, name, result):
    for mode in ('seq', 'conc'):
        res = result[mode]
        if res is None:
            servers.log('%6d %-15s %-9s %-4s skipped: %s' % (
                size, scenario.name, name, mode, result['skipped']))
            continue
        servers.log(
            '%6d %-15s %-9s %-4s %7.1f req/s  p50 %7.1f  p99 %7.1f ms  '
            'cpu %6.2f ms/req  %d ok %d err%s' % (
                size, scenario.name, name, mode, res['rps'], res['p50'],
                res['p99'], res['cpu_ms'], res['done'], res['errors'],
                ' (capped)' if res['capped'] else ''))
        if res['first_error']:
            servers.log('  first error: %s' % res['first_error'])


def start_servers(args, venv, rundir, seeded, size):
    """The three servers on copies of their seeded files, ready."""
    made = {}
    for name in SERVERS:
        db = rundir / ('%s.sqlite' % name)
        servers.copy_database(seeded[name][size], db)
        if name == 'reference':
            made[name] = servers.make_reference(venv, rundir, db,
                                                args.workers, args.threads)
        elif name == 'ours':
            made[name] = servers.make_ours(rundir, db, args.workers,
                                           args.threads)
        else:
            made[name] = servers.make_floor(rundir, db, args.workers,
                                            args.threads)
    probe = '/v2/%s/actions?limit=1' % workload.P
    for server in made.values():
        server.start()
    for server in made.values():
        server.wait_ready(probe, workload.headers(), timeout=180)
    return made


def measure_size(args, venv, rundir, seeded, size, scenarios):
    """Every scenario on every server at one size.

    :returns: (runs {scenario: {server: [result per rep]}}, memory,
        answers)
    """
    running = start_servers(args, venv, rundir, seeded, size)
    try:
        answers, probes = check_same_answers(running, size, scenarios)
        runs = {s.name: {name: [] for name in SERVERS} for s in scenarios}
        for index, scenario in enumerate(scenarios):
            cursors = {name: Cursor() for name in SERVERS}
            for rep in range(args.repeat):
                shift = (index + rep) % len(SERVERS)
                for name in SERVERS[shift:] + SERVERS[:shift]:
                    result = measure_both_ways(
                        running[name], scenario, size, args, rep,
                        cursors[name], probes.get((scenario.name, name)))
                    runs[scenario.name][name].append(result)
                    log_result(size, scenario, name, result)
        memory = {name: server.memory() for name, server in running.items()}
    finally:
        for server in running.values():
            server.stop()
    return runs, memory, answers


# --- summarising -------------------------------------------------------------

def _median(values):
    values = [v for v in values if v is not None and v == v]
    return statistics.median(values) if values else None


def summarise(all_runs):
    """{size: {scenario: {server: {'seq': medians, 'conc': medians,
    'skipped': reason}}}}."""
    summary = {}
    for size, runs in all_runs.items():
        summary[size] = {}
        for scenario, per_server in runs.items():
            row = {}
            for name, reps in per_server.items():
                cell = {'skipped': '; '.join(sorted(
                    {r['skipped'] for r in reps if r['skipped']}))}
                for mode in ('seq', 'conc'):
                    done = [r[mode] for r in reps if r[mode] is not None]
                    if not done:
                        cell[mode] = None
                        continue
                    cell[mode] = {k: _median([d[k] for d in done])
                                  for k in KEYS}
                    cell[mode]['errors'] = sum(d['errors'] for d in done)
                    cell[mode]['done'] = sum(d['done'] for d in done)
                    cell[mode]['capped'] = sum(1 for d in done
                                               if d['capped'])
                row[name] = cell
            summary[size][scenario] = row
    return summary


# --- the report --------------------------------------------------------------

def _notes(summary, sizes, titles):
    """Errors, capped and skipped measurements, in words."""
    notes = []
    for size in sizes:
        for scenario, row in summary[size].items():
            for name, cell in row.items():
                what = '%s, %s, %s' % (titles[scenario], name,
                                       report.size_label(size))
                if cell['skipped']:
                    notes.append('%s: measured by one request only (%s)'
                                 % (what, cell['skipped']))
                for mode in ('seq', 'conc'):
                    stats = cell[mode]
                    if stats and stats['errors']:
                        notes.append('%s (%s): **%d errors**' % (
                            what, mode, stats['errors']))
    return notes


def _same_answers_text(answers):
    differ = ['%s at %s: %s' % (name, report.size_label(size), seen)
              for size, per_size in answers.items()
              for name, seen in per_size.items()
              if len(set(map(tuple, seen.values()))) != 1]
    if not differ:
        return ('before measuring, at every size, the three servers gave '
                'the same status and number of documents to the first '
                'request of every read scenario.')
    return ('**the servers answered differently** (status, documents): '
            + '; '.join(differ) + '.')


def _seed_text(seed_log, sizes):
    parts = []
    for name in SERVERS:
        entries = seed_log.get(name, [])
        done = [e for e in entries if not e['cached']]
        cached = [e for e in entries if e['cached']]
        text = '%s: ' % name
        if done:
            text += ', '.join('%s to %s in %s s' % (
                report.size_label(e['from']) if e['from'] else '0',
                report.size_label(e['size']), report.fmt(e['seconds'], 0))
                for e in done)
            methods = {e.get('method') for e in done if e.get('method')}
            if methods:
                text += ' (%s)' % ', '.join(sorted(methods))
        if cached:
            text += ('; ' if done else '') + 'cached: %s' % ', '.join(
                report.size_label(e['size']) for e in cached)
        parts.append(text)
    return '; '.join(parts)


def rst_results(results, meta):
    res = report.Results(results['summary'], meta['sizes'],
                         meta['scenarios'])
    titles = {s.name: s.title for s in workload.SCENARIOS}
    pg = results.get('pg')
    lines = [
        'Results of ``tox -e bench`` (``tools/bench/run.py``) on %s, %s, '
        '%s cores, %s GiB; run time %s s%s.' % (
            meta['date'], meta['cpu'], meta['cores'], meta['memory_gib'],
            report.fmt(meta['runtime'], 0),
            '' if meta['full'] else ' (a partial run: %s)' % meta['partial']),
        '',
        '* ours: this repository at %s; Pecan %s, SQLAlchemy %s, '
        'oslo.db %s.' % (meta['ours_rev'], meta['ours_pecan'],
                         meta['ours_sqlalchemy'], meta['ours_oslo_db']),
        '* reference: freezer-api %s from PyPI, Falcon %s, SQLAlchemy %s.'
        % (meta['ref'].get('freezer-api'), meta['ref'].get('falcon'),
           meta['ref'].get('sqlalchemy')),
        '* floor: ``tools/bench/floor.py`` (sqlite3 and json).',
        '* all: Python %s, gunicorn %s gthread %d worker x %d threads, '
        'SQLite %s file in WAL mode (the reference: its default journal).'
        % (meta['python'], meta['gunicorn'], meta['workers'],
           meta['threads'], meta['sqlite']),
        '* per scenario, size and server: 1 probe request, then 1 '
        'keep-alive client sending %d requests (after 4 warm-up requests, '
        'at most %s s), then %d keep-alive clients sending %d requests '
        '(after %d warm-up requests, at most %s s); %d repetition(s), the '
        'servers taking turns.' % (
            meta['seq_requests'], report.fmt(meta['seq_time_cap']),
            meta['concurrency'], meta['requests'], meta['warmup'],
            report.fmt(meta['time_cap']), meta['repeat']),
        '* seeding: %s.' % _seed_text(meta['seed_log'], meta['sizes']),
        '* %s' % _same_answers_text(results['answers']),
    ]
    lines += ['* %s' % note for note in _notes(
        results['summary'], meta['sizes'], titles)]
    lines.append('')
    lines += ['Targets met and missed', '~~~~~~~~~~~~~~~~~~~~~~', '']
    lines += report.targets_table(report.targets(
        res, results['memory'], pg))
    if meta.get('plot'):
        lines += ['.. image:: %s' % meta['plot'],
                  '   :alt: p50 latency versus project size, per scenario, '
                  'for the reference, ours and the floor', '']
    if meta['sizes']:
        lines += ['Throughput and latency', '~~~~~~~~~~~~~~~~~~~~~~', '']
        for size in meta['sizes']:
            lines += report.load_table(res, size, titles)
        lines += ['Server CPU per request', '~~~~~~~~~~~~~~~~~~~~~~', '']
        for size in meta['sizes']:
            lines += report.cpu_table(res, size, titles)
        lines += ['Growth with the project size',
                  '~~~~~~~~~~~~~~~~~~~~~~~~~~~~', '']
        lines += report.growth_table(res, titles)
        lines += ['Memory', '~~~~~~', '']
        lines += report.memory_table(results['memory'], meta['sizes'])
    lines += ['PostgreSQL: simulated freezer-schedulers',
              '~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~', '']
    if pg:
        lines += [
            '%s; ours with its default configuration: %d worker '
            'process(es) of the default number of threads; server CPU '
            'during the measurement %s cores; peak RSS %s MB; %d requests '
            'scheduled in %s s (%s s ramp), sent at most %s ms late by '
            'the generator; seeded %d documents in %s s.' % (
                pg['postgres'], pg['workers'],
                report.fmt(pg['server_cores'], 2),
                report.fmt(report.rss_mb(pg['memory'])), pg['requests'],
                report.fmt(pg['ramp'] + pg['duration'], 0),
                report.fmt(pg['ramp'], 0),
                report.fmt(pg['generator_lag'] * 1000.0, 0),
                pg['seeded']['documents'],
                report.fmt(pg['seeded']['seconds'], 0)),
            '']
        lines += report.pg_table(pg)
        errors = pg['summary']['all']['first_error']
        if errors:
            lines += ['First error: ``%s``' % errors.replace('`', "'"), '']
    else:
        lines += ['Not run (``--no-pg``).', '']
    return '\n'.join(lines)


def collect_meta(args, venv, scenarios, seed_log, t_start, plot_name):
    partial = []
    if args.only:
        partial.append('scenarios %s' % ', '.join(args.only))
    if args.no_pg:
        partial.append('no PostgreSQL simulation')
    if args.sizes != [1000, 10000, 100000]:
        partial.append('sizes %s' % ', '.join(map(str, args.sizes)))
    return {
        'date': datetime.date.today().isoformat(),
        'cpu': report.cpu_model(), 'cores': os.cpu_count(),
        'memory_gib': round(os.sysconf('SC_PAGE_SIZE') *
                            os.sysconf('SC_PHYS_PAGES') / 2 ** 30),
        'python': platform.python_version(),
        'ours_rev': report.git_revision(ROOT),
        'ours_sqlalchemy': importlib.metadata.version('SQLAlchemy'),
        'ours_pecan': importlib.metadata.version('pecan'),
        'ours_oslo_db': importlib.metadata.version('oslo.db'),
        'sqlite': sqlite3.sqlite_version,
        'gunicorn': servers.gunicorn_version(),
        'ref': servers.ref_versions(venv),
        'workers': args.workers, 'threads': args.threads,
        'concurrency': args.concurrency, 'requests': args.requests,
        'seq_requests': args.seq_requests, 'warmup': args.warmup,
        'time_cap': args.time_cap, 'seq_time_cap': args.seq_time_cap,
        'repeat': args.repeat, 'sizes': args.sizes,
        'scenarios': [s.name for s in scenarios],
        'seed_log': seed_log, 'plot': plot_name,
        'full': not partial, 'partial': ', '.join(partial),
        'runtime': time.perf_counter() - t_start,
    }


def load_results(path):
    """The results and meta of a results.json, with the sizes as ints
    and the answers as tuples again (JSON made them strings and lists)."""
    saved = json.loads(pathlib.Path(path).read_text())

    def by_size(mapping):
        return {int(k): v for k, v in (mapping or {}).items()}

    results = {
        'summary': by_size(saved['summary']),
        'memory': by_size(saved['memory']),
        'answers': {size: {name: {k: tuple(v) for k, v in seen.items()}
                           for name, seen in per.items()}
                    for size, per in by_size(saved['answers']).items()},
        'pg': saved.get('pg')}
    return results, saved['meta']


def render(results, meta, args):
    """The terminal summary, the plot and the report."""
    res = report.Results(results['summary'], meta['sizes'],
                         meta['scenarios'])
    titles = {s.name: s.title for s in workload.SCENARIOS}
    if args.plot and meta['sizes']:
        import plot  # matplotlib is needed only here
        plot.latency_plot(res, titles, args.plot)
        meta['plot'] = pathlib.Path(args.plot).name
    if meta['sizes']:
        print(report.text_summary(res, titles))
    for row in report.targets(res, results['memory'], results['pg']):
        print('%-50s %-45s %s' % (row['target'], row['measured'][:45],
                                  report.verdict(row).replace('**', '')))
    if args.output:
        report.write_output(args.output, rst_results(results, meta),
                            BEGIN, END)
        print('results written to %s' % args.output)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.from_results:
        render(*load_results(args.from_results), args)
        return 0
    t_start = time.perf_counter()
    bench_dir = pathlib.Path(args.bench_dir)
    rundir = bench_dir / 'run'
    rundir.mkdir(parents=True, exist_ok=True)
    scenarios = [s for s in workload.SCENARIOS
                 if not args.only or s.name in args.only]
    venv = servers.ensure_ref_venv(bench_dir)

    seeded, seed_log = seeding.ensure_all(bench_dir, args.sizes,
                                          delete_pool(args), venv, SERVERS)
    all_runs, memory, answers = {}, {}, {}
    for size in args.sizes:
        t0 = time.perf_counter()
        all_runs[size], memory[size], answers[size] = measure_size(
            args, venv, rundir, seeded, size, scenarios)
        servers.log('size %d measured in %.0f s' % (
            size, time.perf_counter() - t0))
    pg = None
    if not args.no_pg:
        import pgsim  # psycopg2 is needed only here
        pg = pgsim.simulate(bench_dir, args.pg_clients,
                            args.pg_poll_interval, args.pg_job_interval,
                            args.pg_ramp, args.pg_duration)

    summary = summarise(all_runs)
    results = {'summary': summary, 'memory': memory, 'answers': answers,
               'pg': pg}
    plot_name = pathlib.Path(args.plot).name if args.plot else None
    meta = collect_meta(args, venv, scenarios, seed_log, t_start, plot_name)
    (bench_dir / 'results.json').write_text(json.dumps(
        {'meta': meta, 'runs': all_runs, **results}, indent=1,
        default=str))
    render(results, meta, args)
    print('total %.0f s; raw results in %s' % (
        meta['runtime'], bench_dir / 'results.json'))
    return 0


if __name__ == '__main__':
    sys.exit(main())

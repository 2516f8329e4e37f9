#!/usr/bin/env python3
"""Benchmark this freezer-api against the reference freezer-api (PyPI).

Usage (from the repository root; ``tox -e bench`` runs it)::

    python tools/bench/run.py --output doc/source/performance.rst

It builds (once, cached in ``$FREEZER_BENCH_DIR`` or /tmp/freezer-bench) a
virtualenv with the reference, starts both servers with the same gunicorn
size on SQLite files, seeds both with the same data through their APIs,
then runs every scenario on both servers, alternating which one goes first,
``--repeat`` times, and reports the medians and the our/reference ratios.

``--output FILE`` writes the results as reStructuredText: if FILE has the
markers ``.. bench-results-begin`` and ``.. bench-results-end`` only the
text between them is replaced, otherwise FILE is written with the results
alone. Raw numbers go to ``results.json`` in the bench directory.
"""

import argparse
import concurrent.futures
import datetime
import importlib.metadata
import json
import os
import pathlib
import platform
import sqlite3
import statistics
import subprocess
import sys
import time

import loadgen
import requests
import servers
import workload

BEGIN = '.. bench-results-begin'
END = '.. bench-results-end'


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--output', help='reStructuredText file to write')
    parser.add_argument('--bench-dir', default=os.environ.get(
        'FREEZER_BENCH_DIR', '/tmp/freezer-bench'))
    parser.add_argument('--workers', type=int, default=1,
                        help='gunicorn worker processes of each server')
    parser.add_argument('--threads', type=int, default=8,
                        help='threads per worker of each server')
    parser.add_argument('--concurrency', type=int, default=8,
                        help='client connections of the load generator')
    parser.add_argument('--requests', type=int, default=1000,
                        help='requests per scenario and repetition')
    parser.add_argument('--warmup', type=int, default=16,
                        help='unmeasured requests before each measurement')
    parser.add_argument('--time-cap', type=float, default=10.0,
                        help='seconds after which a measurement stops')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--only', action='append', metavar='SCENARIO',
                        help='run only these scenarios')
    return parser.parse_args(argv)


def git_revision(root):
    try:
        rev = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                             cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain',
                                '--untracked-files=no'],
                               cwd=root, capture_output=True,
                               text=True).stdout.strip()
        return rev + (' with uncommitted changes' if dirty else '')
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def cpu_model():
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def measure(server, scenario, ids, args, rep):
    reqs = scenario.requests(ids, args.requests, 'rep%d' % rep)
    warm = scenario.requests(ids, args.warmup, 'warm%d' % rep)
    cpu0 = server.cpu_seconds()
    res = loadgen.run(server.url, reqs, scenario.expected_status,
                      workload.headers(), concurrency=args.concurrency,
                      time_cap=args.time_cap, warmup=warm)
    cpu = server.cpu_seconds() - cpu0
    # The CPU time includes the warm-up requests.
    total = res.done + res.errors + len(warm)
    return {
        'rps': res.throughput,
        'p50': res.percentile(50), 'p95': res.percentile(95),
        'p99': res.percentile(99),
        'done': res.done, 'errors': res.errors, 'capped': res.capped,
        'first_error': res.first_error,
        'cpu_ms': 1000.0 * cpu / total if total else float('nan'),
    }


def check_same_answers(both, ids, scenarios):
    """Send the first request of every read scenario to both servers and
    compare the status and the number of documents returned."""
    answers = {}
    for scenario in scenarios:
        if scenario.expected_status != 200 or scenario.name == 'patch_job':
            continue
        seen = {}
        for name, server in both.items():
            req = scenario.requests(ids[name], 1, 'check')[0]
            resp = requests.request(req.method, server.url + req.path,
                                    data=req.body, headers=workload.headers(),
                                    timeout=120)
            body = resp.json() if resp.content else {}
            lists = [v for v in body.values() if isinstance(v, list)]
            seen[name] = (resp.status_code, len(lists[0]) if lists else 1)
        answers[scenario.name] = seen
        same = len(set(seen.values())) == 1
        servers.log('%-15s answers (status, documents): %s%s' % (
            scenario.name, seen, '' if same else '  <-- DIFFERENT'))
    return answers


def median(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float('nan')


def summarise(runs, names):
    """Medians per scenario and server, and medians of per-rep ratios."""
    summary = {}
    for scenario, per_server in runs.items():
        row = {}
        for name in names:
            reps = per_server[name]
            row[name] = {key: median([r[key] for r in reps])
                         for key in ('rps', 'p50', 'p95', 'p99', 'cpu_ms')}
            row[name]['errors'] = sum(r['errors'] for r in reps)
            row[name]['done'] = sum(r['done'] for r in reps)
            row[name]['capped'] = sum(1 for r in reps if r['capped'])
        ours, ref = per_server['ours'], per_server['reference']
        row['ratio'] = {
            key: median([o[key] / r[key] for o, r in zip(ours, ref,
                                                          strict=True)
                         if r[key]])
            for key in ('rps', 'p50', 'p95', 'p99', 'cpu_ms')}
        summary[scenario] = row
    return summary


def fmt(value, digits=1):
    if value != value:
        return 'n/a'
    return '%.*f' % (digits, value)


def text_table(summary, titles):
    head = ('%-38s %9s %9s %6s | %8s %8s | %8s %8s | %8s %8s | %7s %7s'
            % ('scenario', 'ref r/s', 'our r/s', 'ratio', 'ref p50',
               'our p50', 'ref p95', 'our p95', 'ref p99', 'our p99',
               'ref cpu', 'our cpu'))
    lines = [head, '-' * len(head)]
    for scenario, row in summary.items():
        ref, ours = row['reference'], row['ours']
        lines.append(
            '%-38s %9s %9s %6s | %8s %8s | %8s %8s | %8s %8s | %7s %7s' % (
                titles[scenario], fmt(ref['rps']), fmt(ours['rps']),
                fmt(row['ratio']['rps'], 2), fmt(ref['p50']),
                fmt(ours['p50']), fmt(ref['p95']), fmt(ours['p95']),
                fmt(ref['p99']), fmt(ours['p99']), fmt(ref['cpu_ms']),
                fmt(ours['cpu_ms'])))
    return '\n'.join(lines)


def _list_table(title, header, rows, widths):
    out = ['.. list-table:: %s' % title,
           '   :header-rows: 1',
           '   :widths: %s' % ' '.join(str(w) for w in widths), '']
    for row in [header] + rows:
        out.append('   * - %s' % row[0])
        out.extend('     - %s' % cell for cell in row[1:])
    out.append('')
    return out


def same_answers_text(answers):
    differ = [name for name, seen in answers.items()
              if len(set(seen.values())) != 1]
    if not differ:
        return ('before measuring, both servers gave the same status and '
                'number of documents to the first request of every read '
                'scenario.')
    return ('**the servers answered differently** (status, documents) in: '
            + '; '.join('%s %s' % (n, answers[n]) for n in differ) + '.')


def rst_results(summary, titles, memory, meta):
    lines = [
        'Results of ``tox -e bench`` on %s (%s), %s cores; '
        'total run time %s s.' % (meta['date'], meta['cpu'], meta['cores'],
                                  fmt(meta['runtime'], 0)),
        '',
        '* ours: this repository at %s, Pecan %s, SQLAlchemy %s.' % (
            meta['ours_rev'], meta['ours_pecan'], meta['ours_sqlalchemy']),
        '* reference: freezer-api %s from PyPI, Falcon %s, SQLAlchemy %s.'
        % (meta['ref'].get('freezer-api'), meta['ref'].get('falcon'),
           meta['ref'].get('sqlalchemy')),
        '* both: Python %s, gunicorn %s, SQLite %s.' % (
            meta['python'], meta['gunicorn'], meta['sqlite']),
        '* each server: gunicorn gthread, %d worker x %d threads, SQLite '
        'file; load generator: %d keep-alive connections, %d requests '
        '(after %d warm-up requests) or %s s per measurement, %d '
        'repetitions per scenario and server, alternating which server '
        'goes first.' % (
            meta['workers'], meta['threads'], meta['concurrency'],
            meta['requests'], meta['warmup'], fmt(meta['time_cap'], 0),
            meta['repeat']),
        '* data in each of 2 projects: %d clients, %d actions, %d jobs of '
        '2 actions, %d backups, created through the API by 4 threads per '
        'server; seeding took %s s (reference, %d failed POSTs retried) '
        'and %s s (ours, %d retried).' % (
            workload.CLIENTS, workload.ACTIONS, workload.JOBS,
            workload.BACKUPS, fmt(meta['seed']['reference'], 0),
            meta['seed_retries']['reference'], fmt(meta['seed']['ours'], 0),
            meta['seed_retries']['ours']),
        '* %s' % same_answers_text(meta['same_answers']),
        '',
    ]
    rows = []
    for scenario, row in summary.items():
        ref, ours, ratio = row['reference'], row['ours'], row['ratio']
        note = []
        for name, label in (('reference', 'ref'), ('ours', 'ours')):
            if row[name]['errors']:
                note.append('%s: %d errors' % (label, row[name]['errors']))
            if row[name]['capped']:
                note.append('%s: time cap hit' % label)
        rows.append([
            titles[scenario] + (' (%s)' % '; '.join(note) if note else ''),
            fmt(ref['rps']), fmt(ours['rps']),
            '**%s**' % fmt(ratio['rps'], 2),
            fmt(ref['p50']), fmt(ours['p50']),
            fmt(ref['p95']), fmt(ours['p95']),
            fmt(ref['p99']), fmt(ours['p99']),
            fmt(ratio['p95'], 2)])
    lines += _list_table(
        'Throughput (requests/s) and client-side latency (ms), medians',
        ['Scenario', 'ref req/s', 'our req/s', 'ours/ref req/s',
         'ref p50', 'our p50', 'ref p95', 'our p95', 'ref p99', 'our p99',
         'ours/ref p95'],
        rows, [30, 8, 8, 8, 7, 7, 7, 7, 7, 7, 8])
    rows = []
    for scenario, row in summary.items():
        rows.append([titles[scenario],
                     fmt(row['reference']['cpu_ms'], 2),
                     fmt(row['ours']['cpu_ms'], 2),
                     fmt(row['ratio']['cpu_ms'], 2)])
    lines += _list_table(
        'Server CPU time per request (ms, user + system, all server '
        'processes), medians',
        ['Scenario', 'reference', 'ours', 'ours/ref'], rows, [40, 12, 12, 12])
    rows = []
    for name, label in (('reference', 'reference'), ('ours', 'ours')):
        mem = memory[name]
        rows.append([label, fmt(mem['master'] / 1024.0),
                     ', '.join(fmt(w / 1024.0) for w in mem['workers']),
                     fmt((mem['master'] + sum(mem['workers'])) / 1024.0)])
    lines += _list_table(
        'Peak resident memory (VmHWM, MiB) at the end of the run',
        ['Server', 'gunicorn master', 'worker(s)', 'sum'], rows,
        [20, 15, 15, 10])
    return '\n'.join(lines)


def write_output(path, results, begin=BEGIN, end=END,
                 title='Benchmark results'):
    """Put ``results`` between the ``begin`` and ``end`` markers of the
    file at ``path``, or write a new file of them under ``title``."""
    path = pathlib.Path(path)
    block = '%s\n\n%s\n\n%s\n' % (begin, results.rstrip('\n'), end)
    if path.exists():
        text = path.read_text()
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            tail = rest.split(end, 1)[1]
            path.write_text(head + block.rstrip('\n') + tail)
            return
    path.write_text('%s\n%s\n\n' % (title, '=' * len(title)) + block)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    t_start = time.perf_counter()
    root = pathlib.Path(__file__).resolve().parents[2]
    bench_dir = pathlib.Path(args.bench_dir)
    rundir = bench_dir / 'run'
    rundir.mkdir(parents=True, exist_ok=True)
    scenarios = [s for s in workload.SCENARIOS
                 if not args.only or s.name in args.only]
    titles = {s.name: s.title for s in scenarios}

    venv = servers.ensure_ref_venv(bench_dir)
    ref = servers.make_reference(venv, rundir, args.workers, args.threads)
    ours = servers.make_ours(rundir, args.workers, args.threads)
    both = {'reference': ref, 'ours': ours}
    probe = '/v2/%s/actions?limit=1' % workload.PROJECTS[0]
    try:
        for server in both.values():
            server.start()
        for server in both.values():
            server.wait_ready(probe, workload.headers())
        servers.log('seeding both servers')
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futures = {name: pool.submit(workload.seed, server.url)
                       for name, server in both.items()}
            ids = {name: f.result() for name, f in futures.items()}
        for name, server in both.items():
            servers.log('seeded %s in %.1f s (%d POSTs retried)' % (
                server.label, ids[name].seconds, ids[name].retries))
        same = check_same_answers(both, ids, scenarios)

        runs = {s.name: {'reference': [], 'ours': []} for s in scenarios}
        for scenario in scenarios:
            for rep in range(args.repeat):
                order = (['reference', 'ours'] if rep % 2 == 0
                         else ['ours', 'reference'])
                for name in order:
                    res = measure(both[name], scenario, ids[name], args, rep)
                    runs[scenario.name][name].append(res)
                    servers.log(
                        '%-15s rep %d %-9s %7.1f req/s  p50 %6.1f  p95 %6.1f'
                        '  p99 %6.1f ms  cpu %5.2f ms/req  %d ok %d err%s' % (
                            scenario.name, rep, name, res['rps'], res['p50'],
                            res['p95'], res['p99'], res['cpu_ms'],
                            res['done'], res['errors'],
                            ' (capped)' if res['capped'] else ''))
                    if res['first_error']:
                        servers.log('  first error: %s' % res['first_error'])
        memory = {name: server.memory() for name, server in both.items()}
    finally:
        for server in both.values():
            server.stop()

    summary = summarise(runs, list(both))
    meta = {
        'date': datetime.date.today().isoformat(),
        'cpu': cpu_model(), 'cores': os.cpu_count(),
        'python': platform.python_version(),
        'ours_rev': git_revision(root),
        'ours_sqlalchemy': importlib.metadata.version('SQLAlchemy'),
        'ours_pecan': importlib.metadata.version('pecan'),
        'sqlite': sqlite3.sqlite_version,
        'gunicorn': servers.gunicorn_version(),
        'ref': servers.ref_versions(venv),
        'workers': args.workers, 'threads': args.threads,
        'concurrency': args.concurrency, 'requests': args.requests,
        'warmup': args.warmup, 'time_cap': args.time_cap,
        'repeat': args.repeat,
        'seed': {name: ids[name].seconds for name in both},
        'seed_retries': {name: ids[name].retries for name in both},
        'same_answers': same,
        'runtime': time.perf_counter() - t_start,
    }
    (bench_dir / 'results.json').write_text(json.dumps(
        {'meta': meta, 'runs': runs, 'summary': summary, 'memory': memory},
        indent=2))
    print(text_table(summary, titles))
    for name, mem in memory.items():
        print('peak RSS %-9s master %.1f MiB, workers %s MiB' % (
            name, mem['master'] / 1024.0,
            ', '.join('%.1f' % (w / 1024.0) for w in mem['workers'])))
    print('total %.0f s; raw results in %s' % (
        meta['runtime'], bench_dir / 'results.json'))
    if args.output:
        write_output(args.output, rst_results(summary, titles, memory, meta))
        print('results written to %s' % args.output)
    return 0


if __name__ == '__main__':
    sys.exit(main())

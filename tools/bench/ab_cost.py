#!/usr/bin/env python3
"""What a change costs freezer-scheduler's requests: this tree against an
earlier commit, measured in one run.

Usage (from the repository root, with the Python of the tox env)::

    python tools/bench/ab_cost.py --base de4b2fb [--rounds 8]

The commit ``--base`` is unpacked (``git archive``) into a temporary
directory. Two worker processes are started, one importing freezer-api
from this tree, one from the base. Each builds the application in process
(``setup_app``, ``auth_strategy = noauth``, a SQLite file made by its own
migrations) and stores, through its API, 50 clients and 500 jobs of one
fs backup action each. Then, round after round, the two workers take
turns at each scenario, ``--requests`` requests each, through the whole
WSGI stack (webtest, no socket):

* ``poll``: the scheduler's poll, ``GET /v2/{p}/jobs?limit=10&offset=0&
  all_projects=False`` with ``{"match_not": [{"status": "completed"}],
  "match": [{"client_id": <one of the 50>}]}``;
* ``status``: the scheduler's status ``PATCH`` of a job, cycling through
  the four of a run: ``scheduled``, ``running`` with ``time_started``, the
  same with ``current_pid``, and ``scheduled`` with ``result: success``
  and ``time_ended``.

The figure is the worker's CPU time (user + system, all its threads) per
request; the ratio of each round is this tree's over the base's, and the
median of the rounds is reported, so that the noise of a shared machine
falls on both alike. The rounds are shared among ``--pairs`` pairs of
workers, started one pair after the other, each pair with its own hash
seed: the same code runs several per cent faster or slower from one
process to the next (its hash seed, where its memory lands), which a
single pair would report as a difference of the trees.

Prints one JSON line: {scenario: {"ours_ms", "base_ms", "ratio",
"ratios"}}. ``--output FILE`` also puts the results, as
reStructuredText, between the ``.. ab-cost-results-begin`` and
``.. ab-cost-results-end`` comments of FILE (``tox -e bench`` gives
doc/source/performance.rst), with the commit measured and the machine.
"""

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import inprocess
import report  # tools/bench/report.py: revision, CPU, rst

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PROJECT = 'bench'
CLIENTS = 50
JOBS = 500
# Issue 12: the poll and the status PATCH cost no more than 10% more.
TARGET = 1.10
BEGIN = '.. ab-cost-results-begin'
END = '.. ab-cost-results-end'
SCENARIOS = {
    'poll': 'the poll (``GET /jobs`` of a client, not ``completed``)',
    'status': 'the status ``PATCH`` (the four of a run: scheduled, '
              'running, its pid, scheduled with the result)',
}
HEADERS = {'X-User-Id': 'scheduler', 'X-Project-Id': PROJECT,
           'X-Roles': 'member,reader', 'Content-Type': 'application/json'}


# --- the worker -------------------------------------------------------------

def _app(tree, tmp):
    """The application of freezer-api imported from ``tree``."""
    sys.path.insert(0, tree)
    import freezer_api
    from freezer_api.db import migration
    if not os.path.abspath(freezer_api.__file__).startswith(tree):
        raise SystemExit('freezer_api came from %s, not %s'
                         % (freezer_api.__file__, tree))
    url = 'sqlite:///%s' % os.path.join(tmp, 'bench.sqlite')
    migration.upgrade(url)
    return inprocess.application(url)


def _seed(client):
    jobs = []
    for number in range(CLIENTS):
        client.post_json('/v2/%s/clients' % PROJECT, {
            'client_id': 'node%02d' % number, 'hostname': 'h%d' % number},
            headers=HEADERS)
    for number in range(JOBS):
        response = client.post_json('/v2/%s/jobs' % PROJECT, {
            'client_id': 'node%02d' % (number % CLIENTS),
            'description': 'job %d' % number,
            'job_schedule': {'schedule_interval': '1 days'},
            'job_actions': [{'freezer_action': {
                'action': 'backup', 'mode': 'fs',
                'backup_name': 'b%d' % number, 'container': '/tmp/b',
                'path_to_backup': '/etc',
                'storage': 'local'}}]}, headers=HEADERS)
        jobs.append(response.json['job_id'])
    return jobs


def _status_body(step, started):
    schedule = {'schedule_interval': '1 days', 'time_created': 1795740000,
                'event': '', 'time_started': -1, 'time_ended': -1}
    if step == 0:
        schedule.update(status='scheduled')
    elif step in (1, 2):
        schedule.update(status='running', result='', time_started=started)
        if step == 2:
            schedule['current_pid'] = 4242
    else:
        schedule.update(status='scheduled', result='success',
                        time_started=started, time_ended=started + 5,
                        current_pid=4242)
    return {'job_schedule': schedule, 'session_id': '', 'session_tag': 0}


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker(tree):
    tmp = tempfile.mkdtemp(prefix='freezer-ab-')
    client = _app(tree, tmp)
    jobs = _seed(client)
    counters = {'poll': 0, 'status': 0}
    print('ready', flush=True)
    for line in sys.stdin:
        scenario, count = line.split()
        before = _cpu()
        for _ in range(int(count)):
            number = counters[scenario]
            counters[scenario] += 1
            if scenario == 'poll':
                client.request(
                    '/v2/%s/jobs?limit=10&offset=0&all_projects=False'
                    % PROJECT, method='GET', headers=HEADERS,
                    body=json.dumps({
                        'match_not': [{'status': 'completed'}],
                        'match': [{'client_id': 'node%02d'
                                   % (number % CLIENTS)}]}).encode())
            else:
                job = jobs[(number // 4) % len(jobs)]
                # One run every four reports, as the scheduler sends
                # them: its start time in all of them.
                client.patch_json('/v2/%s/jobs/%s' % (PROJECT, job),
                                  _status_body(number % 4,
                                               1795740000 + number // 4),
                                  headers=HEADERS)
        print(json.dumps({'cpu': _cpu() - before}), flush=True)


# --- the parent -------------------------------------------------------------

def _start(tree, seed):
    # One hash seed for both workers of a pair: the layout of dicts and
    # sets, which the seed changes, moves a process's cost by several per
    # cent (either way), so each pair has its own.
    process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), '--worker', tree],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=tempfile.gettempdir(),
        env=dict(os.environ, PYTHONHASHSEED=str(seed)))
    if process.stdout.readline().strip() != 'ready':
        raise SystemExit('the worker of %s did not start' % tree)
    return process


def _measure(process, scenario, count):
    process.stdin.write('%s %d\n' % (scenario, count))
    process.stdin.flush()
    return json.loads(process.stdout.readline())['cpu'] / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--base', help='the commit to compare with')
    parser.add_argument('--base-dir', help='or a source tree')
    parser.add_argument('--ours-dir', default=ROOT,
                        help='the tree to measure (default: this one)')
    parser.add_argument('--rounds', type=int, default=30)
    parser.add_argument('--requests', type=int, default=100)
    parser.add_argument('--pairs', type=int, default=5,
                        help='pairs of workers the rounds are shared among')
    parser.add_argument('--output', help='the .rst file to write the '
                        'results into (between its markers)')
    parser.add_argument('--worker')
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker)
    base_dir = args.base_dir
    if base_dir is None:
        base_dir = tempfile.mkdtemp(prefix='freezer-ab-base-')
        archive = subprocess.run(['git', '-C', ROOT, 'archive', args.base],
                                 check=True, capture_output=True).stdout
        subprocess.run(['tar', '-x', '-C', base_dir], input=archive,
                       check=True)
    ratios = {scenario: [] for scenario in SCENARIOS}
    costs = {scenario: {'ours': [], 'base': []} for scenario in SCENARIOS}
    for pair in range(args.pairs):
        workers = {'ours': _start(args.ours_dir, pair),
                   'base': _start(base_dir, pair)}
        for scenario in SCENARIOS:
            # A round of warming up, not counted.
            for process in workers.values():
                _measure(process, scenario, args.requests // 4)
            # This pair's share of the rounds; who goes first alternates
            # within it.
            share = len(range(pair, args.rounds, args.pairs))
            for number in range(share):
                order = ('ours', 'base') if number % 2 else ('base', 'ours')
                round_costs = {name: _measure(workers[name], scenario,
                                              args.requests)
                               for name in order}
                for name, cost in round_costs.items():
                    costs[scenario][name].append(cost)
                ratios[scenario].append(
                    round_costs['ours'] / round_costs['base'])
        for process in workers.values():
            process.stdin.close()
            process.wait(timeout=60)
    results = {scenario: {
        'ours_ms': round(1000 * statistics.median(costs[scenario]['ours']),
                         3),
        'base_ms': round(1000 * statistics.median(costs[scenario]['base']),
                         3),
        'ratio': round(statistics.median(ratios[scenario]), 3),
        'ratios': [round(ratio, 3) for ratio in ratios[scenario]]}
        for scenario in SCENARIOS}
    print(json.dumps({'base': args.base or base_dir, 'at': int(time.time()),
                      **results}))
    if args.output:
        report.write_output(args.output, rst(
            results, args.base or base_dir, report.git_revision(
                args.ours_dir), args.rounds, args.requests, args.pairs),
            BEGIN, END)


def rst(results, base, revision, rounds, requests, pairs):
    """The results as the text of performance.rst's section."""
    today = datetime.date.today().isoformat()
    lines = [
        'Measured by ``tools/bench/ab_cost.py`` on %s at %s (%s, %d '
        'cores), against %s: %d rounds of %d requests per scenario, '
        'shared among %d pairs of worker processes.' % (
            today, revision, report.cpu_model(), os.cpu_count(), base,
            rounds, requests, pairs), '']
    rows = []
    for scenario, label in SCENARIOS.items():
        figures = results[scenario]
        ratio = figures['ratio']
        rows.append([
            label, '%.2f ms' % figures['ours_ms'],
            '%.2f ms' % figures['base_ms'],
            '%.3f (rounds: %.2f to %.2f)' % (
                ratio, min(figures['ratios']), max(figures['ratios'])),
            'met' if ratio <= TARGET else 'missed by %.0f%%' % (
                100 * (ratio - TARGET))])
    lines += report.list_table(
        'CPU time per request, this tree and %s' % base,
        ['Scenario', 'This tree', base, 'Ratio (median of the rounds)',
         'Target: at most %.2f' % TARGET], rows, [34, 12, 12, 24, 18])
    return '\n'.join(lines)


if __name__ == '__main__':
    main()

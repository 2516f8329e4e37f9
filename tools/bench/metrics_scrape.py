#!/usr/bin/env python3
"""What a Prometheus scrape of ``GET /metrics`` costs at a given size.

Run with the Python of the environment where freezer-api is installed::

    python tools/bench/metrics_scrape.py [--jobs 10000] [--url URL]

It makes a fresh database (a temporary SQLite file unless ``--url`` names
an empty one), stores ``--jobs`` jobs over 100 projects with one client
per 10 jobs, three ended runs per job (one failed, the last open for a
tenth of them), straight into the tables with SQLAlchemy Core (the metrics
read the tables, not the search index), then times ``--scrapes`` scrapes
through the whole WSGI stack, in process, as an admin.

Prints one JSON line: {"jobs", "runs", "clients", "seconds" (the median
scrape), "p95", "cpu" (process CPU per scrape), "bytes"}. ``--output
FILE`` also puts them, as reStructuredText, between the
``.. metrics-scrape-results-begin`` and ``.. metrics-scrape-results-end``
comments of FILE (``tox -e bench`` gives doc/source/performance.rst).
"""

import argparse
import datetime
import json
import os
import resource
import statistics
import tempfile
import time

import inprocess
import report  # tools/bench/report.py: revision, CPU, rst
import sqlalchemy as sa

from freezer_api.db import migration
from freezer_api.db.sqlalchemy import models

ADMIN = {'X-User-Id': 'admin', 'X-Project-Id': 'admin',
         'X-Roles': 'admin'}
PROJECTS = 100
# Issue 12: cheap enough to scrape every 15 seconds.
SCRAPE_INTERVAL = 15
BEGIN = '.. metrics-scrape-results-begin'
END = '.. metrics-scrape-results-end'
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
JOBS_PER_CLIENT = 10


def seed(url, jobs, now):
    engine = sa.create_engine(url)
    created = models.utcnow()
    common = {'user_id': 'u', 'version': 1, 'created_at': created}
    clients, job_rows, run_rows = [], [], []
    for number in range(jobs):
        project = 'p%03d' % (number % PROJECTS)
        client = 'c%06d' % (number // JOBS_PER_CLIENT)
        if number % JOBS_PER_CLIENT == 0:
            clients.append(dict(common, project_id=project, client_id=client,
                                is_central=False, central_client_id=None,
                                client={'client_id': client},
                                last_seen=now - (number % 7) * 100))
        job_id = 'j%08d' % number
        job_rows.append(dict(
            common, project_id=project, job_id=job_id, client_id=client,
            session_id='', session_tag=0, description='job %d' % number,
            job_schedule={'schedule_interval': '1 days',
                          'time_created': now - 10 * 86400,
                          'status': 'scheduled'}))
        for day, result in enumerate(('success', 'fail', 'success')):
            started = now - (3 - day) * 86400
            open_run = day == 2 and number % 10 == 0
            run_rows.append(dict(
                common, project_id=project, run_id='%s-%d' % (job_id, day),
                job_id=job_id, client_id=client, session_id='',
                status='running' if open_run else 'ended',
                result=None if open_run else result, time_started=started,
                time_ended=None if open_run else started + 60,
                current_pid=1000, actions=[], events=[]))
    # Each client only in its own project, where its jobs are.
    unique = {(c['project_id'], c['client_id']): c for c in clients}
    with engine.begin() as connection:
        connection.execute(sa.insert(models.Client.__table__),
                           list(unique.values()))
        connection.execute(sa.insert(models.Job.__table__), job_rows)
        connection.execute(sa.insert(models.Run.__table__), run_rows)
    engine.dispose()
    return len(unique), len(run_rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--jobs', type=int, default=10000)
    parser.add_argument('--scrapes', type=int, default=15)
    parser.add_argument('--url')
    parser.add_argument('--output', help='the .rst file to write the '
                        'results into (between its markers)')
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix='freezer-metrics-')
    url = args.url or 'sqlite:///%s' % os.path.join(tmp, 'm.sqlite')
    migration.upgrade(url)
    now = int(time.time())
    clients, runs = seed(url, args.jobs, now)

    client = inprocess.application(url)
    timings, cpu, size = [], [], 0
    for _ in range(args.scrapes):
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        response = client.get('/metrics', headers=ADMIN)
        timings.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu.append(after.ru_utime + after.ru_stime -
                   before.ru_utime - before.ru_stime)
        size = len(response.body)
    timings.sort()
    results = {
        'jobs': args.jobs, 'runs': runs, 'clients': clients,
        'seconds': round(statistics.median(timings), 3),
        'p95': round(timings[int(0.95 * (len(timings) - 1))], 3),
        'cpu': round(statistics.median(cpu), 3), 'bytes': size}
    print(json.dumps(results))
    if args.output:
        report.write_output(args.output, rst(results, args.scrapes),
                            BEGIN, END)


def rst(results, scrapes):
    """The results as the text of performance.rst's paragraph."""
    return (
        'Measured by ``tools/bench/metrics_scrape.py`` on {today} at {rev} '
        '({cpu_model}, {cores} cores): {jobs:,} jobs in {projects} '
        'projects, {runs:,} runs, {clients:,} clients, on SQLite. A scrape '
        'took {cpu_s:.2f} s of CPU (median of {scrapes}; {seconds:.2f} s '
        'elapsed, {p95:.2f} s at the '
        '95th percentile) for a response of {mb:.2f} MB: {share:.1f}% of '
        'one core when scraped every {interval} seconds.').format(
            today=datetime.date.today().isoformat(),
            rev=report.git_revision(ROOT), cpu_model=report.cpu_model(),
            cores=os.cpu_count(), projects=PROJECTS, cpu_s=results['cpu'],
            scrapes=scrapes, mb=results['bytes'] / 1e6,
            share=100 * results['cpu'] / SCRAPE_INTERVAL,
            interval=SCRAPE_INTERVAL, **results)


if __name__ == '__main__':
    main()

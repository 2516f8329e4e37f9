#!/usr/bin/env python3
"""Benchmark free-text search (``_all``) of this freezer-api, in process.

Usage (from the repository root; ``tox -e bench`` runs it after run.py)::

    python tools/bench/free_text.py --output doc/source/performance.rst

Only this server is measured: the reference (freezer-api 19.0.0) has no
free text. The application is built in this process (``setup_app`` with
its own ConfigOpts, ``auth_strategy = noauth``, a SQLite file made by the
alembic migrations) and every request goes through the whole WSGI stack
(middleware, Pecan, policy, database) with webtest, sequentially: there is
no HTTP server, socket or concurrency, so the figures are the service time
of one request.

Actions (the values the actions controller builds from a client's
document) are stored in two projects, ``--sizes`` per project, the
database growing from one size to the next. The first size goes through
the database layer (``documents.create``, as POST /actions stores an
action, but 500 per transaction); the rest, for speed, as multi-row
INSERTs of the rows that code stores (row, ``search_entries``,
``search_texts``; ``seed_ours.BulkWriter``), checked afterwards on a
sample against what the code computes for the document.
At each size the scenarios take turns, one request each per round, so
that the noise of a shared machine falls on all of them alike.

``--output FILE`` replaces the text between ``.. free-text-results-begin``
and ``.. free-text-results-end`` in FILE (or writes FILE with the results
alone). Raw numbers go to ``free_text.json`` in the bench directory.
"""

import argparse
import datetime
import importlib.metadata
import json
import math
import os
import pathlib
import platform
import shutil
import sqlite3
import statistics
import sys
import time

from oslo_config import cfg
from oslo_log import log
import report as bench_run  # tools/bench/report.py: revision, CPU, rst
import seed_ours
import servers
import sqlalchemy as sa
from sqlalchemy import orm
import webtest

from freezer_api import conf as freezer_conf
from freezer_api.api import app as app_module
from freezer_api.api import search as search_lang
from freezer_api.api.controllers.v2 import actions as actions_ctl
from freezer_api.common import context as context_module
from freezer_api.common import policy
from freezer_api.common import utils
from freezer_api.db import api as db_api
from freezer_api.db import migration
from freezer_api.db import search_index
from freezer_api.db.sqlalchemy import actions as db_actions
from freezer_api.db.sqlalchemy import api as db_impl
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import models

BEGIN = '.. free-text-results-begin'
END = '.. free-text-results-end'

PROJECTS = ('ft-project-1', 'ft-project-2')
P = PROJECTS[0]
USER = 'bench-user'
BATCH = 500
# Three actions of every project carry this backup name, at these
# positions (all within the first 1,000): at every size the free text
# matches exactly three documents of the project, spread over it.
RARE_NAME = 'Payroll-DB-Nightly'
RARE_AT = (137, 512, 901)
STORAGES = ('local', 'swift', 'ssh', 's3')


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--output', help='reStructuredText file to write')
    parser.add_argument('--bench-dir', default=os.environ.get(
        'FREEZER_BENCH_DIR', '/tmp/freezer-bench'))
    parser.add_argument('--sizes', default='1000,10000',
                        help='actions per project, ascending, comma-'
                             'separated (the ratio is last/first)')
    parser.add_argument('--requests', type=int, default=200,
                        help='measured requests per scenario and size')
    parser.add_argument('--warmup', type=int, default=10,
                        help='unmeasured rounds before measuring')
    parser.add_argument('--db-requests', type=int, default=100,
                        help='calls of db_api.list_actions per scenario '
                             'and size (database layer alone)')
    return parser.parse_args(argv)


# --- data --------------------------------------------------------------------

def action_doc(i):
    """An action document as a client posts it; ``i`` is its position in
    the project."""
    storage = STORAGES[i % len(STORAGES)]
    doc = {
        'freezer_action': {
            'action': 'backup',
            'mode': 'fs',
            'backup_name': (RARE_NAME if i in RARE_AT
                            else 'vol-%05d-daily' % i),
            'path_to_backup': '/srv/data/%d' % i,
            'container': 'freezer_backups_%d' % (i % 7),
            'storage': storage,
            'engine_name': 'tar',
            'compression': 'gzip',
            'max_level': 7,
            'log_file': '/var/log/freezer/agent-%d.log' % (i % 5),
        },
        'max_retries': 3,
        'max_retries_interval': 10,
    }
    if storage == 'ssh':
        doc['freezer_action'].update(ssh_host='backup-%d.example.org'
                                     % (i % 3), ssh_username='freezer',
                                     ssh_port=22)
    return doc


def context(project):
    return context_module.RequestContext(user_id=USER, project_id=project,
                                         roles=['member', 'reader'])


@db_impl.write_transaction
def _create_actions(ctx, values_list):
    for values in values_list:
        documents.create(ctx.session, db_actions.ACTIONS, values)


def _batches(start, stop):
    """(project, context, values of its actions first..last) per batch,
    the projects taking turns batch by batch, so that their rows are
    interleaved in the tables."""
    for first in range(start, stop, BATCH):
        for project in PROJECTS:
            ctx = context(project)
            yield ctx, [
                actions_ctl.action_values(ctx, project, utils.generate_id(),
                                          action_doc(i))
                for i in range(first, min(first + BATCH, stop))]


def seed_through_layer(start, stop):
    """Actions ``start`` to ``stop - 1`` of every project, stored by
    ``documents.create`` (as POST /actions does: row, index entries, free
    text), ``BATCH`` per transaction instead of one."""
    for ctx, values_list in _batches(start, stop):
        _create_actions(ctx, values_list)


def seed_bulk(engine, start, stop):
    """The same as :func:`seed_through_layer`, as multi-row INSERTs of the
    rows it would store, by the benchmark's bulk writer
    (``seed_ours.BulkWriter``: the layer's own ``documents.insert``
    against a session stand-in that collects the rows: the action row,
    its ``search_entries`` and ``search_texts``; checked by
    :func:`check_bulk`). About ten times faster: no ORM unit of work, no
    statement per row."""
    for _ctx, values_list in _batches(start, stop):
        writer = seed_ours.BulkWriter(engine)
        for values in values_list:
            writer.action(values)
        writer.write()


def check_bulk(engine, first_seq, count=50):
    """The index rows of bulk-seeded actions are those the code stores:
    recompute them from the document as the API reads it."""
    session = orm.Session(engine)
    try:
        rows = session.scalars(sa.select(models.Action).where(
            models.Action.seq > first_seq).order_by(sa.func.random())
            .limit(count)).all()
        for row in rows:
            document = db_actions.action_document(row)
            entries = set(session.execute(sa.select(
                models.SearchEntry.key_hash, models.SearchEntry.value_hash)
                .where(models.SearchEntry.resource == 'actions',
                       models.SearchEntry.doc_seq == row.seq)).all())
            body = session.scalar(sa.select(models.SearchText.body).where(
                models.SearchText.resource == 'actions',
                models.SearchText.doc_seq == row.seq))
            if (entries != search_index.document_entries(document) or
                    body != search_index.document_text(document)):
                raise SystemExit('bulk-seeded action %s is not indexed as '
                                 'the code indexes it' % row.action_id)
    finally:
        session.close()


# --- scenarios ---------------------------------------------------------------

def free_text(text):
    return {'match': [{'_all': text}]}


# (name, title, query string, search body, documents expected at any size)
SCENARIOS = (
    ('ft_few', '(a) free text, 3 matches: "pAYROLL-db"',
     'limit=10', free_text('pAYROLL-db'), 3),
    ('ft_none', '(b) free text, no match: "Zebra-Quux"',
     'limit=10', free_text('Zebra-Quux'), 0),
    ('ft_many', '(c) free text, 1 in 4 match: "SWIFT", first page',
     'limit=10&offset=0', free_text('SWIFT'), 10),
    ('structured', '(d) structured: backup_name = "%s"' % RARE_NAME,
     'limit=10', {'match': [{'backup_name': RARE_NAME}]}, 3),
    ('plain', '(e) plain list, first page',
     'limit=10', None, 10),
)


def headers(project=P):
    return {'Accept': 'application/json',
            'Content-Type': 'application/json',
            'X-Project-Id': project, 'X-User-Id': USER,
            'X-Roles': 'member,reader'}


def send(testapp, query, body):
    raw = json.dumps(body).encode() if body is not None else None
    kwargs = {'body': raw} if raw is not None else {}
    return testapp.request('/v2/%s/actions?%s' % (P, query), method='GET',
                           headers=headers(), **kwargs)


def check(testapp):
    """Every scenario answers 200 with the expected documents, all of the
    measured project."""
    for name, _title, query, body, expected in SCENARIOS:
        resp = send(testapp, query, body)
        found = resp.json['actions'] if resp.status_int == 200 else None
        if found is None or len(found) != expected or any(
                doc['project_id'] != P for doc in found):
            raise SystemExit('%s: expected %d documents of %s, got %s %s'
                             % (name, expected, P, resp.status,
                                resp.text[:300]))
        if name in ('ft_few', 'structured') and any(
                doc['freezer_action']['backup_name'] != RARE_NAME
                for doc in found):
            raise SystemExit('%s returned other documents' % name)


def percentile(samples, pct):
    """Nearest-rank percentile of seconds, in milliseconds."""
    ordered = sorted(samples)
    rank = min(max(1, math.ceil(pct / 100.0 * len(ordered))), len(ordered))
    return ordered[rank - 1] * 1000.0


def measure_wsgi(testapp, rounds, warmup):
    """Latency of each scenario through the WSGI stack, round-robin."""
    samples = {name: [] for name, *_ in SCENARIOS}
    clock = time.perf_counter
    for rnd in range(warmup + rounds):
        for name, _title, query, body, _expected in SCENARIOS:
            t0 = clock()
            resp = send(testapp, query, body)
            elapsed = clock() - t0
            if resp.status_int != 200:
                raise SystemExit('%s: %s %s' % (name, resp.status,
                                                resp.text[:300]))
            if rnd >= warmup:
                samples[name].append(elapsed)
    return samples


def measure_db(rounds):
    """Time of db_api.list_actions alone (query, ORM, documents)."""
    ctx = context(P)
    parsed = [(name, search_lang.parse(body)) for name, _t, _q, body, _e
              in SCENARIOS]
    samples = {name: [] for name, _ in parsed}
    clock = time.perf_counter
    for _rnd in range(rounds):
        for name, search in parsed:
            t0 = clock()
            db_api.list_actions(ctx, P, search, 10, 0)
            samples[name].append(clock() - t0)
    return samples


def query_plan(engine, body, table):
    """The SQL of the list query for the search ``body`` (the first
    statement that reads ``table``), captured from the real request path,
    and SQLite's EXPLAIN QUERY PLAN of it."""
    captured = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if table in statement and statement.lstrip().startswith('SELECT'):
            captured.append((statement, parameters))

    sa.event.listen(engine, 'before_cursor_execute', before)
    try:
        db_api.list_actions(context(P), P, search_lang.parse(body), 10, 0)
    finally:
        sa.event.remove(engine, 'before_cursor_execute', before)
    statement, parameters = captured[0]
    with engine.connect() as conn:
        rows = conn.exec_driver_sql('EXPLAIN QUERY PLAN ' + statement,
                                    tuple(parameters)).fetchall()
    # Rows are (id, parent, notused, detail): indent by depth.
    depth = {0: -1}
    plan = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        plan.append('  ' * depth[node] + detail)
    return {'sql': statement, 'parameters': list(parameters), 'plan': plan}


# --- the run -----------------------------------------------------------------

def build(workdir):
    """A ConfigOpts of our own, a fresh SQLite file with the migrated
    schema, the enginefacade pointed at it, and the WSGI app."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    url = 'sqlite:///%s' % (workdir / 'freezer.sqlite')
    conf = cfg.ConfigOpts()
    freezer_conf.register_opts(conf)
    log.register_options(conf)
    conf([], project='freezer', default_config_files=[])
    conf.set_override('auth_strategy', 'noauth')
    conf.set_override('connection', url, group='database')
    migration.upgrade(url)
    db_impl.main_context_manager.configure(connection=url)
    policy.reset()
    return conf, url, webtest.TestApp(app_module.setup_app(conf))


def summarise(samples):
    return {name: {'p50': statistics.median(s) * 1000.0,
                   'p95': percentile(s, 95), 'n': len(s)}
            for name, s in samples.items()}


def fmt(value, digits=1):
    return bench_run.fmt(value, digits)


def text_table(results, sizes):
    lo, hi = sizes[0], sizes[-1]
    head = '%-50s' % 'scenario' + ''.join(
        ' %8s %8s %8s' % ('p50@%d' % n, 'p95@%d' % n, 'db@%d' % n)
        for n in sizes) + ' %8s' % 'p50 x'
    lines = [head, '-' * len(head)]
    for name, title, *_ in SCENARIOS:
        line = '%-50s' % title
        for n in sizes:
            w, d = results[n]['wsgi'][name], results[n]['db'][name]
            line += ' %8s %8s %8s' % (fmt(w['p50'], 2), fmt(w['p95'], 2),
                                      fmt(d['p50'], 2))
        line += ' %8s' % fmt(results[hi]['wsgi'][name]['p50'] /
                             results[lo]['wsgi'][name]['p50'], 2)
        lines.append(line)
    return '\n'.join(lines)


def short(size):
    return '%dk' % (size // 1000) if size % 1000 == 0 else str(size)


def rst_results(results, sizes, plans, meta):
    lo, hi = sizes[0], sizes[-1]
    lines = [
        'Results of ``tools/bench/free_text.py`` on %s (%s), %s cores; '
        'run time %s s.' % (meta['date'], meta['cpu'], meta['cores'],
                            fmt(meta['runtime'], 0)),
        '',
        '* this repository at %s; Python %s, Pecan %s, SQLAlchemy %s, '
        'SQLite %s.' % (meta['rev'], meta['python'], meta['pecan'],
                        meta['sqlalchemy'], meta['sqlite']),
        '* in process: ``setup_app`` (noauth) under webtest, one request '
        'at a time, SQLite file; %d measured requests per scenario and '
        'size (after %d warm-up rounds), the scenarios taking turns.'
        % (meta['requests'], meta['warmup']),
        '* data: %s actions in each of 2 projects, in one SQLite file '
        'grown from one size to the next; seeding took %s s (the first '
        '%s per project through ``documents.create``, %d per transaction; '
        'the rest as multi-row INSERTs of the same rows, checked on a '
        'sample).'
        % (' then '.join(f'{n:,}' for n in sizes),
           ' + '.join(fmt(meta['seed'][str(n)], 1) for n in sizes),
           f'{lo:,}', BATCH),
        '* every scenario returned the expected documents, of the '
        'measured project only, at every size.',
        '',
    ]
    header = ['Scenario']
    widths = [34]
    for n in sizes:
        header += ['p50 @%s' % f'{n:,}', 'p95 @%s' % f'{n:,}']
        widths += [7, 7]
    header += ['p50 %s/%s' % (short(hi), short(lo))]
    widths += [7]
    header += ['db p50 @%s' % f'{n:,}' for n in sizes]
    widths += [7] * len(sizes)
    rows = []
    for name, title, *_ in SCENARIOS:
        row = [title]
        for n in sizes:
            w = results[n]['wsgi'][name]
            row += [fmt(w['p50'], 2), fmt(w['p95'], 2)]
        row.append('**%s**' % fmt(results[hi]['wsgi'][name]['p50'] /
                                  results[lo]['wsgi'][name]['p50'], 2))
        row += [fmt(results[n]['db'][name]['p50'], 2) for n in sizes]
        rows.append(row)
    lines += bench_run.list_table(
        'Free-text search of actions: latency (ms) in process, through the '
        'WSGI stack; "db" is db_api.list_actions alone',
        header, rows, widths)
    free, structured = plans['ft_few'], plans['structured']
    lines += [
        'The query of (a), as the request path sends it (parameters %s), '
        "and SQLite's ``EXPLAIN QUERY PLAN`` of it at %s actions per "
        'project::' % (', '.join('``%r``' % p for p in free['parameters']),
                       f'{hi:,}'),
        '',
    ]
    lines += ['    ' + line.rstrip() for line in free['sql'].splitlines()]
    lines += ['', '    -- plan'] + ['    ' + line for line in free['plan']]
    lines += ['', 'and the plan of the structured search (d)::', '']
    lines += ['    ' + line for line in structured['plan']]
    lines.append('')
    return '\n'.join(lines)


def write_output(path, results):
    bench_run.write_output(path, results, BEGIN, END,
                           'Free-text search benchmark')


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    t_start = time.perf_counter()
    root = pathlib.Path(__file__).resolve().parents[2]
    bench_dir = pathlib.Path(args.bench_dir)
    sizes = sorted(int(n) for n in args.sizes.split(','))
    if sizes[0] <= max(RARE_AT):
        raise SystemExit('--sizes: at least %d actions per project'
                         % (max(RARE_AT) + 1))
    _conf, _url, testapp = build(bench_dir / 'free_text')
    engine = db_impl.get_engine()

    results, seed_seconds = {}, {}
    plans = {}
    done = 0
    for size in sizes:
        t0 = time.perf_counter()
        if done == 0:
            seed_through_layer(0, size)
            with engine.begin() as conn:
                layer_seq = conn.execute(sa.select(
                    sa.func.max(models.Action.seq))).scalar()
        else:
            seed_bulk(engine, done, size)
            check_bulk(engine, layer_seq)
        done = size
        seed_seconds[str(size)] = time.perf_counter() - t0
        with engine.begin() as conn:
            counts = dict(conn.exec_driver_sql(
                'SELECT project_id, count(*) FROM actions '
                'GROUP BY project_id').fetchall())
        servers.log('seeded %s in %.1f s' % (
            counts, seed_seconds[str(size)]))
        check(testapp)
        t0 = time.perf_counter()
        wsgi = summarise(measure_wsgi(testapp, args.requests, args.warmup))
        db = summarise(measure_db(args.db_requests))
        results[size] = {'wsgi': wsgi, 'db': db}
        for name, title, *_ in SCENARIOS:
            servers.log(
                '%6d  %-50s p50 %7.2f  p95 %7.2f ms  (db p50 %6.2f ms)' % (
                    size, title, wsgi[name]['p50'], wsgi[name]['p95'],
                    db[name]['p50']))
        servers.log('measured %d in %.1f s' % (
            size, time.perf_counter() - t0))
        if size == sizes[-1]:
            plans = {
                'ft_few': query_plan(engine, SCENARIOS[0][3],
                                     'search_texts'),
                'structured': query_plan(engine, SCENARIOS[3][3],
                                         'search_entries')}

    meta = {
        'date': datetime.date.today().isoformat(),
        'cpu': bench_run.cpu_model(), 'cores': os.cpu_count(),
        'python': platform.python_version(),
        'rev': bench_run.git_revision(root),
        'sqlalchemy': importlib.metadata.version('SQLAlchemy'),
        'pecan': importlib.metadata.version('pecan'),
        'sqlite': sqlite3.sqlite_version,
        'sizes': sizes, 'requests': args.requests, 'warmup': args.warmup,
        'db_requests': args.db_requests, 'seed': seed_seconds,
        'runtime': time.perf_counter() - t_start,
    }
    db_impl.dispose_engine()
    (bench_dir / 'free_text.json').write_text(json.dumps({
        'meta': meta,
        'scenarios': {name: {'title': title, 'query': query, 'body': body,
                             'expected': expected}
                      for name, title, query, body, expected in SCENARIOS},
        'results': {str(n): r for n, r in results.items()},
        'queries': plans,
    }, indent=2))
    print(text_table(results, sizes))
    for name, query in plans.items():
        print('\nquery of %s:\n%s\nparameters: %r\nplan:\n%s' % (
            name, query['sql'], query['parameters'],
            '\n'.join(query['plan'])))
    print('total %.0f s; raw results in %s' % (
        meta['runtime'], bench_dir / 'free_text.json'))
    if args.output:
        write_output(args.output, rst_results(results, sizes, plans, meta))
        print('results written to %s' % args.output)
    return 0


if __name__ == '__main__':
    sys.exit(main())

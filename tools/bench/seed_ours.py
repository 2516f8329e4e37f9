#!/usr/bin/env python3
"""Seed this freezer-api's database for the benchmark.

Run with the Python of the environment where freezer-api is installed
(the tox env)::

    python seed_ours.py '{"url": "sqlite:////tmp/f.sqlite", "start": 0,
                          "stop": 10000, "pool": 1000}'
    python seed_ours.py '{"url": "postgresql+psycopg2://...",
                          "sim_clients": 1000, "sim_interval": 600}'

It adds the documents of :func:`dataset.plan` (or :func:`dataset.sim_plan`
for the PostgreSQL simulation). Each is built as the controller builds it
from a client's document (``action_values``, the jobs controller's
``_values``, the clients and backups controllers' helpers). Then:

* clients are stored by ``freezer_api.db.api.register_client``, the
  function the controller calls;
* actions, jobs (with their inline actions) and backups, which are many,
  by a *bulk writer* (:class:`BulkWriter`): the layer's own
  ``documents.insert`` (``documents.save`` for a job, after its actions
  and links) runs against a stand-in for the ORM session, which collects
  the rows the layer adds and the INSERTs of index rows it executes
  (``search_entries``, ``search_texts``), and inserts them table by table.
  Through the layer itself a document costs 3 to 10 ms (ORM unit of work,
  several statements each), which made 100,000 documents take many
  minutes.

Before it writes anything, :func:`bulk_matches_layer` stores a sample of
every kind both ways, in two scratch databases, and compares every table
row for row (all columns but timestamps and surrogate keys), the sample
going through the controllers' schema validation; the bulk writer itself
skips the validation (the documents differ from the sample only by
numbers and names). If the two differ, or the bulk writer fails, every
document goes through the layer instead, slowly, and the output says so.

The schema is made by the migrations (``migration.upgrade``, as
``freezer-manage db sync`` does). Batches of ``BATCH`` documents share a
transaction, and SQLite does not sync to disk after each
(``synchronous = OFF``, which changes no content).

Prints one JSON line: {"seconds", "documents", "method"}.
"""

import collections
import contextlib
import json
import pathlib
import sys
import tempfile
import time

import dataset
from oslo_config import cfg
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log
import sqlalchemy as sa

from freezer_api import conf as freezer_conf
from freezer_api.api.controllers.v2 import actions as actions_ctl
from freezer_api.api.controllers.v2 import backups as backups_ctl
from freezer_api.api.controllers.v2 import clients as clients_ctl
from freezer_api.api.controllers.v2 import jobs as jobs_ctl
from freezer_api.api.schemas import validator
from freezer_api.common import context as context_module
from freezer_api.db import api as db_api
from freezer_api.db import migration
from freezer_api.db.sqlalchemy import actions as db_actions
from freezer_api.db.sqlalchemy import api as db_impl
from freezer_api.db.sqlalchemy import backups as db_backups
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import jobs as db_jobs
from freezer_api.db.sqlalchemy import models

BATCH = 500
# Columns the comparison of the two writers ignores: when and surrogate
# keys (autoincrement ids no other row refers to by value here).
IGNORED = {'created_at', 'updated_at', 'id'}


def context(project):
    return context_module.RequestContext(
        user_id=dataset.USER, project_id=project, roles=['member', 'reader'])


# --- values, as the controllers build them ---------------------------------

def action_values(ctx, project, doc_id, doc):
    validate('action', doc)
    return actions_ctl.action_values(ctx, project, doc_id, doc)


def job_values(ctx, project, doc_id, doc):
    """What JobsController.create stores, with a fixed creation time."""
    validate('job', doc)
    values, entries = jobs_ctl._values(ctx, project, doc_id, doc)
    values['job_schedule'] = dataset.created_schedule(values['job_schedule'])
    return values, entries


def backup_values(ctx, project, doc_id, doc):
    """What BackupsController.create stores, with the id chosen here."""
    validate('backup', doc)
    status, metadata = backups_ctl.split_status(doc)
    return {'backup_id': doc_id, 'project_id': project,
            'user_id': ctx.user_id, 'status': status or 'available',
            'backup_metadata': metadata}


# --- through the layer -------------------------------------------------------

def layer_client(ctx, project, doc_id, doc):
    given = clients_ctl.client_fields(doc)
    client = clients_ctl.new_client(given)
    # The controller makes a random uuid: a stable one, for comparisons.
    client['uuid'] = dataset.doc_id('client-uuid', project, doc_id)
    db_api.register_client(ctx, {
        'project_id': project, 'user_id': ctx.user_id,
        'client_id': client['client_id'],
        'is_central': client['is_central'], 'client': client}, given)


def layer_action(ctx, project, doc_id, doc):
    db_api.create_action(ctx, action_values(ctx, project, doc_id, doc))


def layer_job(ctx, project, doc_id, doc):
    db_api.create_job(ctx, *job_values(ctx, project, doc_id, doc))


def layer_backup(ctx, project, doc_id, doc):
    db_api.create_backup(ctx, backup_values(ctx, project, doc_id, doc))


LAYER = {'client': layer_client, 'action': layer_action, 'job': layer_job,
         'backup': layer_backup}


def write_through_layer(items):
    """Store ``items`` (of one project) by the layer's functions, in one
    transaction (each function's own transaction joins it)."""
    ctx = context(items[0][1])
    with db_impl.main_context_manager.writer.using(ctx):
        for kind, project, _number, doc_id, doc in items:
            LAYER[kind](ctx, project, doc_id, doc)


# --- the bulk writer ---------------------------------------------------------

def row_of(obj):
    """The column values of a transient model object, as an INSERT of it
    would store them (Python-side column defaults applied; a surrogate
    key left to the database)."""
    row = {}
    for column in obj.__table__.columns:
        value = dataset.column_value(obj, column)
        if value is None and column.primary_key:
            continue
        row[column.key] = value
    return row


def _insert_values(statement):
    """The values of ``insert(t).values(a=1, ...)``: read from the
    statement (compiling it costs more than the rest of a document), or
    compiled when they are not plain values."""
    values = {}
    for key, bind in getattr(statement, '_values', {}).items():
        value = getattr(bind, 'value', None)
        if value is None or getattr(bind, 'callable', None) is not None:
            return statement.compile().params
        values[key if isinstance(key, str) else key.key] = value
    return values or statement.compile().params


SEQ_MODELS = (models.Action, models.Job, models.Backup)


def last_seqs(engine):
    with engine.connect() as conn:
        return {model: conn.execute(sa.select(sa.func.max(model.seq))
                                    ).scalar() or 0
                for model in SEQ_MODELS}


class _Nothing:
    """The result of a statement that finds no row."""

    rowcount = 0

    def __iter__(self):
        return iter(())

    def scalars(self):
        return self

    def all(self):
        return []

    def first(self):
        return None

    def scalar(self):
        return None


class _Inserted:
    """The result of the INSERT of a document's row: its seq."""

    def __init__(self, seq):
        self.inserted_primary_key = (seq,)


SEQ_TABLES = {model.__table__: model for model in SEQ_MODELS}


class BulkWriter:
    """Rows of new documents, collected and inserted table by table.

    It stands in for the ORM session of the layer's own functions: a
    document goes through ``documents.insert`` (a job through
    ``documents.save``, after its actions and links), which add the
    document's row and execute the INSERTs of its index rows here; those
    are collected, not sent. Seqs are given explicitly, in the order the
    layer would allocate them (the next one of each table), when the
    layer flushes.
    """

    def __init__(self, engine, seq=None):
        """:param seq: {model: last seq used} (default: the database's)."""
        self.engine = engine
        self.rows = collections.defaultdict(list)
        self.pending = []
        self.last = {}
        self.seq = dict(seq) if seq else last_seqs(engine)

    # The part of a Session (and of its Connection) the layer's insert
    # and save use.

    def connection(self, *args, **kwargs):
        return self

    def add(self, obj):
        self.pending.append(obj)

    def flush(self):
        for obj in self.pending:
            model = type(obj)
            if model in self.seq and obj.seq is None:
                self.seq[model] += 1
                obj.seq = self.seq[model]
            self.rows[obj.__table__].append(row_of(obj))
            self.last[model] = obj
        self.pending = []

    def execute(self, statement, params=None):
        """Record an INSERT; anything else finds nothing (every document
        written here is new: nothing of it is stored yet).

        The INSERT of one document's row (``documents.insert``) is given
        the next seq of its table, which its result names, as the
        database's would."""
        if not isinstance(statement, sa.sql.Insert):
            return _Nothing()
        model = SEQ_TABLES.get(statement.table)
        if model is not None and isinstance(params, dict) and (
                params.get('seq') is None):
            self.seq[model] += 1
            row = dict(params, seq=self.seq[model])
            self.rows[statement.table].append(row)
            self.last[model] = model(**row)
            return _Inserted(row['seq'])
        if params is None:
            params = [_insert_values(statement)]
        elif isinstance(params, dict):
            params = [params]
        self.rows[statement.table].extend(params)

    # Documents.

    def action(self, values):
        documents.insert(self, db_actions.ACTIONS, values)

    def job(self, values, entries):
        """A job whose entries all define new actions (the seeded ones):
        the actions, then the job and its links, as
        ``relations._store_job`` does."""
        actions = []
        for entry in entries:
            documents.insert(self, db_actions.ACTIONS, entry['create'])
            actions.append(self.last[models.Action])
        row = models.Job(version=0, **values)
        row.links = [models.JobAction(position=position, action=action,
                                      action_seq=action.seq)
                     for position, action in enumerate(actions)]
        documents.save(self, db_jobs.JOBS, row)
        for link in row.links:
            link.job_seq = row.seq
            self.rows[link.__table__].append(row_of(link))

    def backup(self, values):
        documents.insert(self, db_backups.BACKUPS, values)

    def write(self):
        """INSERT what was collected, parents before children; on
        PostgreSQL, move the sequences past the seqs given."""
        with self.engine.begin() as conn:
            for table in models.Base.metadata.sorted_tables:
                rows = self.rows.pop(table, None)
                if rows:
                    _insert(conn, table, rows)
            if conn.dialect.name == 'postgresql':
                for model in self.seq:
                    conn.execute(sa.text(
                        "SELECT setval(pg_get_serial_sequence(:t, 'seq'), "
                        "GREATEST(1, (SELECT max(seq) FROM %s)))"
                        % model.__tablename__), {'t': model.__tablename__})


def _insert(conn, table, rows):
    """A multi-row INSERT; on SQLite, for a table of plain column types
    whose rows have the same keys (the index tables), straight to the
    driver (SQLAlchemy's processing of each row's parameters cost a tenth
    of the seeding)."""
    keys = list(rows[0])
    plain = not any(isinstance(c.type, sa.types.TypeDecorator)
                    for c in table.columns)
    if conn.dialect.name != 'sqlite' or not plain or any(
            len(row) != len(keys) for row in rows):
        conn.execute(table.insert(), rows)
        return
    conn.exec_driver_sql(
        'INSERT INTO %s (%s) VALUES (%s)' % (
            table.name, ', '.join(keys), ', '.join('?' * len(keys))),
        [tuple(row[k] for k in keys) for row in rows])


def write_bulk(writer, items):
    for kind, project, _number, doc_id, doc in items:
        ctx = context(project)
        if kind == 'action':
            writer.action(action_values(ctx, project, doc_id, doc))
        elif kind == 'job':
            writer.job(*job_values(ctx, project, doc_id, doc))
        elif kind == 'backup':
            writer.backup(backup_values(ctx, project, doc_id, doc))
        else:
            raise ValueError(kind)
    writer.write()


# --- checking the bulk writer against the layer ------------------------------

def table_contents(engine):
    """{table: sorted rows without the IGNORED columns}."""
    contents = {}
    with engine.connect() as conn:
        for table in models.Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.key not in IGNORED]
            rows = conn.execute(sa.select(*columns)).all()
            contents[table.name] = sorted(map(repr, rows))
    return contents


def sample_items():
    """A few documents of every kind, a client first (jobs name one)."""
    items = dataset.plan(0, dataset.SIZE_UNIT, 3)
    by_kind = collections.defaultdict(list)
    for item in items:
        if item[1] == dataset.PROJECTS[0]:
            by_kind[item[0]].append(item)
    return by_kind['client'] + by_kind['action'][:10] + \
        by_kind['job'][:6] + by_kind['backup'][:6] + by_kind['action'][-3:]


def bulk_matches_layer():
    """Whether the bulk writer stores what the layer stores, compared on
    :func:`sample_items` in two scratch databases. Returns '' or a
    description of the first difference."""
    items = sample_items()
    clients = [i for i in items if i[0] == 'client']
    others = [i for i in items if i[0] != 'client']
    with tempfile.TemporaryDirectory(prefix='bench-seed-check-') as tmp:
        contents = []
        for how in ('layer', 'bulk'):
            url = 'sqlite:///%s' % (pathlib.Path(tmp) / ('%s.sqlite' % how))
            engine, close = open_database(url)
            try:
                write_through_layer(clients)
                if how == 'layer':
                    write_through_layer(others)
                else:
                    write_bulk(BulkWriter(engine), others)
                contents.append(table_contents(engine))
            except Exception as exc:  # noqa: B902 (any failure: the layer)
                return '%s failed: %r' % (how, exc)
            finally:
                close()
    layer, bulk = contents
    for table in layer:
        if layer[table] != bulk[table]:
            only_layer = sorted(set(layer[table]) - set(bulk[table]))
            only_bulk = sorted(set(bulk[table]) - set(layer[table]))
            return ('%s differs: layer only %s; bulk only %s' % (
                table, only_layer[:1], only_bulk[:1]))[:600]
    return ''


# --- the run -----------------------------------------------------------------

def _configure_once():
    conf = cfg.ConfigOpts()
    freezer_conf.register_opts(conf)
    log.register_options(conf)
    conf([], project='freezer', default_config_files=[])


def open_database(url):
    """Migrate the database at ``url`` and point the layer at it.

    :returns: (engine, a callable that points the layer back)
    """
    migration.upgrade(url)
    manager = enginefacade.transaction_context()
    manager.append_on_engine_create(db_impl.configure_engine)
    manager.append_on_engine_create(_no_sync)
    manager.configure(connection=url)
    reset = db_impl.main_context_manager.patch_factory(manager)

    def close():
        manager.dispose_pool()
        reset()
    return manager.writer.get_engine(), close


def _no_sync(engine):
    if engine.dialect.name != 'sqlite':
        return

    @sa.event.listens_for(engine, 'connect')
    def _on_connect(dbapi_conn, record):
        dbapi_conn.execute('PRAGMA synchronous = OFF')
    engine.dispose()


def batches(items):
    """Runs of at most BATCH documents of one kind and one project."""
    run = []
    for item in items:
        if run and (len(run) == BATCH or run[-1][:2] != item[:2]):
            yield run
            run = []
        run.append(item)
    if run:
        yield run


# The body schema each create handler declares (method.reply(body=...)),
# which a POST of the document is validated against before the controller
# builds its columns.
CREATE_VALIDATORS = {
    'action': validator.Validator(actions_ctl.ActionsController.create.body),
    'job': validator.Validator(jobs_ctl.JobsController.create.body),
    'backup': validator.Validator(backups_ctl.BackupsController.create.body),
}
_validating = [True]


def validate(kind, document):
    """Validate ``document`` as a POST of ``kind`` is (unless turned off
    by :func:`validation`)."""
    if _validating[0]:
        CREATE_VALIDATORS[kind].validate(document)


@contextlib.contextmanager
def validation(wanted):
    """The schema validation of the documents, or none: the bulk writer's
    documents differ from the sample :func:`bulk_matches_layer` validated
    only by numbers and names (validation is a quarter of its time)."""
    saved, _validating[0] = _validating[0], wanted
    try:
        yield
    finally:
        _validating[0] = saved


def seed(url, items, check=True):
    """Add the documents ``items``; returns (count, method)."""
    _configure_once()
    difference = bulk_matches_layer() if check else ''
    engine, close = open_database(url)
    clients = [i for i in items if i[0] == 'client']
    others = [i for i in items if i[0] != 'client']
    try:
        for run in batches(clients + (others if difference else [])):
            write_through_layer(run)
        if not difference:
            with validation(False):
                for run in batches(others):
                    write_bulk(BulkWriter(engine), run)
    finally:
        close()
    if difference:
        return len(items), 'layer (bulk writer differed: %s)' % difference
    return len(items), 'bulk'


def main():
    spec = json.loads(sys.argv[1])
    t0 = time.perf_counter()
    if 'sim_clients' in spec:
        items = dataset.sim_plan(spec['sim_clients'], spec['sim_interval'])
    else:
        items = dataset.plan(spec['start'], spec['stop'], spec['pool'])
    count, method = seed(spec['url'], items, spec.get('check', True))
    print(json.dumps({'seconds': time.perf_counter() - t0,
                      'documents': count, 'method': method}))


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Seed the reference freezer-api's database through its own database
layer.

Run with the Python of the reference's virtualenv (it imports the
reference's ``freezer_api``, not ours), on a database that
``freezer-manage db sync`` made::

    python seed_ref.py '{"conf": "reference.conf", "start": 0,
                         "stop": 10000, "pool": 2000}'

Every document of :func:`dataset.plan` goes through the function the
reference's API calls for it (``add_client``, ``add_action``, ``add_job``,
``add_backup`` of ``freezer_api.db.sqlalchemy.api``), which builds its
model objects (rows, ``action_reports``, ``job_actions``) as it always
does. What is changed, for speed:

* ``add_tuple``, which saves one object per transaction, only collects
  the objects; ``BATCH`` documents' objects are then inserted in one
  transaction, as the rows an ORM flush of them would insert (every
  column, defaults applied), by multi-row INSERTs;
* the lookups made to refuse an id already taken, or a job whose client
  is unknown, are skipped (the seeded ids are new, the clients exist);
* the schema validation runs on the first documents of each kind only
  (it was most of the time);
* logging is at WARNING (the reference logs two INFO lines per document).

Prints one JSON line: {"seconds", "documents"}.
"""

import json
import logging
import sys
import time

import dataset

from freezer_api.common import config
from freezer_api.common import elasticv2_utils as utilsv2
from freezer_api.db.sqlalchemy import api as ref_db

BATCH = 500


def collecting(collected):
    """Replacements of the layer's save and existence checks."""
    return {
        'add_tuple': lambda tuple: collected.append(tuple),
        'get_tuple': lambda *args, **kwargs: [],
        'get_job': lambda *args, **kwargs: {},
        'get_backup': lambda *args, **kwargs: {},
        'get_client_byid': lambda *args, **kwargs: [],
        'check_job_client': lambda *args, **kwargs: None,
    }


def store(kind, project, doc_id, doc):
    doc = json.loads(json.dumps(doc))  # the layer changes what it gets
    if kind == 'client':
        ref_db.add_client(dataset.USER, doc, project_id=project)
    elif kind == 'action':
        ref_db.add_action(dataset.USER, dict(doc, action_id=doc_id),
                          project_id=project)
    elif kind == 'job':
        # An action_id in job_actions names an existing action here: the
        # inline actions get ids of the reference's making.
        for entry in doc['job_actions']:
            entry.pop('action_id', None)
        ref_db.add_job(dataset.USER, dict(doc, job_id=doc_id),
                       project_id=project)
    elif kind == 'backup':
        ref_db.add_backup(dataset.USER, doc, project_id=project)
    else:
        raise ValueError(kind)


def rows_by_table(objects):
    """The rows an ORM flush of ``objects`` (and of the ``job_actions``
    of a job) would insert: every column, Python-side defaults applied
    (the reference's keys are all given, its foreign keys set)."""
    rows = {}
    for obj in objects:
        for item in [obj] + list(getattr(obj, 'job_actions', None) or []):
            table = item.__table__
            rows.setdefault(table, []).append(
                {c.key: dataset.column_value(item, c) for c in table.columns})
    return rows


VALIDATED = 50
VALIDATORS = {'client': (utilsv2.ClientDoc, 'client_doc_validator'),
              'action': (utilsv2.ActionDoc, 'action_doc_validator'),
              'job': (utilsv2.JobDoc, 'job_doc_validator'),
              'backup': (utilsv2.BackupMetadataDoc, 'backup_doc_validator')}


class _Valid:
    @staticmethod
    def validate(doc):
        return None


def validate_first(kind, seen):
    """The reference's schema validation for the first VALIDATED
    documents of a kind only: the others differ from them by numbers and
    names, and validating them was most of the seeding's time."""
    seen[kind] = seen.get(kind, 0) + 1
    if seen[kind] == VALIDATED + 1:
        owner, name = VALIDATORS[kind]
        setattr(owner, name, _Valid)


def seed(start, stop, pool):
    collected = []
    for name, replacement in collecting(collected).items():
        setattr(ref_db, name, replacement)
    items = dataset.plan(start, stop, pool)
    seen = {}
    for first in range(0, len(items), BATCH):
        for kind, project, _number, doc_id, doc in items[first:first + BATCH]:
            validate_first(kind, seen)
            store(kind, project, doc_id, doc)
        # Multi-row INSERTs rather than the ORM's unit of work, which
        # costs more than building the objects.
        rows = rows_by_table(collected)
        with ref_db.session_for_write() as session:
            for table in ref_db.models.BASE.metadata.sorted_tables:
                if table in rows:
                    session.execute(table.insert(), rows[table])
        collected.clear()
    return len(items)


def main():
    spec = json.loads(sys.argv[1])
    config.parse_args(args=['--config-file', spec['conf']])
    logging.disable(logging.INFO)
    t0 = time.perf_counter()
    count = seed(spec['start'], spec['stop'], spec['pool'])
    print(json.dumps({'seconds': time.perf_counter() - t0,
                      'documents': count}))


if __name__ == '__main__':
    main()

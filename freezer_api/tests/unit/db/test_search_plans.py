"""The plans the database makes for searches and pages, on every backend.

A search by a term that matches a few documents must read those
documents' entries (``ix_search_entries_term``) and then only those
documents, not walk the whole project; a deep page must skip rows on an
index, not read every document before it. The tables are filled with a
few thousand documents in four projects, in bulk, as the API would have
written them; PostgreSQL and MySQL get fresh statistics (ANALYZE), SQLite
has none, as in production.
"""

import json

import sqlalchemy as sa

from freezer_api.db import search_index
from freezer_api.db.sqlalchemy import actions
from freezer_api.db.sqlalchemy import api as db_impl
from freezer_api.db.sqlalchemy import models
from freezer_api.tests.unit import base
from freezer_api.tests.unit import helpers

# The searched project holds a quarter of the documents: with fewer
# projects, reading the whole table in order is as good a plan as any.
PROJECTS = ('project-a', 'project-b', 'project-c', 'project-d')
PER_PROJECT = 1500
# Each backup name is shared by 3 documents of a project; each mode by a
# third of them.
NAMES = PER_PROJECT // 3


def _action(seq, project_id, i):
    row = models.Action(
        seq=seq, project_id=project_id, user_id='user', version=1,
        created_at=models.utcnow(), action_id='act-%d' % seq,
        max_retries=5, max_retries_interval=6, mandatory=False,
        freezer_action={'action': 'backup', 'mode': 'm%d' % (i % 3),
                        'backup_name': 'bk-%d' % (i % NAMES),
                        'path_to_backup': '/srv/%d' % i})
    return row


def fill(engine):
    """PER_PROJECT actions in each project, with their index entries."""
    rows, entries, texts = [], [], []
    seq = 0
    for i in range(PER_PROJECT):
        for project_id in PROJECTS:
            seq += 1
            row = _action(seq, project_id, i)
            document = actions.action_document(row)
            rows.append({c.key: getattr(row, c.key)
                         for c in models.Action.__table__.columns})
            entries += [{'resource': 'actions', 'doc_seq': seq,
                         'project_id': project_id, 'key_hash': k,
                         'value_hash': v}
                        for k, v in search_index.document_entries(document)]
            texts.append({'resource': 'actions', 'doc_seq': seq,
                          'body': search_index.document_text(document)})
    with engine.begin() as conn:
        conn.execute(sa.insert(models.Action.__table__), rows)
        conn.execute(sa.insert(models.SearchEntry.__table__), entries)
        conn.execute(sa.insert(models.SearchText.__table__), texts)
    with engine.begin() as conn:
        if engine.dialect.name == 'postgresql':
            conn.exec_driver_sql('ANALYZE')
        elif engine.dialect.name == 'mysql':
            conn.exec_driver_sql(
                'ANALYZE TABLE actions, search_entries, search_texts')


class TestSearchPlans(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.engine = db_impl.get_engine()
        fill(self.engine)
        self.ctx = self.context()

    def statement_of(self, search_, limit=10, offset=0):
        """The SELECT list_actions sends (and its parameters)."""
        with helpers.StatementCapture(
                self.engine, lambda s: 'FROM actions' in s) as capture:
            found = actions.list_actions(self.ctx, PROJECTS[0], search_,
                                         limit, offset)
        sent = capture.sent
        self.assertEqual(1, len(sent), sent)
        return found, sent[0]

    def plan(self, search_, limit=10, offset=0):
        """(documents found, the plan as text lines)."""
        found, (statement, parameters) = self.statement_of(
            search_, limit, offset)
        dialect = self.engine.dialect.name
        explain = {'sqlite': 'EXPLAIN QUERY PLAN ',
                   'postgresql': 'EXPLAIN ',
                   'mysql': 'EXPLAIN FORMAT=JSON '}[dialect]
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(explain + statement,
                                        parameters).all()
        if dialect == 'sqlite':
            lines = [row[-1] for row in rows]
        elif dialect == 'postgresql':
            lines = [row[0] for row in rows]
        else:
            lines = _mysql_lines(json.loads(rows[0][0]))
        return found, lines

    def assertReadsOnlyTheMatches(self, lines):
        text = '\n'.join(lines)
        dialect = self.engine.dialect.name
        self.assertIn('ix_search_entries_term', text)
        # Only the driving entries are read by term; the other terms are
        # looked up by document.
        for line in lines:
            if 'ix_search_entries_term' in line:
                self.assertIn('driver', line, text)
        if dialect == 'sqlite':
            self.assertNotIn('SCAN actions', text)
            self.assertNotIn('ix_actions_project_seq', text)
        elif dialect == 'postgresql':
            self.assertNotIn('Seq Scan on actions', text)
            self.assertNotIn('ix_actions_project_seq', text)
        else:
            self.assertNotIn('table=actions access=ALL', text)
            self.assertNotIn('key=ix_actions_project_seq', text)

    def test_a_selective_term_drives_the_search(self):
        found, lines = self.plan(search_index.Search((
            search_index.Term('backup_name', 'bk-7'),)))
        self.assertEqual(3, len(found))
        self.assertReadsOnlyTheMatches(lines)

    def test_a_selective_term_drives_with_other_terms(self):
        # The scheduler's poll has this shape: one id that matches, and a
        # status that must not.
        found, lines = self.plan(search_index.Search(
            (search_index.Term('backup_name', 'bk-7'),
             search_index.Term('action', 'backup')),
            (search_index.Term('mode', 'm2'),)))
        self.assertEqual(
            {'m0', 'm1'}, {d['freezer_action']['mode'] for d in found})
        self.assertReadsOnlyTheMatches(lines)

    def test_a_deep_page_is_skipped_on_an_index(self):
        found, lines = self.plan(search_index.Search(), limit=10,
                                 offset=PER_PROJECT - 20)
        self.assertEqual(10, len(found))
        text = '\n'.join(lines)
        dialect = self.engine.dialect.name
        self.assertIn('ix_actions_project_seq', text)
        if dialect == 'sqlite':
            self.assertIn('USING COVERING INDEX ix_actions_project_seq',
                          text)
            self.assertNotIn('SCAN actions\n', text + '\n')


def _mysql_lines(node, table=None):
    """MySQL's JSON plan as lines ``table=T access=A key=K``."""
    lines = []
    if isinstance(node, dict):
        if 'table_name' in node:
            lines.append('table=%s access=%s key=%s' % (
                node['table_name'], node.get('access_type'),
                node.get('key')))
        for value in node.values():
            lines += _mysql_lines(value)
    elif isinstance(node, list):
        for value in node:
            lines += _mysql_lines(value)
    return lines

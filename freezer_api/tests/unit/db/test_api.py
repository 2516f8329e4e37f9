"""The database facade (freezer_api.db.api), called directly."""

import json
import threading

import sqlalchemy as sa
import webtest

from freezer_api.api import app
from freezer_api.api.controllers.v2 import base as controller_base
from freezer_api.common import exception
from freezer_api.common import search
from freezer_api.db import api as db_api
from freezer_api.db.sqlalchemy import models
from freezer_api.tests.unit import base

PROJECT_A = 'project-a'
PROJECT_B = 'project-b'

# The columns the controller hands to the facade (the document minus the
# service's own bookkeeping).
COLUMNS = ('action_id', 'project_id', 'user_id', 'freezer_action',
           'max_retries', 'max_retries_interval', 'mandatory')


def values(action_id='a1', project_id=PROJECT_A, **freezer_action):
    return {
        'action_id': action_id,
        'project_id': project_id,
        'user_id': 'user-a',
        'freezer_action': dict({'action': 'backup', 'mode': 'fs'},
                               **freezer_action),
        'max_retries': 5,
        'max_retries_interval': 6,
        'mandatory': False,
    }


def match(**pairs):
    return search.Search(tuple(search.Term(k, v) for k, v in pairs.items()))


def set_to(columns):
    """An ``apply`` callback that stores ``columns`` whatever is there."""
    return lambda current: columns


class ActionsDbTestCase(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.ctx = self.context()

    def list_ids(self, search_=None, project_id=PROJECT_A, limit=100,
                 offset=0):
        docs = db_api.list_actions(self.ctx, project_id,
                                   search_ or search.Search(), limit, offset)
        return [d['action_id'] for d in docs]

    def seq_of(self, action_id):
        with self.database.engine.connect() as conn:
            return conn.execute(sa.select(models.Action.seq).where(
                models.Action.action_id == action_id)).scalar_one()

    def entry_count(self, seq=None):
        query = sa.select(sa.func.count()).select_from(models.SearchEntry)
        if seq is not None:
            query = query.where(models.SearchEntry.doc_seq == seq)
        with self.database.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def orphan_count(self):
        entries = models.SearchEntry
        query = sa.select(sa.func.count()).select_from(entries).where(
            ~sa.exists().where(models.Action.seq == entries.doc_seq))
        with self.database.engine.connect() as conn:
            return conn.execute(query).scalar_one()


class TestActionsCrud(ActionsDbTestCase):

    def test_create_and_get(self):
        created = db_api.create_action(self.ctx, values())
        self.assertEqual(1, created['_version'])
        self.assertEqual(dict(values(), _version=1), created)
        self.assertEqual(created, db_api.get_action(self.ctx, PROJECT_A,
                                                    'a1'))

    def test_get_missing_or_in_other_project(self):
        db_api.create_action(self.ctx, values())
        self.assertRaises(exception.ResourceNotFound, db_api.get_action,
                          self.ctx, PROJECT_A, 'nope')
        self.assertRaises(exception.ResourceNotFound, db_api.get_action,
                          self.ctx, PROJECT_B, 'a1')

    def test_list_in_creation_order_per_project(self):
        for i in range(5):
            db_api.create_action(self.ctx, values('z%d' % (4 - i)))
        db_api.create_action(self.ctx, values('other', PROJECT_B))
        self.assertEqual(['z4', 'z3', 'z2', 'z1', 'z0'], self.list_ids())
        self.assertEqual(['z3', 'z2'], self.list_ids(limit=2, offset=1))
        self.assertEqual([], self.list_ids(offset=5))
        self.assertEqual(['other'], self.list_ids(project_id=PROJECT_B))

    def test_versions_increment_by_one_per_write(self):
        db_api.create_action(self.ctx, values())
        document, created = db_api.replace_action(
            self.ctx, values(backup_name='b'))
        self.assertFalse(created)
        self.assertEqual(2, document['_version'])
        document = db_api.update_action(self.ctx, PROJECT_A, 'a1',
                                        set_to(values(backup_name='c')))
        self.assertEqual(3, document['_version'])
        document = db_api.update_action(self.ctx, PROJECT_A, 'a1',
                                        set_to(values(backup_name='d')),
                                        expected_version=3)
        self.assertEqual(4, document['_version'])
        stored = db_api.get_action(self.ctx, PROJECT_A, 'a1')
        self.assertEqual(4, stored['_version'])
        self.assertEqual('d', stored['freezer_action']['backup_name'])

    def test_replace_creates(self):
        document, created = db_api.replace_action(self.ctx, values('new'))
        self.assertTrue(created)
        self.assertEqual(1, document['_version'])
        self.assertRaises(exception.ResourceNotFound, db_api.replace_action,
                          self.ctx, values('other'), expected_version=1)
        self.assertEqual(['new'], self.list_ids())

    def test_stale_update_changes_nothing(self):
        db_api.create_action(self.ctx, values(backup_name='old'))
        db_api.update_action(self.ctx, PROJECT_A, 'a1',
                             set_to(values(backup_name='new')))
        before = db_api.get_action(self.ctx, PROJECT_A, 'a1')
        entries = self.entry_count(self.seq_of('a1'))
        self.assertRaises(exception.PreconditionFailed,
                          db_api.update_action, self.ctx, PROJECT_A, 'a1',
                          set_to(values(backup_name='stale')),
                          expected_version=1)
        self.assertRaises(exception.PreconditionFailed,
                          db_api.replace_action, self.ctx,
                          values(backup_name='stale'), expected_version=1)
        self.assertRaises(exception.PreconditionFailed,
                          db_api.delete_action, self.ctx, PROJECT_A, 'a1',
                          expected_version=1)
        self.assertEqual(before, db_api.get_action(self.ctx, PROJECT_A,
                                                   'a1'))
        self.assertEqual(entries, self.entry_count(self.seq_of('a1')))
        self.assertEqual(['a1'], self.list_ids(match(backup_name='new')))
        self.assertEqual([], self.list_ids(match(backup_name='stale')))

    def test_update_missing_or_in_other_project(self):
        db_api.create_action(self.ctx, values())
        self.assertRaises(exception.ResourceNotFound, db_api.update_action,
                          self.ctx, PROJECT_A, 'nope', set_to(values('nope')))
        self.assertRaises(exception.ResourceNotFound, db_api.update_action,
                          self.ctx, PROJECT_B, 'a1',
                          set_to(values(project_id=PROJECT_B,
                                        backup_name='x')))
        self.assertEqual(1, db_api.get_action(self.ctx, PROJECT_A,
                                              'a1')['_version'])

    def test_id_taken_in_any_project_conflicts(self):
        db_api.create_action(self.ctx, values())
        ctx_b = self.context(PROJECT_B, 'user-b')
        self.assertRaises(exception.Conflict, db_api.create_action,
                          self.ctx, values())
        self.assertRaises(exception.Conflict, db_api.create_action,
                          ctx_b, values(project_id=PROJECT_B))
        self.assertRaises(exception.Conflict, db_api.replace_action,
                          ctx_b, values(project_id=PROJECT_B))
        stored = db_api.get_action(self.ctx, PROJECT_A, 'a1')
        self.assertEqual(1, stored['_version'])
        self.assertEqual(PROJECT_A, stored['project_id'])
        self.assertEqual([], self.list_ids(project_id=PROJECT_B))
        self.assertEqual(0, self.orphan_count())

    def test_delete(self):
        db_api.create_action(self.ctx, values())
        self.assertIsNone(db_api.delete_action(self.ctx, PROJECT_A, 'a1',
                                               expected_version=1))
        self.assertRaises(exception.ResourceNotFound, db_api.get_action,
                          self.ctx, PROJECT_A, 'a1')
        # Absent: nothing to do, unless a version was required.
        db_api.delete_action(self.ctx, PROJECT_A, 'a1')
        self.assertRaises(exception.ResourceNotFound, db_api.delete_action,
                          self.ctx, PROJECT_A, 'a1', expected_version=1)

    def test_delete_in_other_project_does_nothing(self):
        db_api.create_action(self.ctx, values())
        db_api.delete_action(self.context(PROJECT_B), PROJECT_B, 'a1')
        self.assertEqual(1, db_api.get_action(self.ctx, PROJECT_A,
                                              'a1')['_version'])

    def test_check_database(self):
        db_api.check_database(self.ctx)


class TestSearchIndex(ActionsDbTestCase):

    def test_entries_follow_the_document(self):
        db_api.create_action(self.ctx, values(backup_name='first'))
        seq = self.seq_of('a1')
        stored = db_api.get_action(self.ctx, PROJECT_A, 'a1')
        self.assertEqual(len(search.document_entries(stored)),
                         self.entry_count(seq))
        db_api.update_action(self.ctx, PROJECT_A, 'a1',
                             set_to(values(backup_name='second',
                                           extra={'x': 1})))
        stored = db_api.get_action(self.ctx, PROJECT_A, 'a1')
        self.assertEqual(len(search.document_entries(stored)),
                         self.entry_count(seq))
        self.assertEqual([], self.list_ids(match(backup_name='first')))
        self.assertEqual(['a1'], self.list_ids(match(backup_name='second')))
        self.assertEqual(['a1'], self.list_ids(match(x=1)))
        self.assertEqual(['a1'], self.list_ids(match(_version=2)))

    def stored_entries(self, seq):
        entries = models.SearchEntry
        with self.database.engine.connect() as conn:
            return conn.execute(
                sa.select(entries.id, entries.key_hash, entries.value_hash)
                .where(entries.resource == 'actions',
                       entries.doc_seq == seq)).all()

    def test_update_rewrites_only_the_changed_entries(self):
        db_api.create_action(self.ctx, values(backup_name='first',
                                              path_to_backup='/etc'))
        seq = self.seq_of('a1')
        before = {(k, v): i for i, k, v in self.stored_entries(seq)}
        # A stray duplicate of an entry: the next write drops it.
        with self.database.engine.begin() as conn:
            conn.execute(sa.insert(models.SearchEntry), [
                {'resource': 'actions', 'doc_seq': seq,
                 'key_hash': k, 'value_hash': v}
                for k, v in list(before)[:1]])
        db_api.update_action(self.ctx, PROJECT_A, 'a1',
                             set_to(values(backup_name='second',
                                           path_to_backup='/etc')))
        rows = self.stored_entries(seq)
        after = {(k, v): i for i, k, v in rows}
        self.assertEqual(len(after), len(rows))
        stored = db_api.get_action(self.ctx, PROJECT_A, 'a1')
        self.assertEqual(search.document_entries(stored), set(after))
        kept = (search.key_digest('path_to_backup'),
                search.value_digest('/etc'))
        self.assertEqual(before[kept], after[kept])
        self.assertNotIn((search.key_digest('backup_name'),
                          search.value_digest('first')), after)

    def test_delete_leaves_no_orphans(self):
        for i in range(3):
            db_api.create_action(self.ctx, values('a%d' % i))
        db_api.replace_action(self.ctx, values('a1', backup_name='b'))
        db_api.delete_action(self.ctx, PROJECT_A, 'a1')
        db_api.delete_action(self.ctx, PROJECT_A, 'a0', expected_version=1)
        self.assertEqual(0, self.orphan_count())
        self.assertEqual(self.entry_count(),
                         self.entry_count(self.seq_of('a2')))
        db_api.delete_action(self.ctx, PROJECT_A, 'a2')
        self.assertEqual(0, self.entry_count())

    def test_rejected_create_writes_no_entries(self):
        db_api.create_action(self.ctx, values())
        count = self.entry_count()
        self.assertRaises(exception.Conflict, db_api.create_action,
                          self.ctx, values(backup_name='dup'))
        self.assertEqual(count, self.entry_count())

    def capture_list_query(self, search_):
        """The SELECT list_actions sends, with its parameters."""
        statements = []

        def capture(conn, cursor, statement, parameters, context, many):
            if 'FROM actions' in statement:
                statements.append((statement, parameters))

        engine = self.database.engine
        sa.event.listen(engine, 'before_cursor_execute', capture)
        self.addCleanup(sa.event.remove, engine, 'before_cursor_execute',
                        capture)
        db_api.list_actions(self.ctx, PROJECT_A, search_, 10, 0)
        self.assertEqual(1, len(statements), statements)
        return statements[0]

    def test_search_is_exists_over_search_entries(self):
        db_api.create_action(self.ctx, values())
        statement, _ = self.capture_list_query(search.Search(
            match=(search.Term('backup_name', 'x'),),
            match_not=(search.Term('mode', 'fs'),)))
        self.assertIn('EXISTS', statement.upper())
        self.assertIn('NOT (EXISTS', statement.upper())
        self.assertIn('search_entries', statement)

    def test_search_uses_an_index_on_sqlite(self):
        if self.database.engine.dialect.name != 'sqlite':
            self.skipTest('EXPLAIN QUERY PLAN is SQLite only')
        for i in range(20):
            db_api.create_action(self.ctx, values('a%d' % i, n=i))
        for search_ in (match(n=3),
                        match(missing=None),
                        search.Search(match_not=(search.Term('n', 4),))):
            statement, parameters = self.capture_list_query(search_)
            with self.database.engine.connect() as conn:
                plan = [row[-1] for row in conn.exec_driver_sql(
                    'EXPLAIN QUERY PLAN ' + statement, parameters)]
            on_entries = [line for line in plan
                          if 'search_entries' in line]
            self.assertTrue(on_entries, plan)
            for line in on_entries:
                self.assertTrue(line.startswith('SEARCH'), plan)
                self.assertTrue('ix_search_entries_doc' in line or
                                'ix_search_entries_value' in line, plan)


class TestConcurrentPatches(ActionsDbTestCase):

    THREADS = 8
    WRITES = 20

    def patch(self, key, value):
        """What PATCH does: read, merge, write at the version read."""
        ctx = self.context()

        db_api.update_action(
            ctx, PROJECT_A, 'a1', controller_base.merge_into(
                {'freezer_action': {key: value}}, (),
                lambda merged: {k: merged[k] for k in COLUMNS}))

    def run_writers(self, threads, writes, write):
        """``threads`` threads each call ``write(n, i)`` ``writes`` times;
        then every key is present and no write was lost."""
        db_api.create_action(self.ctx, values())
        errors = []
        start = threading.Barrier(threads)

        def worker(n):
            try:
                start.wait()
                for i in range(writes):
                    write(n, i)
            except Exception as e:
                errors.append(e)

        workers = [threading.Thread(target=worker, args=(n,))
                   for n in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(60)
        self.assertEqual([], errors)
        stored = db_api.get_action(self.ctx, PROJECT_A, 'a1')
        for n in range(threads):
            self.assertEqual(writes - 1,
                             stored['freezer_action'].get('key%d' % n),
                             stored['freezer_action'])
        self.assertEqual(1 + threads * writes, stored['_version'])
        self.assertEqual(len(search.document_entries(stored)),
                         self.entry_count(self.seq_of('a1')))

    def test_no_lost_update(self):
        self.run_writers(self.THREADS, self.WRITES,
                         lambda n, i: self.patch('key%d' % n, i))

    def test_no_lost_update_through_the_api(self):
        # webtest is not thread-safe: one application per thread.
        apps = [webtest.TestApp(app.setup_app(self.conf))
                for _ in range(4)]
        headers = {'X-User-Id': 'user-a', 'X-Project-Id': PROJECT_A,
                   'X-Roles': 'member,reader',
                   'Content-Type': 'application/json'}

        def write(n, i):
            apps[n].patch('/v2/%s/actions/a1' % PROJECT_A,
                          json.dumps({'freezer_action': {'key%d' % n: i}}),
                          headers=headers, status=200)

        self.run_writers(len(apps), 10, write)

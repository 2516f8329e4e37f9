"""The database facade (freezer_api.db.api), called directly."""

import json
from unittest import mock

import fixtures
import sqlalchemy as sa
import webtest

from freezer_api.api import app
from freezer_api.api.controllers.v2 import base as controller_base
from freezer_api.common import exception
from freezer_api.db import api as db_api
from freezer_api.db import search_index
from freezer_api.db.sqlalchemy import api as db_impl
from freezer_api.db.sqlalchemy import models
from freezer_api.db.sqlalchemy import relations
from freezer_api.tests.unit import base
from freezer_api.tests.unit import helpers

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
    return search_index.Search(
        tuple(search_index.Term(k, v) for k, v in pairs.items()))


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
                                   search_ or search_index.Search(), limit,
                                   offset)
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
        self.assertEqual(len(search_index.document_entries(stored)),
                         self.entry_count(seq))
        db_api.update_action(self.ctx, PROJECT_A, 'a1',
                             set_to(values(backup_name='second',
                                           extra={'x': 1})))
        stored = db_api.get_action(self.ctx, PROJECT_A, 'a1')
        self.assertEqual(len(search_index.document_entries(stored)),
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
                 'project_id': PROJECT_A, 'key_hash': k, 'value_hash': v}
                for k, v in list(before)[:1]])
        db_api.update_action(self.ctx, PROJECT_A, 'a1',
                             set_to(values(backup_name='second',
                                           path_to_backup='/etc')))
        rows = self.stored_entries(seq)
        after = {(k, v): i for i, k, v in rows}
        self.assertEqual(len(after), len(rows))
        stored = db_api.get_action(self.ctx, PROJECT_A, 'a1')
        self.assertEqual(search_index.document_entries(stored), set(after))
        kept = (search_index.key_digest('path_to_backup'),
                search_index.value_digest('/etc'))
        self.assertEqual(before[kept], after[kept])
        self.assertNotIn((search_index.key_digest('backup_name'),
                          search_index.value_digest('first')), after)

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
        statements = self.useFixture(helpers.StatementCapture(
            self.database.engine, lambda s: 'FROM actions' in s)).sent
        db_api.list_actions(self.ctx, PROJECT_A, search_, 10, 0)
        self.assertEqual(1, len(statements), statements)
        return statements[0]

    def test_search_is_exists_over_search_entries(self):
        db_api.create_action(self.ctx, values())
        statement, _ = self.capture_list_query(search_index.Search(
            match=(search_index.Term('backup_name', 'x'),),
            match_not=(search_index.Term('mode', 'fs'),)))
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
                        search_index.Search(
                            match_not=(search_index.Term('n', 4),))):
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
                                'ix_search_entries_term' in line, plan)


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

        def worker(n):
            def run():
                for i in range(writes):
                    write(n, i)
            return run

        helpers.run_concurrently(
            self, [worker(n) for n in range(threads)], timeout=60,
            names=['writer %d' % n for n in range(threads)])
        stored = db_api.get_action(self.ctx, PROJECT_A, 'a1')
        for n in range(threads):
            self.assertEqual(writes - 1,
                             stored['freezer_action'].get('key%d' % n),
                             stored['freezer_action'])
        self.assertEqual(1 + threads * writes, stored['_version'])
        self.assertEqual(len(search_index.document_entries(stored)),
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


class RelationsDbTestCase(ActionsDbTestCase):
    """Jobs and sessions of project a, on client node1, built through the
    facade."""

    def setUp(self):
        super().setUp()
        db_api.register_client(self.ctx, {
            'project_id': PROJECT_A, 'user_id': 'user-a',
            'client_id': 'node1', 'is_central': False,
            'client': {'client_id': 'node1'}}, {})

    def job(self, job_id, *action_ids):
        db_api.create_job(self.ctx, {
            'job_id': job_id, 'project_id': PROJECT_A, 'user_id': 'user-a',
            'client_id': 'node1', 'session_id': '', 'session_tag': 0,
            'description': '', 'job_schedule': {}}, [
            {'action_id': a, 'create': None, 'fields': {}}
            for a in action_ids])
        return job_id

    def session(self, session_id):
        db_api.create_session(self.ctx, {
            'session_id': session_id, 'project_id': PROJECT_A,
            'user_id': 'user-a', 'session_tag': 0, 'description': '',
            'hold_off': 30, 'status': 'completed', 'result': 'success',
            'time_start': -1, 'time_end': -1, 'time_started': -1,
            'time_ended': -1, 'schedule': {}})
        return session_id

    def version(self, get, doc_id):
        return get(self.ctx, PROJECT_A, doc_id)['_version']


class PlannedWritesDbTestCase(RelationsDbTestCase):
    """Writes planned in a read transaction of their own, as on
    PostgreSQL and MySQL, whatever the database of the run (on SQLite,
    whose write transaction holds the whole database, writes plan in it:
    :class:`TestPlanInTheWrite`)."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MockPatchObject(
            db_impl, 'one_writer_holds_all', lambda: False))


class TestPlanInTheWrite(RelationsDbTestCase):
    """On SQLite a write is planned in its own write transaction, and
    the rows the plan read are not read again."""

    def setUp(self):
        super().setUp()
        if not db_impl.one_writer_holds_all():
            self.skipTest('SQLite only: servers plan in a transaction of '
                          'its own')

    def test_one_transaction_and_each_row_read_once(self):
        db_api.create_action(self.ctx, values())
        for job_id in ('j2', 'j1'):
            self.job(job_id, 'a1')
        plans = mock.Mock(wraps=relations._plan)
        locks = mock.Mock(wraps=relations._lock_row)
        with mock.patch.object(relations, '_plan', plans), \
                mock.patch.object(relations, '_lock_row', locks):
            db_api.update_action(self.ctx, PROJECT_A, 'a1',
                                 set_to(values(backup_name='x')))
        self.assertEqual(0, plans.call_count)
        # The two jobs, found by the plan by their links only.
        self.assertEqual(['jobs', 'jobs'], [
            call.args[1].resource for call in locks.call_args_list])
        self.assertEqual(2, self.version(db_api.get_action, 'a1'))
        for job_id in ('j1', 'j2'):
            self.assertEqual(2, self.version(db_api.get_job, job_id))


class TestLockOrder(PlannedWritesDbTestCase):
    """Every write locks its rows kind by kind (sessions, jobs, actions)
    and, within a kind, by ascending seq."""

    RANK = {kind.resource: rank
            for rank, kind in enumerate(relations.LOCK_ORDER)}

    def locked_by(self, write):
        """The (resource, seq) of every row ``write()`` locks, in order."""
        locked = []

        def spy(original):
            def lock(session, kind, seq):
                locked.append((kind.resource, seq))
                return original(session, kind, seq)
            return lock

        # Rows are locked as ORM objects or, for the kinds a write reads
        # with Core, as rows of columns.
        with mock.patch.object(relations, '_lock_row',
                               spy(relations._lock_row)), \
                mock.patch.object(relations, '_lock_columns',
                                  spy(relations._lock_columns)):
            write()
        return locked

    def assertInOrder(self, locked, resources):
        self.assertEqual(sorted(locked, key=lambda r: (self.RANK[r[0]],
                                                       r[1])), locked)
        self.assertEqual(resources, {resource for resource, _ in locked})

    def test_action_update_locks_its_jobs_first(self):
        db_api.create_action(self.ctx, values())
        for job_id in ('j3', 'j1', 'j2'):
            self.job(job_id, 'a1')
        locked = self.locked_by(lambda: db_api.update_action(
            self.ctx, PROJECT_A, 'a1', set_to(values(backup_name='x'))))
        self.assertEqual(4, len(locked))
        self.assertInOrder(locked, {'jobs', 'actions'})
        for job_id in ('j1', 'j2', 'j3'):
            self.assertEqual(2, self.version(db_api.get_job, job_id))

    def test_job_write_locks_the_jobs_it_renews_before_actions(self):
        for action_id in ('a2', 'a1'):
            db_api.create_action(self.ctx, values(action_id))
        self.job('shares', 'a1')
        self.job('edited', 'a2', 'a1')
        locked = self.locked_by(lambda: db_api.update_job(
            self.ctx, PROJECT_A, 'edited', lambda current: ({}, [
                {'action_id': 'a1', 'create': None,
                 'fields': {'max_retries': 9}},
                {'action_id': 'a2', 'create': None, 'fields': {}}])))
        self.assertEqual(4, len(locked))
        self.assertInOrder(locked, {'jobs', 'actions'})
        self.assertEqual(2, self.version(db_api.get_job, 'shares'))

    def test_session_writes_lock_sessions_then_jobs(self):
        self.job('j1')
        self.job('j2')
        later, earlier = self.session('s-later'), self.session('s-earlier')
        db_api.add_session_job(self.ctx, PROJECT_A, earlier, 'j1')
        # A job moving from one session to another locks both sessions.
        locked = self.locked_by(lambda: db_api.add_session_job(
            self.ctx, PROJECT_A, later, 'j1'))
        self.assertEqual(3, len(locked))
        self.assertInOrder(locked, {'sessions', 'jobs'})
        db_api.add_session_job(self.ctx, PROJECT_A, later, 'j2')
        for write in (
                lambda: db_api.session_action(self.ctx, PROJECT_A, later,
                                              'j2', 'end', result='fail'),
                lambda: db_api.delete_job(self.ctx, PROJECT_A, 'j2'),
                lambda: db_api.delete_session(self.ctx, PROJECT_A, later)):
            self.assertInOrder(self.locked_by(write), {'sessions', 'jobs'})
        self.assertEqual('', db_api.get_job(self.ctx, PROJECT_A,
                                            'j1')['session_id'])


class TestReplan(PlannedWritesDbTestCase):
    """A write whose rows change between its plan and its locks is planned
    again, and writes every row it must."""

    def after_first_plan(self, change):
        """Run ``change()`` once, between the first plan and its write;
        the returned list holds the plans made (not those of
        ``change()``'s own writes)."""
        plans = []
        changing = []
        original = relations._plan

        def spy(context, *args, **kwargs):
            plan = original(context, *args, **kwargs)
            if changing:
                return plan
            plans.append(plan)
            if len(plans) == 1:
                changing.append(True)
                change()
                changing.clear()
            return plan

        self.useFixture(fixtures.MockPatchObject(relations, '_plan', spy))
        return plans

    def test_action_update_renews_a_job_that_came_after_its_plan(self):
        db_api.create_action(self.ctx, values())
        self.job('planned', 'a1')
        plans = self.after_first_plan(lambda: self.job('newcomer', 'a1'))
        db_api.update_action(self.ctx, PROJECT_A, 'a1',
                             set_to(values(backup_name='x')))
        self.assertEqual(2, len(plans))
        for job_id in ('planned', 'newcomer'):
            job = db_api.get_job(self.ctx, PROJECT_A, job_id)
            self.assertEqual((2, 'x'), (job['_version'], job['job_actions'][
                0]['freezer_action']['backup_name']))

    def test_action_delete_unlinks_a_job_that_came_after_its_plan(self):
        db_api.create_action(self.ctx, values())
        plans = self.after_first_plan(lambda: self.job('newcomer', 'a1'))
        db_api.delete_action(self.ctx, PROJECT_A, 'a1')
        self.assertEqual(2, len(plans))
        job = db_api.get_job(self.ctx, PROJECT_A, 'newcomer')
        self.assertEqual(([], 2), (job['job_actions'], job['_version']))

    def test_session_delete_detaches_a_job_that_joined_after_its_plan(self):
        session_id = self.session('s1')
        self.job('joins')
        plans = self.after_first_plan(lambda: db_api.add_session_job(
            self.ctx, PROJECT_A, session_id, 'joins'))
        db_api.delete_session(self.ctx, PROJECT_A, session_id)
        self.assertEqual(2, len(plans))
        self.assertEqual('', db_api.get_job(self.ctx, PROJECT_A,
                                            'joins')['session_id'])

    def test_job_delete_follows_the_job_to_its_new_session(self):
        first, second = self.session('s1'), self.session('s2')
        self.job('moves')
        db_api.add_session_job(self.ctx, PROJECT_A, first, 'moves')
        plans = self.after_first_plan(lambda: db_api.add_session_job(
            self.ctx, PROJECT_A, second, 'moves'))
        db_api.delete_job(self.ctx, PROJECT_A, 'moves')
        self.assertEqual(2, len(plans))
        for session_id in (first, second):
            self.assertEqual({}, db_api.get_session(
                self.ctx, PROJECT_A, session_id)['jobs'])

    def test_rows_that_keep_changing_are_a_503(self):
        db_api.create_action(self.ctx, values())
        plans = self.after_first_plan(lambda: None)
        self.useFixture(fixtures.MockPatchObject(
            relations.Locks, 'require', side_effect=relations._Replan))
        self.assertRaises(exception.DatabaseUnavailable, db_api.update_action,
                          self.ctx, PROJECT_A, 'a1', set_to(values()))
        self.assertEqual(relations.MAX_PLANS, len(plans))
        self.assertEqual(1, self.version(db_api.get_action, 'a1'))


class TestRowWrites(RelationsDbTestCase):
    """A document's row is written by one UPDATE of the columns that
    changed, and the ORM objects of the transaction see what it wrote."""

    def updates(self):
        """The UPDATE statements sent while the test runs, by table."""
        return self.useFixture(helpers.StatementCapture(
            self.database.engine,
            lambda s: s.lstrip().upper().startswith('UPDATE'),
            parameters=False)).sent

    def test_action_update_writes_changed_columns_once(self):
        db_api.create_action(self.ctx, values())
        self.job('j1', 'a1')
        before = db_api.get_job(self.ctx, PROJECT_A, 'j1')
        updates = self.updates()
        changed = dict(values(), max_retries=9)
        db_api.update_action(self.ctx, PROJECT_A, 'a1', set_to(changed))
        on_actions = [s for s in updates if 'UPDATE actions' in s]
        self.assertEqual(1, len(on_actions), updates)
        columns = on_actions[0].split(' SET ')[1].split(' WHERE ')[0]
        self.assertEqual(['max_retries', 'updated_at', 'version'],
                         sorted(c.split('=')[0].strip()
                                for c in columns.split(',')))
        # The job renewed in the same transaction embeds what was written.
        job = db_api.get_job(self.ctx, PROJECT_A, 'j1')
        self.assertEqual(before['_version'] + 1, job['_version'])
        self.assertEqual(9, job['job_actions'][0]['max_retries'])
        self.assertEqual(2, self.version(db_api.get_action, 'a1'))

    def test_status_report_writes_the_job_row_alone(self):
        db_api.create_action(self.ctx, values())
        self.job('j1', 'a1')
        updates = self.updates()
        schedule = {'status': 'running', 'current_pid': 7}
        db_api.update_job(self.ctx, PROJECT_A, 'j1',
                          lambda current: ({'job_schedule': schedule}, None),
                          keeps_actions=True)
        self.assertEqual(['jobs'], [s.split()[1] for s in updates
                                    if 'search_texts' not in s])
        job = db_api.get_job(self.ctx, PROJECT_A, 'j1')
        self.assertEqual(schedule, job['job_schedule'])
        self.assertEqual(['a1'], [a['action_id'] for a in job['job_actions']])

    def test_update_time_moves(self):
        db_api.create_action(self.ctx, values())
        read = sa.select(models.Action.updated_at)
        with self.database.engine.connect() as conn:
            self.assertIsNone(conn.execute(read).scalar())
        db_api.update_action(self.ctx, PROJECT_A, 'a1',
                             set_to(dict(values(), max_retries=1)))
        with self.database.engine.connect() as conn:
            self.assertIsNotNone(conn.execute(read).scalar())

    def test_generated_id_taken_is_a_conflict(self):
        backup = {'backup_id': 'b1', 'project_id': PROJECT_A,
                  'user_id': 'user-a', 'status': 'available',
                  'backup_metadata': {'backup_name': 'etc'}}
        db_api.create_backup(self.ctx, backup)
        count = self.entry_count()
        self.assertRaises(exception.Conflict, db_api.create_backup,
                          self.ctx, dict(backup, backup_metadata={}))
        self.assertEqual(count, self.entry_count())
        self.assertEqual({'backup_name': 'etc'}, db_api.get_backup(
            self.ctx, PROJECT_A, 'b1')['backup_metadata'])


class TestSessionActions(RelationsDbTestCase):

    def test_start_without_a_tag_is_refused(self):
        self.job('j1')
        session_id = self.session('s1')
        db_api.add_session_job(self.ctx, PROJECT_A, session_id, 'j1')
        version = self.version(db_api.get_session, session_id)
        self.assertRaises(exception.BadRequest, db_api.session_action,
                          self.ctx, PROJECT_A, session_id, 'j1', 'start')
        self.assertEqual(version,
                         self.version(db_api.get_session, session_id))


class TestEngine(base.DbTestCase):

    def test_no_eventlet_yield_on_checkin(self):
        listeners = db_impl.get_engine().pool.dispatch.checkin
        self.assertNotIn('_thread_yield',
                         [getattr(fn, '__name__', '') for fn in listeners])

    def test_sqlite_writers_queue_in_the_process(self):
        owned = []

        @db_impl.writer
        def probe(context):
            owned.append(db_impl._sqlite_writers._is_owned())

        probe(self.context())
        sqlite = db_impl.get_engine().dialect.name == 'sqlite'
        self.assertEqual([sqlite], owned)
        self.assertFalse(db_impl._sqlite_writers._is_owned())

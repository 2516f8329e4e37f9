"""/v2/{project_id}/jobs through the whole stack."""

import time
from unittest import mock

import sqlalchemy as sa
import webtest

from freezer_api.api import app
from freezer_api.api.schemas import validator
from freezer_api.db.sqlalchemy import models
from freezer_api.tests.unit import helpers
from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as fx

URL = fx.url('jobs')
URL_B = fx.url('jobs', base.PROJECT_B)
ACTIONS = fx.url('actions')
ACTIONS_B = fx.url('actions', base.PROJECT_B)

DOCUMENT_KEYS = {'job_id', 'project_id', 'user_id', 'client_id',
                 'session_id', 'session_tag', 'description', 'job_schedule',
                 'job_actions', '_version'}


class JobsTestCase(base.ApiTestCase):

    def setUp(self):
        super().setUp()
        fx.add_client(self, 'node1')

    def item(self, job_id, url=URL):
        return '%s/%s' % (url, job_id)

    def create(self, body=None, **kwargs):
        return fx.create_job(self, body, **kwargs)

    def show(self, job_id, **kwargs):
        return fx.get_job(self, job_id, **kwargs)

    def list_jobs(self, search=None, query='?limit=1000', url=URL,
                  headers=None):
        response = self.get(url + query, body=search, headers=headers)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(['jobs'], list(response.json))
        return response.json['jobs']

    def job_ids(self, *args, **kwargs):
        return [job['job_id'] for job in self.list_jobs(*args, **kwargs)]

    def update(self, job_id, patch):
        """PATCH a job of project a; assert it was written; the new
        version."""
        response = self.patch(self.item(job_id), patch)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(job_id, response.json['job_id'])
        return response.json['version']

    def create_action(self, body, url=ACTIONS, headers=None):
        response = self.post(url, body, headers=headers)
        self.assertEqual(201, response.status_int, response.text)
        return response.json['action_id']

    def action_ids(self, url=ACTIONS, headers=None):
        response = self.get(url + '?limit=1000', headers=headers)
        self.assertEqual(200, response.status_int, response.text)
        return [a['action_id'] for a in response.json['actions']]

    def row_counts(self):
        """Rows of every table a job write touches."""
        with self.database.engine.connect() as conn:
            return {table.__tablename__: conn.execute(
                sa.select(sa.func.count()).select_from(table)).scalar()
                for table in (models.Job, models.Action, models.JobAction,
                              models.SearchEntry)}

    def assertRejectedLeavesNothing(self, body, status, url=URL,
                                    description=None):
        before = (self.job_ids(), self.action_ids(), self.row_counts())
        response = self.post(url, body)
        fault = self.assertFault(response, status)
        if description is not None:
            self.assertEqual(description, fault['description'])
        self.assertEqual(before, (self.job_ids(), self.action_ids(),
                                  self.row_counts()))
        return fault


class TestCreate(JobsTestCase):

    def test_inline_actions_become_actions(self):
        body = fx.job_body(job_actions=[
            fx.FS_BACKUP, {'freezer_action': {'action': 'info'}}])
        response = self.post(URL, body)
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual(['job_id'], list(response.json))
        job_id = response.json['job_id']
        self.assertRegex(job_id, '^[0-9a-f]{32}$')

        job = self.show(job_id)
        self.assertEqual(DOCUMENT_KEYS, set(job))
        self.assertEqual(base.PROJECT_A, job['project_id'])
        self.assertEqual('user-a', job['user_id'])
        self.assertEqual('node1', job['client_id'])
        self.assertEqual('etc every day', job['description'])
        self.assertEqual(1, job['_version'])
        embedded = job['job_actions']
        self.assertEqual(2, len(embedded))
        # The inline actions are actions of the project, in job order.
        self.assertEqual([a['action_id'] for a in embedded],
                         self.action_ids())
        for entry in embedded:
            shown = self.get('%s/%s' % (ACTIONS, entry['action_id']))
            self.assertEqual(shown.json, entry)
        self.assertEqual(fx.FS_BACKUP['freezer_action'],
                         embedded[0]['freezer_action'])
        self.assertEqual((3, 10), (embedded[0]['max_retries'],
                                   embedded[0]['max_retries_interval']))
        # Defaults of an action.
        self.assertEqual({'action': 'info'}, embedded[1]['freezer_action'])
        self.assertEqual((5, 6, False), (embedded[1]['max_retries'],
                                         embedded[1]['max_retries_interval'],
                                         embedded[1]['mandatory']))
        self.assertEqual('user-a', embedded[1]['user_id'])
        self.assertEqual(base.PROJECT_A, embedded[1]['project_id'])

    def test_etag_is_the_version(self):
        job_id = self.create()
        response = self.get(self.item(job_id))
        self.assertEqual('"1"', response.headers['ETag'])

    def test_inline_action_with_chosen_id(self):
        body = fx.job_body(job_actions=[dict(fx.FS_BACKUP,
                                             action_id='etc-action')])
        job_id = self.create(body)
        self.assertEqual(['etc-action'], self.action_ids())
        self.assertEqual('etc-action',
                         self.show(job_id)['job_actions'][0]['action_id'])

    def test_action_defaults_fill_missing_and_null_keys(self):
        body = fx.job_body(
            job_actions=[
                {'freezer_action': {'action': 'backup', 'mode': None,
                                    'container': 'own'}},
                {'freezer_action': {'action': 'restore',
                                    'restore_abs_path': '/tmp/r'}},
            ],
            action_defaults={'mode': 'fs', 'container': 'shared',
                             'storage': 'local', 'log_file': '/var/log/f'})
        job = self.show(self.create(body))
        self.assertNotIn('action_defaults', job)
        first, second = (a['freezer_action'] for a in job['job_actions'])
        self.assertEqual({'action': 'backup', 'mode': 'fs',
                          'container': 'own', 'storage': 'local',
                          'log_file': '/var/log/f'}, first)
        self.assertEqual({'action': 'restore', 'restore_abs_path': '/tmp/r',
                          'mode': 'fs', 'container': 'shared',
                          'storage': 'local', 'log_file': '/var/log/f'},
                         second)

    def test_bad_action_defaults(self):
        # Refused even where no action of the job needs the default.
        for defaults in ('fs', ['mode'], {'mode': 'tape'},
                         {'timeout': 'long'}):
            body = fx.job_body(action_defaults=defaults)
            fault = self.assertRejectedLeavesNothing(body, 400)
            self.assertIn('action_defaults', fault['description'])

    def test_reference_an_existing_action_by_id_alone(self):
        action_id = self.create_action(fx.FS_BACKUP)
        action = self.get('%s/%s' % (ACTIONS, action_id)).json
        job_id = self.create(fx.job_body(job_actions=[
            {'action_id': action_id}, {'action_id': action_id}]))
        job = self.show(job_id)
        self.assertEqual([action, action], job['job_actions'])
        self.assertEqual([action_id], self.action_ids())
        # Another job may link it too.
        other = self.create(fx.job_body(job_actions=[
            {'action_id': action_id}]))
        self.assertEqual([action], self.show(other)['job_actions'])
        self.assertEqual(1, self.get('%s/%s' % (ACTIONS, action_id))
                         .json['_version'])

    def test_unknown_action_id_alone_is_422(self):
        self.create_action(fx.FS_BACKUP)
        body = fx.job_body(job_actions=[fx.FS_BACKUP, {'action_id': 'nope'}])
        fault = self.assertRejectedLeavesNothing(body, 422)
        self.assertIn('nope', fault['description'])

    def test_action_id_of_another_project_is_409(self):
        other = self.create_action(fx.FS_BACKUP, ACTIONS_B, base.MEMBER_B)
        before = self.get('%s/%s' % (ACTIONS_B, other),
                          headers=base.MEMBER_B).json
        for entry in ({'action_id': other},
                      dict(fx.MYSQL_BACKUP, action_id=other)):
            body = fx.job_body(job_actions=[fx.FS_BACKUP, entry])
            fault = self.assertRejectedLeavesNothing(body, 409)
            self.assertNotIn(base.PROJECT_B, fault['description'])
        self.assertEqual(before, self.get('%s/%s' % (ACTIONS_B, other),
                                          headers=base.MEMBER_B).json)

    def test_job_schedule_times_are_the_service_s(self):
        before = int(time.time())
        job_id = self.create(fx.job_body(job_schedule={
            'time_created': 1, 'time_started': 2, 'time_ended': 3,
            'schedule_interval': '1 days', 'event': '', 'status': ''}))
        after = int(time.time())
        schedule = self.show(job_id)['job_schedule']
        self.assertTrue(before <= schedule.pop('time_created') <= after)
        self.assertEqual({'time_started': -1, 'time_ended': -1,
                          'schedule_interval': '1 days', 'event': '',
                          'status': ''}, schedule)

    def test_missing_schedule_is_created(self):
        body = fx.job_body()
        del body['job_schedule']
        schedule = self.show(self.create(body))['job_schedule']
        self.assertEqual({'time_created', 'time_started', 'time_ended'},
                         set(schedule))

    def test_defaults(self):
        body = fx.job_body()
        del body['description']
        job = self.show(self.create(body))
        self.assertEqual('', job['session_id'])
        self.assertEqual(0, job['session_tag'])
        self.assertEqual('', job['description'])
        job = self.show(self.create(fx.job_body(session_id=None,
                                                session_tag=4)))
        self.assertEqual('', job['session_id'])
        self.assertEqual(4, job['session_tag'])

    def test_empty_job_actions(self):
        job = self.show(self.create(fx.job_body(job_actions=[])))
        self.assertEqual([], job['job_actions'])

    def test_unknown_client_is_422(self):
        self.assertRejectedLeavesNothing(
            fx.job_body(client_id='x'), 422,
            description='Client not found with ID x')
        # Nor is a (non-central) client of another project visible.
        fx.add_client(self, 'node-b', base.PROJECT_B)
        self.assertRejectedLeavesNothing(
            fx.job_body(client_id='node-b'), 422,
            description='Client not found with ID node-b')

    def test_capability_mismatch_is_422(self):
        fx.add_client(self, 'small', supported_actions=['backup'],
                      supported_modes=['fs'], supported_storages=['local'],
                      supported_engines=['tar'])
        for key, value in (('mode', 'mysql'), ('storage', 'swift'),
                           ('engine_name', 'rsync'), ('action', 'restore')):
            freezer_action = dict(fx.FS_BACKUP['freezer_action'],
                                  **{key: value})
            body = fx.job_body('small', job_actions=[
                fx.FS_BACKUP, {'freezer_action': freezer_action}])
            self.assertRejectedLeavesNothing(
                body, 422,
                description='Client small does not support %s: %s'
                % (key, value))
        # Within its capabilities it is fine.
        self.create(fx.job_body('small'))

    def test_capabilities_of_a_referenced_action_are_checked(self):
        fx.add_client(self, 'small', supported_modes=['fs'])
        action_id = self.create_action(fx.MYSQL_BACKUP)
        self.assertRejectedLeavesNothing(
            fx.job_body('small', job_actions=[{'action_id': action_id}]),
            422, description='Client small does not support mode: mysql')

    def test_central_client_of_another_project(self):
        fx.add_client(self, 'central1', base.PROJECT_B, is_central=True,
                      supported_modes=['fs'])
        job_id = self.create(fx.job_body('central1'))
        self.assertEqual('central1', self.show(job_id)['client_id'])
        self.assertRejectedLeavesNothing(
            fx.job_body('central1', job_actions=[fx.MYSQL_BACKUP]), 422,
            description='Client central1 does not support mode: mysql')

    def test_rejected_job_leaves_nothing_behind(self):
        self.create(fx.job_body(job_id='taken'))
        inline = [fx.FS_BACKUP, dict(fx.MYSQL_BACKUP, action_id='inline-1')]
        # 400: invalid schedule, invalid second action.
        self.assertRejectedLeavesNothing(
            fx.job_body(job_actions=inline,
                        job_schedule={'status': 'bogus'}), 400)
        self.assertRejectedLeavesNothing(
            fx.job_body(job_actions=inline + [
                {'freezer_action': {'mode': 'fs'}}]), 400)
        # 409: the job id is taken.
        self.assertRejectedLeavesNothing(
            fx.job_body(job_actions=inline, job_id='taken'), 409)
        # 409: the second action's id is taken in another project.
        self.assertEqual('b-action', self.create_action(
            dict(fx.FS_BACKUP, action_id='b-action'), ACTIONS_B,
            base.MEMBER_B))
        self.assertRejectedLeavesNothing(
            fx.job_body(job_actions=[fx.FS_BACKUP,
                                     dict(fx.FS_BACKUP,
                                          action_id='b-action')]), 409)
        # 422: unknown client, after the inline actions were resolved.
        self.assertRejectedLeavesNothing(
            fx.job_body('ghost', job_actions=inline), 422)
        self.assertEqual(404, self.get('%s/inline-1' % ACTIONS).status_int)

    def test_rejected_job_does_not_change_referenced_actions(self):
        action_id = self.create_action(fx.FS_BACKUP)
        before = self.get('%s/%s' % (ACTIONS, action_id)).json
        changed = dict(fx.FS_BACKUP, action_id=action_id, max_retries=9)
        self.assertRejectedLeavesNothing(
            fx.job_body('ghost', job_actions=[changed]), 422)
        self.assertEqual(before,
                         self.get('%s/%s' % (ACTIONS, action_id)).json)

    def test_chosen_job_id(self):
        self.assertEqual('my-job_1', self.create(fx.job_body(
            job_id='my-job_1')))
        self.assertEqual('my-job_1', self.show('my-job_1')['job_id'])
        fault = self.assertRejectedLeavesNothing(
            fx.job_body(job_id='my-job_1'), 409, )
        self.assertEqual('Document already existing',
                         self.post(URL, fx.job_body(job_id='my-job_1'))
                         .json['title'])
        self.assertIn('my-job_1', fault['description'])
        # Taken in another project as well; nothing else is told.
        fx.add_client(self, 'node1', base.PROJECT_B)
        response = self.post(URL_B, fx.job_body(job_id='my-job_1'),
                             headers=base.MEMBER_B)
        fault = self.assertFault(response, 409)
        self.assertNotIn(base.PROJECT_A, fault['description'])
        self.assertEqual([], self.job_ids(url=URL_B, headers=base.MEMBER_B))
        self.assertEqual([], self.action_ids(ACTIONS_B, base.MEMBER_B))

    def test_bad_job_ids(self):
        for job_id in ('', 'bad id', 'a/b', 'a.b', 'x' * 256, 7, None,
                       'é\x00'):
            self.assertRejectedLeavesNothing(fx.job_body(job_id=job_id),
                                             400)

    def test_user_credentials_are_never_stored(self):
        trust = {'trust_id': 'evil', 'trustor_user_id': 'admin'}
        job_id = self.create(fx.job_body(user_credentials=trust))
        self.assertNotIn('user_credentials', self.show(job_id))
        # Accepted, and ignored: the service makes trusts, not clients.
        self.assertEqual(2, self.update(job_id, {'user_credentials': trust}))
        self.assertNotIn('user_credentials', self.show(job_id))
        for url, version in ((self.item(job_id), 3),
                             (self.item('new-one'), 1)):
            response = self.post(url, fx.job_body(user_credentials=trust))
            self.assertEqual(201, response.status_int, response.text)
            self.assertEqual(version, response.json['version'])
        self.assertNotIn('user_credentials', self.show(job_id))
        self.assertNotIn('user_credentials', self.show('new-one'))
        with self.database.engine.connect() as conn:
            self.assertEqual(0, conn.execute(
                sa.select(sa.func.count()).select_from(models.Job)
                .where(models.Job.user_credentials.is_not(None))).scalar())

    def test_ids_come_from_identity_and_url(self):
        job_id = self.create(fx.job_body(project_id=base.PROJECT_B,
                                         user_id='evil'))
        job = self.show(job_id)
        self.assertEqual(base.PROJECT_A, job['project_id'])
        self.assertEqual('user-a', job['user_id'])
        self.assertEqual([], self.job_ids(url=URL_B, headers=base.MEMBER_B))

    def test_invalid_bodies(self):
        for body in ({}, {'client_id': 'node1'}, {'job_actions': []},
                     fx.job_body(extra=1),
                     fx.job_body(job_schedule={'schedule_interval': '5 m'}),
                     fx.job_body(job_schedule={'nope': 1}),
                     fx.job_body(session_tag=-1),
                     fx.job_body(job_actions={}),
                     fx.job_body(job_actions=[{}]),
                     fx.job_body(job_actions=[{'max_retries': 1}]),
                     fx.job_body(client_id='bad id')):
            self.assertRejectedLeavesNothing(body, 400)
        response = self.post(URL, raw='[]')
        self.assertFault(response, 400)
        response = self.post(URL, raw='')
        self.assertFault(response, 400)

    def test_trailing_slash(self):
        fx.assert_trailing_slashes_work(self, 'jobs', fx.job_body())

    def test_show_missing_is_json_404(self):
        self.assertFault(self.get(self.item('nope')), 404, 'Not Found')
        job_id = self.create()
        fx.add_client(self, 'node1', base.PROJECT_B)
        self.assertFault(self.get(self.item(job_id, URL_B),
                                  headers=base.MEMBER_B), 404)


class TestPatch(JobsTestCase):

    def setUp(self):
        super().setUp()
        self.job_id = self.create()
        self.url = self.item(self.job_id)

    def patch_ok(self, body, **kwargs):
        response = self.patch(self.url, body, **kwargs)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual({'job_id', 'version'}, set(response.json))
        self.assertEqual(self.job_id, response.json['job_id'])
        self.assertEqual('"%d"' % response.json['version'],
                         response.headers['ETag'])
        return response.json['version']

    def test_scheduler_run_once_sequence(self):
        """The PATCHes freezer-scheduler sends while it runs a job."""
        job = self.show(self.job_id)
        local = dict(job['job_schedule'], schedule_date='2030-01-01T10:00:00')
        actions = job['job_actions']
        steps = [
            {'status': 'scheduled', 'event': ''},
            {'status': 'running', 'result': '', 'time_started': 1700000000,
             'time_ended': -1},
            {'current_pid': 4242},
            {'status': 'completed', 'result': 'success',
             'time_ended': 1700000100},
        ]
        for version, step in enumerate(steps, start=2):
            local.update(step)
            self.assertEqual(version, self.patch_ok({
                'job_schedule': local, 'session_id': '', 'session_tag': 0}))
            job = self.show(self.job_id)
            self.assertEqual(local, job['job_schedule'])
            self.assertEqual(version, job['_version'])
            self.assertEqual(actions, job['job_actions'])
            self.assertEqual(('', 0), (job['session_id'],
                                       job['session_tag']))
        # A completed job drops out of the scheduler's poll.
        search = {'match': [{'client_id': 'node1'}],
                  'match_not': [{'status': 'completed'}]}
        self.assertEqual([], self.job_ids(
            search, '?limit=10&offset=0&all_projects=False'))

    def test_job_schedule_is_merged_key_by_key(self):
        created = self.show(self.job_id)['job_schedule']
        self.patch_ok({'job_schedule': {'status': 'scheduled',
                                        'event': ''}})
        self.assertEqual(dict(created, status='scheduled', event=''),
                         self.show(self.job_id)['job_schedule'])
        # null removes a key.
        self.patch_ok({'job_schedule': {'schedule_interval': None,
                                        'schedule_date':
                                        '2030-01-01T10:00:00'}})
        expected = dict(created, status='scheduled', event='',
                        schedule_date='2030-01-01T10:00:00')
        del expected['schedule_interval']
        self.assertEqual(expected, self.show(self.job_id)['job_schedule'])

    def test_other_fields_are_kept(self):
        before = self.show(self.job_id)
        self.assertEqual(2, self.patch_ok({'description': 'renamed'}))
        after = self.show(self.job_id)
        self.assertEqual(dict(before, description='renamed', _version=2),
                         after)

    def test_patch_without_job_actions_keeps_them(self):
        before = self.show(self.job_id)['job_actions']
        actions_before = self.action_ids()
        self.patch_ok({'job_schedule': {'status': 'running'}})
        self.patch_ok({'client_id': 'node1'})
        self.assertEqual(before, self.show(self.job_id)['job_actions'])
        self.assertEqual(actions_before, self.action_ids())

    def test_patch_without_job_actions_keeps_them_searchable(self):
        backup_name = self.show(self.job_id)['job_actions'][0][
            'freezer_action']['backup_name']
        self.patch_ok({'job_schedule': {'status': 'running'}})
        for term in ({'backup_name': backup_name}, {'status': 'running'}):
            self.assertEqual([self.job_id],
                             self.job_ids({'match': [term]}), term)
        self.assertEqual([], self.job_ids({'match': [{'status': 'stop'}]}))

    def test_patch_with_job_actions_replaces_them(self):
        old = self.show(self.job_id)['job_actions'][0]['action_id']
        existing = self.create_action({'freezer_action': {'action': 'info'}})
        self.patch_ok({'job_actions': [
            {'action_id': existing}, fx.MYSQL_BACKUP]})
        job = self.show(self.job_id)
        self.assertEqual(2, len(job['job_actions']))
        self.assertEqual(existing, job['job_actions'][0]['action_id'])
        self.assertEqual(fx.MYSQL_BACKUP['freezer_action'],
                         job['job_actions'][1]['freezer_action'])
        # The old action is no longer linked, but still an action.
        self.assertNotIn(old, [a['action_id'] for a in job['job_actions']])
        self.assertIn(old, self.action_ids())
        self.patch_ok({'job_actions': []})
        self.assertEqual([], self.show(self.job_id)['job_actions'])

    def test_echoing_the_document_back_changes_no_action(self):
        """Clients send a shown job back whole (PATCH or replace)."""
        job = self.show(self.job_id)
        actions = self.get(ACTIONS).json['actions']
        self.assertEqual(2, self.patch_ok(job))
        response = self.post(self.url, self.show(self.job_id))
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual(3, response.json['version'])
        after = self.show(self.job_id)
        self.assertEqual(dict(job, _version=3), after)
        self.assertEqual(actions, self.get(ACTIONS).json['actions'])

    def test_job_actions_entry_may_update_its_action(self):
        job = self.show(self.job_id)
        entry = dict(job['job_actions'][0], max_retries=1)
        entry['freezer_action'] = dict(entry['freezer_action'],
                                       backup_name='changed')
        self.patch_ok({'job_actions': [entry]})
        shown = self.get('%s/%s' % (ACTIONS, entry['action_id'])).json
        self.assertEqual((1, 'changed', 2), (
            shown['max_retries'], shown['freezer_action']['backup_name'],
            shown['_version']))
        self.assertEqual([shown], self.show(self.job_id)['job_actions'])
        self.assertEqual([entry['action_id']], self.action_ids())

    def test_patch_with_job_actions_checks_capabilities(self):
        fx.add_client(self, 'small', supported_modes=['fs'])
        self.patch_ok({'client_id': 'small'})
        before = self.show(self.job_id)
        counts = self.row_counts()
        response = self.patch(self.url, {'job_actions': [fx.MYSQL_BACKUP]})
        self.assertFault(response, 422)
        self.assertEqual(before, self.show(self.job_id))
        self.assertEqual(counts, self.row_counts())

    def test_ids_cannot_be_patched(self):
        before = self.show(self.job_id)
        self.patch_ok({'project_id': base.PROJECT_B, 'user_id': 'evil',
                       'job_id': 'other', 'description': 'x'})
        after = self.show(self.job_id)
        self.assertEqual(dict(before, description='x', _version=2), after)
        self.assertFault(self.get(self.item('other')), 404)
        self.assertEqual([], self.job_ids(url=URL_B, headers=base.MEMBER_B))

    def test_user_id_is_the_last_writer(self):
        self.patch_ok({'description': 'x'},
                      headers=dict(base.MEMBER_A, **{'X-User-Id': 'user-z'}))
        self.assertEqual('user-z', self.show(self.job_id)['user_id'])

    def test_unknown_client_changes_nothing(self):
        before = self.show(self.job_id)
        response = self.patch(self.url, {'client_id': 'ghost',
                                         'description': 'x'})
        fault = self.assertFault(response, 422)
        self.assertEqual('Client not found with ID ghost',
                         fault['description'])
        self.assertEqual(before, self.show(self.job_id))

    def test_client_change_checks_capabilities(self):
        fx.add_client(self, 'mysql-only', supported_modes=['mysql'])
        before = self.show(self.job_id)
        response = self.patch(self.url, {'client_id': 'mysql-only'})
        self.assertFault(response, 422)
        self.assertEqual(before, self.show(self.job_id))

    def test_invalid_patch_changes_nothing(self):
        before = self.show(self.job_id)
        for patch in ({'job_schedule': {'status': 'bogus'}},
                      {'job_schedule': {'nope': 1}},
                      {'job_schedule': 'daily'},
                      {'session_tag': -1}, {'session_tag': 'x'},
                      {'client_id': 'bad id'}, {'client_id': None},
                      {'job_actions': None}, {'job_actions': [{}]},
                      {'job_actions': [{'freezer_action': {}}]},
                      {'extra': 1}):
            self.assertFault(self.patch(self.url, patch), 400)
        self.assertFault(self.patch(self.url, raw='[1]'), 400)
        self.assertEqual(before, self.show(self.job_id))

    def test_recorded_scheduler_patches_all_pass(self):
        for recorded_job in fx.SCHEDULER_PATCHES:
            job_id = self.create(fx.job_body(job_schedule={}))
            for version, patch in enumerate(recorded_job, start=2):
                response = self.patch(self.item(job_id), patch)
                self.assertEqual(200, response.status_int, response.text)
                self.assertEqual(version, response.json['version'])
                job = self.show(job_id)
                self.assertEqual((patch['session_id'], patch['session_tag']),
                                 (job['session_id'], job['session_tag']))
                self.assertEqual(job['job_schedule'],
                                 dict(job['job_schedule'],
                                      **patch['job_schedule']))

    def test_a_patch_and_the_job_it_makes_are_validated_once_each(self):
        # The scheduler's status reports are the hot path.
        patch = fx.SCHEDULER_PATCHES[0][0]
        original = validator.Validator.validate
        with mock.patch.object(validator.Validator, 'validate',
                               autospec=True,
                               side_effect=original) as validate:
            self.patch_ok(patch)
            self.create()
        self.assertEqual(['job patch', 'job', 'job'], [
            call.args[0].schema['title'] for call in validate.mock_calls])

    def test_patch_of_a_wrong_type_is_refused_naming_the_key(self):
        before = self.show(self.job_id)
        for patch, field in (
                ({'job_schedule': {'status': 5}}, 'job_schedule.status'),
                ({'job_schedule': {'current_pid': 'x'}},
                 'job_schedule.current_pid'),
                ({'session_tag': 'x'}, 'session_tag'),
                ({'description': 5}, 'description'),
                ({'job_actions': [{'freezer_action': 3}]},
                 'job_actions.0.freezer_action'),
                ({'job_actions': [{'max_retries': 'x', 'action_id': 'a'}]},
                 'job_actions.0.max_retries')):
            fault = self.assertFault(self.patch(self.url, patch), 400,
                                     'Bad request format')
            self.assertTrue(fault['description'].startswith(field + ':'),
                            fault)
        self.assertEqual(before, self.show(self.job_id))

    def test_patch_is_checked_before_the_job_is_read(self):
        self.assertFault(self.patch(self.item('nope'),
                                    {'job_schedule': {'status': 5}}), 400)

    def test_ids_in_a_patch_are_ignored_whatever_their_value(self):
        before = self.show(self.job_id)
        self.patch_ok({'job_id': 5, 'project_id': None, 'user_id': ['x'],
                       '_version': 'old', 'user_credentials': 'forged',
                       'description': 'x'})
        self.assertEqual(dict(before, description='x', _version=2),
                         self.show(self.job_id))

    def test_patched_actions_may_take_their_action_from_defaults(self):
        inline = {'freezer_action': {'mode': 'fs', 'action': None,
                                     'backup_name': 'b'}}
        self.patch_ok({'job_actions': [inline],
                       'action_defaults': {'action': 'backup'}})
        (shown,) = self.show(self.job_id)['job_actions']
        self.assertEqual('backup', shown['freezer_action']['action'])
        fault = self.assertFault(self.patch(self.url, {
            'job_actions': [{'freezer_action': {'mode': 'fs'}}]}), 400)
        self.assertIn('job_actions.0.freezer_action', fault['description'])

    def test_patch_missing_job_is_404(self):
        self.assertFault(self.patch(self.item('nope'), {'description': 'x'}),
                         404, 'Not Found')
        fx.add_client(self, 'node1', base.PROJECT_B)
        self.assertFault(self.patch(self.item(self.job_id, URL_B),
                                    {'description': 'x'},
                                    headers=base.MEMBER_B), 404)
        self.assertEqual(1, self.show(self.job_id)['_version'])

    def test_versions_and_if_match(self):
        self.assertEqual(2, self.patch_ok({'description': 'a'},
                                          headers=base.with_if_match(1)))
        response = self.patch(self.url, {'description': 'b'},
                              headers=base.with_if_match(1))
        self.assertFault(response, 412)
        self.assertEqual('a', self.show(self.job_id)['description'])
        self.assertEqual(3, self.patch_ok({'description': 'b'}))
        self.assertEqual('"3"', self.get(self.url).headers['ETag'])
        self.assertFault(self.post(self.url, fx.job_body(),
                                   headers=base.with_if_match(2)), 412)
        self.assertFault(self.delete(self.url, headers=base.with_if_match(2)),
                         412)
        self.assertEqual(3, self.show(self.job_id)['_version'])
        response = self.delete(self.url, headers=base.with_if_match(3))
        self.assertEqual(204, response.status_int)


class TestReplace(JobsTestCase):

    def test_create_then_replace(self):
        url = self.item('job-1')
        response = self.post(url, fx.job_body())
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual({'job_id': 'job-1', 'version': 1}, response.json)
        created = self.show('job-1')
        self.assertEqual(-1, created['job_schedule']['time_started'])
        self.assertIn('time_created', created['job_schedule'])

        body = fx.job_body(job_actions=[fx.MYSQL_BACKUP],
                           description='replaced',
                           job_schedule={'schedule_interval': '2 days',
                                         'time_created': 5})
        response = self.post(url, body)
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual({'job_id': 'job-1', 'version': 2}, response.json)
        job = self.show('job-1')
        self.assertEqual('replaced', job['description'])
        self.assertEqual({'schedule_interval': '2 days', 'time_created': 5,
                          'time_started': -1, 'time_ended': -1},
                         job['job_schedule'])
        self.assertEqual([fx.MYSQL_BACKUP['freezer_action']],
                         [a['freezer_action'] for a in job['job_actions']])
        self.assertEqual(['job-1'], self.job_ids())

    def test_replace_in_another_project_is_409(self):
        job_id = self.create()
        before = self.show(job_id)
        fx.add_client(self, 'node1', base.PROJECT_B)
        response = self.post(self.item(job_id, URL_B), fx.job_body(),
                             headers=base.MEMBER_B)
        self.assertFault(response, 409)
        self.assertEqual(before, self.show(job_id))
        self.assertEqual([], self.job_ids(url=URL_B, headers=base.MEMBER_B))
        self.assertEqual([], self.action_ids(ACTIONS_B, base.MEMBER_B))

    def test_rejected_replace_changes_nothing(self):
        job_id = self.create()
        before = self.show(job_id)
        counts = self.row_counts()
        for body, status in ((fx.job_body('ghost'), 422),
                             (fx.job_body(job_actions=[{'action_id': 'x'}]),
                              422),
                             ({'job_actions': []}, 400)):
            self.assertFault(self.post(self.item(job_id), body), status)
        self.assertEqual(before, self.show(job_id))
        self.assertEqual(counts, self.row_counts())
        self.assertFault(self.post(self.item('new'), fx.job_body('ghost')),
                         422)
        self.assertFault(self.get(self.item('new')), 404)

    def test_bad_id_in_url(self):
        for job_id in ('bad%20id', 'a.b', 'x' * 256):
            self.assertFault(self.post(self.item(job_id), fx.job_body()),
                             400)
        self.assertEqual([], self.job_ids())


class TestEvents(JobsTestCase):

    def setUp(self):
        super().setUp()
        self.job_id = self.create()
        self.url = self.item(self.job_id) + '/event'

    def event(self, name, status=202, **kwargs):
        response = self.post(self.url, {name: None}, **kwargs)
        self.assertEqual(status, response.status_int, response.text)
        return response.json

    def test_events(self):
        version = self.update(self.job_id, {'job_schedule': {
            'status': 'completed', 'result': 'fail'}})
        self.assertEqual(version, self.show(self.job_id)['_version'])
        for name in ('start', 'stop', 'abort', 'start'):
            self.assertEqual({'result': 'success'}, self.event(name))
            version += 1
            job = self.show(self.job_id)
            self.assertEqual(name, job['job_schedule']['event'])
            self.assertEqual(version, job['_version'])
            # Repeating it changes nothing.
            self.assertEqual({'result': '%s already requested' % name},
                             self.event(name))
            self.assertEqual(job, self.show(self.job_id))

    def test_start_clears_status_and_result(self):
        self.update(self.job_id, {'job_schedule': {
            'status': 'completed', 'result': 'fail', 'event': ''}})
        schedule = self.show(self.job_id)['job_schedule']
        self.assertEqual(('completed', 'fail'), (schedule['status'],
                                                 schedule['result']))
        self.assertEqual({'result': 'success'}, self.event('start'))
        schedule = self.show(self.job_id)['job_schedule']
        self.assertEqual(('start', '', ''), (schedule['event'],
                                             schedule['status'],
                                             schedule['result']))
        self.assertEqual('1 days', schedule['schedule_interval'])

    def test_stop_and_abort_only_set_the_event(self):
        self.update(self.job_id, {'job_schedule': {
            'status': 'running', 'result': '', 'current_pid': 99}})
        before = self.show(self.job_id)['job_schedule']
        self.assertEqual(('running', 99), (before['status'],
                                           before['current_pid']))
        for name in ('stop', 'abort'):
            self.assertEqual({'result': 'success'}, self.event(name))
            self.assertEqual(dict(before, event=name),
                             self.show(self.job_id)['job_schedule'])

    def test_a_report_of_a_run_that_has_not_seen_a_stop_keeps_it(self):
        running = {'status': 'running', 'result': '', 'event': '',
                   'time_started': 1795740100}
        for name in ('stop', 'abort'):
            self.update(self.job_id, {'job_schedule': dict(running)})
            self.assertEqual({'result': 'success'}, self.event(name))
            # The agent's pid, reported with the schedule polled before
            # the request: the request stays for the scheduler to see.
            self.update(self.job_id, {'job_schedule': dict(
                running, current_pid=4242)})
            schedule = self.show(self.job_id)['job_schedule']
            self.assertEqual((name, 'running', 4242),
                             (schedule['event'], schedule['status'],
                              schedule['current_pid']))
            # Nor does the end of a run that did not see it.
            self.update(self.job_id, {'job_schedule': {
                'status': 'scheduled', 'event': '', 'result': 'success'}})
            self.assertEqual(name, self.show(self.job_id)['job_schedule'][
                'event'])
            # The end of the run, after seeing it, clears it.
            self.update(self.job_id, {'job_schedule': {
                'status': 'completed', 'event': '', 'result': 'fail'}})
            self.assertEqual('', self.show(self.job_id)['job_schedule'][
                'event'])
        # A stop the scheduler handles between runs is cleared as sent.
        self.assertEqual({'result': 'success'}, self.event('stop'))
        self.update(self.job_id, {'job_schedule': {'status': 'stop',
                                                   'event': ''}})
        self.assertEqual('', self.show(self.job_id)['job_schedule']['event'])

    def test_event_keeps_the_actions(self):
        before = self.show(self.job_id)
        self.assertEqual({'result': 'success'}, self.event(
            'abort', headers=dict(base.MEMBER_A, **{'X-User-Id': 'user-z'})))
        after = self.show(self.job_id)
        self.assertEqual(before['job_actions'], after['job_actions'])
        self.assertEqual('user-z', after['user_id'])
        self.assertEqual(self.action_ids(),
                         [a['action_id'] for a in after['job_actions']])

    def test_bad_events_are_400(self):
        before = self.show(self.job_id)
        for raw in ('{"remove": null}', '{"bogus": null}', '{}', '',
                    '{"start": null, "stop": null}', '[]', '"start"',
                    'null'):
            response = self.post(self.url, raw=raw)
            self.assertFault(response, 400)
        self.assertEqual(before, self.show(self.job_id))

    def test_unknown_job_is_404(self):
        response = self.post(self.item('nope') + '/event', {'start': None})
        self.assertFault(response, 404, 'Not Found')
        fx.add_client(self, 'node1', base.PROJECT_B)
        response = self.post(self.item(self.job_id, URL_B) + '/event',
                             {'start': None}, headers=base.MEMBER_B)
        self.assertFault(response, 404)
        self.assertNotIn('event', self.show(self.job_id)['job_schedule'])

    def test_get_is_405(self):
        response = self.get(self.url)
        self.assertFault(response, 405)


class TestDelete(JobsTestCase):

    def test_delete(self):
        job_id = self.create()
        actions = self.action_ids()
        response = self.delete(self.item(job_id))
        self.assertEqual(204, response.status_int)
        self.assertEqual(b'', response.body)
        self.assertFault(self.get(self.item(job_id)), 404)
        self.assertEqual([], self.job_ids())
        # The actions stay: they are actions of the project.
        self.assertEqual(actions, self.action_ids())
        # Again, and for something that never existed: still 204.
        self.assertEqual(204, self.delete(self.item(job_id)).status_int)
        self.assertEqual(204, self.delete(self.item('never')).status_int)
        # The id is free again.
        self.assertEqual(job_id, self.create(fx.job_body(job_id=job_id)))

    def test_delete_from_another_project_url_does_nothing(self):
        fx.assert_other_project_deletes_nothing(self, 'jobs', self.create())


class TestSearch(JobsTestCase):

    def test_scheduler_poll(self):
        fx.add_client(self, 'node2')
        mine = [self.create() for _ in range(3)]
        self.create(fx.job_body('node2'))
        self.update(mine[1], {'job_schedule': {
            'status': 'completed', 'result': 'success'}})
        search = {'match': [{'client_id': 'node1'}],
                  'match_not': [{'status': 'completed'}]}
        for url in (URL, URL + '/'):
            self.assertEqual([mine[0], mine[2]], self.job_ids(
                search, '?limit=10&offset=0&all_projects=False', url=url))
        # Jobs of the same client id in another project are not polled.
        fx.add_client(self, 'node1', base.PROJECT_B)
        self.create(project_id=base.PROJECT_B)
        self.assertEqual([mine[0], mine[2]], self.job_ids(
            search, '?limit=10&offset=0&all_projects=False'))

    def test_scheduler_pages_by_ten(self):
        ids = [self.create() for _ in range(12)]
        search = {'match': [{'client_id': 'node1'}],
                  'match_not': [{'status': 'completed'}]}
        first = self.job_ids(search, '?limit=10&offset=0&all_projects=False')
        second = self.job_ids(search,
                              '?limit=10&offset=10&all_projects=False')
        self.assertEqual(ids, first + second)
        self.assertEqual(10, len(first))

    def test_any_occurrence_of_a_key_matches(self):
        both = self.create(fx.job_body(job_actions=[fx.FS_BACKUP,
                                                    fx.MYSQL_BACKUP]))
        fs = self.create()
        mysql = self.create(fx.job_body(job_actions=[fx.MYSQL_BACKUP]))
        self.assertEqual([both, fs], self.job_ids({'match': [{'mode':
                                                              'fs'}]}))
        self.assertEqual([both, mysql],
                         self.job_ids({'match': [{'mode': 'mysql'}]}))
        self.assertEqual([both], self.job_ids({'match': [
            {'mode': 'fs'}, {'mode': 'mysql'}]}))
        self.assertEqual([mysql], self.job_ids({'match_not': [{'mode':
                                                               'fs'}]}))
        self.assertEqual([fs], self.job_ids({'match_not': [{'mode':
                                                            'mysql'}]}))

    def test_search_by_schedule_and_top_level_keys(self):
        one = self.create(fx.job_body(description='one'))
        two = self.create(fx.job_body(job_schedule={
            'schedule_interval': '2 days'}))
        self.assertEqual([one], self.job_ids({'match': [
            {'description': 'one'}]}))
        self.assertEqual([two], self.job_ids({'match': [
            {'schedule_interval': '2 days'}]}))
        self.assertEqual([one, two], self.job_ids({'match': [
            {'project_id': base.PROJECT_A}, {'user_id': 'user-a'}]}))
        self.assertEqual([two], self.job_ids({'match': [{'job_id': two}]}))

    def test_editing_an_action_changes_its_jobs(self):
        job_id = self.create()
        other = self.create()
        action_id = self.show(job_id)['job_actions'][0]['action_id']
        self.create(fx.job_body(job_actions=[{'action_id': action_id}]))
        linking = self.job_ids()[::2]
        self.assertEqual([job_id, linking[1]], linking)
        response = self.patch('%s/%s' % (ACTIONS, action_id), {
            'freezer_action': {'backup_name': 'renamed'}})
        self.assertEqual(200, response.status_int, response.text)
        for linked in linking:
            job = self.show(linked)
            self.assertEqual('renamed', job['job_actions'][0][
                'freezer_action']['backup_name'])
            self.assertEqual(2, job['_version'])
            self.assertEqual(2, job['job_actions'][0]['_version'])
        self.assertEqual(1, self.show(other)['_version'])
        self.assertEqual(linking, self.job_ids(
            {'match': [{'backup_name': 'renamed'}]}))
        self.assertEqual([other], self.job_ids(
            {'match': [{'backup_name': 'etc-backup'}]}))
        # Replacing the action does the same.
        response = self.post('%s/%s' % (ACTIONS, action_id),
                             fx.MYSQL_BACKUP)
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual(3, self.show(job_id)['_version'])
        self.assertEqual(linking, self.job_ids({'match': [{'mode':
                                                           'mysql'}]}))

    def test_deleting_an_action_unlinks_it(self):
        job_id = self.create(fx.job_body(job_actions=[
            fx.FS_BACKUP, fx.MYSQL_BACKUP, {'freezer_action': {
                'action': 'info'}}]))
        first, second, third = (a['action_id'] for a in
                                self.show(job_id)['job_actions'])
        response = self.delete('%s/%s' % (ACTIONS, second))
        self.assertEqual(204, response.status_int)
        job = self.show(job_id)
        self.assertEqual([first, third],
                         [a['action_id'] for a in job['job_actions']])
        self.assertEqual(2, job['_version'])
        self.assertEqual([], self.job_ids({'match': [{'mode': 'mysql'}]}))
        self.assertEqual([job_id], self.job_ids({'match': [{'action':
                                                            'info'}]}))
        # A PATCH of the job keeps the remaining actions in order.
        self.assertEqual(3, self.update(job_id, {'description': 'x'}))
        self.assertEqual([first, third], [
            a['action_id'] for a in self.show(job_id)['job_actions']])

    def test_deleting_from_another_project_unlinks_nothing(self):
        job_id = self.create()
        before = self.show(job_id)
        action_id = before['job_actions'][0]['action_id']
        response = self.delete('%s/%s' % (ACTIONS_B, action_id),
                               headers=base.MEMBER_B)
        self.assertEqual(204, response.status_int)
        self.assertEqual(before, self.show(job_id))
        self.assertEqual(200, self.get('%s/%s' % (ACTIONS, action_id))
                         .status_int)


class TestAllProjects(JobsTestCase):

    def setUp(self):
        super().setUp()
        fx.add_client(self, 'node1', base.PROJECT_B)
        self.job_a = self.create()
        self.job_b = self.create(project_id=base.PROJECT_B)
        self.admin_url = fx.url('jobs', 'admin-project')

    def test_member_cannot_widen(self):
        # python-freezerclient always sends all_projects: a member asking
        # for all projects gets the project of the URL, never more.
        for query in ('?all_projects=true', '?all_projects=True',
                      '?all_projects=False', ''):
            self.assertEqual([self.job_a], self.job_ids(query=query))
        response = self.get(self.item(self.job_b) + '?all_projects=true')
        self.assertFault(response, 404)
        response = self.get(self.item(self.job_b, self.admin_url) +
                            '?all_projects=true')
        self.assertFault(response, 403)

    def test_admin_and_service_with_all_projects(self):
        for headers in (base.ADMIN, base.SERVICE):
            ids = self.job_ids(url=self.admin_url,
                               query='?all_projects=true', headers=headers)
            self.assertEqual([self.job_a, self.job_b], ids)
            for job_id, project in ((self.job_a, base.PROJECT_A),
                                    (self.job_b, base.PROJECT_B)):
                response = self.get(self.item(job_id, self.admin_url) +
                                    '?all_projects=true', headers=headers)
                self.assertEqual(200, response.status_int, response.text)
                self.assertEqual(project, response.json['project_id'])
            # A search applies across projects.
            self.assertEqual([self.job_b], self.job_ids(
                {'match': [{'project_id': base.PROJECT_B}]},
                url=self.admin_url, query='?all_projects=true',
                headers=headers))

    def test_admin_without_all_projects_sees_the_url_project(self):
        for query in ('', '?all_projects=false', '?all_projects=0'):
            self.assertEqual([self.job_b], self.job_ids(
                url=URL_B, query=query, headers=base.ADMIN))
            self.assertEqual([], self.job_ids(
                url=self.admin_url, query=query, headers=base.ADMIN))
            self.assertFault(self.get(self.item(self.job_a, self.admin_url)
                                      + query, headers=base.ADMIN), 404)
        self.assertEqual(200, self.get(self.item(self.job_a),
                                       headers=base.ADMIN).status_int)

    def test_all_projects_must_be_a_boolean(self):
        for headers in (base.MEMBER_A, base.ADMIN):
            for query in ('?all_projects=maybe', '?all_projects=',
                          '?all_projects=2'):
                fault = self.assertFault(self.get(URL + query,
                                                  headers=headers), 400)
                self.assertIn('all_projects', fault['description'])
                self.assertFault(self.get(self.item(self.job_a) + query,
                                          headers=headers), 400)

    def test_writes_stay_in_the_url_project(self):
        self.assertFault(self.patch(self.item(self.job_b, self.admin_url) +
                                    '?all_projects=true',
                                    {'description': 'x'},
                                    headers=base.ADMIN), 404)
        self.assertFault(self.post(self.item(self.job_b, self.admin_url) +
                                   '/event?all_projects=true',
                                   {'start': None}, headers=base.ADMIN),
                         404)
        self.assertEqual(1, self.show(self.job_b, project_id=base.PROJECT_B)
                         ['_version'])


class TestCurrentPid(JobsTestCase):

    def setUp(self):
        super().setUp()
        fx.add_client(self, 'central1', base.PROJECT_B, is_central=True)
        self.own = self.create()
        self.central = self.create(fx.job_body('central1'))
        self.no_pid = self.create(fx.job_body('central1'))
        for job_id in (self.own, self.central):
            response = self.patch(self.item(job_id), {'job_schedule': {
                'status': 'running', 'current_pid': 4242}})
            self.assertEqual(200, response.status_int, response.text)

    def pids(self, headers=base.MEMBER_A, query=''):
        shown = {job_id: self.show(job_id, headers=headers)
                 for job_id in (self.own, self.central, self.no_pid)}
        listed = {job['job_id']: job for job in self.list_jobs(
            query='?limit=100' + query, headers=headers)}
        self.assertEqual(shown, listed)
        return {job_id: job['job_schedule'].get('current_pid')
                for job_id, job in shown.items()}

    def test_member_sees_pids_of_own_clients_only(self):
        expected = {self.own: 4242, self.central: None, self.no_pid: None}
        self.assertEqual(expected, self.pids())
        self.assertEqual(expected, self.pids(base.READER_A))
        # Everything else of the schedule is shown.
        schedule = self.show(self.central)['job_schedule']
        self.assertEqual('running', schedule['status'])

    def test_admin_sees_every_pid(self):
        expected = {self.own: 4242, self.central: 4242, self.no_pid: None}
        self.assertEqual(expected, self.pids(base.ADMIN))
        self.assertEqual(expected, self.pids(base.SERVICE))

    def test_pid_is_still_stored(self):
        # A member's PATCH of the schedule does not lose the hidden PID.
        self.update(self.central, {'job_schedule': {'status': 'completed'}})
        schedule = self.show(self.central, headers=base.ADMIN)['job_schedule']
        self.assertEqual((4242, 'completed'), (schedule['current_pid'],
                                               schedule['status']))


class TestJobAndActionRace(JobsTestCase):
    """A job and an action it embeds, written at once (PostgreSQL and
    MySQL take row locks; SQLite has one writer): renewing the job for
    its action must not write from a copy read before its lock."""

    WRITES = 25

    def setUp(self):
        super().setUp()
        self.action_id = self.post(fx.url('actions'), fx.FS_BACKUP).json[
            'action_id']
        self.job_id = fx.create_job(self, fx.job_body(
            job_actions=[{'action_id': self.action_id}]))
        self.job_url = fx.url('jobs', base.PROJECT_A, self.job_id)
        self.action_url = fx.url('actions', base.PROJECT_A, self.action_id)

    def patch_job(self, wsgi, n):
        """One If-Match read-modify-write of the job, retried on 412."""
        while True:
            current = wsgi.get(self.job_url, headers=base.MEMBER_A)
            response = wsgi.patch_json(
                self.job_url, {'description': 'job write %d' % n},
                headers=dict(base.MEMBER_A,
                             **{'If-Match': current.headers['ETag']}),
                expect_errors=True)
            if response.status_int != 412:
                return response.status_int

    def patch_action(self, wsgi, n):
        return wsgi.patch_json(
            self.action_url,
            {'freezer_action': {'backup_name': 'action write %d' % n}},
            headers=base.MEMBER_A, expect_errors=True).status_int

    def test_every_write_gets_its_own_version(self):
        before = fx.get_job(self, self.job_id)['_version']
        statuses = {'job': [], 'action': []}

        def writer(kind, write, wsgi):
            return lambda: statuses[kind].extend(
                write(wsgi, n) for n in range(self.WRITES))

        # Apps are built before the threads start: building a Pecan app
        # resets Pecan's thread-local request state.
        helpers.run_concurrently(
            self, [writer(*args, webtest.TestApp(app.setup_app(self.conf)))
                   for args in (('job', self.patch_job),
                                ('action', self.patch_action))],
            timeout=300, barrier=False, names=['the job writer',
                                               'the action writer'])
        self.assertEqual({'job': [200] * self.WRITES,
                          'action': [200] * self.WRITES}, statuses)
        job = fx.get_job(self, self.job_id)
        self.assertEqual(before + 2 * self.WRITES, job['_version'])
        self.assertEqual('job write %d' % (self.WRITES - 1),
                         job['description'])
        self.assertEqual('action write %d' % (self.WRITES - 1),
                         job['job_actions'][0]['freezer_action']
                         ['backup_name'])

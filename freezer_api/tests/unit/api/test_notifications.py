"""Notifications (oslo.messaging's notifier): sent after the write
committed, once, with the documented types and payloads."""

from unittest import mock

import fixtures
from oslo_db import exception as db_exc
from oslo_messaging.notify import _impl_test

from freezer_api.common import notifications
from freezer_api.db.sqlalchemy import relations
from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as jf
from freezer_api.tests.unit.api import test_runs


class NotificationsTestCase(base.ApiTestCase):

    driver = 'test'

    def setUp(self):
        super().setUp()
        if self.driver:
            self.conf.set_override('driver', [self.driver],
                                   'oslo_messaging_notifications')
        self.conf.set_override('transport_url', 'fake:/',
                               'oslo_messaging_notifications')
        # The notifier is made again, from these options.
        notifications.configure(self.conf)
        self.addCleanup(notifications.configure, self.conf)
        _impl_test.reset()
        self.addCleanup(_impl_test.reset)
        self.conf.set_override('run_timeout', 10 ** 9, 'history')

    def sent(self, reset=True):
        """[(event_type, payload)] sent since the last call."""
        events = [(message['event_type'], message['payload'])
                  for _ctxt, message, priority, _retry
                  in _impl_test.NOTIFICATIONS]
        for _ctxt, message, priority, _retry in _impl_test.NOTIFICATIONS:
            self.assertEqual('INFO', priority.upper())
            self.assertTrue(message['publisher_id'].startswith('backup.'))
        if reset:
            _impl_test.reset()
        return events

    def types(self):
        return [event_type for event_type, _payload in self.sent()]


class TestCrud(NotificationsTestCase):

    def test_job_crud_and_runs(self):
        jf.add_client(self)
        self.assertEqual(['client.create'], self.types())
        job_id = jf.create_job(self)
        sent = self.sent()
        self.assertEqual(['job.create'], [t for t, _p in sent])
        self.assertEqual({'project_id': 'project-a', 'user_id': 'user-a',
                          'job_id': job_id, 'version': 1}, sent[0][1])
        self.assertNotIn('user_credentials', str(sent))

        response = self.patch(jf.url('jobs', base.PROJECT_A, job_id),
                              {'description': 'changed'})
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual([('job.update', {
            'project_id': 'project-a', 'user_id': 'user-a',
            'job_id': job_id, 'version': 2})], self.sent())

        response = self.post(jf.url('jobs', base.PROJECT_A, job_id,
                                    'event'), {'start': None})
        self.assertEqual(202, response.status_int, response.text)
        sent = self.sent()
        self.assertEqual('job.event', sent[0][0])
        self.assertEqual('start', sent[0][1]['event'])

        response = self.patch(jf.url('jobs', base.PROJECT_A, job_id),
                              test_runs.report('running', 1795740100))
        self.assertEqual(200, response.status_int, response.text)
        sent = self.sent()
        self.assertEqual(['run.start', 'job.update'], [t for t, _ in sent])
        start = sent[0][1]
        self.assertEqual(job_id, start['job_id'])
        self.assertEqual('node1', start['client_id'])
        self.assertEqual('project-a', start['project_id'])
        self.assertEqual(1795740100, start['time_started'])
        run_id = start['run_id']

        backup = self.post(jf.url('backups'), {
            'container': 'c', 'hostname': 'h', 'backup_name': 'b',
            'job_id': job_id})
        self.assertEqual(201, backup.status_int, backup.text)
        backup_id = backup.json['backup_id']
        self.assertEqual([('backup.create', {
            'project_id': 'project-a', 'user_id': 'user-a',
            'backup_id': backup_id, 'version': 1})], self.sent())

        response = self.patch(jf.url('jobs', base.PROJECT_A, job_id),
                              test_runs.report('completed', 1795740100,
                                               1795740160, 'success'))
        self.assertEqual(200, response.status_int, response.text)
        sent = self.sent()
        self.assertEqual(['run.end', 'job.update'], [t for t, _ in sent])
        end = sent[0][1]
        self.assertEqual(run_id, end['run_id'])
        self.assertEqual('success', end['result'])
        self.assertEqual(1795740160, end['time_ended'])
        self.assertEqual(60, end['duration'])
        self.assertEqual([backup_id], end['backup_ids'])

        response = self.delete(jf.url('jobs', base.PROJECT_A, job_id))
        self.assertEqual(204, response.status_int, response.text)
        self.assertEqual([('job.delete', {
            'project_id': 'project-a', 'user_id': 'user-a',
            'job_id': job_id, 'version': 5})], self.sent())
        # A delete of nothing tells nothing.
        self.delete(jf.url('jobs', base.PROJECT_A, job_id))
        self.assertEqual([], self.sent())

    def test_other_resources(self):
        response = self.post(jf.url('actions'), {
            'freezer_action': {'action': 'backup', 'path_to_backup': '/'}})
        self.assertEqual(201, response.status_int, response.text)
        action_id = response.json['action_id']
        self.assertEqual([('action.create', {
            'project_id': 'project-a', 'user_id': 'user-a',
            'action_id': action_id, 'version': 1})], self.sent())
        self.patch(jf.url('actions', base.PROJECT_A, action_id),
                   {'max_retries': 3})
        self.assertEqual(['action.update'], self.types())
        self.delete(jf.url('actions', base.PROJECT_A, action_id))
        self.assertEqual(['action.delete'], self.types())

        session_id = jf.create_session(self)
        self.assertEqual(['session.create'], self.types())
        self.patch(jf.url('sessions', base.PROJECT_A, session_id),
                   {'description': 'x'})
        self.assertEqual(['session.update'], self.types())
        self.delete(jf.url('sessions', base.PROJECT_A, session_id))
        sent = self.sent()
        self.assertEqual(['session.delete'], [t for t, _ in sent])
        self.assertEqual(session_id, sent[0][1]['session_id'])

        jf.add_client(self, 'node2')
        self.assertEqual([('client.create', {
            'project_id': 'project-a', 'user_id': 'user-a',
            'client_id': 'node2', 'version': 1})], self.sent())
        self.delete(jf.url('clients', base.PROJECT_A, 'node2'))
        self.assertEqual(['client.delete'], self.types())

        backup = self.post(jf.url('backups'), {
            'container': 'c', 'hostname': 'h', 'backup_name': 'b'})
        backup_id = backup.json['backup_id']
        self.sent()
        response = self.patch(jf.url('backups', base.PROJECT_A, backup_id),
                              {'backup_metadata': {'level': 1}})
        self.assertEqual(200, response.status_int, response.text)
        self.delete(jf.url('backups', base.PROJECT_A, backup_id))
        self.assertEqual(['backup.update', 'backup.delete'], self.types())

    def test_nothing_for_a_refused_request(self):
        jf.add_client(self)
        job_id = jf.create_job(self)
        self.sent()
        job = jf.url('jobs', base.PROJECT_A, job_id)
        # 400, 404, 409, 412, 422.
        self.assertEqual(400, self.patch(job, raw='[1]').status_int)
        self.assertEqual(404, self.patch(
            jf.url('jobs', base.PROJECT_A, 'nope'),
            {'description': 'x'}).status_int)
        self.assertEqual(409, self.post(jf.url('jobs'), jf.job_body(
            job_id=job_id)).status_int)
        self.assertEqual(412, self.patch(
            job, {'description': 'x'},
            headers=base.with_if_match(99)).status_int)
        self.assertEqual(412, self.delete(
            job, headers=base.with_if_match(99)).status_int)
        self.assertEqual(422, self.patch(
            job, {'client_id': 'unknown'}).status_int)
        self.assertEqual([], self.sent())

    def test_once_when_replanned(self):
        jf.add_client(self)
        job_id = jf.create_job(self)
        self.sent()
        # A status report is stored by _store_kept_job.
        real = relations._store_kept_job
        calls = []

        def replan_once(*args, **kwargs):
            document = real(*args, **kwargs)
            calls.append(1)
            if len(calls) == 1:
                raise relations._Replan()
            return document

        self.useFixture(fixtures.MonkeyPatch(
            'freezer_api.db.sqlalchemy.relations._store_kept_job',
            replan_once))
        response = self.patch(jf.url('jobs', base.PROJECT_A, job_id),
                              test_runs.report('running', 1795740100))
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(2, len(calls))
        self.assertEqual(['run.start', 'job.update'], self.types())

    def test_once_when_retried_on_deadlock(self):
        jf.add_client(self)
        self.sent()
        from freezer_api.db.sqlalchemy import documents
        real = documents.insert
        calls = []

        def deadlock_once(*args, **kwargs):
            document = real(*args, **kwargs)
            calls.append(1)
            if len(calls) == 1:
                raise db_exc.DBDeadlock()
            return document

        self.useFixture(fixtures.MonkeyPatch(
            'freezer_api.db.sqlalchemy.documents.insert', deadlock_once))
        backup = self.post(jf.url('backups'), {
            'container': 'c', 'hostname': 'h', 'backup_name': 'b'})
        self.assertEqual(201, backup.status_int, backup.text)
        self.assertEqual(2, len(calls))
        self.assertEqual(['backup.create'], self.types())

    def test_broker_failure_does_not_fail_the_request(self):
        self.conf.set_override('driver', ['messagingv2'],
                               'oslo_messaging_notifications')
        self.conf.set_override(
            'transport_url', 'rabbit://guest:s3cret-pw@127.0.0.1:1/',
            'oslo_messaging_notifications')
        notifications.configure(self.conf)
        logs = self.useFixture(fixtures.FakeLogger(level='WARNING'))
        for _ in range(2):
            response = self.post(jf.url('backups'), {
                'container': 'c', 'hostname': 'h', 'backup_name': 'b'})
            self.assertEqual(201, response.status_int, response.text)
        self.assertEqual(1, logs.output.count('Notifications cannot be sent'),
                         logs.output)
        self.assertNotIn('s3cret-pw', logs.output)
        self.assertNotIn('Traceback', logs.output)

    def test_send_never_raises(self):
        with mock.patch.object(notifications, '_get_notifier',
                               side_effect=RuntimeError('boom')):
            notifications.send('job.create', {})


class TestNoopByDefault(NotificationsTestCase):

    driver = None

    def test_noop(self):
        self.assertEqual([],
                         self.conf.oslo_messaging_notifications.driver)
        jf.add_client(self)
        jf.create_job(self)
        self.assertEqual([], self.sent())

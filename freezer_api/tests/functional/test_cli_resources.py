"""Clients, jobs, sessions and backups through the real ``freezer`` CLI.

python-freezerclient 6.5.0 with password auth through the real Keystone
(the backup endpoint comes from the catalog), against the keystone-mode
server; raw HTTP with the users' tokens where the CLI shows too little.
The request files are the API reference's samples, with ids and names
made unique. Users (fixtures_keystone.USERS): alice is member of
project-a, bob member of project-b.
"""

import ast
import copy
import csv
import io
import json
import pprint
import uuid

from freezer_api.tests.functional import base

# api-ref sample "clients-create-request.json" (the nested form)
CLIENT_CREATE_SAMPLE = {
    "client": {
        "hostname": "szaher01",
        "uuid": "c4031a4885384376a717a238de975a9c",
    },
    "client_id": "752d8cd43d654e7a840bbfd277ce41af_szaher01",
}

# api-ref sample "job-create-request.json"
JOB_CREATE_SAMPLE = {
    "description": "Test-0001",
    "job_schedule": {
        "schedule_interval": "5 minutes",
        "status": "scheduled",
        "event": "start",
    },
    "job_actions": [{
        "max_retries": 5,
        "max_retries_interval": 6,
        "freezer_action": {
            "backup_name": "test0001_backup",
            "container": "test0001_container",
            "no_incremental": True,
            "path_to_backup": "/etc/",
            "log_file": "/home/saad/job0001.log",
            "snapshot": True,
            "action": "backup",
            "remove_older_than": 365,
        },
    }],
}

# api-ref sample "job-update-request.json"
JOB_UPDATE_SAMPLE = {
    "description": "Test-0001",
    "job_schedule": {
        "schedule_interval": "5 minutes",
        "status": "scheduled",
        "event": "stop",
    },
    "job_actions": [{
        "max_retries": 10,
        "max_retries_interval": 10,
        "freezer_action": {
            "backup_name": "test0001_backup",
            "container": "/tmp/xyzxyzxyz",
            "storage": "local",
            "no_incremental": True,
            "path_to_backup": "/etc/",
            "log_file": "/home/saad/job0001.log",
            "snapshot": False,
            "action": "backup",
            "remove_older_than": 365,
        },
    }],
}

# api-ref sample "sessions-create-request.json"
SESSION_CREATE_SAMPLE = {
    "session_tag": 20,
    "description": "Webapp Database backup ",
    "hold_off": 30,
    "schedule": {
        "schedule_interval": "1 hours",
        "status": "scheduled",
        "event": "start",
    },
}

# api-ref sample "sessions-update-request.json"
SESSION_UPDATE_SAMPLE = {
    "session_tag": 250,
    "description": "Instance Database backup ",
    "hold_off": 50,
    "schedule": {
        "schedule_interval": "1 days",
        "status": "scheduled",
        "event": "start",
    },
}

# api-ref sample "backup-create-request.json"
BACKUP_CREATE_SAMPLE = {
    "status": "creating",
    "action": "backup",
    "always_level": "",
    "backup_media": "fs",
    "backup_name": "test0001_backup",
    "client_os": "linux2",
    "client_version": "5.0.0",
    "compression": "gzip",
    "consistency_checksum": "",
    "container": "/tmp/test0001_container",
    "container_segments": "",
    "curr_backup_level": 0,
    "dry_run": "",
    "fs_real_path": "/etc/",
    "hostname": "szaher",
    "job_id": "0ae284d514eb47dd84154748b5056749",
    "log_file": "/home/saad/job0001.log",
    "max_level": "",
    "mode": "fs",
    "os_auth_version": "",
    "path_to_backup": "/etc/",
    "proxy": "",
    "ssh_host": "",
    "ssh_key": "",
    "ssh_port": 22,
    "ssh_username": "",
    "storage": "local",
    "time_stamp": 1493052022,
    "vol_snap_path": "/etc/",
}


def _column(listing, name):
    """The non-empty values of one column of a ``-f json`` list (an empty
    list prints one row of blanks)."""
    return [row[name] for row in listing if row.get(name)]


class CliResourcesTest(base.FunctionalTestCase):

    auth_strategy = 'keystone'

    # ------------------------------------------------------------ helpers
    def item(self, resource, item_id, user='alice'):
        return f'{self.v2_path(resource, user)}/{item_id}'

    def get_doc(self, resource, item_id, user='alice'):
        resp = self.http('GET', self.item(resource, item_id, user),
                         user=user)
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()

    def backup_list(self, *args, user='alice'):
        """``freezer backup-list`` rows (dicts of strings).

        CSV, not JSON: backup-list puts a datetime in "Created at", which
        the CLI's JSON formatter cannot serialise.
        """
        rc, out, err = self.cli('backup-list', '-f', 'csv', *args, user=user)
        self.assertEqual(0, rc, f'freezer backup-list {args}: {err}')
        return list(csv.DictReader(io.StringIO(out)))

    def assert_cli_not_found(self, *args, user='alice'):
        rc, out, err = self.cli(*args, user=user)
        self.assertNotEqual(0, rc, f'freezer {args} as {user}: {out}')
        self.assertIn('not found', (out + err).lower())

    def new_client_id(self, user='alice'):
        return f'{self.project_id(user)}_{self.unique("node")}'

    def create(self, resource, doc, user):
        """POST a new document of ``resource`` through raw HTTP, deleted
        when the test ends; returns the id the reply gives."""
        resp = self.http('POST', self.v2_path(resource, user), user=user,
                         json=doc)
        self.assertEqual(201, resp.status_code, resp.text)
        doc_id = resp.json()[resource[:-1] + '_id']
        self.addCleanup(self.http, 'DELETE',
                        self.item(resource, doc_id, user), user=user)
        return doc_id

    def register_client(self, user='alice'):
        """A client registered through raw HTTP (flat form)."""
        client_id = self.new_client_id(user)
        return self.create('clients', {
            'client_id': client_id,
            'hostname': client_id.split('_', 1)[1]}, user)

    def create_job(self, client_id, doc=None, user='alice'):
        """A job through raw HTTP (default: the api-ref sample)."""
        doc = copy.deepcopy(doc or JOB_CREATE_SAMPLE)
        doc['client_id'] = client_id
        doc['description'] = self.unique('job')
        return self.create('jobs', doc, user)

    def create_session(self, user='alice'):
        doc = dict(SESSION_CREATE_SAMPLE, description=self.unique('sess'))
        return self.create('sessions', doc, user)

    def create_backup(self, doc=None, user='alice'):
        """A backup through raw HTTP (default: the api-ref sample), with a
        unique backup_name."""
        doc = dict(doc or BACKUP_CREATE_SAMPLE,
                   backup_name=self.unique('bk'))
        return self.create('backups', doc, user), doc

    def post_event(self, job_id, event, user='alice'):
        return self.http('POST', self.item('jobs', job_id, user) + '/event',
                         user=user, json={event: None})

    # ------------------------------------------------------------ clients
    def test_client_register_list_show_delete(self):
        client_id = self.new_client_id()
        client_uuid = uuid.uuid4().hex
        doc = copy.deepcopy(CLIENT_CREATE_SAMPLE)
        doc['client_id'] = client_id
        doc['client']['uuid'] = client_uuid
        path = self.write_json(doc)
        self.addCleanup(self.http, 'DELETE', self.item('clients', client_id),
                        user='alice')

        shown = self.cli_json('client-register', '--file', path)
        self.assertEqual(client_id, shown['Client ID'])
        self.assertEqual(client_uuid, shown['Client UUID'])
        self.assertEqual('szaher01', shown['hostname'])
        # registration is an upsert: again is fine, and changes nothing
        self.assertEqual(shown, self.cli_json('client-register', '--file',
                                              path))

        self.assertIn(client_id,
                      _column(self.cli_json('client-list'), 'Client ID'))
        self.assertEqual(shown, self.cli_json('client-show', client_id))
        raw = self.get_doc('clients', client_id)
        self.assertEqual(client_id, raw['client']['client_id'])
        self.assertEqual(self.project_id('alice'), raw['project_id'])
        self.assertEqual(self.keystone.user_ids['alice'], raw['user_id'])
        self.assertIsInstance(raw['_version'], int)

        rc, out, err = self.cli('client-delete', client_id)
        self.assertEqual(0, rc, err)
        self.assert_cli_not_found('client-show', client_id)
        self.assertNotIn(client_id,
                         _column(self.cli_json('client-list'), 'Client ID'))

    # --------------------------------------------------------------- jobs
    def test_job_create_list_show_get(self):
        client_id = self.register_client()
        other_client = self.register_client()
        other_job = self.create_job(other_client)
        doc = copy.deepcopy(JOB_CREATE_SAMPLE)
        doc['description'] = self.unique('job')

        shown = self.cli_json('job-create', '--file', self.write_json(doc),
                              '--client', client_id)
        job_id = shown['Job ID']
        self.assertTrue(job_id)
        self.addCleanup(self.http, 'DELETE', self.item('jobs', job_id),
                        user='alice')
        self.assertEqual(client_id, shown['Client ID'])
        self.assertEqual(self.keystone.user_ids['alice'], shown['User ID'])
        self.assertEqual(doc['description'], shown['Description'])
        self.assertEqual('5 minutes', shown['Interval'])
        self.assertEqual('scheduled', shown['Status'])
        self.assertEqual('start', shown['Event'])
        self.assertFalse(shown['Session ID'])
        self.assertIn('test0001_backup', shown['Actions'])

        self.assertEqual(shown, self.cli_json('job-show', job_id))
        everything = _column(self.cli_json('job-list'), 'Job ID')
        self.assertIn(job_id, everything)
        self.assertIn(other_job, everything)
        self.assertEqual([job_id], _column(
            self.cli_json('job-list', '--client', client_id), 'Job ID'))

        raw = self.get_doc('jobs', job_id)
        self.assertEqual(job_id, raw['job_id'])
        self.assertEqual(self.project_id('alice'), raw['project_id'])
        self.assertIsInstance(raw['_version'], int)
        self.assertIsInstance(raw['job_schedule']['time_created'], int)
        self.assertEqual(1, len(raw['job_actions']))
        action = raw['job_actions'][0]
        self.assertEqual(JOB_CREATE_SAMPLE['job_actions'][0]
                         ['freezer_action'],
                         {k: v for k, v in action['freezer_action'].items()
                          if v is not None})
        self.assertEqual(5, action['max_retries'])
        self.assertEqual(6, action['max_retries_interval'])

        # job-get prints the document as a Python literal
        for extra in ([], ['--no-format']):
            rc, out, err = self.cli('job-get', job_id, *extra)
            self.assertEqual(0, rc, err)
            self.assertEqual(raw, ast.literal_eval(out.strip()))

    def test_job_update_merges_schedule(self):
        client_id = self.register_client()
        job_id = self.create_job(client_id)
        before = self.get_doc('jobs', job_id)

        shown = self.cli_json('job-update', job_id,
                              self.write_json(JOB_UPDATE_SAMPLE))
        self.assertEqual(shown, self.cli_json('job-show', job_id))
        self.assertEqual('stop', shown['Event'])
        self.assertEqual('scheduled', shown['Status'])
        after = self.get_doc('jobs', job_id)
        # job_schedule is merged: what the server set on create stays
        self.assertEqual(before['job_schedule']['time_created'],
                         after['job_schedule']['time_created'])
        self.assertEqual(dict(before['job_schedule'], event='stop'),
                         after['job_schedule'])
        self.assertEqual(client_id, after['client_id'])
        action = after['job_actions'][0]
        self.assertEqual('/tmp/xyzxyzxyz',
                         action['freezer_action']['container'])
        self.assertEqual('local', action['freezer_action']['storage'])
        self.assertEqual(10, action['max_retries'])
        self.assertGreater(after['_version'], before['_version'])

        # a patch naming one schedule key keeps all the others
        shown = self.cli_json('job-update', job_id, self.write_json(
            {"job_schedule": {"schedule_interval": "10 minutes"}}))
        self.assertEqual('10 minutes', shown['Interval'])
        self.assertEqual('stop', shown['Event'])
        final = self.get_doc('jobs', job_id)
        self.assertEqual(dict(after['job_schedule'],
                              schedule_interval='10 minutes'),
                         final['job_schedule'])
        self.assertEqual(after['description'], final['description'])
        self.assertEqual(after['job_actions'], final['job_actions'])
        self.assertGreater(final['_version'], after['_version'])

    def test_job_events(self):
        client_id = self.register_client()
        job_id = self.create_job(client_id)   # the sample: event "start"

        # (command, event, what the job shows afterwards)
        for command, event, status in (('job-stop', 'stop', 'scheduled'),
                                       ('job-start', 'start', ''),
                                       ('job-abort', 'abort', '')):
            rc, out, err = self.cli(command, job_id)
            self.assertEqual(0, rc, err)
            shown = self.cli_json('job-show', job_id)
            self.assertEqual(event, shown['Event'], command)
            self.assertEqual(status, shown['Status'], command)
            resp = self.post_event(job_id, event)
            self.assertEqual(202, resp.status_code, resp.text)
            self.assertEqual({'result': f'{event} already requested'},
                             resp.json())
        # start cleared status and result; abort left them alone
        sched = self.get_doc('jobs', job_id)['job_schedule']
        self.assertEqual(('abort', '', ''), (sched.get('event'),
                                             sched.get('status') or '',
                                             sched.get('result') or ''))

        resp = self.post_event('no-such-job', 'start')
        self.assertEqual(404, resp.status_code, resp.text)
        self.assertEqual({'title', 'description'}, set(resp.json()))
        resp = self.post_event(job_id, 'remove')
        self.assertEqual(400, resp.status_code, resp.text)

    def test_job_delete(self):
        client_id = self.register_client()
        job_id = self.create_job(client_id)
        self.assertIn(job_id, _column(self.cli_json('job-list'), 'Job ID'))
        rc, out, err = self.cli('job-delete', job_id)
        self.assertEqual(0, rc, err)
        self.assert_cli_not_found('job-show', job_id)
        self.assertNotIn(job_id,
                         _column(self.cli_json('job-list'), 'Job ID'))
        resp = self.http('GET', self.item('jobs', job_id), user='alice')
        self.assertEqual(404, resp.status_code, resp.text)

    # ----------------------------------------------------------- sessions
    def test_session_lifecycle(self):
        doc = dict(SESSION_CREATE_SAMPLE, description=self.unique('sess'))
        shown = self.cli_json('session-create', '--file',
                              self.write_json(doc))
        session_id = shown['Session ID']
        self.assertTrue(session_id)
        self.addCleanup(self.http, 'DELETE',
                        self.item('sessions', session_id), user='alice')
        self.assertEqual(20, shown['Session tag'])
        self.assertEqual(doc['description'], shown['Description'])
        self.assertEqual('active', shown['Status'])
        self.assertEqual(30, shown['Hold off'])
        self.assertEqual(pprint.pformat(doc['schedule']), shown['Schedule'])
        self.assertEqual(self.project_id('alice'), shown['Project id'])
        self.assertEqual(self.keystone.user_ids['alice'], shown['User id'])

        self.assertEqual(shown, self.cli_json('session-show', session_id))
        self.assertIn(session_id, _column(self.cli_json('session-list'),
                                          'Session ID'))

        shown = self.cli_json('session-update', session_id,
                              self.write_json(SESSION_UPDATE_SAMPLE))
        self.assertEqual(250, shown['Session tag'])
        self.assertEqual(50, shown['Hold off'])
        self.assertEqual(SESSION_UPDATE_SAMPLE['description'],
                         shown['Description'])
        self.assertEqual('active', shown['Status'])
        self.assertEqual(shown, self.cli_json('session-show', session_id))

        # add a job
        client_id = self.register_client()
        job_id = self.create_job(client_id)
        rc, out, err = self.cli('session-add-job', '--session-id',
                                session_id, '--job-id', job_id)
        self.assertEqual(0, rc, err)
        session = self.get_doc('sessions', session_id)
        self.assertIn(job_id, session.get('jobs') or {}, session)
        self.assertEqual(client_id, session['jobs'][job_id]['client_id'])
        job = self.get_doc('jobs', job_id)
        self.assertEqual((session_id, 250),
                         (job['session_id'], job['session_tag']))
        listed = [row for row in self.cli_json('session-list')
                  if row['Session ID'] == session_id]
        self.assertEqual(1, listed[0]['# Jobs'], listed)

        # start it: a new generation (the CLI sends the tag as a string)
        rc, out, err = self.cli('session-start', '--session-id', session_id,
                                '--job-id', job_id, '--job-tag', '250')
        self.assertEqual(0, rc, err)
        session = self.get_doc('sessions', session_id)
        self.assertEqual(251, session['session_tag'])
        self.assertEqual('running', session['status'])
        self.assertGreater(session['time_start'], 0)
        self.assertEqual('running', session['jobs'][job_id]['status'])
        shown = self.cli_json('session-show', session_id)
        self.assertEqual((251, 'running'),
                         (shown['Session tag'], shown['Status']))
        # within hold_off the same tag waits; a tag from the future is 400
        action = self.item('sessions', session_id) + '/action'
        resp = self.http('POST', action, user='alice', json={
            'start': {'job_id': job_id, 'current_tag': 251}})
        self.assertEqual(202, resp.status_code, resp.text)
        self.assertEqual({'result': 'hold-off', 'session_tag': 251},
                         resp.json())
        resp = self.http('POST', action, user='alice', json={
            'start': {'job_id': job_id, 'current_tag': 999}})
        self.assertEqual(400, resp.status_code, resp.text)

        # unknown jobs and sessions are 404
        resp = self.http('PUT', self.item('sessions', session_id)
                         + '/jobs/no-such-job', user='alice')
        self.assertEqual(404, resp.status_code, resp.text)
        resp = self.http('POST', self.item('sessions', 'no-such-session')
                         + '/action', user='alice',
                         json={'start': {'job_id': job_id,
                                         'current_tag': 0}})
        self.assertEqual(404, resp.status_code, resp.text)
        resp = self.http('PUT', self.item('sessions', 'no-such-session')
                         + '/jobs/' + job_id, user='alice')
        self.assertEqual(404, resp.status_code, resp.text)

        # remove the job
        rc, out, err = self.cli('session-remove-job', '--session-id',
                                session_id, '--job-id', job_id)
        self.assertEqual(0, rc, err)
        session = self.get_doc('sessions', session_id)
        self.assertNotIn(job_id, session.get('jobs') or {})
        job = self.get_doc('jobs', job_id)
        self.assertEqual('', job['session_id'])

        # delete it
        rc, out, err = self.cli('session-delete', session_id)
        self.assertEqual(0, rc, err)
        self.assert_cli_not_found('session-show', session_id)
        self.assertNotIn(session_id, _column(self.cli_json('session-list'),
                                             'Session ID'))
        resp = self.http('GET', self.item('sessions', session_id),
                         user='alice')
        self.assertEqual(404, resp.status_code, resp.text)

    # ------------------------------------------------------------ backups
    def test_backup_create_list_show_delete(self):
        doc = dict(BACKUP_CREATE_SAMPLE, backup_name=self.unique('bk'))
        shown = self.cli_json('backup-create', '--file',
                              self.write_json(doc))
        self.assertEqual('creating', shown['Status'])
        self.assertEqual(self.project_id('alice'), shown['Project ID'])
        self.assertEqual(self.keystone.user_ids['alice'], shown['User ID'])
        self.assertIn(doc['backup_name'], shown['Metadata'])

        # backup-show prints no backup_id; backup-list does
        found = self.backup_list('--search', json.dumps(
            [{'backup_name': doc['backup_name']}]))
        ids = _column(found, 'Backup ID')
        self.assertEqual(1, len(ids), found)
        backup_id = ids[0]
        self.addCleanup(self.http, 'DELETE', self.item('backups', backup_id),
                        user='alice')
        self.assertEqual('creating', found[0]['Status'])
        self.assertEqual('szaher', found[0]['Hostname'])
        self.assertIn(backup_id, _column(self.backup_list(), 'Backup ID'))
        self.assertEqual(shown, self.cli_json('backup-show', backup_id))

        raw = self.get_doc('backups', backup_id)
        self.assertEqual('creating', raw['status'])
        expected = {k: v for k, v in doc.items() if k != 'status'}
        self.assertEqual(expected, {k: v for k, v in
                                    raw['backup_metadata'].items()
                                    if k != 'status'})

        rc, out, err = self.cli('backup-delete', backup_id)
        self.assertEqual(0, rc, err)
        self.assert_cli_not_found('backup-show', backup_id)
        self.assertNotIn(backup_id,
                         _column(self.backup_list(), 'Backup ID'))

    def test_backup_default_status_is_available(self):
        doc = {k: v for k, v in BACKUP_CREATE_SAMPLE.items()
               if k != 'status'}
        backup_id, _ = self.create_backup(doc)
        self.assertEqual('available',
                         self.get_doc('backups', backup_id)['status'])
        shown = self.cli_json('backup-show', backup_id)
        self.assertEqual('available', shown['Status'])

    # ---------------------------------------------------- another project
    def test_other_project_sees_nothing(self):
        client_id = self.register_client()
        job_id = self.create_job(client_id)
        session_id = self.create_session()
        backup_id, _ = self.create_backup()

        for command, column, item_id in (
                ('job-list', 'Job ID', job_id),
                ('session-list', 'Session ID', session_id),
                ('client-list', 'Client ID', client_id)):
            self.assertNotIn(item_id, _column(
                self.cli_json(command, user='bob'), column), command)
        self.assertNotIn(backup_id, _column(self.backup_list(user='bob'),
                                            'Backup ID'))
        for command, item_id in (('job-show', job_id),
                                 ('session-show', session_id),
                                 ('client-show', client_id),
                                 ('backup-show', backup_id)):
            self.assert_cli_not_found(command, item_id, user='bob')

        # bob's token on project-a's URLs
        for resource, item_id in (('jobs', job_id),
                                  ('sessions', session_id),
                                  ('clients', client_id),
                                  ('backups', backup_id)):
            for path in (self.v2_path(resource),
                         self.item(resource, item_id)):
                resp = self.http('GET', path, user='bob')
                self.assertEqual(403, resp.status_code, path)
        # alice's ids on bob's own project URLs: not there
        for resource, item_id in (('jobs', job_id),
                                  ('sessions', session_id),
                                  ('clients', client_id),
                                  ('backups', backup_id)):
            resp = self.http('GET', self.item(resource, item_id, 'bob'),
                             user='bob')
            self.assertEqual(404, resp.status_code, resource)
        resp = self.post_event(job_id, 'stop', user='bob')
        self.assertEqual(404, resp.status_code, resp.text)
        resp = self.http('PUT', self.item('sessions', session_id, 'bob')
                         + '/jobs/' + job_id, user='bob')
        self.assertEqual(404, resp.status_code, resp.text)
        # deleting is a no-op for bob: alice's documents stay as they were.
        # DELETE is 204 for what bob's project does not have, so the CLI
        # succeeds; session-delete looks the session up first, and says
        # it is not found.
        items = (('jobs', job_id), ('sessions', session_id),
                 ('clients', client_id), ('backups', backup_id))
        before = [self.get_doc(*item) for item in items]
        for command, item_id in (('job-delete', job_id),
                                 ('backup-delete', backup_id),
                                 ('client-delete', client_id)):
            rc, out, err = self.cli(command, item_id, user='bob')
            self.assertEqual((0, ''), (rc, out), f'freezer {command}: {err}')
        self.assert_cli_not_found('session-delete', session_id, user='bob')
        self.assertEqual(before, [self.get_doc(*item) for item in items])

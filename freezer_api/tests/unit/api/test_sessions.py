"""/v2/{project_id}/sessions through the whole stack, including the
start/end protocol freezer-scheduler drives through /action."""

import functools
from unittest import mock

import webtest

from freezer_api.api import app
from freezer_api.tests.unit import helpers
from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as fx

URL = fx.url('sessions')
URL_B = fx.url('sessions', base.PROJECT_B)
JOBS = fx.url('jobs')

SCHEDULE = {'schedule_interval': '2 hours',
            'schedule_start_date': '2030-01-01T10:00:00'}

DOCUMENT_KEYS = {'session_id', 'project_id', 'user_id', 'description',
                 'session_tag', 'hold_off', 'status', 'result', 'time_start',
                 'time_end', 'time_started', 'time_ended', 'schedule', 'jobs',
                 '_version'}

# The epoch second the tests' clock starts at.
T0 = 1700000000


class SessionsTestCase(base.ApiTestCase):

    def setUp(self):
        super().setUp()
        fx.add_client(self, 'node1')
        fx.add_client(self, 'node2')

    def item(self, session_id, url=URL):
        return '%s/%s' % (url, session_id)

    def create(self, body=None, **kwargs):
        return fx.create_session(self, body or {'schedule': SCHEDULE},
                                 **kwargs)

    def show(self, session_id, url=URL, headers=None):
        response = self.get(self.item(session_id, url), headers=headers)
        self.assertEqual(200, response.status_int, response.text)
        return response.json

    def job(self, job_id):
        return fx.get_job(self, job_id)

    def session_ids(self, search=None, query='?limit=1000'):
        response = self.get(URL + query, body=search)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(['sessions'], list(response.json))
        return [s['session_id'] for s in response.json['sessions']]


class TestCrud(SessionsTestCase):

    def test_create_then_show(self):
        response = self.post(URL, {
            'schedule': SCHEDULE, 'session_id': 'mine', 'status': 'running',
            'description': 'nightly',
            'jobs': {'j1': {'client_id': 'node1', 'status': 'running'}},
            'project_id': base.PROJECT_B, 'user_id': 'evil'})
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual(['session_id'], list(response.json))
        session_id = response.json['session_id']
        self.assertRegex(session_id, '^[0-9a-f]{32}$')
        response = self.get(self.item(session_id))
        self.assertEqual('"1"', response.headers['ETag'])
        self.assertEqual({
            'session_id': session_id,
            'project_id': base.PROJECT_A,
            'user_id': 'user-a',
            'description': 'nightly',
            'session_tag': 0,
            'hold_off': 30,
            'status': 'active',
            'result': None,
            'time_start': -1,
            'time_end': -1,
            'time_started': -1,
            'time_ended': -1,
            'schedule': SCHEDULE,
            'jobs': {},
            '_version': 1,
        }, response.json)
        self.assertFault(self.get(self.item('mine')), 404)

    def test_create_with_values(self):
        session_id = self.create({'schedule': {}, 'session_tag': 7,
                                  'hold_off': 5, 'time_start': 10,
                                  'result': 'fail'})
        doc = self.show(session_id)
        self.assertEqual((7, 5, 10, 'fail', 'active', {}), (
            doc['session_tag'], doc['hold_off'], doc['time_start'],
            doc['result'], doc['status'], doc['schedule']))

    def test_unknown_keys_are_ignored(self):
        # What freezer-web-ui's Create Session posts.
        session_id = self.create({'description': 'nightly',
                                  'interval_value': 1, 'jobs': {},
                                  'schedule': SCHEDULE})
        doc = self.show(session_id)
        self.assertEqual('nightly', doc['description'])
        self.assertNotIn('interval_value', doc)
        response = self.patch(self.item(session_id),
                              {'interval_value': 2, 'hold_off': 9})
        self.assertEqual(200, response.status_int, response.text)
        doc = self.show(session_id)
        self.assertEqual(9, doc['hold_off'])
        self.assertNotIn('interval_value', doc)
        response = self.post(self.item(session_id),
                             {'schedule': SCHEDULE, 'colour': 'blue'})
        self.assertEqual(201, response.status_int, response.text)
        self.assertNotIn('colour', self.show(session_id))

    def test_invalid_bodies(self):
        for body in ({}, {'description': 'no schedule'},
                     {'schedule': None}, {'schedule': 'daily'},
                     {'schedule': {'nope': 1}},
                     {'schedule': {'schedule_interval': '5 m'}},
                     {'schedule': {}, 'session_tag': 'x'},
                     {'schedule': {}, 'session_tag': -1},
                     {'schedule': {}, 'hold_off': 'long'}):
            self.assertFault(self.post(URL, body), 400)
        self.assertFault(self.post(URL, raw='[]'), 400)
        self.assertFault(self.post(URL, raw=''), 400)
        fault = self.assertFault(self.post(URL, {'description': 'x'}), 400)
        self.assertIn('schedule', fault['description'])
        self.assertEqual([], self.session_ids())

    def test_list_and_search(self):
        ids = [self.create() for _ in range(3)]
        response = self.patch(self.item(ids[1]), {
            'status': 'running', 'description': 'second'})
        self.assertEqual((200, 2), (response.status_int,
                                    response.json['version']))
        self.assertEqual(ids, self.session_ids())
        self.assertEqual(ids[:2], self.session_ids(query='?limit=2'))
        self.assertEqual(ids[2:], self.session_ids(query='?offset=2'))
        self.assertEqual([ids[1]], self.session_ids(
            {'match': [{'status': 'running'}]}))
        self.assertEqual([ids[0], ids[2]], self.session_ids(
            {'match_not': [{'description': 'second'}]}))
        self.assertEqual(ids, self.session_ids(
            {'match': [{'schedule_interval': '2 hours'}]}))
        self.assertEqual(ids, self.session_ids(query='/?limit=100'))
        # Another project sees none of them.
        response = self.get(URL_B, headers=base.MEMBER_B)
        self.assertEqual({'sessions': []}, response.json)
        self.assertFault(self.get(URL, body={'match': 'x'}), 400)

    def test_show_missing_is_json_404(self):
        self.assertFault(self.get(self.item('nope')), 404, 'Not Found')
        session_id = self.create()
        self.assertFault(self.get(self.item(session_id, URL_B),
                                  headers=base.MEMBER_B), 404)

    def test_patch_merges(self):
        session_id = self.create()
        response = self.patch(self.item(session_id), {
            'schedule': {'schedule_interval': '1 days',
                         'schedule_start_date': None,
                         'schedule_hour': '3'},
            'description': 'changed', 'hold_off': 60})
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual({'session_id': session_id, 'version': 2},
                         response.json)
        self.assertEqual('"2"', response.headers['ETag'])
        doc = self.show(session_id)
        self.assertEqual({'schedule_interval': '1 days',
                          'schedule_hour': '3'}, doc['schedule'])
        self.assertEqual(('changed', 60, 'active', 0), (
            doc['description'], doc['hold_off'], doc['status'],
            doc['session_tag']))

    def test_patch_cannot_set_jobs_or_ids(self):
        job_id = fx.create_job(self)
        session_id = self.create()
        fx.add_to_session(self, session_id, job_id)
        before = self.show(session_id)
        response = self.patch(self.item(session_id), {
            'jobs': {'intruder': {'client_id': 'node1'}, job_id: None},
            'session_id': 'other', 'project_id': base.PROJECT_B,
            'user_id': 'evil', 'status': 'completed'})
        self.assertEqual(200, response.status_int, response.text)
        doc = self.show(session_id)
        self.assertEqual(dict(before, status='completed', _version=3), doc)
        self.assertFault(self.get(self.item('other')), 404)

    def test_invalid_patch_changes_nothing(self):
        session_id = self.create()
        before = self.show(session_id)
        for patch in ({'schedule': {'nope': 1}}, {'schedule': 'x'},
                      {'session_tag': 'x'}, {'hold_off': -1},
                      {'schedule': None}):
            self.assertFault(self.patch(self.item(session_id), patch), 400)
        self.assertFault(self.patch(self.item(session_id), raw='[]'), 400)
        self.assertEqual(before, self.show(session_id))

    def test_patch_of_a_wrong_type_is_refused_naming_the_key(self):
        session_id = self.create()
        before = self.show(session_id)
        for patch, field in (({'hold_off': 'x'}, 'hold_off'),
                             ({'schedule': {'status': 5}}, 'schedule.status'),
                             ({'description': 3}, 'description'),
                             ({'time_start': '1'}, 'time_start')):
            fault = self.assertFault(self.patch(self.item(session_id), patch),
                                     400, 'Bad request format')
            self.assertTrue(fault['description'].startswith(field + ':'),
                            fault)
        self.assertEqual(before, self.show(session_id))

    def test_patch_is_checked_before_the_session_is_read(self):
        self.assertFault(self.patch(self.item('nope'), {'hold_off': 'x'}),
                         400)

    def test_shown_session_with_jobs_is_a_valid_patch(self):
        # What python-freezerclient's session-update sends: a document.
        session_id = self.create()
        fx.add_to_session(self, session_id, fx.create_job(self))
        shown = self.show(session_id)
        response = self.patch(self.item(session_id), shown)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(dict(shown, _version=shown['_version'] + 1),
                         self.show(session_id))

    def test_patch_missing_is_404(self):
        self.assertFault(self.patch(self.item('nope'), {'hold_off': 1}),
                         404)
        session_id = self.create()
        self.assertFault(self.patch(self.item(session_id, URL_B),
                                    {'hold_off': 1},
                                    headers=base.MEMBER_B), 404)
        self.assertEqual(1, self.show(session_id)['_version'])

    def test_replace_creates_then_replaces(self):
        response = self.post(self.item('s1'), {'schedule': SCHEDULE})
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual({'session_id': 's1', 'version': 1}, response.json)
        doc = self.show('s1')
        self.assertEqual(('active', 0, 30, {}), (
            doc['status'], doc['session_tag'], doc['hold_off'],
            doc['jobs']))
        job_id = fx.create_job(self)
        fx.add_to_session(self, 's1', job_id)
        jobs = self.show('s1')['jobs']
        response = self.post(self.item('s1'), {
            'schedule': {'schedule_interval': '1 days'}, 'session_tag': 3,
            'status': 'running', 'jobs': {}})
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual({'session_id': 's1', 'version': 3}, response.json)
        doc = self.show('s1')
        self.assertEqual({'schedule_interval': '1 days'}, doc['schedule'])
        self.assertEqual((3, 'running'), (doc['session_tag'],
                                          doc['status']))
        # The jobs of a session are not replaced by a body.
        self.assertEqual(jobs, doc['jobs'])
        self.assertEqual(['s1'], self.session_ids())

    def test_replace_conflicts_and_bad_input(self):
        session_id = self.create()
        response = self.post(self.item(session_id, URL_B),
                             {'schedule': {}}, headers=base.MEMBER_B)
        self.assertFault(response, 409)
        self.assertFault(self.post(self.item(session_id), {}), 400)
        self.assertFault(self.post(self.item(session_id),
                                   {'description': 'x'}), 400)
        self.assertFault(self.post(self.item('bad%20id'),
                                   {'schedule': {}}), 400)
        self.assertFault(self.post(self.item(session_id), {'schedule': {}},
                                   headers=base.with_if_match(7)), 412)
        self.assertEqual(1, self.show(session_id)['_version'])

    def test_if_match(self):
        session_id = self.create()
        url = self.item(session_id)
        self.assertFault(self.patch(url, {'hold_off': 1},
                                    headers=base.with_if_match(2)), 412)
        response = self.patch(url, {'hold_off': 1},
                              headers=base.with_if_match(1))
        self.assertEqual(200, response.status_int)
        self.assertFault(self.delete(url, headers=base.with_if_match(1)), 412)
        self.assertEqual(204, self.delete(url, headers=base.with_if_match(2))
                         .status_int)

    def test_delete_detaches_the_jobs(self):
        session_id = self.create()
        other = self.create()
        jobs = [fx.create_job(self) for _ in range(2)]
        elsewhere = fx.create_job(self)
        for job_id in jobs:
            fx.add_to_session(self, session_id, job_id)
        fx.add_to_session(self, other, elsewhere)
        schedules = [self.job(job_id)['job_schedule'] for job_id in jobs]
        response = self.delete(self.item(session_id))
        self.assertEqual(204, response.status_int)
        self.assertEqual(b'', response.body)
        self.assertFault(self.get(self.item(session_id)), 404)
        for job_id, schedule in zip(jobs, schedules, strict=True):
            job = self.job(job_id)
            self.assertEqual(('', 0), (job['session_id'],
                                       job['session_tag']))
            self.assertEqual(schedule, job['job_schedule'])
        self.assertEqual(other, self.job(elsewhere)['session_id'])
        # Absent, or never there: still 204.
        self.assertEqual(204, self.delete(self.item(session_id)).status_int)
        self.assertEqual(204, self.delete(self.item('never')).status_int)

    def test_delete_from_another_project_does_nothing(self):
        fx.assert_other_project_deletes_nothing(self, 'sessions',
                                                self.create())


class TestSessionJobs(SessionsTestCase):

    def setUp(self):
        super().setUp()
        self.session_id = self.create({'schedule': SCHEDULE,
                                       'session_tag': 4})
        self.job_id = fx.create_job(self, fx.job_body(
            'node2', job_schedule={'schedule_interval': '1 days'}))
        response = self.patch('%s/%s' % (JOBS, self.job_id), {
            'job_schedule': {
                'status': 'completed', 'result': 'success', 'event': '',
                'time_started': 100, 'time_ended': 200, 'current_pid': 12}})
        self.assertEqual(200, response.status_int, response.text)
        self.url = self.item(self.session_id) + '/jobs/' + self.job_id

    def test_add_job(self):
        created = self.job(self.job_id)
        response = self.request('PUT', self.url)
        self.assertEqual(204, response.status_int, response.text)
        self.assertEqual(b'', response.body)
        self.assertNotIn('Content-Type', response.headers)

        session = self.show(self.session_id)
        self.assertEqual({self.job_id: {
            'client_id': 'node2', 'status': 'completed', 'result': 'success',
            'time_started': 100, 'time_ended': 200}}, session['jobs'])
        self.assertEqual(2, session['_version'])

        job = self.job(self.job_id)
        self.assertEqual(self.session_id, job['session_id'])
        self.assertEqual(4, job['session_tag'])
        # The session's schedule; the job's own bookkeeping is kept.
        self.assertEqual(dict(
            SCHEDULE, time_created=created['job_schedule']['time_created'],
            time_started=100, time_ended=200, current_pid=12),
            job['job_schedule'])
        self.assertEqual(created['job_actions'], job['job_actions'])
        self.assertEqual(created['_version'] + 1, job['_version'])

    def test_add_twice_is_fine(self):
        fx.add_to_session(self, self.session_id, self.job_id)
        fx.add_to_session(self, self.session_id, self.job_id)
        self.assertEqual([self.job_id],
                         list(self.show(self.session_id)['jobs']))

    def test_moving_a_job_to_another_session(self):
        fx.add_to_session(self, self.session_id, self.job_id)
        other = self.create({'schedule': {'schedule_interval': '1 days'}})
        fx.add_to_session(self, other, self.job_id)
        self.assertEqual({}, self.show(self.session_id)['jobs'])
        self.assertEqual([self.job_id], list(self.show(other)['jobs']))
        job = self.job(self.job_id)
        self.assertEqual((other, 0), (job['session_id'],
                                      job['session_tag']))
        self.assertEqual('1 days', job['job_schedule']['schedule_interval'])

    def test_remove_job(self):
        fx.add_to_session(self, self.session_id, self.job_id)
        schedule = self.job(self.job_id)['job_schedule']
        response = self.delete(self.url)
        self.assertEqual(204, response.status_int, response.text)
        self.assertEqual(b'', response.body)
        self.assertEqual({}, self.show(self.session_id)['jobs'])
        job = self.job(self.job_id)
        self.assertEqual(('', 0), (job['session_id'], job['session_tag']))
        self.assertEqual(dict(schedule, event='stop'), job['job_schedule'])
        # Again: nothing left to do, still 204.
        self.assertEqual(204, self.delete(self.url).status_int)
        self.assertEqual(job, self.job(self.job_id))

    def test_remove_a_job_of_another_session_leaves_it_there(self):
        other = self.create()
        fx.add_to_session(self, other, self.job_id)
        self.assertEqual(204, self.delete(self.url).status_int)
        self.assertEqual(other, self.job(self.job_id)['session_id'])
        self.assertEqual([self.job_id], list(self.show(other)['jobs']))

    def test_deleting_a_job_removes_it_from_its_session(self):
        fx.add_to_session(self, self.session_id, self.job_id)
        self.assertEqual(204, self.delete('%s/%s' % (JOBS, self.job_id))
                         .status_int)
        self.assertEqual({}, self.show(self.session_id)['jobs'])

    def test_unknown_session_or_job_is_404(self):
        fx.add_client(self, 'node1', base.PROJECT_B)
        job_b = fx.create_job(self, project_id=base.PROJECT_B)
        session_b = self.create(project_id=base.PROJECT_B)
        bad = (self.item('nope') + '/jobs/' + self.job_id,
               self.item(self.session_id) + '/jobs/nope',
               self.item(session_b) + '/jobs/' + self.job_id,
               self.item(self.session_id) + '/jobs/' + job_b)
        for url in bad:
            for method in ('PUT', 'DELETE'):
                response = self.request(method, url)
                self.assertFault(response, 404, 'Not Found')
        self.assertEqual(1, self.show(self.session_id)['_version'])
        self.assertEqual('', self.job(self.job_id)['session_id'])

    def test_get_is_405(self):
        self.assertFault(self.get(self.url), 405)


class SessionActionTestCase(SessionsTestCase):
    """A session of two jobs on two clients, with a clock of our own."""

    def setUp(self):
        super().setUp()
        self.session_id = self.create()
        self.url = self.item(self.session_id) + '/action'
        self.jobs = [fx.create_job(self, fx.job_body(client))
                     for client in ('node1', 'node2')]
        for job_id in self.jobs:
            fx.add_to_session(self, self.session_id, job_id)
        self.now = T0
        clock = mock.patch('freezer_api.db.sqlalchemy.sessions.time')
        self.clock = clock.start()
        self.addCleanup(clock.stop)
        self.clock.time.side_effect = lambda: float(self.now)

    def act(self, body, status=202):
        response = self.post(self.url, body)
        self.assertEqual(status, response.status_int, response.text)
        return response.json

    def start(self, job_index, tag, status=202):
        return self.act({'start': {'job_id': self.jobs[job_index],
                                   'current_tag': tag}}, status)

    def end(self, job_index, result, status=202, tag=None):
        params = {'job_id': self.jobs[job_index], 'result': result}
        if tag is not None:
            params['current_tag'] = tag
        return self.act({'end': params}, status)

    def session(self):
        return self.show(self.session_id)

    def assert_start_saves_nothing(self, result, job_index, tag):
        """A start answered ``result`` with the session's tag, and the
        session left as it was."""
        before = self.session()
        self.assertEqual({'result': result,
                          'session_tag': before['session_tag']},
                         self.start(job_index, tag))
        self.assertEqual(before, self.session())


class TestStart(SessionActionTestCase):

    def test_first_start_opens_a_generation(self):
        before = self.session()
        self.assertEqual({'result': 'success', 'session_tag': 1},
                         self.start(0, 0))
        doc = self.session()
        self.assertEqual((1, 'running', '', T0), (
            doc['session_tag'], doc['status'], doc['result'],
            doc['time_start']))
        self.assertEqual(before['_version'] + 1, doc['_version'])
        self.assertEqual({'client_id': 'node1', 'status': 'running',
                          'result': '', 'time_started': T0,
                          'time_ended': -1}, doc['jobs'][self.jobs[0]])
        # The other job is untouched.
        self.assertEqual(before['jobs'][self.jobs[1]],
                         doc['jobs'][self.jobs[1]])

    def test_tag_too_high_is_400(self):
        for tag in (1, 5):
            fault = self.assertFault(self.post(self.url, {'start': {
                'job_id': self.jobs[0], 'current_tag': tag}}), 400)
            self.assertIn('too high', fault['description'])
        self.start(0, 0)
        self.now += 100
        self.assertFault(self.post(self.url, {'start': {
            'job_id': self.jobs[0], 'current_tag': 2}}), 400)
        self.assertEqual(1, self.session()['session_tag'])

    def test_tag_at_its_maximum_is_not_incremented(self):
        top = 2 ** 31 - 1
        response = self.patch(self.item(self.session_id),
                              {'session_tag': top})
        self.assertEqual(200, response.status_int, response.text)
        fault = self.assertFault(self.post(self.url, {'start': {
            'job_id': self.jobs[0], 'current_tag': str(top)}}), 400)
        self.assertIn('maximum', fault['description'])
        self.assertEqual(top, self.session()['session_tag'])

    def test_same_tag_within_hold_off_is_held_off(self):
        self.start(0, 0)
        for delay in (0, 1, 29, 30):
            self.now = T0 + delay
            self.assert_start_saves_nothing('hold-off', 1, 1)
            self.assert_start_saves_nothing('hold-off', 0, 1)

    def test_lower_tag_within_hold_off_joins(self):
        self.start(0, 0)
        self.now = T0 + 30
        self.assertEqual({'result': 'success', 'session_tag': 1},
                         self.start(1, 0))
        doc = self.session()
        self.assertEqual((1, T0), (doc['session_tag'], doc['time_start']))
        self.assertEqual(('running', '', T0 + 30), (
            doc['jobs'][self.jobs[1]]['status'],
            doc['jobs'][self.jobs[1]]['result'],
            doc['jobs'][self.jobs[1]]['time_started']))
        self.assertEqual(T0, doc['jobs'][self.jobs[0]]['time_started'])

    def test_lower_tag_after_the_window_is_out_of_sync(self):
        self.start(0, 0)
        self.now = T0 + 31
        self.assert_start_saves_nothing('out-of-sync', 1, 0)

    def test_same_tag_after_the_window_opens_the_next_generation(self):
        self.start(0, 0)
        self.now = T0 + 31
        self.assertEqual({'result': 'success', 'session_tag': 2},
                         self.start(1, 1))
        doc = self.session()
        self.assertEqual((2, T0 + 31, 'running'), (
            doc['session_tag'], doc['time_start'], doc['status']))

    def test_hold_off_of_the_session_is_used(self):
        self.assertEqual(200, self.patch(self.item(self.session_id),
                                         {'hold_off': 0}).status_int)
        self.start(0, 0)
        self.now = T0 + 1
        self.assertEqual({'result': 'out-of-sync', 'session_tag': 1},
                         self.start(1, 0))
        self.assertEqual({'result': 'success', 'session_tag': 2},
                         self.start(1, 1))

    def test_tag_as_a_string(self):
        # python-freezerclient sends the tag as a string.
        self.assertEqual(200, self.patch(self.item(self.session_id),
                                         {'session_tag': 3}).status_int)
        self.assertEqual({'result': 'success', 'session_tag': 4},
                         self.start(0, '3'))
        self.assertEqual({'result': 'success', 'session_tag': 4},
                         self.start(1, '3'))
        self.assertEqual({'result': 'hold-off', 'session_tag': 4},
                         self.start(1, '4'))

    def test_job_not_in_session_is_400(self):
        outsider = fx.create_job(self)
        before = self.session()
        fault = self.assertFault(self.post(self.url, {'start': {
            'job_id': outsider, 'current_tag': 0}}), 400)
        self.assertIn('not found in session', fault['description'])
        self.assertFault(self.post(self.url, {'end': {
            'job_id': outsider, 'result': 'success'}}), 400)
        self.assertEqual(before, self.session())

    def test_unknown_session_or_job_is_404(self):
        for url, job_id in ((self.item('nope') + '/action', self.jobs[0]),
                            (self.url, 'nope')):
            for body in ({'start': {'job_id': job_id, 'current_tag': 0}},
                         {'end': {'job_id': job_id, 'result': 'success'}}):
                self.assertFault(self.post(url, body), 404, 'Not Found')
        fx.add_client(self, 'node1', base.PROJECT_B)
        response = self.post(self.item(self.session_id, URL_B) + '/action',
                             {'start': {'job_id': self.jobs[0],
                                        'current_tag': 0}},
                             headers=base.MEMBER_B)
        self.assertFault(response, 404)
        self.assertEqual(0, self.session()['session_tag'])

    def test_bad_bodies_are_400(self):
        before = self.session()
        job_id = self.jobs[0]
        for body in ({}, {'start': None}, {'start': {}},
                     {'start': {'job_id': job_id}},
                     {'start': {'current_tag': 0}},
                     {'start': {'job_id': job_id, 'current_tag': 'abc'}},
                     {'start': {'job_id': job_id, 'current_tag': '-1'}},
                     {'start': {'job_id': job_id, 'current_tag': -1}},
                     {'start': {'job_id': job_id, 'current_tag': 1.5}},
                     {'start': {'job_id': job_id, 'current_tag': None}},
                     {'start': {'job_id': job_id, 'current_tag': '9' * 5000}},
                     {'start': {'job_id': job_id,
                                'current_tag': '2147483648'}},
                     {'start': {'job_id': job_id, 'current_tag': 2 ** 31}},
                     {'start': {'job_id': job_id, 'current_tag': '\u0663'}},
                     {'end': {'job_id': job_id, 'result': 'success',
                              'current_tag': '1' * 11}},
                     {'start': {'job_id': 'bad id', 'current_tag': 0}},
                     {'end': {'job_id': job_id}},
                     {'end': {'job_id': job_id, 'result': 5}},
                     {'start': {'job_id': job_id, 'current_tag': 0},
                      'end': {'job_id': job_id, 'result': 'success'}},
                     {'bogus': {'job_id': job_id}}):
            self.assertFault(self.post(self.url, body), 400)
        for raw in ('', '[]', 'null'):
            self.assertFault(self.post(self.url, raw=raw), 400)
        self.assertEqual(before, self.session())

    def test_get_is_405(self):
        self.assertFault(self.get(self.url), 405)


class TestEnd(SessionActionTestCase):

    def setUp(self):
        super().setUp()
        self.start(0, 0)
        self.start(1, 0)
        self.now = T0 + 60

    def test_end_marks_the_job_completed(self):
        self.assertEqual({'result': 'success', 'session_tag': 1},
                         self.end(0, 'success', tag=1))
        doc = self.session()
        self.assertEqual({'client_id': 'node1', 'status': 'completed',
                          'result': 'success', 'time_started': T0,
                          'time_ended': T0 + 60}, doc['jobs'][self.jobs[0]])
        # The other job still runs, so the session does.
        self.assertEqual(('running', '', -1), (
            doc['status'], doc['result'], doc['time_end']))

    def test_all_success(self):
        self.end(0, 'success')
        self.now += 5
        self.assertEqual({'result': 'success', 'session_tag': 1},
                         self.end(1, 'success'))
        doc = self.session()
        self.assertEqual(('completed', 'success', T0 + 65), (
            doc['status'], doc['result'], doc['time_end']))

    def test_a_failure_fails_the_session_once_all_ended(self):
        # The first job of the map fails while the second still runs: the
        # session runs on (the original service declared it failed).
        self.end(0, 'fail')
        doc = self.session()
        self.assertEqual(('running', ''), (doc['status'], doc['result']))
        self.now += 5
        self.end(1, 'success')
        doc = self.session()
        self.assertEqual(('completed', 'fail', T0 + 65), (
            doc['status'], doc['result'], doc['time_end']))

    def test_order_does_not_matter(self):
        self.end(1, 'fail')
        self.assertEqual('running', self.session()['status'])
        self.end(0, 'success')
        doc = self.session()
        self.assertEqual(('completed', 'fail'), (doc['status'],
                                                 doc['result']))

    def test_end_on_a_completed_session_updates_the_job_only(self):
        self.end(0, 'fail')
        self.end(1, 'success')
        self.now += 100
        self.end(0, 'success')
        doc = self.session()
        self.assertEqual(('completed', 'fail', T0 + 60), (
            doc['status'], doc['result'], doc['time_end']))
        self.assertEqual(('completed', 'success', T0 + 160), (
            doc['jobs'][self.jobs[0]]['status'],
            doc['jobs'][self.jobs[0]]['result'],
            doc['jobs'][self.jobs[0]]['time_ended']))

    def test_next_generation_after_completion(self):
        self.end(0, 'success')
        self.end(1, 'success')
        self.assertEqual({'result': 'success', 'session_tag': 2},
                         self.start(0, 1))
        doc = self.session()
        self.assertEqual(('running', '', 2), (
            doc['status'], doc['result'], doc['session_tag']))
        self.assertEqual(('running', ''), (
            doc['jobs'][self.jobs[0]]['status'],
            doc['jobs'][self.jobs[0]]['result']))
        # The second job has not run in the new generation: the results
        # of the last one are cleared, so they cannot complete this one.
        self.assertEqual(('', ''), (doc['jobs'][self.jobs[1]]['status'],
                                    doc['jobs'][self.jobs[1]]['result']))
        self.end(0, 'success')
        self.assertEqual('running', self.session()['status'])
        self.assertEqual({'result': 'success', 'session_tag': 2},
                         self.start(1, 1))
        self.end(1, 'success')
        self.assertEqual(('completed', 'success'), (
            self.session()['status'], self.session()['result']))


class TestConcurrency(SessionsTestCase):
    """Several schedulers at once; every thread has its own WSGI app."""

    THREADS = 8

    def setUp(self):
        super().setUp()
        self.session_id = self.create({'schedule': SCHEDULE,
                                       'session_tag': 2})
        self.url = self.item(self.session_id) + '/action'
        self.jobs = [fx.create_job(self) for _ in range(self.THREADS)]
        for job_id in self.jobs:
            fx.add_to_session(self, self.session_id, job_id)

    def run_all(self, bodies):
        return [(r.status_int, r.json) for r in self.post_concurrently(
            [(self.url, body, base.MEMBER_A) for body in bodies])]

    def test_concurrent_starts_open_one_generation(self):
        before = self.show(self.session_id)
        results = self.run_all([
            {'start': {'job_id': job_id, 'current_tag': 2}}
            for job_id in self.jobs])
        self.assertEqual([202] * self.THREADS, [r[0] for r in results])
        self.assertEqual({3}, {r[1]['session_tag'] for r in results})
        outcomes = [r[1]['result'] for r in results]
        self.assertLessEqual(set(outcomes), {'success', 'hold-off'})
        self.assertIn('success', outcomes)
        doc = self.show(self.session_id)
        self.assertEqual((3, 'running'), (doc['session_tag'],
                                          doc['status']))
        # One write per success, none lost.
        self.assertEqual(before['_version'] + outcomes.count('success'),
                         doc['_version'])
        running = [job_id for job_id, entry in doc['jobs'].items()
                   if entry['status'] == 'running']
        self.assertEqual(outcomes.count('success'), len(running))

    def test_concurrent_starts_of_one_job(self):
        results = self.run_all([
            {'start': {'job_id': self.jobs[0], 'current_tag': 2}}
            for _ in range(self.THREADS)])
        self.assertEqual({(202, 3)}, {(r[0], r[1]['session_tag'])
                                      for r in results})
        self.assertEqual(3, self.show(self.session_id)['session_tag'])

    def test_concurrent_ends_complete_the_session_once(self):
        self.run_all([{'start': {'job_id': job_id, 'current_tag': 2}}
                      for job_id in self.jobs])
        results = self.run_all([
            {'end': {'job_id': job_id, 'current_tag': 3,
                     'result': 'fail' if i == 5 else 'success'}}
            for i, job_id in enumerate(self.jobs)])
        self.assertEqual({(202, 'success', 3)},
                         {(r[0], r[1]['result'], r[1]['session_tag'])
                          for r in results})
        doc = self.show(self.session_id)
        self.assertEqual(('completed', 'fail'), (doc['status'],
                                                 doc['result']))
        self.assertEqual({'completed'}, {e['status']
                                         for e in doc['jobs'].values()})
        self.assertEqual('fail', doc['jobs'][self.jobs[5]]['result'])

    def test_patches_and_member_changes_lose_nothing(self):
        """PATCHes of the session, and jobs joining and leaving it, at
        once: every write is one version of the session."""
        newcomers = [fx.create_job(self) for _ in range(self.THREADS // 2)]
        leaving = self.jobs[:self.THREADS // 2]
        before = self.show(self.session_id)['_version']
        apps = [webtest.TestApp(app.setup_app(self.conf))
                for _ in range(3)]
        calls = [
            lambda wsgi: [wsgi.patch_json(
                self.item(self.session_id), {'description': 'write %d' % n},
                headers=base.MEMBER_A, expect_errors=True).status_int
                for n in range(self.THREADS)],
            lambda wsgi: [wsgi.put(
                '%s/jobs/%s' % (self.item(self.session_id), job_id),
                headers=base.MEMBER_A, expect_errors=True).status_int
                for job_id in newcomers],
            lambda wsgi: [wsgi.delete(
                '%s/jobs/%s' % (self.item(self.session_id), job_id),
                headers=base.MEMBER_A, expect_errors=True).status_int
                for job_id in leaving],
        ]
        results = helpers.run_concurrently(
            self, [functools.partial(call, wsgi)
                   for call, wsgi in zip(calls, apps, strict=True)],
            barrier=False, names=['writer %d' % i for i in range(len(calls))])
        self.assertEqual([[200] * self.THREADS, [204] * len(newcomers),
                          [204] * len(leaving)], results)
        doc = self.show(self.session_id)
        self.assertEqual(before + self.THREADS + len(newcomers) +
                         len(leaving), doc['_version'])
        self.assertEqual('write %d' % (self.THREADS - 1), doc['description'])
        self.assertEqual(set(self.jobs[self.THREADS // 2:] + newcomers),
                         set(doc['jobs']))
        for job_id in newcomers:
            self.assertEqual(self.session_id, self.job(job_id)['session_id'])
        for job_id in leaving:
            self.assertEqual('', self.job(job_id)['session_id'])

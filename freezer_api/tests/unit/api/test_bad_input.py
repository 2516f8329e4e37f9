"""Bad requests to every write route: the right fault, and no change."""

import io
import json
import logging

import fixtures
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
import pymysql
import sqlalchemy as sa
import testtools
import webob
import webtest

from freezer_api.api import app
from freezer_api.common import exception
from freezer_api.db.sqlalchemy import api as db_impl
from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as fx

URL = fx.url('actions')
EXISTING = URL + '/existing'
FRESH = URL + '/fresh'

GOOD = {
    'freezer_action': {'action': 'backup', 'mode': 'fs',
                       'backup_name': 'daily', 'path_to_backup': '/etc'},
    'max_retries': 3,
    'max_retries_interval': 10,
    'mandatory': True,
}

# The write routes: (method, path). POST on FRESH would create.
WRITES = (('POST', URL), ('POST', EXISTING), ('POST', FRESH),
          ('PATCH', EXISTING))
POSTS = WRITES[:3]


def with_action(**fields):
    """GOOD with ``fields`` set in its freezer_action."""
    return dict(GOOD, freezer_action=dict(GOOD['freezer_action'], **fields))


def with_top(**fields):
    return dict(GOOD, **fields)


class BadInputTestCase(base.ApiTestCase):

    def setUp(self):
        super().setUp()
        response = self.post(EXISTING, GOOD)
        self.assertEqual(201, response.status_int, response.text)

    def state(self):
        response = self.get(URL + '?limit=1000')
        self.assertEqual(200, response.status_int)
        return response.json['actions']

    def assertRejected(self, routes, status, title=None, field=None,
                       body=None, raw=None, headers=None):
        """Every route answers the fault and the database is unchanged."""
        before = self.state()
        for method, path in routes:
            response = self.request(method, path, body=body, raw=raw,
                                    headers=headers)
            fault = self.assertFault(response, status, title)
            if field is not None:
                self.assertIn(field, fault['description'],
                              (method, path, body, raw))
            for leak in ('File "', 'Error:', 'jsonschema', 'pecan',
                         'webob', 'psycopg2', 'sqlite'):
                self.assertNotIn(leak, fault['description'])
            self.assertEqual(before, self.state(), (method, path))
        existing = self.get(EXISTING)
        self.assertEqual(1, existing.json['_version'])
        self.assertEqual('"1"', existing.headers['ETag'])
        self.assertEqual(404, self.get(FRESH).status_int)


class TestNotJson(BadInputTestCase):

    def assertMalformed(self, raw, headers=None):
        self.assertRejected(WRITES, 753, 'Malformed JSON', raw=raw,
                            headers=headers)

    def test_not_json(self):
        for raw in ('not json', '{"freezer_action": ', "{'a': 1}",
                    '{"a": 1} trailing', 'freezer_action=x', '{"a":}'):
            self.assertMalformed(raw)

    def test_status_line_and_fault(self):
        response = self.post(URL, raw='{')
        self.assertEqual('753 Syntax Error', response.status)
        self.assertEqual({'title', 'description'}, set(response.json))

    def test_not_json_whatever_the_content_type(self):
        for content_type in ('text/plain', 'application/x-www-form-'
                             'urlencoded', 'application/json; charset=utf-8'):
            self.assertMalformed('{"freezer_action": oops}', headers=dict(
                base.MEMBER_A, **{'Content-Type': content_type}))

    def test_invalid_utf8(self):
        for raw in (b'\xff\xfe\xfd', b'{"freezer_action": {"action": '
                    b'"backup", "backup_name": "\xc3\x28"}}',
                    b'{"\xff": 1}'):
            self.assertMalformed(raw)

    def test_non_finite_numbers(self):
        for literal in ('NaN', 'Infinity', '-Infinity', '1e400', '-1e999'):
            self.assertMalformed(
                '{"freezer_action": {"action": "backup", "x": %s}}'
                % literal)
            self.assertMalformed('{"freezer_action": {"action": "backup"},'
                                 ' "max_retries": %s}' % literal)

    def test_unpaired_surrogates(self):
        for text in ('\\ud800', 'a\\udfffb'):
            self.assertMalformed('{"freezer_action": {"action": "backup", '
                                 '"backup_name": "%s"}}' % text)
            self.assertMalformed('{"freezer_action": {"action": "backup", '
                                 '"%s": 1}}' % text)

    def test_deeply_nested(self):
        self.assertMalformed('[' * 100000)
        self.assertMalformed('{"a": ' * 15000 + '1' + '}' * 15000)
        # Under the parser's limit, but deeper than any document may be.
        for depth in (150, 500, 900):
            nested = '{"n": ' * depth + '1' + '}' * depth
            self.assertMalformed('{"freezer_action": {"action": "backup", '
                                 '"x": %s}}' % nested)

    def test_nested_within_the_limit_is_fine(self):
        nested = {'leaf': 1}
        for _ in range(20):
            nested = {'n': [nested]}
        response = self.post(URL, with_action(x=nested))
        self.assertEqual(201, response.status_int, response.text)
        shown = self.get('%s/%s' % (URL, response.json['action_id'])).json
        self.assertEqual(nested, shown['freezer_action']['x'])


class TestNotAnObject(BadInputTestCase):

    def test_json_that_is_not_an_object(self):
        for raw in ('[1]', '[]', '"str"', '1', '1.5', 'true'):
            self.assertRejected(WRITES, 400, field='JSON object', raw=raw)

    def test_null(self):
        self.assertRejected(WRITES, 400, raw='null')

    def test_empty_body(self):
        for raw in ('', '   ', '\r\n'):
            self.assertRejected(WRITES, 400, 'Bad request format',
                                field='Missing request body', raw=raw)
        self.assertRejected(WRITES, 400, field='Missing request body',
                            headers=base.MEMBER_A)


class TestInvalidDocuments(BadInputTestCase):

    def test_missing_freezer_action(self):
        self.assertRejected(POSTS, 400, field='freezer_action',
                            body={'max_retries': 1})
        self.assertRejected(POSTS, 400, field='freezer_action', body={})
        self.assertRejected(WRITES, 400, field='freezer_action',
                            body={'freezer_action': None})

    def test_missing_action(self):
        self.assertRejected(POSTS, 400, field="'action'",
                            body={'freezer_action': {'mode': 'fs'}})
        self.assertRejected(POSTS, 400, field="'action'",
                            body={'freezer_action': {}})
        self.assertRejected(WRITES, 400, field='action',
                            body={'freezer_action': {'action': None}})

    def test_bad_enum_values(self):
        for field, value in (('action', 'bogus'), ('action', 'Backup'),
                             ('action', ''), ('mode', 'tape'),
                             ('storage', 'floppy'), ('engine_name', 'zip'),
                             ('mode', 5), ('storage', ['swift'])):
            self.assertRejected(WRITES, 400, 'Bad request format',
                                field='freezer_action.%s' % field,
                                body=with_action(**{field: value}))

    def test_freezer_action_not_an_object(self):
        for value in ('backup', ['backup'], 5, True):
            self.assertRejected(WRITES, 400, field='freezer_action',
                                body=with_top(freezer_action=value))

    def test_bad_counts(self):
        for field in ('max_retries', 'max_retries_interval'):
            for value in ('3', 1.5, -1, True, False, 2 ** 31, 2 ** 64,
                          10 ** 30, [3], {'n': 3}):
                self.assertRejected(WRITES, 400, field=field,
                                    body=with_top(**{field: value}))

    def test_bad_booleans_and_integers(self):
        for value in ('yes', 'true', 1, 0):
            self.assertRejected(WRITES, 400, field='mandatory',
                                body=with_top(mandatory=value))
        # In a PATCH, null removes the key: only a document may not hold it.
        self.assertRejected(POSTS, 400, field='mandatory',
                            body=with_top(mandatory=None))
        for field in ('timeout', 'priority'):
            for value in ('10', 1.5, True, [1]):
                self.assertRejected(WRITES, 400,
                                    field='freezer_action.%s' % field,
                                    body=with_action(**{field: value}))
        self.assertRejected(WRITES, 400, field='freezer_action.backup_name',
                            body=with_action(backup_name=5))

    def test_bad_ids_in_the_body(self):
        for action_id in ('has space', 'a/b', 'a.b', 'a%b', "a'b", 'a;b',
                          'a"b', 'a' * 256, '', 5, None, ['x']):
            self.assertRejected([('POST', URL)], 400, field='action_id',
                                body=with_top(action_id=action_id))

    def test_bad_ids_in_the_path(self):
        for action_id in ('has%20space', 'a.b', 'a%25b', "a'b", 'a;b',
                          'a' * 256, 'a%00b'):
            path = '%s/%s' % (URL, action_id)
            self.assertRejected([('POST', path)], 400, field='action_id',
                                body=GOOD)
            self.assertFault(self.patch(path, {'max_retries': 1}), 404)
            self.assertFault(self.get(path), 404)
            self.assertEqual(204, self.delete(path).status_int)
        self.assertEqual(201, self.post('%s/%s' % (URL, 'a' * 255),
                                        GOOD).status_int)

    def test_id_in_body_of_item_post_is_ignored(self):
        response = self.post(FRESH, with_top(action_id='bad id!'))
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual('fresh', response.json['action_id'])

    def test_first_problem_is_named_without_internals(self):
        body = with_action(mode='tape', storage='floppy')
        response = self.post(URL, body)
        fault = self.assertFault(response, 400, 'Bad request format')
        self.assertRegex(fault['description'],
                         r'^freezer_action\.(mode|storage): ')
        self.assertNotIn('enum', fault['description'].split(':')[0])

    def test_huge_values_are_fine_if_valid(self):
        response = self.post(URL, with_top(max_retries=2 ** 31 - 1))
        self.assertEqual(201, response.status_int)


class TestSizeLimit(BadInputTestCase):

    def test_body_over_the_limit_is_413(self):
        padding = 'x' * 114688
        for method, path in WRITES:
            for raw in (json.dumps(with_action(backup_name=padding)),
                        'x' * 200000):
                before = self.state()
                response = self.request(method, path, raw=raw)
                fault = self.assertFault(response, 413,
                                         'Request Entity Too Large')
                self.assertNotIn('%s', fault['description'])
                self.assertEqual(before, self.state())
        self.assertEqual(1, self.get(EXISTING).json['_version'])

    def test_search_over_the_limit_is_413(self):
        body = {'match': [{'backup_name': 'x' * 120000}]}
        self.assertFault(self.get(URL, body=body), 413)

    def test_body_just_under_the_limit_is_fine(self):
        doc = with_action(backup_name='')
        room = 114688 - len(json.dumps(doc))
        doc = with_action(backup_name='y' * room)
        self.assertEqual(114688, len(json.dumps(doc)))
        response = self.post(URL, doc)
        self.assertEqual(201, response.status_int, response.text)


class TestRoutes(base.ApiTestCase):

    def test_methods_not_allowed(self):
        response = self.post(EXISTING, GOOD)
        self.assertEqual(201, response.status_int, response.text)
        for method, path, allow in (
                ('PUT', URL, 'GET, POST'),
                ('PATCH', URL, 'GET, POST'),
                ('DELETE', URL, 'GET, POST'),
                ('PUT', EXISTING, 'DELETE, GET, PATCH, POST'),
                ('PUT', URL + '/', 'GET, POST')):
            response = self.request(method, path, body=GOOD)
            fault = self.assertFault(response, 405, 'Method Not Allowed')
            self.assertIn(method, fault['description'])
            self.assertEqual(allow, response.headers['Allow'])
        response = self.request('HEAD', URL)
        self.assertEqual(405, response.status_int)
        self.assertEqual('GET, POST', response.headers['Allow'])
        self.assertEqual(b'', response.body)
        self.assertEqual(1, self.get(EXISTING).json['_version'])

    def test_options_lists_the_methods(self):
        response = self.request('OPTIONS', URL)
        self.assertIn(response.status_int, (200, 204))
        self.assertEqual('GET, POST', response.headers['Allow'])

    def test_unknown_paths_are_json_404(self):
        for path in ('/nope', '/v1', '/v3/%s/actions' % base.PROJECT_A,
                     '/v2/%s' % base.PROJECT_A,
                     '/v2/%s/nope' % base.PROJECT_A,
                     '/v2/%s/actions/a/b' % base.PROJECT_A,
                     '/v2/%s/actions/a/b/c' % base.PROJECT_A,
                     '/v2/bad%20project/actions',
                     '/v2/%s/actions' % ('p' * 256), '/healthcheck/x'):
            self.assertFault(self.get(path), 404, 'Not Found')
            self.assertFault(self.post(path, GOOD), 404)

    def test_versions_document(self):
        response = self.app.get('/', status=300)
        self.assertEqual('application/json', response.content_type)
        versions = response.json['versions']
        self.assertEqual(['v2'], [v['id'] for v in versions])
        self.assertEqual('CURRENT', versions[0]['status'])
        self.assertEqual('http://localhost/v2/',
                         versions[0]['links'][0]['href'])

    def test_versions_follow_the_host_header(self):
        hrefs = []
        for host in ('api.example.com', 'other.example.org:8080'):
            response = self.app.get('/', headers={'Host': host}, status=300)
            hrefs.append(response.json['versions'][0]['links'][0]['href'])
        self.assertEqual(['http://api.example.com/v2/',
                          'http://other.example.org:8080/v2/'], hrefs)

    def test_versions_need_no_identity(self):
        response = self.app.get('/', headers={'X-Roles': ''}, status=300)
        self.assertIn('versions', response.json)

    def test_json_home(self):
        for path in ('/v2', '/v2/'):
            response = self.app.get(path, status=200)
            self.assertEqual('application/json-home', response.content_type)
            resources = json.loads(response.text)['resources']
            self.assertEqual(
                '/v2/{project_id}/actions{?limit,offset}',
                resources['rel/actions']['href-template'])

    def test_json_home_names_relations_as_the_reference(self):
        # What the upstream tempest plugin's test_api_version_v2 reads.
        resources = json.loads(self.app.get('/v2').text)['resources']
        backups = resources['rel/backups']
        self.assertEqual('/v2/{project_id}/backups/{backup_id}',
                         backups['href-template'])
        self.assertEqual({'project_id': 'param/project_id',
                          'backup_id': 'param/backup_id'},
                         backups['href-vars'])
        self.assertEqual('GET', backups['hints']['allow'][0])
        self.assertIn('application/json', backups['hints']['formats'])
        self.assertEqual('/v2/{project_id}/jobs{?all_projects,limit,offset}',
                         resources['rel/jobs']['href-template'])
        self.assertEqual(['GET', 'POST', 'PATCH', 'DELETE'],
                         resources['rel/job']['hints']['allow'])
        self.assertEqual('/v2/{project_id}/backups{?limit,offset}',
                         resources['rel/backup_list']['href-template'])

    def test_healthcheck(self):
        response = self.app.get('/healthcheck', status=200)
        self.assertIn('OK', response.text)


class TestStrictIdsAndNumbers(base.ApiTestCase):
    """Python's ``$`` and ``int()`` are laxer than the API promises."""

    def test_id_with_trailing_newline_is_refused(self):
        response = self.post('/v2/%s/actions' % base.PROJECT_A,
                             {'action_id': 'abc\n',
                              'freezer_action': {'action': 'info'}})
        self.assertFault(response, 400)
        self.assertFault(self.post('/v2/%s/actions/abc%%0A' % base.PROJECT_A,
                                   {'freezer_action': {'action': 'info'}}),
                         400)
        self.assertFault(self.get('/v2/project-a%0A/actions'), 404)
        self.assertEqual([], self.get('/v2/%s/actions' % base.PROJECT_A)
                         .json['actions'])

    def test_limit_and_offset_are_plain_digits(self):
        for value in ('%201', '%2B3', '1_0', '%D9%A3', '1.0', '0x10', '%ff'):
            for name in ('limit', 'offset'):
                response = self.get('/v2/%s/actions?%s=%s'
                                    % (base.PROJECT_A, name, value))
                self.assertFault(response, 400)

    def test_numbers_of_any_length(self):
        # int() refuses more than 4300 digits: a 500 before the fix.
        many = '9' * 5000
        url = '/v2/%s/actions' % base.PROJECT_A
        self.assertEqual(201, self.post(url + '/a1', GOOD).status_int)
        for query in ('?limit=' + many, '?offset=' + many,
                      '?limit=%s1' % ('0' * 5000)):
            response = self.get(url + query)
            self.assertEqual(200, response.status_int, query[:20])
        self.assertEqual(['a1'], [a['action_id'] for a in self.get(
            url + '?limit=' + many).json['actions']])
        self.assertEqual([], self.get(url + '?offset=' + many)
                         .json['actions'])
        response = self.delete(url + '/a1',
                               headers=base.with_if_match(many))
        self.assertFault(response, 412)

    def test_if_match_versions_are_plain_digits(self):
        # str.isdigit() takes "²", which int() refuses: a 500 before.
        url = '/v2/%s/actions/a1' % base.PROJECT_A
        self.assertEqual(201, self.post(url, GOOD).status_int)
        for tag in ('"\u00b2"', '"\u0661"', '"1 "'):
            headers = dict(base.MEMBER_A, **{'If-Match': tag})
            self.assertFault(self.patch(url, {'mandatory': False},
                                        headers=headers), 412)
            self.assertFault(self.delete(url, headers=headers), 412)
        self.assertEqual(1, self.get(url).json['_version'])

    def test_session_times_fit_their_columns(self):
        # A time beyond a big integer column was a 500 before.
        url = '/v2/%s/sessions' % base.PROJECT_A
        for value in (2 ** 63, -2 ** 63 - 1, 10 ** 30):
            self.assertFault(self.post(url, {'schedule': {},
                                             'time_start': value}), 400)
        for value in (2 ** 63 - 1, -2 ** 63):
            response = self.post(url, {'schedule': {}, 'time_end': value})
            self.assertEqual(201, response.status_int, response.text)

    def test_ids_and_values_are_compared_exactly(self):
        # MySQL's default collations ignore case.
        url = '/v2/%s/actions' % base.PROJECT_A
        for action_id, name in (('ABC', 'upper'), ('abc', 'lower')):
            response = self.post(url + '/' + action_id,
                                 {'freezer_action': {'action': 'info',
                                                     'backup_name': name}})
            self.assertEqual(201, response.status_int, response.text)
        for action_id, name in (('ABC', 'upper'), ('abc', 'lower')):
            self.assertEqual(name, self.get(url + '/' + action_id).json[
                'freezer_action']['backup_name'])
        found = self.get(url, body={'match': [{'backup_name': 'UPPER'}]})
        self.assertEqual([], found.json['actions'])
        self.assertFault(self.get(url + '/Abc'), 404)

    def test_emoji_and_long_documents_are_stored(self):
        url = '/v2/%s/actions' % base.PROJECT_A
        body = {'freezer_action': {'action': 'info',
                                   'backup_name': 'nightly \U0001F600',
                                   'notes': 'x' * 70000}}
        response = self.post(url + '/big', body)
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual(body['freezer_action'],
                         self.get(url + '/big').json['freezer_action'])

    def test_no_nul_in_text_columns(self):
        # PostgreSQL's text cannot hold NUL: a 500 there before.
        url = '/v2/%s/sessions' % base.PROJECT_A
        for field in ('description', 'status', 'result'):
            response = self.post(url, {'schedule': {}, field: 'a\x00b'})
            self.assertIn(field, self.assertFault(response,
                                                  400)['description'])
        self.assertEqual([], self.get(url).json['sessions'])
        # JSON documents escape it: kept as it is.
        response = self.post(url, {'schedule': {'schedule_day': 'a\x00b'}})
        self.assertEqual(201, response.status_int, response.text)

    def test_noauth_identity_fits_its_columns(self):
        url = '/v2/%s/actions' % base.PROJECT_A
        for header in ('X-User-Id', 'X-Project-Id'):
            headers = dict(base.MEMBER_A, **{header: 'u' * 256})
            fault = self.assertFault(self.post(url, GOOD, headers=headers),
                                     400)
            self.assertIn(header, fault['description'])
        headers = dict(base.MEMBER_A, **{'X-User-Id': 'u' * 255})
        self.assertEqual(201, self.post(url, GOOD,
                                        headers=headers).status_int)


class TestPublicVersionsWithKeystone(base.ApiTestCase):
    """auth_strategy = keystone: only version discovery is public."""

    def setUp(self):
        super().setUp()
        self.conf.set_override('auth_strategy', 'keystone')
        app.setup_app(self.conf)  # registers [keystone_authtoken]
        # Where a 401 sends the caller; nothing listens there, and a
        # request without a token never reaches it.
        self.conf.set_override('www_authenticate_uri',
                               'http://127.0.0.1:9/identity',
                               group='keystone_authtoken')
        self.app = webtest.TestApp(app.setup_app(self.conf))

    def test_versions_need_no_token(self):
        response = self.app.get('/', status=300)
        self.assertEqual(['v2'],
                         [v['id'] for v in response.json['versions']])

    def test_forged_identity_headers_do_not_open_other_paths(self):
        forged = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin',
                  'X-Project-Id': base.PROJECT_A}
        self.assertFault(self.get('/v2/%s/actions' % base.PROJECT_A,
                                  headers=forged), 401)
        self.assertFault(self.get('/v2', headers={}), 401)


class TestDatabaseUnreachable(base.ApiTestCase):
    """The database is down: 503 with Retry-After, one line per request."""

    def setUp(self):
        super().setUp()
        # Nothing listens on the discard port; max_retries=0 skips oslo.db's
        # start-up test of the connection.
        facade = enginefacade.transaction_context()
        facade.configure(
            connection='postgresql+psycopg2://nobody@127.0.0.1:9/none',
            max_retries=0)
        facade.append_on_engine_create(db_impl.configure_engine)
        self.useFixture(test_fixtures.ReplaceEngineFacadeFixture(
            db_impl.main_context_manager, facade))
        self.addCleanup(facade.dispose_pool)
        self.addCleanup(setattr, db_impl._Outage, 'since', None)
        self.log = self.useFixture(fixtures.FakeLogger(
            name='freezer_api', level=logging.INFO))

    def test_every_route_answers_503(self):
        for method, path, body in (
                ('GET', URL, None), ('POST', URL, GOOD),
                ('GET', EXISTING, None), ('PATCH', EXISTING, GOOD),
                ('DELETE', EXISTING, None),
                ('GET', '/v2/%s/jobs' % base.PROJECT_A, None)):
            response = self.request(method, path, body=body)
            fault = self.assertFault(response, 503, 'Service Unavailable')
            self.assertEqual('5', response.headers['Retry-After'])
            self.assertIn('nothing was changed', fault['description'])
            self.assertNotIn('psycopg2', response.text)

    def test_healthcheck_logs_one_line_per_poll(self):
        # A load balancer polls it several times a second in an outage.
        for _ in range(3):
            response = self.app.get('/healthcheck', status=503)
            self.assertIn('Database unavailable', response.text)
        self.assertNotIn('Traceback', self.log.output)
        lines = self.log.output.splitlines()
        self.assertEqual(4, len(lines), self.log.output)
        self.assertEqual(3, sum('check_database failed' in line
                                for line in lines), self.log.output)

    def test_one_line_per_request_one_error_per_outage(self):
        for _ in range(3):
            self.assertFault(self.get(URL), 503)
        lines = self.log.output.splitlines()
        self.assertNotIn('Traceback', self.log.output)
        self.assertEqual(1, sum('The database is unreachable' in line
                                for line in lines), self.log.output)
        self.assertEqual(3, sum('failed, the database is unreachable' in line
                                for line in lines), self.log.output)
        self.assertEqual(4, len(lines), self.log.output)


class TestOperationalErrors(testtools.TestCase):
    """A driver error that is not the request's doing is a 503."""

    def setUp(self):
        super().setUp()
        self.addCleanup(setattr, db_impl._Outage, 'since', None)
        self.log = self.useFixture(fixtures.FakeLogger(
            name='freezer_api', level=logging.INFO))

    @staticmethod
    def failing(code, text):
        error = db_exc.DBError(sa.exc.OperationalError(
            'UPDATE actions', {}, pymysql.err.OperationalError(code, text)))

        @db_impl.storage_errors
        def update_action():
            raise error
        return update_action

    def test_mysql_shutting_down_is_an_outage(self):
        self.assertRaises(exception.DatabaseUnavailable, self.failing(
            1053, 'Server shutdown in progress'))
        self.assertIn('The database is unreachable', self.log.output)
        self.assertNotIn('Traceback', self.log.output)
        self.assertNotIn('UPDATE', self.log.output)

    def test_lock_wait_timeout_is_one_warning(self):
        self.assertRaises(exception.DatabaseUnavailable, self.failing(
            1205, 'Lock wait timeout exceeded'))
        self.assertEqual(
            'Database operation update_action failed: OperationalError: '
            "(1205, 'Lock wait timeout exceeded')",
            self.log.output.strip())


class TestConnectionLostInCommit(base.ApiTestCase):
    """A write whose commit loses the connection may have been stored:
    the answer may not say that nothing was changed."""

    def lose_connection(self, event):
        def lost(*args):
            raise sa.exc.OperationalError(
                event, {}, ConnectionError('server closed the connection'))
        engine = db_impl.get_engine()
        sa.event.listen(engine, event, lost)
        self.addCleanup(sa.event.remove, engine, event, lost)
        self.addCleanup(setattr, db_impl._Outage, 'since', None)
        self.useFixture(fixtures.FakeLogger(name='freezer_api',
                                            level=logging.INFO))

    def test_in_the_commit_the_outcome_is_unknown(self):
        self.lose_connection('commit')
        fault = self.assertFault(self.post(URL, GOOD), 503)
        self.assertIn('may or may not have been stored',
                      fault['description'])

    def test_before_the_commit_nothing_was_changed(self):
        self.lose_connection('before_execute')
        fault = self.assertFault(self.post(URL, GOOD), 503)
        self.assertIn('nothing was changed', fault['description'])

    def test_a_read_is_never_unknown(self):
        self.lose_connection('before_execute')
        fault = self.assertFault(self.get(URL), 503)
        self.assertIn('nothing was changed', fault['description'])


class _BrokenInput:
    """A wsgi.input that fails as a server's reader does when a body is
    not framed as its headers say."""

    def __init__(self, error):
        self.error = error

    def read(self, *args):
        raise self.error

    readline = read


class _FramingError(Exception):
    """Stands for gunicorn's InvalidChunkSize or ChunkMissingTerminator."""


class TestHostileInput(BadInputTestCase):
    """What the functional test_hostile_input found, through webtest."""

    def send(self, method, path, **environ):
        """The response to a request whose environ has ``environ``."""
        request = webob.Request.blank(path, method=method,
                                      headers=base.MEMBER_A)
        request.environ.update(environ)
        return request.get_response(self.app.app)

    def send_broken(self, method, path, error):
        return self.send(method, path, **{
            'wsgi.input': _BrokenInput(error), 'CONTENT_LENGTH': '2',
            'CONTENT_TYPE': 'application/json'})

    def test_413_is_our_fault_whatever_the_accept_header(self):
        for accept in ('application/json', 'text/html', '*/*'):
            response = self.post(URL, raw='x' * 200000, headers=dict(
                base.MEMBER_A, Accept=accept))
            fault = self.assertFault(response, 413,
                                     'Request Entity Too Large')
            self.assertNotIn('%s', fault['description'])

    def test_only_utf8_is_read(self):
        text = json.dumps(GOOD)
        for encoding in ('utf-16', 'utf-16-le', 'utf-16-be', 'utf-32',
                         'utf-32-le', 'utf-32-be'):
            self.assertRejected(WRITES, 753, 'Malformed JSON',
                                raw=text.encode(encoding))
        before = self.state()
        self.assertFault(self.get(URL, raw=json.dumps(
            {'match': []}).encode('utf-16')), 753, 'Malformed JSON')
        self.assertEqual(before, self.state())

    def test_a_utf8_bom_is_allowed(self):
        response = self.post(URL, raw=b'\xef\xbb\xbf' + json.dumps(
            GOOD).encode())
        self.assertEqual(201, response.status_int, response.text)

    def test_a_number_too_long_is_named_without_internals(self):
        raw = ('{"freezer_action": {"action": "backup", "timeout": %s}}'
               % ('7' * 5000))
        for method, path in WRITES:
            fault = self.assertFault(self.request(method, path, raw=raw),
                                     400)
            self.assertIn('freezer_action.timeout', fault['description'])
            self.assertIn('too long', fault['description'])
            for leak in ('4300', 'sys.', 'set_int_max_str_digits'):
                self.assertNotIn(leak, fault['description'])
        fault = self.assertFault(self.get(URL, raw='{"match": [{"a": %s}]}'
                                          % ('7' * 5000)), 400)
        self.assertNotIn('4300', fault['description'])

    def test_integers_in_documents_are_64_bit(self):
        for value in (2 ** 63, 2 ** 64, -2 ** 63 - 1, 10 ** 30):
            for field in ('timeout', 'priority', 'anything'):
                self.assertRejected(
                    WRITES, 400, field='freezer_action.' + field,
                    raw='{"freezer_action": {"action": "backup", "%s": %d}}'
                    % (field, value))
        # An integral float in an integer field is held to the range too.
        self.assertRejected(POSTS, 400, field='max_retries',
                            raw=json.dumps(with_top(max_retries=1e30)))
        for value in (2 ** 63 - 1, -2 ** 63):
            response = self.post(URL, with_action(timeout=value))
            self.assertEqual(201, response.status_int, response.text)
            shown = self.get('%s/%s' % (URL, response.json['action_id']))
            self.assertEqual(value, shown.json['freezer_action']['timeout'])

    def test_integers_of_jobs_and_sessions_are_64_bit(self):
        for path, raw in (
                ('jobs', '{"job_schedule": {"time_created": %d}, '
                 '"job_actions": []}'),
                ('jobs', '{"job_schedule": {"current_pid": %d}, '
                 '"job_actions": []}'),
                ('sessions', '{"schedule": {"time_created": %d}}'),
                ('sessions', '{"schedule": {"current_pid": %d}}')):
            url = '/v2/%s/%s' % (base.PROJECT_A, path)
            fault = self.assertFault(self.post(url, raw=raw % 2 ** 63), 400)
            self.assertIn('schedule.', fault['description'])

    def test_framing_errors_are_400(self):
        for error in (_FramingError('zz'), ValueError('bad chunk')):
            response = self.send_broken('POST', URL, error)
            self.assertFault(response, 400, 'Bad request format')

    def test_a_client_gone_mid_body_is_400_in_one_log_line(self):
        logs = self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        for method, path in (('POST', URL), ('GET', URL)):
            response = self.send_broken(method, path, OSError('gone'))
            self.assertFault(response, 400)
            # Content-Length 100, 17 bytes sent: webob's own complaint.
            response = self.send(method, path, **{
                'wsgi.input': io.BytesIO(b'{"freezer_action"'),
                'CONTENT_LENGTH': '100', 'CONTENT_TYPE': 'application/json'})
            self.assertFault(response, 400)
        self.assertNotIn('Traceback', logs.output)
        self.assertNotIn('Unexpected error', logs.output)
        self.assertEqual(4, logs.output.count('Request refused'))

    def test_host_must_be_a_host(self):
        for host in ('a b', 'a\x01b', 'a/b', 'h@evil'):
            self.assertFault(self.send('GET', URL, HTTP_HOST=host), 400)
        request = webob.Request.blank(URL, headers=base.MEMBER_A)
        request.environ['SERVER_PROTOCOL'] = 'HTTP/1.1'
        del request.environ['HTTP_HOST']
        fault = self.assertFault(request.get_response(self.app.app), 400)
        self.assertIn('Host', fault['description'])
        request.environ['SERVER_PROTOCOL'] = 'HTTP/1.0'
        self.assertEqual(200, request.get_response(self.app.app).status_int)
        for host in ('localhost', 'localhost:8080', '[::1]:9090',
                     '10.0.0.1'):
            response = self.send('GET', URL, HTTP_HOST=host,
                                 SERVER_PROTOCOL='HTTP/1.1')
            self.assertEqual(200, response.status_int, host)

    def test_a_null_search_is_refused(self):
        fault = self.assertFault(self.get(URL, raw='null'), 400,
                                 'Invalid search')
        self.assertIn('object', fault['description'])

    def test_match_must_be_a_list(self):
        for raw in ('{"match": {}}', '{"match_not": {}}',
                    '{"match": {"a": 1}}', '{"match": [], "match_not": {}}'):
            self.assertFault(self.get(URL, raw=raw), 400, 'Invalid search')
        for raw in ('{"match": []}', '{"match_not": []}', '{}'):
            self.assertEqual(200, self.get(URL, raw=raw).status_int, raw)

    def test_a_url_not_utf8_is_one_log_line(self):
        logs = self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        response = self.get(URL + '/%FF')
        self.assertFault(response, 400)
        self.assertNotIn('Traceback', logs.output)
        self.assertEqual(1, logs.output.count('not valid UTF-8'))

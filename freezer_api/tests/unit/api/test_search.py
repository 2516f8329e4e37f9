"""Lists, paging and the search language through the whole stack."""

import json

import webtest

from freezer_api.api import app
from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as fx

URL = fx.url('actions')
URL_B = fx.url('actions', base.PROJECT_B)

SQL_LOOKING = ["' OR 1=1 --", '"; DROP TABLE actions; --',
               "%' OR '1'='1", '*', '%', '_', "\\'", 'NULL']


def action(action_id=None, **freezer_action):
    doc = {'freezer_action': dict({'action': 'backup'}, **freezer_action)}
    if action_id is not None:
        doc['action_id'] = action_id
    return doc


class SearchTestCase(base.ApiTestCase):

    def create(self, doc=None, url=URL, headers=None, **top_level):
        doc = dict(doc or action(), **top_level)
        response = self.post(url, doc, headers=headers)
        self.assertEqual(201, response.status_int, response.text)
        return response.json['action_id']

    def create_many(self, count, **freezer_action):
        return [self.create(action(**freezer_action)) for _ in range(count)]

    def list_ids(self, search=None, query='', url=URL, headers=None):
        """Ids of one page, in order; the search goes as a JSON body."""
        response = self.get(url + query, body=search, headers=headers)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(['actions'], list(response.json))
        return [doc['action_id'] for doc in response.json['actions']]

    def found(self, *match, match_not=()):
        """Ids that match, in creation order, all on one page."""
        search = {'match': list(match)}
        if match_not:
            search['match_not'] = list(match_not)
        return self.list_ids(search, '?limit=1000')

    def all_ids(self):
        return self.list_ids(query='?limit=1000')

    def assertSearchFault(self, body=None, raw=None, status=400,
                          title='Invalid search'):
        before = self.all_ids()
        response = self.get(URL, body=body, raw=raw)
        fault = self.assertFault(response, status, title)
        self.assertEqual(before, self.all_ids())
        return fault


class TestPaging(SearchTestCase):

    def test_default_limit_is_10(self):
        ids = self.create_many(12)
        self.assertEqual(ids[:10], self.list_ids())
        self.assertEqual(ids[:10], self.list_ids(query='?limit=0'))
        self.assertEqual(ids[:10], self.list_ids(query='?limit='))
        self.assertEqual(ids[2:12], self.list_ids(query='?limit=0&offset=2'))
        self.assertEqual(ids[:3], self.list_ids(query='?limit=3'))

    def test_limit_above_max_limit_is_clamped(self):
        self.conf.set_override('max_limit', 3, group='api')
        self.app = webtest.TestApp(app.setup_app(self.conf))
        ids = self.create_many(5)
        self.assertEqual(ids[:3], self.list_ids(query='?limit=1000'))
        self.assertEqual(ids[:3], self.list_ids(query='?limit=4'))
        self.assertEqual(ids[:2], self.list_ids(query='?limit=2'))
        # The default (10) is clamped as well.
        self.assertEqual(ids[:3], self.list_ids())
        self.assertEqual(ids[3:], self.list_ids(query='?offset=3&limit=9'))

    def test_bad_limit_or_offset_is_400(self):
        ids = self.create_many(3)
        for query, name in (('limit=-1', 'limit'), ('limit=x', 'limit'),
                            ('limit=1.5', 'limit'), ('limit=1e3', 'limit'),
                            ('limit=0x10', 'limit'), ('offset=-1', 'offset'),
                            ('offset=abc', 'offset'), ('offset=2.0', 'offset'),
                            ('offset=-0.5', 'offset'),
                            ('limit=5&offset=-3', 'offset')):
            response = self.get('%s?%s' % (URL, query))
            fault = self.assertFault(response, 400, 'Invalid parameter')
            self.assertIn('"%s"' % name, fault['description'], query)
            # With a search body too.
            response = self.get('%s?%s' % (URL, query),
                                body={'match': [{'action': 'backup'}]})
            self.assertFault(response, 400)
        self.assertEqual(ids, self.all_ids())

    def test_offset_beyond_the_end(self):
        self.create_many(2)
        self.assertEqual([], self.list_ids(query='?offset=2'))
        self.assertEqual([], self.list_ids(query='?offset=%d' % 2 ** 70))
        self.assertEqual(2, len(self.list_ids(query='?limit=%d' % 2 ** 70)))

    def test_pages_follow_creation_order(self):
        # Ids that sort differently from their creation order.
        ids = [self.create(action('id-%02d' % ((i * 7) % 25)))
               for i in range(25)]
        self.assertNotEqual(sorted(ids), ids)
        pages = [self.list_ids(query='?limit=10&offset=%d' % offset)
                 for offset in (0, 10, 20)]
        self.assertEqual([10, 10, 5], [len(page) for page in pages])
        self.assertEqual(ids, pages[0] + pages[1] + pages[2])
        # Writes do not move a document in the order.
        response = self.patch('%s/%s' % (URL, ids[3]), {'max_retries': 1})
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual(2, response.json['version'])
        response = self.post('%s/%s' % (URL, ids[0]),
                             action(backup_name='again'))
        self.assertEqual(201, response.status_int, response.text)
        self.assertEqual(2, response.json['version'])
        self.assertEqual(ids, self.all_ids())
        self.assertEqual(pages[1],
                         self.list_ids(query='?limit=10&offset=10'))

    def test_pages_of_a_search_follow_creation_order(self):
        ids = [self.create(action(backup_name='even' if i % 2 else 'odd'))
               for i in range(25)]
        evens = ids[1::2]
        search = {'match': [{'backup_name': 'even'}]}
        pages = [self.list_ids(search, '?limit=5&offset=%d' % offset)
                 for offset in range(0, 15, 5)]
        self.assertEqual([5, 5, 2], [len(page) for page in pages])
        self.assertEqual(evens, sum(pages, []))

    def test_filtering_happens_before_paging(self):
        ids = [self.create(action(n=i)) for i in range(10)]
        search = {'match_not': [{'n': i} for i in range(5)]}
        self.assertEqual(ids[5:7], self.list_ids(search, '?limit=2'))
        self.assertEqual(ids[7:9],
                         self.list_ids(search, '?limit=2&offset=2'))
        self.assertEqual(ids[9:], self.list_ids(search, '?offset=4'))
        self.assertEqual([], self.list_ids(search, '?offset=5'))


class TestMatch(SearchTestCase):

    def test_top_level_keys(self):
        first = self.create(action('first'), max_retries=2)
        second = self.create(action('second'), mandatory=True)
        other_user = self.create(action('third'),
                                 headers=dict(base.MEMBER_A,
                                              **{'X-User-Id': 'user-z'}))
        self.assertEqual([first], self.found({'action_id': 'first'}))
        self.assertEqual([first], self.found({'max_retries': 2}))
        self.assertEqual([second, other_user],
                         self.found({'max_retries': 5}))
        self.assertEqual([second], self.found({'mandatory': True}))
        self.assertEqual([first, second], self.found({'user_id': 'user-a'}))
        self.assertEqual([other_user], self.found({'user_id': 'user-z'}))
        self.assertEqual([first, second, other_user],
                         self.found({'project_id': base.PROJECT_A}))
        self.assertEqual([], self.found({'action_id': 'nope'}))

    def test_freezer_action_keys(self):
        daily = self.create(action(backup_name='daily', mode='fs'))
        mysql = self.create(action(backup_name='db', mode='mysql',
                                   storage='swift'))
        self.assertEqual([daily], self.found({'backup_name': 'daily'}))
        self.assertEqual([mysql], self.found({'mode': 'mysql'}))
        self.assertEqual([daily, mysql], self.found({'action': 'backup'}))
        self.assertEqual([mysql], self.found({'storage': 'swift'}))

    def test_custom_keys_at_any_depth(self):
        deep = self.create(action(nested={'deep': 'here',
                                          'deeper': {'deepest': [1, 2]}}))
        self.create(action(nested={'deep': 'elsewhere'}))
        self.assertEqual([deep], self.found({'deep': 'here'}))
        self.assertEqual([deep], self.found({'deepest': [1, 2]}))
        self.assertEqual([deep], self.found({'deeper': {'deepest': [1, 2]}}))
        # A dotted path is a key like any other, not a path.
        self.assertEqual([], self.found({'freezer_action.nested.deep':
                                         'here'}))

    def test_any_occurrence_of_a_repeated_key_matches(self):
        both = self.create(action(mode='fs', nested={'mode': 'mysql'}))
        self.assertEqual([both], self.found({'mode': 'fs'}))
        self.assertEqual([both], self.found({'mode': 'mysql'}))
        self.assertEqual([], self.found(match_not=[{'mode': 'mysql'}]))

    def test_values_compare_as_json(self):
        five = self.create(action(n=5))
        text = self.create(action(n='5'))
        true = self.create(action(n=True))
        one = self.create(action(n=1))
        self.assertEqual([five], self.found({'n': 5}))
        self.assertEqual([five], self.found({'n': 5.0}))
        self.assertEqual([text], self.found({'n': '5'}))
        self.assertEqual([true], self.found({'n': True}))
        self.assertEqual([one], self.found({'n': 1}))
        self.assertEqual([one], self.found({'n': 1.0}))
        self.assertEqual([], self.found({'n': 'true'}))
        self.assertEqual([], self.found({'n': 5.5}))

    def test_stored_floats_match_ints(self):
        doc = self.create(action(ratio=2.0, exact=2.5))
        self.assertEqual([doc], self.found({'ratio': 2}))
        self.assertEqual([doc], self.found({'exact': 2.5}))

    def test_whole_object_values(self):
        doc = self.create(action(opts={'a': 1, 'b': {'c': [1, 2]}}))
        self.assertEqual([doc], self.found(
            {'opts': {'b': {'c': [1, 2]}, 'a': 1}}))
        self.assertEqual([], self.found({'opts': {'a': 1}}))
        self.assertEqual([], self.found({'opts': {'a': 1, 'b': {'c': [2, 1]},
                                                  'x': None}}))
        stored = self.get('%s/%s' % (URL, doc)).json
        self.assertEqual([doc], self.found(
            {'freezer_action': stored['freezer_action']}))
        self.assertEqual([], self.found(
            {'freezer_action': dict(stored['freezer_action'], more=1)}))

    def test_list_values(self):
        doc = self.create(action(paths=['/a', '/b']))
        self.assertEqual([doc], self.found({'paths': ['/a', '/b']}))
        self.assertEqual([], self.found({'paths': ['/b', '/a']}))
        self.assertEqual([], self.found({'paths': '/a'}))
        self.assertEqual([], self.found({'paths': ['/a']}))

    def test_match_entries_are_anded(self):
        both = self.create(action(mode='fs', backup_name='x'))
        self.create(action(mode='fs', backup_name='y'))
        self.create(action(mode='mysql', backup_name='x'))
        self.assertEqual([both], self.found({'mode': 'fs'},
                                            {'backup_name': 'x'}))
        self.assertEqual([both], self.found({'mode': 'fs',
                                             'backup_name': 'x'}))
        self.assertEqual([], self.found({'mode': 'fs'}, {'mode': 'mysql'}))

    def test_match_not_excludes_on_any_hit(self):
        fs_x = self.create(action(mode='fs', backup_name='x'))
        fs_y = self.create(action(mode='fs', backup_name='y'))
        mysql = self.create(action(mode='mysql', backup_name='z'))
        self.assertEqual([fs_y, mysql],
                         self.found(match_not=[{'backup_name': 'x'}]))
        self.assertEqual([mysql], self.found(
            match_not=[{'backup_name': 'x'}, {'mode': 'fs'}]))
        self.assertEqual([fs_y, mysql], self.found(
            match_not=[{'backup_name': 'x', 'mode': 'nope'}]))
        self.assertEqual([fs_x], self.found(
            {'mode': 'fs'}, match_not=[{'backup_name': 'y'}]))

    def test_absent_key_counts_as_null(self):
        without = self.create(action())
        with_null = self.create(action(mode=None))
        with_value = self.create(action(mode='fs'))
        self.assertEqual([without, with_null], self.found({'mode': None}))
        self.assertEqual([with_value],
                         self.found(match_not=[{'mode': None}]))
        self.assertEqual([with_value], self.found({'mode': 'fs'}))
        self.assertEqual([without, with_null],
                         self.found(match_not=[{'mode': 'fs'}]))
        self.assertEqual([without, with_null, with_value],
                         self.found({'never_there': None}))
        self.assertEqual([], self.found({'never_there': 'x'}))

    def test_freezerclient_all_form(self):
        x = self.create(action(backup_name='x', mode='fs'))
        y = self.create(action(backup_name='y', mode='fs'))
        self.assertEqual([x], self.found(
            {'_all': '[{"backup_name": "x"}]'}))
        self.assertEqual([x], self.found(
            {'_all': json.dumps([{'mode': 'fs'}, {'backup_name': 'x'}])}))
        self.assertEqual([x, y], self.found({'_all': '[{"mode": "fs"}]'}))
        self.assertEqual([y], self.found(
            {'_all': '[{"mode": "fs"}]'},
            match_not=[{'backup_name': 'x'}]))
        self.assertEqual([y], self.found(
            match_not=[{'_all': '[{"backup_name": "x"}]'}]))

    def test_all_free_text(self):
        # What Horizon's filter box sends: the text the user typed.
        etc = self.create(action(backup_name='Nightly-ETC',
                                 path_to_backup='/etc'))
        home = self.create(action(backup_name='home', path_to_backup='/home',
                                  container='etc-and-more'))
        other = self.create(action(backup_name='other', max_level=5,
                                   no_incremental=True))
        self.assertEqual([etc, home], self.found({'_all': 'etc'}))
        self.assertEqual([etc], self.found({'_all': 'nightly-etc'}))
        self.assertEqual([etc], self.found({'_all': 'HTLY-e'}))
        self.assertEqual([etc, home, other], self.found({'_all': 'backup'}))
        self.assertEqual([], self.found({'_all': 'nowhere'}))
        self.assertEqual([other], self.found(match_not=[{'_all': 'etc'}]))
        self.assertEqual([home], self.found({'_all': 'etc'},
                                            match_not=[{'_all': 'night'}]))
        self.assertEqual([home], self.found({'_all': 'etc'},
                                            {'backup_name': 'home'}))
        self.assertEqual([etc, home, other], self.found({'_all': ''}))

    def test_all_free_text_finds_scalars_and_ids(self):
        five = self.create(action('five', backup_name='n', max_level=7531))
        flag = self.create(action('flag', backup_name='f',
                                  no_incremental=True))
        self.assertEqual([five], self.found({'_all': '7531'}))
        self.assertEqual([five], self.found({'_all': '7531.0'}))
        self.assertEqual([flag], self.found({'_all': 'true'}))
        # Ids and the service's fields are string values too.
        self.assertEqual([five], self.found({'_all': five}))
        self.assertEqual([five, flag], self.found({'_all': 'user-a'}))

    def test_all_free_text_matches_literally(self):
        plain = self.create(action(backup_name='100% done_ok'))
        other = self.create(action(backup_name='1000 doneXok'))
        self.assertEqual([plain], self.found({'_all': '100%'}))
        self.assertEqual([plain], self.found({'_all': 'done_ok'}))
        self.assertEqual([plain, other], self.found({'_all': 'done'}))
        for text in SQL_LOOKING:
            self.assertEqual([], self.found({'_all': text + 'zz'}), text)
        unicode_doc = self.create(action(backup_name='Ночной Бэкап'))
        self.assertEqual([unicode_doc], self.found({'_all': 'НОЧНОЙ'}))
        self.assertEqual([plain, other, unicode_doc], self.all_ids())

    def test_all_free_text_follows_changes(self):
        doc = self.create(action('followed', backup_name='old'))
        self.assertEqual([doc], self.found({'_all': 'old'}))
        response = self.patch('%s/%s' % (URL, doc), {
            'freezer_action': {'backup_name': 'new'}})
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual([], self.found({'_all': 'old'}))
        self.assertEqual([doc], self.found({'_all': 'new'}))
        self.assertEqual(204, self.delete('%s/%s' % (URL, doc)).status_int)
        self.assertEqual([], self.found({'_all': 'new'}))

    def test_freezerclient_request(self):
        """What python-freezerclient sends: GET, JSON body, its headers."""
        x = self.create(action(backup_name='x'))
        self.create(action(backup_name='y'))
        headers = {'X-Auth-Token': 'notused',
                   'Content-Type': 'application/json',
                   'Accept': 'application/json'}
        response = self.app.request(
            URL + '/?limit=5&offset=0', method='GET', headers=headers,
            body=json.dumps({'match': [
                {'_all': '[{"backup_name": "x"}]'}]}).encode())
        self.assertEqual(200, response.status_int)
        self.assertEqual([x], [d['action_id']
                               for d in response.json['actions']])

    def test_search_body_without_content_type(self):
        x = self.create(action(backup_name='x'))
        self.create(action(backup_name='y'))
        response = self.app.request(
            URL, method='GET', headers=base.MEMBER_A,
            body=b'{"match": [{"backup_name": "x"}]}')
        self.assertEqual([x], [d['action_id']
                               for d in response.json['actions']])

    def test_empty_searches_list_everything(self):
        ids = self.create_many(3)
        for search in ({}, {'match': []}, {'match_not': []},
                       {'match': [], 'match_not': []}, {'match': None}):
            self.assertEqual(ids, self.list_ids(search), search)
        self.assertEqual(ids, self.found({}))
        response = self.get(URL, raw='  \n ')
        self.assertEqual(ids, [d['action_id']
                               for d in response.json['actions']])

    def test_sql_looking_keys_and_values(self):
        ids = self.create_many(2)
        for text in SQL_LOOKING:
            self.assertEqual([], self.found({'backup_name': text}))
            self.assertEqual([], self.found({text: 'x'}))
            self.assertEqual([], self.found({'action_id': text}))
            self.assertEqual(ids, self.found(match_not=[{text: 1}]))
            self.assertEqual(ids, self.found({text: None}))
        self.assertEqual(ids, self.all_ids())
        # Stored as data, they are found as data.
        stored = self.create(action(**{text: text for text in SQL_LOOKING}))
        for text in SQL_LOOKING:
            self.assertEqual([stored], self.found({text: text}))
        self.assertEqual(ids + [stored], self.all_ids())

    def test_unicode_keys_and_values(self):
        doc = self.create(action(**{'ключ': 'значение', '键': '值 ✓',
                                    'emoji': '\U0001F600'}))
        self.create(action(**{'ключ': 'другое'}))
        self.assertEqual([doc], self.found({'ключ': 'значение'}))
        self.assertEqual([doc], self.found({'键': '值 ✓'}))
        self.assertEqual([doc], self.found({'emoji': '\U0001F600'}))
        self.assertEqual([], self.found({'ключ': 'ЗНАЧЕНИЕ'}))
        # The same search, sent as UTF-8 rather than \u escapes.
        raw = '{"match": [{"ключ": "значение"}]}'.encode()
        response = self.get(URL, raw=raw)
        self.assertEqual([doc], [d['action_id']
                                 for d in response.json['actions']])

    def test_long_keys_and_values(self):
        key = 'k' * 10240
        value = 'v' * 10240
        doc = self.create(action(**{key: value}))
        self.create(action(**{key: value[:-1]}))
        self.assertEqual([doc], self.found({key: value}))
        self.assertEqual([], self.found({key[:-1]: value}))
        self.assertEqual([], self.found({key: value + 'v'}))
        stored = self.get('%s/%s' % (URL, doc)).json
        self.assertEqual(value, stored['freezer_action'][key])

    def test_other_projects_are_never_seen(self):
        mine = self.create(action(backup_name='shared', mode='fs'))
        theirs = self.create(action(backup_name='shared', mode='fs'),
                             url=URL_B, headers=base.MEMBER_B)
        self.assertEqual([mine], self.found({'backup_name': 'shared'}))
        self.assertEqual([mine], self.found({'mode': 'fs'}))
        self.assertEqual([], self.found({'action_id': theirs}))
        self.assertEqual([], self.found({'project_id': base.PROJECT_B}))
        self.assertEqual([mine], self.found(
            match_not=[{'project_id': base.PROJECT_B}]))
        self.assertEqual([theirs], self.list_ids(
            {'match': [{'backup_name': 'shared'}]}, url=URL_B,
            headers=base.MEMBER_B))
        # Asking for the other project's list is not allowed at all.
        response = self.get(URL_B, body={'match': [{'mode': 'fs'}]})
        self.assertFault(response, 403)


class TestMalformedSearch(SearchTestCase):

    def setUp(self):
        super().setUp()
        self.ids = self.create_many(2)

    def test_match_must_be_a_list(self):
        for body in ({'match': {'mode': 'fs'}}, {'match': 'mode'},
                     {'match_not': {'mode': 'fs'}}, {'match': 5}):
            fault = self.assertSearchFault(body)
            self.assertIn('match', fault['description'])

    def test_elements_must_be_objects(self):
        for body in ({'match': ['mode']}, {'match': [['mode', 'fs']]},
                     {'match': [None]}, {'match': [1]},
                     {'match_not': [{'a': 1}, 'b']}):
            self.assertSearchFault(body)

    def test_all_must_be_a_string(self):
        for value in (5, None, ['x'], {'backup_name': 'x'}, True):
            fault = self.assertSearchFault({'match': [{'_all': value}]})
            self.assertIn('_all', fault['description'], value)

    def test_all_free_text_is_bounded(self):
        for value in ('a\x00b', 'line\nbreak', 'x' * 1001,
                      '[' * 5000 + ']' * 5000):
            fault = self.assertSearchFault({'match': [{'_all': value}]})
            self.assertIn('_all', fault['description'])

    def test_unknown_top_level_keys(self):
        for body, unknown in (({'filter': []}, 'filter'),
                              ({'match': [], 'limit': 5}, 'limit'),
                              ({'Match': [{'a': 1}]}, 'Match')):
            fault = self.assertSearchFault(body)
            self.assertIn('"%s"' % unknown, fault['description'])

    def test_body_must_be_an_object(self):
        for body in ([], [{'match': []}], 'match', 5, True):
            self.assertSearchFault(body)

    def test_not_json_is_753(self):
        for raw in ('{"match": [', 'match=x', "{'match': []}",
                    '{"match": [{"n": NaN}]}', b'\xff\xfe\x00',
                    '[' * 100000):
            fault = self.assertSearchFault(raw=raw, status=753,
                                           title='Malformed JSON')
            self.assertIn('JSON', fault['description'])

    def test_too_many_terms(self):
        self.assertSearchFault({'match': [{'k%d' % i: i}
                                          for i in range(65)]})

    def test_faults_leak_nothing(self):
        response = self.get(URL, body={'match': [{'_all': 5}]})
        fault = self.assertFault(response, 400)
        self.assertNotIn('json.decoder', response.text)
        response = self.get(URL, body={'match': [{'_all': "' OR 1=1 --\t"}]})
        fault = self.assertFault(response, 400)
        self.assertNotIn('OR 1=1', fault['description'])
        self.assertNotIn('json.decoder', response.text)

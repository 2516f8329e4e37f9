"""The search language: parsing, indexing a document, value equality."""

import hashlib
import json

from oslotest import base as oslotest_base

from freezer_api.common import exception
from freezer_api.common import search
from freezer_api.common import utils


def entry(key, value):
    return (search.key_digest(key), search.value_digest(value))


class TestParse(oslotest_base.BaseTestCase):

    def terms(self, *pairs):
        return tuple(search.Term(k, v) for k, v in pairs)

    def test_no_search(self):
        for body in (None, {}, {'match': []}, {'match': None},
                     {'match': [], 'match_not': []}):
            parsed = search.parse(body)
            self.assertFalse(parsed, body)
            self.assertEqual(search.Search(), parsed)

    def test_match_and_match_not(self):
        parsed = search.parse({
            'match': [{'backup_name': 'daily'}, {'mode': 'fs', 'n': 5}],
            'match_not': [{'storage': None}]})
        self.assertTrue(parsed)
        self.assertEqual(self.terms(('backup_name', 'daily'), ('mode', 'fs'),
                                    ('n', 5)), parsed.match)
        self.assertEqual(self.terms(('storage', None)), parsed.match_not)

    def test_values_keep_their_json_type(self):
        parsed = search.parse({'match': [
            {'a': '5'}, {'b': 5}, {'c': True}, {'d': {'x': [1]}},
            {'e': [1, 2]}]})
        self.assertEqual(['5', 5, True, {'x': [1]}, [1, 2]],
                         [t.value for t in parsed.match])

    def test_all_string_form(self):
        parsed = search.parse({'match': [
            {'_all': json.dumps([{'backup_name': 'x'}, {'mode': 'fs'}])},
            {'container': 'c'}]})
        self.assertEqual(self.terms(('backup_name', 'x'), ('mode', 'fs'),
                                    ('container', 'c')), parsed.match)

    def test_all_holding_one_object(self):
        parsed = search.parse({'match_not': [{'_all': '{"mode": "fs"}'}]})
        self.assertEqual(self.terms(('mode', 'fs')), parsed.match_not)

    def test_all_in_match_not(self):
        parsed = search.parse({'match': [{'a': 1}],
                               'match_not': [{'_all': '[{"b": 2}]'}]})
        self.assertEqual(self.terms(('a', 1)), parsed.match)
        self.assertEqual(self.terms(('b', 2)), parsed.match_not)

    def test_all_free_text(self):
        parsed = search.parse({'match': [{'_all': 'Daily ETC'}],
                               'match_not': [{'_all': '[1]'}]})
        self.assertEqual((search.FreeText('daily etc'),), parsed.match)
        self.assertEqual((search.FreeText('[1]'),), parsed.match_not)
        for text in ('not json', '"a"', '[[{"a": 1}]]', '[]', '',
                     '{"a"', 'x' * 1000):
            self.assertEqual(
                (search.FreeText(text.lower()),),
                search.parse({'match': [{'_all': text}]}).match, text)

    def test_all_free_text_that_reads_as_a_scalar(self):
        for text, value in (('5', 5), ('5.0', 5), ('true', True),
                            ('null', None), ('-1e3', -1000)):
            term, = search.parse({'match': [{'_all': text}]}).match
            self.assertEqual(text.lower(), term.text)
            self.assertEqual((search.value_digest(value),),
                             term.scalar_hashes, text)
        term, = search.parse({'match': [{'_all': 'NaN'}]}).match
        self.assertEqual(1, len(term.scalar_hashes))

    def test_document_text(self):
        text = search.document_text({'a': 'One', 'b': [{'c': 'TWO'}, 3],
                                     'd': None, 'e': True})
        self.assertEqual({'one', 'two'}, set(text.split('\x1f')))
        self.assertEqual('a\x1fb', search.document_text({'a': 'a\x00b'}))

    def test_malformed(self):
        for body in ([], [{'match': []}], 'match', 5,
                     {'match': {'a': 1}}, {'match': 'a'},
                     {'match': [1]}, {'match': [['a', 1]]},
                     {'match': [None]}, {'match_not': [{'a': 1}, 'b']},
                     {'match': [{'_all': 5}]},
                     {'match': [{'_all': ['x']}]},
                     {'match': [{'_all': 'tab\there'}]},
                     {'match': [{'_all': 'x' * 1001}]},
                     {'filter': []},
                     {'match': [], 'limit': 1}):
            self.assertRaises(exception.InvalidSearch, search.parse, body)

    def test_all_nested_too_deep(self):
        # The list and the object around the value count too.
        # A request may nest 100 deep.
        limit = 100 - 2
        deep = '[' * limit + ']' * limit
        search.parse({'match': [{'_all': '[{"a": %s}]' % deep}]})
        deeper = '[' * (limit + 1) + ']' * (limit + 1)
        for text in ('[{"a": %s}]' % deeper, '[' * 5000 + ']' * 5000,
                     '[' * 100000):
            self.assertRaises(exception.InvalidSearch, search.parse,
                              {'match': [{'_all': text}]})

    def test_unknown_keys_are_named(self):
        error = self.assertRaises(exception.InvalidSearch, search.parse,
                                  {'match': [], 'zzz': 1, 'aaa': 2})
        self.assertIn('"aaa", "zzz"', error.message)
        self.assertEqual(400, error.code)

    def test_too_many_terms(self):
        pairs = {'k%d' % i: i for i in range(64)}
        self.assertEqual(64,
                         len(search.parse({'match': [pairs]}).match))
        self.assertRaises(exception.InvalidSearch, search.parse,
                          {'match': [pairs], 'match_not': [{'x': 1}]})

    def test_term_digests(self):
        # The digests are stored in the index table: changing how they are
        # made needs a migration that rebuilds it.
        term = search.Term('backup_name', 'x')
        self.assertEqual(hashlib.sha256(b'backup_name').hexdigest(),
                         term.key_hash)
        self.assertEqual(hashlib.sha256(b'"x"').hexdigest(), term.value_hash)
        self.assertEqual(
            hashlib.sha256('{"a":[1,"é"],"b":null}'.encode()).hexdigest(),
            search.value_digest({'b': None, 'a': [1.0, 'é']}))


class TestDocumentEntries(oslotest_base.BaseTestCase):

    def test_flat(self):
        self.assertEqual({entry('a', 1), entry('b', 'x'), entry('c', None)},
                         search.document_entries({'a': 1, 'b': 'x',
                                                  'c': None}))

    def test_nested_objects_at_any_depth(self):
        doc = {'freezer_action': {'mode': 'fs',
                                  'nested': {'deep': {'deeper': True}}}}
        entries = search.document_entries(doc)
        self.assertEqual({
            entry('freezer_action', doc['freezer_action']),
            entry('mode', 'fs'),
            entry('nested', {'deep': {'deeper': True}}),
            entry('deep', {'deeper': True}),
            entry('deeper', True),
        }, entries)

    def test_objects_inside_lists(self):
        doc = {'job_actions': [{'mode': 'fs'}, {'mode': 'mysql'},
                               [{'inner': 1}], 'plain', 7]}
        entries = search.document_entries(doc)
        self.assertIn(entry('job_actions', doc['job_actions']), entries)
        # Every occurrence of a repeated key is indexed.
        self.assertIn(entry('mode', 'fs'), entries)
        self.assertIn(entry('mode', 'mysql'), entries)
        self.assertIn(entry('inner', 1), entries)
        self.assertEqual(4, len(entries))

    def test_lists_are_values_not_elements(self):
        entries = search.document_entries({'paths': ['/a', '/b']})
        self.assertEqual({entry('paths', ['/a', '/b'])}, entries)
        self.assertNotIn(entry('paths', '/a'), entries)

    def test_empty(self):
        self.assertEqual(set(), search.document_entries({}))
        self.assertEqual({entry('a', {}), entry('b', [])},
                         search.document_entries({'a': {}, 'b': []}))

    def test_unicode_and_long(self):
        key = 'ключ-' + 'k' * 10000
        value = '值' * 10000
        self.assertEqual({entry(key, value)},
                         search.document_entries({key: value}))
        self.assertNotEqual(search.key_digest('ключ'),
                            search.key_digest('ключ '))

    def test_as_deep_as_a_request_may_be(self):
        doc = leaf = {}
        for _ in range(100 - 1):
            leaf['n'] = {}
            leaf = leaf['n']
        self.assertEqual(100, utils.json_depth(doc))
        self.assertEqual(100 - 1,
                         len(search.document_entries(doc)))


class TestValueEquality(oslotest_base.BaseTestCase):

    def assertSame(self, a, b):
        self.assertEqual(search.value_digest(a), search.value_digest(b),
                         (a, b))

    def assertDifferent(self, a, b):
        self.assertNotEqual(search.value_digest(a), search.value_digest(b),
                            (a, b))

    def test_integral_floats_equal_ints(self):
        self.assertSame(1, 1.0)
        self.assertSame(0, -0.0)
        self.assertSame([1, {'a': 2}], [1.0, {'a': 2.0}])
        self.assertDifferent(1, 1.5)

    def test_object_key_order_is_irrelevant(self):
        self.assertSame({'a': 1, 'b': {'c': 2, 'd': 3}},
                        {'b': {'d': 3, 'c': 2}, 'a': 1})

    def test_list_order_matters(self):
        self.assertDifferent([1, 2], [2, 1])

    def test_types_are_not_coerced(self):
        self.assertDifferent('5', 5)
        self.assertDifferent(True, 1)
        self.assertDifferent(False, 0)
        self.assertDifferent(None, 0)
        self.assertDifferent(None, 'null')
        self.assertDifferent('', None)
        self.assertDifferent([], {})
        self.assertDifferent('true', True)
        self.assertDifferent({'a': 1}, '{"a": 1}')

    def test_unicode_is_compared_as_text(self):
        self.assertSame('é', 'é')
        self.assertDifferent('é', 'e\u0301')

    def test_keys_are_exact(self):
        self.assertNotEqual(search.key_digest('Mode'),
                            search.key_digest('mode'))
        self.assertEqual(search.key_digest('mode'),
                         search.key_digest('mode'))


class TestJsonDepth(oslotest_base.BaseTestCase):

    def test_depth(self):
        self.assertEqual(0, utils.json_depth('x'))
        self.assertEqual(0, utils.json_depth(None))
        self.assertEqual(1, utils.json_depth({}))
        self.assertEqual(1, utils.json_depth([1, 'a', None]))
        self.assertEqual(3, utils.json_depth({'a': [{'b': 1}], 'c': 2}))
        self.assertEqual(3, utils.json_depth([[], [[]], {}]))

    def test_very_deep_without_recursion(self):
        doc = []
        for _ in range(20000):
            doc = [doc]
        self.assertEqual(20001, utils.json_depth(doc))

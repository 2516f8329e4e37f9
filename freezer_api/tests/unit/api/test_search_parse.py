"""The search language of list requests: parsing and checking a
search body (api/search.py)."""

import json

from oslotest import base as oslotest_base

from freezer_api.api import search
from freezer_api.common import exception
from freezer_api.common import utils
from freezer_api.db import search_index


class TestParse(oslotest_base.BaseTestCase):

    def terms(self, *pairs):
        return tuple(search_index.Term(k, v) for k, v in pairs)

    def test_no_search(self):
        for body in (None, {}, {'match': []}, {'match': None},
                     {'match': [], 'match_not': []}):
            parsed = search.parse(body)
            self.assertFalse(parsed, body)
            self.assertEqual(search_index.Search(), parsed)

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
        self.assertEqual((search_index.FreeText('daily etc'),), parsed.match)
        self.assertEqual((search_index.FreeText('[1]'),), parsed.match_not)
        for text in ('not json', '"a"', '[[{"a": 1}]]', '[]', '',
                     '{"a"', 'x' * 1000):
            self.assertEqual(
                (search_index.FreeText(text.lower()),),
                search.parse({'match': [{'_all': text}]}).match, text)

    def test_all_free_text_that_reads_as_a_scalar(self):
        for text, value in (('5', 5), ('5.0', 5), ('true', True),
                            ('null', None), ('-1e3', -1000)):
            term, = search.parse({'match': [{'_all': text}]}).match
            self.assertEqual(text.lower(), term.text)
            self.assertEqual((search_index.value_digest(value),),
                             term.scalar_hashes, text)
        term, = search.parse({'match': [{'_all': 'NaN'}]}).match
        self.assertEqual(1, len(term.scalar_hashes))

    def test_document_text(self):
        text = search_index.document_text({'a': 'One', 'b': [{'c': 'TWO'}, 3],
                                     'd': None, 'e': True})
        self.assertEqual({'one', 'two'}, set(text.split('\x1f')))
        self.assertEqual('a\x1fb', search_index.document_text({'a': 'a\x00b'}))

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

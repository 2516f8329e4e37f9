"""What the index stores of a search and of a document: term digests,
a document's entries, value equality (db/search_index.py)."""

import hashlib
import random

from oslotest import base as oslotest_base

from freezer_api.common import utils
from freezer_api.db import search_index


def entry(key, value):
    return (search_index.key_digest(key), search_index.value_digest(value))


class TestTermDigests(oslotest_base.BaseTestCase):
    def test_term_digests(self):
        # The digests are stored in the index table: changing how they are
        # made needs a migration that rebuilds it.
        term = search_index.Term('backup_name', 'x')
        self.assertEqual(hashlib.sha256(b'backup_name').hexdigest(),
                         term.key_hash)
        self.assertEqual(hashlib.sha256(b'"x"').hexdigest(), term.value_hash)
        self.assertEqual(
            hashlib.sha256('{"a":[1,"é"],"b":null}'.encode()).hexdigest(),
            search_index.value_digest({'b': None, 'a': [1.0, 'é']}))


class TestDocumentEntries(oslotest_base.BaseTestCase):

    def test_flat(self):
        self.assertEqual({entry('a', 1), entry('b', 'x'), entry('c', None)},
                         search_index.document_entries({'a': 1, 'b': 'x',
                                                  'c': None}))

    def test_nested_objects_at_any_depth(self):
        doc = {'freezer_action': {'mode': 'fs',
                                  'nested': {'deep': {'deeper': True}}}}
        entries = search_index.document_entries(doc)
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
        entries = search_index.document_entries(doc)
        self.assertIn(entry('job_actions', doc['job_actions']), entries)
        # Every occurrence of a repeated key is indexed.
        self.assertIn(entry('mode', 'fs'), entries)
        self.assertIn(entry('mode', 'mysql'), entries)
        self.assertIn(entry('inner', 1), entries)
        self.assertEqual(4, len(entries))

    def test_lists_are_values_not_elements(self):
        entries = search_index.document_entries({'paths': ['/a', '/b']})
        self.assertEqual({entry('paths', ['/a', '/b'])}, entries)
        self.assertNotIn(entry('paths', '/a'), entries)

    def test_empty(self):
        self.assertEqual(set(), search_index.document_entries({}))
        self.assertEqual({entry('a', {}), entry('b', [])},
                         search_index.document_entries({'a': {}, 'b': []}))

    def test_unicode_and_long(self):
        key = 'ключ-' + 'k' * 10000
        value = '值' * 10000
        self.assertEqual({entry(key, value)},
                         search_index.document_entries({key: value}))
        self.assertNotEqual(search_index.key_digest('ключ'),
                            search_index.key_digest('ключ '))

    def test_each_entry_is_the_digest_of_its_value(self):
        # Entries are written by one walk that normalises the document
        # once; searches look them up by value_digest of a single value:
        # the two must agree on every value, floats and nesting included.
        rnd = random.Random(8)
        scalars = [None, True, False, 0, 1, -5, 1.0, -0.0, 2.5, 1e20,
                   float('inf'), 2 ** 70, '', 'x', 'é😀', '\x00\n"\\']

        def value(depth):
            pick = rnd.random()
            if depth < 4 and pick < 0.25:
                return {rnd.choice(['a', 'b', 'é', '"q"', '1']) +
                        str(rnd.randint(0, 3)): value(depth + 1)
                        for _ in range(rnd.randint(0, 4))}
            if depth < 4 and pick < 0.4:
                return [value(depth + 1) for _ in range(rnd.randint(0, 3))]
            return rnd.choice(scalars)

        def expected(node, entries):
            if isinstance(node, dict):
                for key, member in node.items():
                    entries.add(entry(key, member))
                    expected(member, entries)
            elif isinstance(node, list):
                for member in node:
                    expected(member, entries)
            return entries

        for _ in range(2000):
            doc = {'k%d' % i: value(0) for i in range(rnd.randint(0, 5))}
            self.assertEqual(expected(doc, set()),
                             search_index.document_entries(doc), doc)

    def test_as_deep_as_a_request_may_be(self):
        doc = leaf = {}
        for _ in range(100 - 1):
            leaf['n'] = {}
            leaf = leaf['n']
        self.assertEqual(100, utils.json_depth(doc))
        self.assertEqual(100 - 1,
                         len(search_index.document_entries(doc)))


class TestValueEquality(oslotest_base.BaseTestCase):

    def assertSame(self, a, b):
        self.assertEqual(search_index.value_digest(a),
                         search_index.value_digest(b), (a, b))

    def assertDifferent(self, a, b):
        self.assertNotEqual(search_index.value_digest(a),
                            search_index.value_digest(b), (a, b))

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
        self.assertNotEqual(search_index.key_digest('Mode'),
                            search_index.key_digest('mode'))
        self.assertEqual(search_index.key_digest('mode'),
                         search_index.key_digest('mode'))

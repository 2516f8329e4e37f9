"""The search language shared by every list endpoint.

A list request may carry, as a JSON body on GET::

    {"match": [{"key": value}, ...], "match_not": [{"key": value}, ...]}

Every ``{key: value}`` pair of ``match`` must hold and no pair of
``match_not`` may hold. A pair holds when ``key`` occurs at any depth of the
document with a value equal to ``value`` as JSON (``5`` is not ``"5"``); a
key that does not occur counts as ``null``. python-freezerclient's
``--search`` arrives as ``{"match": [{"_all": "<JSON list of pairs>"}]}``.

This module parses and checks a search once; the database layer turns the
result into SQL over the ``search_entries`` index.
"""

import dataclasses
import hashlib
import json

from freezer_api.common import exception
from freezer_api.common import utils

MAX_TERMS = 64


@dataclasses.dataclass(frozen=True)
class Term:
    """One ``key == value`` condition, in the form the index stores."""

    key: str
    value: object

    @property
    def key_hash(self):
        return key_digest(self.key)

    @property
    def value_hash(self):
        return value_digest(self.value)


@dataclasses.dataclass(frozen=True)
class Search:
    """A parsed search: all of ``match`` and none of ``match_not``."""

    match: tuple[Term, ...] = ()
    match_not: tuple[Term, ...] = ()

    def __bool__(self):
        return bool(self.match or self.match_not)


def _normalise(value):
    """``value`` with integral floats as ints: 1.0 and 1 are equal JSON."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _canonical(value):
    """JSON text of ``value`` that is the same for equal JSON values."""
    return json.dumps(_normalise(value), sort_keys=True,
                      separators=(',', ':'), ensure_ascii=False)


def key_digest(key):
    return hashlib.sha256(key.encode('utf-8')).hexdigest()


def value_digest(value):
    return hashlib.sha256(_canonical(value).encode('utf-8')).hexdigest()


def document_entries(document):
    """Every (key_hash, value_hash) pair that occurs in ``document``.

    Keys are collected at any depth: in nested objects and in objects that
    are elements of lists. A key whose value is an object or a list is
    recorded with that whole value and also walked into.
    """
    entries = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                entries.add((key_digest(key), value_digest(value)))
                if isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return entries


def _terms(items, where):
    if not isinstance(items, list):
        raise exception.InvalidSearch(
            reason='"%s" must be a list of {"key": value} objects' % where)
    terms = []
    for item in items:
        if not isinstance(item, dict):
            raise exception.InvalidSearch(
                reason='every element of "%s" must be an object, got %s'
                % (where, json.dumps(item)[:100]))
        for key, value in item.items():
            terms.append(Term(key, value))
    return terms


def _expand_all(terms):
    """Replace python-freezerclient's ``_all`` terms by what they encode."""
    expanded = []
    for term in terms:
        if term.key != '_all':
            expanded.append(term)
            continue
        if not isinstance(term.value, str):
            raise exception.InvalidSearch(
                reason='"_all" must be a string holding a JSON list of '
                       '{"key": value} objects')
        try:
            decoded = json.loads(term.value)
            if utils.json_depth(decoded) > utils.MAX_JSON_DEPTH:
                raise ValueError('nested too deep')
        except (ValueError, RecursionError):
            raise exception.InvalidSearch(
                reason='"_all" must hold a JSON list of {"key": value} '
                       'objects, such as [{"backup_name": "daily"}]') from None
        if isinstance(decoded, dict):
            decoded = [decoded]
        expanded.extend(_terms(decoded, '_all'))
    return expanded


def parse(body):
    """Check a list request's search body and return a :class:`Search`.

    :param body: the decoded JSON body, or None when the request had none.
    :raises InvalidSearch: the body is not of the documented shape.
    """
    if body is None or body == {}:
        return Search()
    if not isinstance(body, dict):
        raise exception.InvalidSearch(
            reason='it must be an object with "match" and/or "match_not"')
    unknown = sorted(set(body) - {'match', 'match_not'})
    if unknown:
        raise exception.InvalidSearch(
            reason='unknown key(s) %s; only "match" and "match_not" are '
                   'understood' % ', '.join('"%s"' % k for k in unknown))
    match = _expand_all(_terms(body.get('match') or [], 'match'))
    match_not = _expand_all(_terms(body.get('match_not') or [], 'match_not'))
    if len(match) + len(match_not) > MAX_TERMS:
        raise exception.InvalidSearch(
            reason='at most %d terms are allowed' % MAX_TERMS)
    return Search(tuple(match), tuple(match_not))

"""The search language shared by every list endpoint.

A list request may carry, as a JSON body on GET::

    {"match": [{"key": value}, ...], "match_not": [{"key": value}, ...]}

Every ``{key: value}`` pair of ``match`` must hold and no pair of
``match_not`` may hold. A pair holds when ``key`` occurs at any depth of the
document with a value equal to ``value`` as JSON (``5`` is not ``"5"``); a
key that does not occur counts as ``null``.

``_all`` is no key: its value is a string. python-freezerclient's
``--search`` sends a JSON list of pairs there (``{"match": [{"_all":
"[{\"backup_name\": \"x\"}]"}]}``), which stands for those pairs. Any
other string is free text, as Horizon's filter boxes send it: a document
matches when one of its string values contains the text (case-insensitive)
or one of its other scalar values is the text read as JSON (``5``,
``true``, ``null``).

This module parses and checks a search once, into the terms of
``freezer_api/db/search_index.py``; the database layer turns them into
SQL over the ``search_entries`` index (pairs) and the ``search_texts``
table (free text).
"""

import json
import typing

from freezer_api.common import exception
from freezer_api.common import utils
from freezer_api.db.search_index import FreeText
from freezer_api.db.search_index import Search
from freezer_api.db.search_index import Term
from freezer_api.db.search_index import value_digest

__all__ = ['MAX_FREE_TEXT', 'MAX_TERMS', 'Search', 'parse']

MAX_TERMS = 64
MAX_FREE_TEXT = 1000


def _free_text(text: str) -> FreeText:
    if len(text) > MAX_FREE_TEXT:
        raise exception.InvalidSearch(
            reason='free text in "_all" is limited to %d characters'
            % MAX_FREE_TEXT)
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise exception.InvalidSearch(
            reason='free text in "_all" may not hold control characters')
    try:
        scalar = json.loads(text)
    except ValueError:
        scalar = text
    hashes: tuple[str, ...] = ()
    if scalar is None or isinstance(scalar, (bool, int, float)):
        hashes = (value_digest(scalar),)
    return FreeText(text.lower(), hashes)


def _terms(items: typing.Any, where: str) -> list[Term]:
    if not isinstance(items, list):
        raise exception.InvalidSearch(
            reason='"%s" must be a list of {"key": value} objects' % where)
    terms: list[Term] = []
    for item in items:
        if not isinstance(item, dict):
            raise exception.InvalidSearch(
                reason='every element of "%s" must be an object, got %s'
                % (where, json.dumps(item)[:100]))
        for key, value in item.items():
            terms.append(Term(key, value))
    return terms


def _is_pairs(decoded: typing.Any) -> bool:
    """Whether ``decoded`` is python-freezerclient's form: an object, or
    a list of objects."""
    return isinstance(decoded, dict) or (
        isinstance(decoded, list) and bool(decoded) and
        all(isinstance(item, dict) for item in decoded))


def _expand_all(terms: list[Term]) -> list[Term | FreeText]:
    """Replace the ``_all`` terms by the pairs or the free text they hold."""
    expanded: list[Term | FreeText] = []
    for term in terms:
        if term.key != '_all':
            expanded.append(term)
            continue
        if not isinstance(term.value, str):
            raise exception.InvalidSearch(
                reason='"_all" must be a string: free text, or a JSON list '
                       'of {"key": value} objects')
        try:
            decoded = json.loads(term.value)
            if utils.json_depth(decoded) > utils.MAX_JSON_DEPTH:
                raise RecursionError('nested too deep')
        except RecursionError:
            raise exception.InvalidSearch(
                reason='the JSON in "_all" is nested too deep') from None
        except ValueError:
            decoded = None
        if _is_pairs(decoded):
            expanded.extend(_terms(
                [decoded] if isinstance(decoded, dict) else decoded, '_all'))
        else:
            expanded.append(_free_text(term.value))
    return expanded


def _or_empty(items: typing.Any) -> typing.Any:
    return [] if items is None else items


def parse(body: typing.Any) -> Search:
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
    # null stands for no terms, as an absent key; an object ({}) is no
    # list of terms and is refused, not read as an empty search.
    match = _expand_all(_terms(_or_empty(body.get('match')), 'match'))
    match_not = _expand_all(_terms(_or_empty(body.get('match_not')),
                                   'match_not'))
    if len(match) + len(match_not) > MAX_TERMS:
        raise exception.InvalidSearch(
            reason='at most %d terms are allowed' % MAX_TERMS)
    return Search(tuple(match), tuple(match_not))

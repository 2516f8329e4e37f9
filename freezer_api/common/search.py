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

This module parses and checks a search once; the database layer turns the
result into SQL over the ``search_entries`` index (pairs) and the
``search_texts`` table (free text).
"""

import dataclasses
import functools
import hashlib
import json
import typing

from freezer_api.common import exception
from freezer_api.common import utils
from freezer_api.common.types import Document

MAX_TERMS = 64


@dataclasses.dataclass(frozen=True)
class Term:
    """One ``key == value`` condition, in the form the index stores."""

    key: str
    value: object

    @property
    def key_hash(self) -> str:
        return key_digest(self.key)

    @property
    def value_hash(self) -> str:
        return value_digest(self.value)


@dataclasses.dataclass(frozen=True)
class FreeText:
    """A free-text ``_all`` condition.

    :ivar text: the text, lower-cased as :func:`document_text` stores it.
    :ivar scalar_hashes: value digests of the non-string scalar the text
        reads as in JSON (none when it reads as no such scalar).
    """

    text: str
    scalar_hashes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Search:
    """A parsed search: all of ``match`` and none of ``match_not``."""

    match: tuple[Term | FreeText, ...] = ()
    match_not: tuple[Term | FreeText, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.match or self.match_not)


def _normalise(value: typing.Any) -> typing.Any:
    """``value`` with integral floats as ints: 1.0 and 1 are equal JSON."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _canonical(value: object) -> str:
    """JSON text of ``value`` that is the same for equal JSON values."""
    return json.dumps(_normalise(value), sort_keys=True,
                      separators=(',', ':'), ensure_ascii=False)


# Documents repeat the same keys and many of the same scalar values (a
# job's status, an action's mode): their digests are kept, a bounded
# number of them, as every write indexes every key and value again.
@functools.lru_cache(maxsize=8192)
def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode('utf-8')).hexdigest()


@functools.lru_cache(maxsize=8192)
def _scalar_digest(kind: type, value: object) -> str:
    return hashlib.sha256(_canonical(value).encode('utf-8')).hexdigest()


def value_digest(value: object) -> str:
    if isinstance(value, (dict, list)):
        return hashlib.sha256(_canonical(value).encode('utf-8')).hexdigest()
    # The type is part of the key: 1, 1.0 and True are equal as dict keys
    # (1.0 and 1 also as JSON, and _canonical makes them one).
    # (mypy does not take a class for Hashable; it is.)
    return _scalar_digest(type(value), value)  # type: ignore[arg-type]


def document_entries(document: Document) -> set[tuple[str, str]]:
    """Every (key_hash, value_hash) pair that occurs in ``document``.

    Keys are collected at any depth: in nested objects and in objects that
    are elements of lists. A key whose value is an object or a list is
    recorded with that whole value and also walked into.
    """
    entries: set[tuple[str, str]] = set()
    stack: list[typing.Any] = [document]
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


# Joins the string values of a document in its free-text body, and stands
# for NUL in them (PostgreSQL's text cannot hold NUL). Free text holds no
# control character, so a match never spans two values.
TEXT_SEPARATOR = '\x1f'
MAX_FREE_TEXT = 1000


def document_text(document: Document) -> str:
    """The free-text body of ``document``: its string values at any
    depth (keys excluded), lower-cased, joined by TEXT_SEPARATOR (which
    also replaces NUL)."""
    strings: list[str] = []
    stack: list[typing.Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            strings.append(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return TEXT_SEPARATOR.join(strings).replace(
        '\x00', TEXT_SEPARATOR).lower()


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

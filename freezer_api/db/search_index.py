"""What a search is for the database: its terms in the form the
``search_entries`` index stores them, their digests, and the entries and
free-text body a document is indexed under.

The language a request spells a search in, and its parser, are
``freezer_api/api/search.py``; the SQL a search becomes is
``freezer_api/db/sqlalchemy/documents.py``.
"""

import dataclasses
import functools
import hashlib
import json
import typing

from freezer_api.common.types import Document


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


# The canonical JSON of a normalised value.
_encode = json.JSONEncoder(sort_keys=True, separators=(',', ':'),
                           ensure_ascii=False).encode


def _canonical(value: object) -> str:
    """JSON text of ``value`` that is the same for equal JSON values."""
    return _encode(_normalise(value))


# Documents repeat the same keys and many of the same scalar values (a
# job's status, an action's mode): their digests are kept, a bounded
# number of them, as every write indexes every key and value again.
def _digest(text: str) -> str:
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


@functools.lru_cache(maxsize=8192)
def key_digest(key: str) -> str:
    return _digest(key)


@functools.lru_cache(maxsize=8192)
def _scalar_digest(kind: type, value: object) -> str:
    return _digest(_canonical(value))


def value_digest(value: object) -> str:
    if isinstance(value, (dict, list)):
        return _digest(_canonical(value))
    # The type is part of the key: 1, 1.0 and True are equal as dict keys
    # (1.0 and 1 also as JSON, and _canonical makes them one).
    # (mypy does not take a class for Hashable; it is.)
    return _scalar_digest(type(value), value)  # type: ignore[arg-type]


def document_entries(document: Document) -> set[tuple[str, str]]:
    """Every (key_hash, value_hash) pair that occurs in ``document``.

    Keys are collected at any depth: in nested objects and in objects that
    are elements of lists. A key whose value is an object or a list is
    recorded with that whole value and also walked into.

    The document is normalised once (:func:`_normalise`), and the
    canonical JSON of each object and list in it is written by the
    encoder alone: normalising each of them again, in Python, for every
    object around it was most of the cost of indexing a job.
    """
    entries: set[tuple[str, str]] = set()
    stack: list[typing.Any] = [_normalise(document)]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, (dict, list)):
                    digest = _digest(_encode(value))
                    stack.append(value)
                else:
                    digest = value_digest(value)
                entries.add((key_digest(key), digest))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return entries


# Joins the string values of a document in its free-text body, and stands
# for NUL in them (PostgreSQL's text cannot hold NUL). Free text holds no
# control character, so a match never spans two values.
TEXT_SEPARATOR = '\x1f'


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

"""The search language over a table's own columns, for a kind whose
searched fields are all columns (runs): no ``search_entries`` to write
with each of its documents, which are written on the scheduler's status
reports.

The meaning is the index's (:mod:`freezer_api.db.search_index`) for the
fields a kind names: a pair holds when the field's value equals the
pair's as JSON (``5`` is not ``"5"``, ``true`` is not ``1``), a field
that is null or not searched counts as null, and free text is found in
the string fields (case-insensitive) or as the value of a number field,
or a null one.
"""

from collections.abc import Mapping
import json
import typing

import sqlalchemy as sa

from freezer_api.db import search_index as search_lang

# field -> the SQL of its value.
Columns = Mapping[str, sa.ColumnElement[typing.Any]]


def _is_text(column: sa.ColumnElement[typing.Any]) -> bool:
    return isinstance(column.type, sa.String)


def _equals(column: sa.ColumnElement[typing.Any],
            value: object) -> sa.ColumnElement[bool]:
    """SQL that holds (never NULL) when the column's value is ``value``
    as JSON."""
    if value is None:
        return column.is_(None)
    if _is_text(column):
        matches = isinstance(value, str)
    else:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        matches = isinstance(value, int) and not isinstance(value, bool)
    if not matches:
        return sa.false()
    return sa.and_(column.is_not(None), column == value)


def _free_text(columns: Columns,
               term: search_lang.FreeText) -> sa.ColumnElement[bool]:
    found = [sa.and_(column.is_not(None),
                     sa.func.lower(column).contains(term.text,
                                                    autoescape=True))
             for column in columns.values() if _is_text(column)]
    if term.scalar_hashes:
        scalar = json.loads(term.text)
        found.extend(_equals(column, scalar) for column in columns.values()
                     if scalar is None or not _is_text(column))
    return sa.or_(*found) if found else sa.false()


def condition(columns: Columns,
              term: search_lang.Term | search_lang.FreeText
              ) -> sa.ColumnElement[bool]:
    """SQL that holds (never NULL) when ``term`` holds for the row."""
    if isinstance(term, search_lang.FreeText):
        return _free_text(columns, term)
    column = columns.get(term.key)
    if column is None:
        return sa.true() if term.value is None else sa.false()
    return _equals(column, term.value)


def apply(query: sa.Select[typing.Any], columns: Columns,
          search: search_lang.Search) -> sa.Select[typing.Any]:
    for term in search.match:
        query = query.where(condition(columns, term))
    for term in search.match_not:
        query = query.where(sa.not_(condition(columns, term)))
    return query

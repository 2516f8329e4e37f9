"""Validate request bodies against the JSON schemas, with messages that
name the offending field and never echo internal patterns."""

from collections.abc import Iterator
import functools
import re
import typing

import jsonschema

from freezer_api.api.schemas.v2 import common
from freezer_api.common import exception

_MAX_VALUE_TEXT = 120


def _field(error: jsonschema.ValidationError) -> str:
    path = '.'.join(str(p) for p in error.absolute_path)
    return path or '(body)'


def _describe(error: jsonschema.ValidationError) -> str:
    value = repr(error.instance)
    if len(value) > _MAX_VALUE_TEXT:
        value = value[:_MAX_VALUE_TEXT] + '...'
    if error.validator == 'pattern':
        hint = error.schema.get('description', 'the allowed format')
        return '%s: %s does not match %s' % (_field(error), value, hint)
    if error.validator == 'required':
        return error.message
    return '%s: %s' % (_field(error), error.message.replace(
        repr(error.instance), value))


def _pattern(validator: typing.Any, pattern: str, instance: typing.Any,
             schema: common.Schema
             ) -> Iterator[jsonschema.ValidationError]:
    """``pattern`` with the ECMA-262 meaning of a final ``$``: the end of
    the string. Python's ``$`` also matches before a final newline, which
    would let ``"abc\\n"`` pass as an id."""
    if not validator.is_type(instance, 'string'):
        return
    if not _compiled(pattern).search(instance):
        yield jsonschema.ValidationError(
            '%r does not match %r' % (instance, pattern))


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled, a final ``$`` made ``\\Z`` (the schemas'
    patterns are few: each is compiled once)."""
    if pattern.endswith('$') and not pattern.endswith('\\$'):
        pattern = pattern[:-1] + r'\Z'
    return re.compile(pattern)


def _in_range(number: float) -> bool:
    return common.MIN_BIGINT <= number <= common.MAX_BIGINT


def _is_int64(checker: typing.Any, instance: typing.Any) -> bool:
    """An integer of JSON Schema (``1e2`` is one too) within 64 bits.

    The body's parser already refuses integer literals out of range; an
    integral float such as ``1e30`` is caught here.
    """
    if isinstance(instance, bool):
        return False
    if isinstance(instance, float):
        return instance.is_integer() and _in_range(instance)
    return isinstance(instance, int) and _in_range(instance)


class Validator:
    """A compiled schema; ``validate`` raises BadRequest on the first
    problem, naming the field."""

    def __init__(self, schema: common.Schema) -> None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        cls = jsonschema.validators.extend(
            cls, {'pattern': _pattern},
            type_checker=cls.TYPE_CHECKER.redefine('integer', _is_int64))
        self.schema = schema
        self._validator = cls(schema, format_checker=cls.FORMAT_CHECKER)

    def validate(self, document: typing.Any) -> None:
        best = jsonschema.exceptions.best_match(
            self._validator.iter_errors(document))
        if best is not None:
            raise exception.BadRequest(_describe(best))

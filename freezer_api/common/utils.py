"""Small helpers with no better home."""

from collections.abc import Iterable
import typing
import uuid

# How deeply objects and arrays may nest in a request: far beyond any real
# document, and well below where walking one recursively (digests, schema
# checks, json.dumps) would exhaust the interpreter's stack.
MAX_JSON_DEPTH = 100


def error_summary(error: BaseException | None) -> str:
    """``Type: first line`` of the driver's own words behind a database
    error, without the SQL that SQLAlchemy and oslo.db append."""
    inner = getattr(error, 'inner_exception', None) or error
    original = getattr(inner, 'orig', None) or inner
    text = str(original).strip().splitlines()
    return '%s: %s' % (type(original).__name__, text[0] if text else '')


def generate_id() -> str:
    """A new resource id: a uuid4 in hex, as the original service made."""
    return uuid.uuid4().hex


def merge_patch(target: typing.Any, patch: typing.Any) -> typing.Any:
    """Apply a JSON merge patch (RFC 7396) to ``target``; return the result.

    Objects are merged key by key, a null removes a key, anything else
    replaces the value. Neither argument is modified.
    """
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_depth(value: typing.Any) -> int:
    """How deeply objects and arrays nest in ``value`` (a scalar is 0)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children: Iterable[typing.Any]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest

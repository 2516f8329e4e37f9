"""What every handler shares: exposing with a status, the JSON body,
paging parameters, the search body and conditional requests."""

from collections.abc import Callable
import contextvars
import functools
import json
import math
import typing

import pecan
import webob

from freezer_api.api import search
from freezer_api.api.schemas import validator
from freezer_api.api.schemas.v2 import common
from freezer_api.common import exception
from freezer_api.common import notifications
from freezer_api.common import utils

# Above this an OFFSET is beyond any real table: answered with an empty page
# instead of a value some databases cannot take.
MAX_OFFSET = 2 ** 62
# Decimal digits of a number beyond every limit, offset and stored version;
# longer ones are not converted (Python refuses past 4300 digits).
_MAX_DIGITS = 19
_MAX_FIELD_TEXT = 120
_UTF8_BOM = b'\xef\xbb\xbf'

# A JSON object: a request body, or a document as the API shows it.
Document = dict[str, typing.Any]

P = typing.ParamSpec('P')


# The compiled schema of the body the running handler reads.
_BODY_VALIDATOR: contextvars.ContextVar[validator.Validator | None] = (
    contextvars.ContextVar('body_validator', default=None))


class Replying(typing.Protocol[P]):
    """A handler made a JSON reply by :func:`reply`, with the status and
    request body schema it was exposed with."""

    status: int
    body: common.Schema | None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> str: ...


def reply(status: int = 200, body: common.Schema | None = None
          ) -> Callable[[Callable[P, object]], Replying[P]]:
    """Make a handler's return value the JSON reply with ``status``.

    A 204 answer has no body and no Content-Type.

    :param body: the JSON schema of the request body the handler reads:
        :func:`document_body` enforces it, and the OpenAPI document shows
        it. Compiled once, here.
    """
    body_validator = None if body is None else validator.Validator(body)

    def decorator(fn: Callable[P, object]) -> Replying[P]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> str:
            token = _BODY_VALIDATOR.set(body_validator)
            try:
                # What the handler's writes committed is sent when it is
                # done (notifications.pending).
                with notifications.collecting():
                    result = fn(*args, **kwargs)
            finally:
                _BODY_VALIDATOR.reset(token)
            response = pecan.response
            response.status = status
            if status == 204:
                response.content_type = None
                return ''
            response.content_type = 'application/json'
            return json.dumps(result)
        replying = typing.cast(Replying[P], wrapper)
        replying.status = status
        replying.body = body
        return replying
    return decorator


def _reject_constant(name: str) -> typing.NoReturn:
    raise ValueError('%s is not valid JSON' % name)


def _finite_float(text: str) -> float:
    # 1e400 would become Infinity, which no JSON reply may carry.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError('the number %s is out of range' % text[:32])
    return value


class _TooLong:
    """An integer literal of more digits than any 64-bit value has, kept
    unconverted (Python refuses to convert more than 4300 digits)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _parse_int(text: str) -> int | _TooLong:
    if len(text.lstrip('-')) > _MAX_DIGITS:
        return _TooLong(text)
    return int(text)


def _join(path: str, key: str | int) -> str:
    return '%s.%s' % (path, key) if path else str(key)


def _check_integers(body: typing.Any) -> None:
    """Refuse the first integer outside 64 bits, naming its field: every
    integer a body holds, wherever it is stored (a column or a JSON
    document), is one a big integer column and freezer-scheduler take."""
    stack: list[tuple[typing.Any, str]] = [(body, '')]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            stack.extend((v, _join(path, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, _join(path, i)) for i, v in enumerate(node))
        elif isinstance(node, _TooLong) or (
                isinstance(node, int) and not isinstance(node, bool) and
                not common.MIN_BIGINT <= node <= common.MAX_BIGINT):
            text = node.text if isinstance(node, _TooLong) else str(node)
            if len(text) > 32:
                text = '%s... (%d digits)' % (text[:20],
                                              len(text.lstrip('-')))
            raise exception.IntegerOutOfRange(
                field=(path or '(body)')[:_MAX_FIELD_TEXT], value=text)


def _has_body(raw: bytes) -> bool:
    return bool(raw) and bool(raw.strip())


def decode_json(raw: bytes) -> typing.Any:
    """``raw``, JSON in UTF-8 (a UTF-8 BOM is allowed), decoded.

    Other encodings are refused: ``json.loads`` would otherwise guess
    UTF-16 or UTF-32 from the first bytes.

    :raises MalformedJSON: ``raw`` is not JSON in UTF-8 (HTTP 753).
    :raises IntegerOutOfRange: an integer is outside the signed 64-bit
        range (HTTP 400).
    """
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM):]
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        raise exception.MalformedJSON(
            reason='the body is not UTF-8') from None
    try:
        body = json.loads(text, parse_constant=_reject_constant,
                          parse_float=_finite_float, parse_int=_parse_int)
    except (ValueError, RecursionError) as e:
        reason = str(e) if isinstance(e, ValueError) else 'nested too deep'
        raise exception.MalformedJSON(reason=reason[:200]) from None
    if utils.json_depth(body) > utils.MAX_JSON_DEPTH:
        raise exception.MalformedJSON(reason='nested too deep')
    _check_integers(body)
    try:
        # An unpaired surrogate ("\ud800") decodes, but cannot be stored,
        # indexed or sent back as UTF-8.
        json.dumps(body, ensure_ascii=False).encode('utf-8')
    except UnicodeEncodeError:
        raise exception.MalformedJSON(
            reason='a string holds an unpaired UTF-16 surrogate') from None
    return body


# Where a request's decoded body is kept, in its WSGI environ.
_DECODED_BODY = 'freezer_api.decoded_body'


def request_json(request: webob.Request) -> typing.Any:
    """The decoded body of ``request``, or None when there is none;
    decoded once per request (Pecan reads it too, see app._Request).

    :raises MalformedJSON: the body is not JSON (HTTP 753).
    """
    environ = request.environ
    if _DECODED_BODY not in environ:
        raw = request.body
        environ[_DECODED_BODY] = decode_json(raw) if _has_body(raw) else None
    return environ[_DECODED_BODY]


def json_body() -> typing.Any:
    """The decoded request body, or None when there is none.

    :raises MalformedJSON: the body is not JSON (HTTP 753).
    """
    return request_json(pecan.request)


def document_body() -> Document:
    """The request body, which must be a JSON object valid against the
    body schema the handler is exposed with (see :func:`reply`).

    :raises BadRequest: it is not (HTTP 400), naming the first problem.
    """
    body = json_body()
    if body is None:
        raise exception.MissingBody()
    if not isinstance(body, dict):
        raise exception.BadRequest(
            'The request body must be a JSON object, not %s'
            % type(body).__name__.replace('dict', 'object')
            .replace('list', 'array').replace('str', 'string'))
    body_validator = _BODY_VALIDATOR.get()
    if body_validator is not None:
        body_validator.validate(body)
    return body


def _int_param(name: str, default: int) -> int:
    raw = pecan.request.GET.get(name)
    if raw is None or raw == '':
        return default
    if raw.startswith('-') and raw[1:].isascii() and raw[1:].isdigit():
        raise exception.InvalidParameter(
            name=name, reason='The value must not be negative.')
    if not (raw.isascii() and raw.isdigit()):
        raise exception.InvalidParameter(
            name=name, reason='The value must be an integer.')
    return _digits_value(raw)


def _digits_value(digits: str) -> int:
    """The value of ASCII ``digits``; a value too large for any limit,
    offset or version is capped (a cap that none of them reaches)."""
    digits = digits.lstrip('0') or '0'
    if len(digits) > _MAX_DIGITS:
        return 10 ** _MAX_DIGITS
    return int(digits)


def paging() -> tuple[int, int]:
    """(limit, offset) of a list request.

    ``limit`` defaults to [api] default_limit (0 means the default too) and
    is reduced to [api] max_limit; both must be non-negative integers.
    """
    api_conf = pecan.request.cfg.api
    limit = _int_param('limit', 0) or api_conf.default_limit
    offset = _int_param('offset', 0)
    return min(limit, api_conf.max_limit), min(offset, MAX_OFFSET)


def search_body() -> search.Search:
    """The parsed search of a list request (a JSON body on GET).

    No body is no search; a body of JSON ``null`` is no search object.
    """
    raw = pecan.request.body
    if not _has_body(raw):
        return search.parse(None)
    body = decode_json(raw)
    if body is None:
        raise exception.InvalidSearch(
            reason='it must be an object with "match" and/or "match_not"')
    return search.parse(body)


def if_match() -> int | None:
    """The version an If-Match header requires, or None.

    Only our own ETags (``"<version>"``) can match; ``*`` matches any
    existing document and is treated as no condition.
    """
    header = pecan.request.headers.get('If-Match')
    if header is None or header.strip() == '*':
        return None
    versions = []
    for tag in header.split(','):
        tag = tag.strip()
        if tag.startswith('W/'):
            tag = tag[2:]
        tag = tag.strip('"')
        if not (tag.isascii() and tag.isdigit()):
            raise exception.PreconditionFailed(
                'If-Match %s is not an ETag of this service' % tag[:64])
        versions.append(_digits_value(tag))
    if len(versions) != 1:
        raise exception.PreconditionFailed(
            'If-Match must name exactly one version')
    return versions[0]


def set_etag(document: Document) -> Document:
    """Send the document's version as its ETag."""
    pecan.response.headers['ETag'] = '"%d"' % document['_version']
    return document


def written(id_key: str, document: Document) -> Document:
    """The reply to a replace or a PATCH: the document's id and its new
    version, which is sent as the ETag too."""
    set_etag(document)
    return {id_key: document[id_key], 'version': document['_version']}

"""Errors as JSON faults: which exception or error response becomes
which status, title, description and headers, and the one rendering of
the ``{"title", "description"}`` body that python-freezerclient and
freezer-scheduler parse.

Used by the Pecan hook (errors raised while handling a request), the
middleware (errors escaping the application, error responses made by
other middleware) and the gunicorn worker (errors gunicorn answers
itself). A caller only ever sees the texts of :mod:`exception` or the
ones here: never a stack trace, SQL or a token.
"""

import json
import typing

from oslo_log import log
import webob
from webob import exc as webob_exc
import webob.request

from freezer_api.common import exception

LOG = log.getLogger(__name__)

# The headers of a middleware's error response that its fault keeps.
KEPT_HEADERS = ('WWW-Authenticate', 'Allow', 'Retry-After')

# What each status gunicorn answers itself means for the caller;
# gunicorn's own text may echo the raw bytes of the request.
PROTOCOL_DESCRIPTIONS = {
    400: 'The request is not valid HTTP/1.1 (RFC 9112): its request line, '
         'headers, Host or body framing are malformed.',
    403: 'The request is forbidden.',
    413: exception.RequestTooLarge().message,
    414: 'The request line is longer than the server accepts.',
    417: 'The expectation in the Expect header cannot be met.',
    431: 'The request headers are larger than the server accepts.',
    501: 'The Transfer-Encoding of the request is not supported.',
}


def render(title: str, description: str) -> bytes:
    """The JSON fault body ``{"title", "description"}``."""
    return json.dumps({'title': title, 'description': description}).encode()


def status_title(code: int) -> str:
    """WebOb's title of the HTTP status ``code`` (that of 500 for a code
    it does not know)."""
    return webob_exc.status_map.get(code, webob_exc.HTTPServerError).title


def _reason(code: int) -> str:
    if code == 753:
        return 'Syntax Error'
    return status_title(code)


def _json_response(status: str, title: str,
                   description: str) -> webob.Response:
    return webob.Response(status=status, content_type='application/json',
                          charset=None, body=render(title, description))


def fault_response(error: exception.FreezerException) -> webob.Response:
    """The JSON fault response of a FreezerException."""
    code = int(error.code)
    response = _json_response('%d %s' % (code, _reason(code)),
                              error.title, error.message)
    response.headers.update(error.headers)
    return response


def body_error_response(error: BaseException) -> webob.Response | None:
    """The fault of an error the caller caused while sending its body
    (a client gone mid-body, a body framed wrongly), logged in one line;
    None for any other error."""
    if isinstance(error, webob.request.DisconnectionError):
        error = exception.ClientDisconnected()
    if isinstance(error, (exception.ClientDisconnected,
                          exception.BadFraming)):
        LOG.warning('Request refused: %s', error.message)
        return fault_response(error)
    return None


def _unexpected_error_response(method: str | None,
                               path: str | None) -> webob.Response:
    # The traceback goes to the log only; the caller gets the generic 500.
    LOG.exception('Unexpected error while handling %s %s', method, path)
    return fault_response(exception.FreezerException())


def _http_error_fault(error: webob_exc.HTTPException,
                      method: str) -> exception.FreezerException:
    """Our fault for an HTTP error WebOb or Pecan raised (an unknown
    path, a method a controller does not take)."""
    code = error.code
    fault: exception.FreezerException
    if code == 404:
        fault = exception.NotFound()
    elif code == 405:
        fault = exception.MethodNotAllowed(method=method)
        allow = error.headers.get('Allow')
        if allow:
            fault.headers = {'Allow': allow}
    elif code < 500:
        fault = exception.BadRequest(error.explanation)
        fault.code = code
        fault.title = error.title
    else:
        LOG.error('Request failed: %s %s', code, error.explanation)
        fault = exception.FreezerException()
    return fault


def handler_error_response(error: BaseException,
                           request: webob.Request) -> webob.Response:
    """The fault of an error raised while Pecan handled ``request``:
    ours as they are (a 5xx other than a 503 logged in one line),
    WebOb's HTTP errors as ours, a URL that is not UTF-8 a 400, anything
    else the generic 500 with its traceback logged."""
    fault = body_error_response(error)
    if fault is not None:
        return fault
    if isinstance(error, exception.FreezerException):
        # A 503 was logged where it was found, in one line.
        if (500 <= int(error.code) < 600 and
                not isinstance(error, exception.ServiceUnavailable)):
            LOG.error('Request failed: %s', error.message)
        return fault_response(error)
    if isinstance(error, webob_exc.HTTPException):
        return fault_response(_http_error_fault(error, request.method))
    if isinstance(error, UnicodeError):
        # WebOb decodes the URL and query string lazily.
        return fault_response(exception.BadRequest(
            'The request URL is not valid UTF-8'))
    return _unexpected_error_response(request.method, request.path_info)


def escaped_error_response(
        error: BaseException,
        environ: dict[str, typing.Any]) -> webob.Response:
    """The fault of an error that escaped the application and the
    middleware below the JSON faults: ours as they are, unlogged;
    anything else the generic 500 with its traceback logged."""
    fault = body_error_response(error)
    if fault is not None:
        return fault
    if isinstance(error, exception.FreezerException):
        return fault_response(error)
    return _unexpected_error_response(environ.get('REQUEST_METHOD'),
                                      environ.get('PATH_INFO'))


def is_fault(response: webob.Response) -> bool:
    """Whether ``response`` already carries a JSON fault body."""
    if response.content_type != 'application/json':
        return False
    try:
        body = json.loads(response.body)
    except ValueError:
        return False
    return (isinstance(body, dict) and
            set(body) == {'title', 'description'})


def rewrite_response(response: webob.Response) -> webob.Response:
    """The JSON fault of another middleware's error ``response`` (text,
    HTML or another JSON shape), its status and :data:`KEPT_HEADERS`
    kept."""
    title = response.status.split(' ', 1)[-1]
    description: str | None = ''
    try:
        body = json.loads(response.body)
        error = body.get('error', body) if isinstance(body, dict) else {}
        description = error.get('message') or error.get('description')
        title = error.get('title') or title
    except ValueError:
        lines = response.text.strip().splitlines()[-1:]
        description = lines[0] if lines else ''
    if response.status_int == 413:
        # oslo.middleware's text carries an unformatted "%s".
        description = exception.RequestTooLarge().message
    elif response.status_int == 503:
        # auth_token's when Keystone cannot be reached: WebOb's HTML
        # page, or its JSON with the page's markup in the message.
        description = exception.IdentityUnavailable().message
    fault = _json_response(response.status, title, description or title)
    for name in KEPT_HEADERS:
        if name in response.headers:
            fault.headers[name] = response.headers[name]
    return fault


def protocol_fault(code: int) -> tuple[str, str]:
    """(title, description) of the error ``code`` gunicorn answers
    itself (the generic 500 text for a status it is not known to
    send)."""
    return status_title(code), PROTOCOL_DESCRIPTIONS.get(
        code, exception.FreezerException().message)

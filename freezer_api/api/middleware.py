"""WSGI middleware of our own; the rest comes from oslo.middleware and
keystonemiddleware (see app.py)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
import re
import typing
import urllib.parse

from oslo_log import log
from oslo_middleware import request_id
import webob
import webob.dec

from freezer_api.api import faults
from freezer_api.common import context
from freezer_api.common import exception

if typing.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

LOG = log.getLogger(__name__)


class LogContext:
    """Start every request with a log context of its own request id.

    oslo.log takes the request id from the thread's current context; a
    request that fails before the ContextHook runs (401, 413, healthcheck)
    must not log under the id of the thread's previous request.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        context.RequestContext(
            request_id=environ.get(request_id.ENV_REQUEST_ID),
            overwrite=True)
        return self.app(environ, start_response)


# RFC 3986 host (reg-name, IPv4 or an IP-literal) and an optional port.
_HOST = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?\Z")


class HostHeader:
    """Refuse a request whose Host RFC 9112 section 3.2 forbids: missing
    in HTTP/1.1, or not a host[:port]."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        host = environ.get('HTTP_HOST')
        if host is None:
            bad = environ.get('SERVER_PROTOCOL') == 'HTTP/1.1'
        else:
            bad = not _HOST.match(host)
        if bad:
            fault = faults.fault_response(exception.BadRequest(
                'The Host header is missing or is not a host[:port] '
                '(RFC 9112 section 3.2).'))
            return fault(environ, start_response)
        return self.app(environ, start_response)


def _is_utf8(wsgi_text: str, unquote: bool = False) -> bool:
    raw = wsgi_text.encode('latin-1')
    if unquote:
        raw = urllib.parse.unquote_to_bytes(raw)
    try:
        raw.decode('utf-8')
    except UnicodeDecodeError:
        return False
    return True


class UTF8URL:
    """Refuse a URL whose path or query is not UTF-8 (``%FF``), once, up
    front: WebOb would raise UnicodeDecodeError wherever Pecan or a
    middleware first reads it."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        if not (_is_utf8(environ.get('PATH_INFO', '')) and
                _is_utf8(environ.get('SCRIPT_NAME', '')) and
                _is_utf8(environ.get('QUERY_STRING', ''), unquote=True)):
            LOG.info('Request refused: the URL is not valid UTF-8')
            fault = faults.fault_response(exception.BadRequest(
                'The request URL is not valid UTF-8'))
            return fault(environ, start_response)
        return self.app(environ, start_response)


class _Input:
    """``wsgi.input`` whose read errors are the caller's faults.

    The server raises its own exceptions when the body is not framed as
    its headers say (a bad chunk size, a chunk without its CRLF) or the
    client goes away mid-body; those are the caller's doing, not 500s.
    """

    def __init__(self, stream: typing.Any) -> None:
        self._stream = stream

    def _call(self, name: str, *args: typing.Any) -> typing.Any:
        try:
            return getattr(self._stream, name)(*args)
        except exception.FreezerException:
            raise
        except OSError:
            raise exception.ClientDisconnected() from None
        except Exception:
            raise exception.BadFraming() from None

    def read(self, *args: typing.Any) -> bytes:
        return self._call('read', *args)

    def readline(self, *args: typing.Any) -> bytes:
        return self._call('readline', *args)

    def readlines(self, *args: typing.Any) -> list[bytes]:
        return self._call('readlines', *args)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b'')

    def __getattr__(self, name: str) -> typing.Any:
        return getattr(self._stream, name)


class BodyErrors:
    """Make the body's framing errors and a client gone mid-body faults."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        stream = environ.get('wsgi.input')
        if stream is not None:
            environ['wsgi.input'] = _Input(stream)
        return self.app(environ, start_response)


class TrailingSlash:
    """Accept a trailing slash everywhere: ``/v2/p/actions/`` is
    ``/v2/p/actions`` (python-freezerclient sends both forms)."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get('PATH_INFO', '')
        if len(path) > 1 and path.endswith('/'):
            environ['PATH_INFO'] = path.rstrip('/') or '/'
        return self.app(environ, start_response)


class PathDispatch:
    """Send requests for some exact paths to other applications."""

    def __init__(self, default_app: WSGIApplication,
                 routes: dict[str, WSGIApplication]) -> None:
        self.default_app = default_app
        self.routes = routes

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get('PATH_INFO', '') or '/'
        app = self.routes.get(path, self.default_app)
        return app(environ, start_response)


class OnlyWhen:
    """Send a request through ``layer`` (a middleware around ``app``) only
    when ``needed(environ)``, straight to ``app`` otherwise."""

    def __init__(self, layer: WSGIApplication, app: WSGIApplication,
                 needed: Callable[[WSGIEnvironment], bool]) -> None:
        self.layer = layer
        self.app = app
        self.needed = needed

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        if self.needed(environ):
            return self.layer(environ, start_response)
        return self.app(environ, start_response)


def has_body(environ: WSGIEnvironment) -> bool:
    """Whether the request may have a body: a Content-Length other than
    0, or a Transfer-Encoding (chunked). Without either there is none
    (RFC 9112 section 6.3)."""
    return (environ.get('CONTENT_LENGTH') not in (None, '', '0') or
            'HTTP_TRANSFER_ENCODING' in environ)


class JSONFaults:
    """Give every error response the JSON fault body clients parse.

    Errors made by middleware (401 from auth_token, 413 from the size
    limit) come as text or in another JSON shape; they are rewritten to
    ``{"title", "description"}`` with their headers kept. An exception that
    escapes the application becomes the generic 500, logged with the
    request id and without details for the caller.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        # A response below 400 goes through as it is, unbuffered; only an
        # error's status, headers and body are held back to be checked.
        held: list[typing.Any] = []
        started: list[str] = []

        def hold(status: str, headers: list[tuple[str, str]],
                 exc_info: typing.Any = None) -> Callable[[bytes], object]:
            started.append(status)
            if int(status[:3]) < 400:
                return start_response(status, headers, exc_info)
            held[:] = [status, headers]
            return lambda data: held.append(data)

        try:
            body = self.app(environ, hold)
            if not started:
                # It starts its response only once iterated.
                body = [self._join(body)]
            error_body = self._join(body) if held else b''
        except Exception as e:
            fault = faults.escaped_error_response(e, environ)
            return fault(environ, start_response)
        if not held:
            return body
        status, headers, written = held[0], held[1], held[2:]
        response = webob.Response(status=status, headerlist=list(headers),
                                  body=b''.join(written) + error_body)
        if not faults.is_fault(response):
            response = faults.rewrite_response(response)
        return response(environ, start_response)

    @staticmethod
    def _join(body: Iterable[bytes]) -> bytes:
        try:
            return b''.join(body)
        finally:
            close = getattr(body, 'close', None)
            if close is not None:
                close()

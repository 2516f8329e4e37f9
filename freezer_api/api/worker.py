"""The gunicorn worker that serves the API: gthread, with the errors
gunicorn answers itself given the JSON fault body clients parse.

gunicorn refuses a request that HTTP/1.1 does not allow (broken framing,
headers over its limits, a bad Host) before the application sees it, with
an HTML page. The status and the logging stay gunicorn's; only the body
becomes ``{"title", "description"}``.
"""

import socket
import typing

from gunicorn import util
from gunicorn.http import body as gunicorn_body
from gunicorn.http import message as gunicorn_message
from gunicorn.http import unreader as gunicorn_unreader
from gunicorn.workers import gthread

from freezer_api.api import faults
from freezer_api.common import exception


class _Capture:
    """A socket that keeps what gunicorn writes to it."""

    def __init__(self) -> None:
        self.data = bytearray()

    def gettimeout(self) -> float:
        return 0.0

    def setblocking(self, flag: bool) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.data += data


def _status(response: bytes | bytearray) -> tuple[int, str]:
    """(code, reason) of the status line of a raw HTTP response."""
    line = bytes(response).split(b'\r\n', 1)[0].decode('latin-1')
    _version, code, reason = (line.split(' ', 2) + ['', ''])[:3]
    return (int(code) if code.isdigit() else 500), reason


def fault_bytes(code: int, reason: str) -> bytes:
    """A complete ``Connection: close`` response with the JSON fault of
    ``code``."""
    title, description = faults.protocol_fault(code)
    body = faults.render(title, description)
    head = ('HTTP/1.1 %d %s\r\nConnection: close\r\n'
            'Content-Type: application/json\r\nContent-Length: %d\r\n\r\n'
            % (code, reason or title, len(body)))
    return head.encode('latin-1') + body


class _LimitedChunkedReader(gunicorn_body.ChunkedReader):
    """A chunked body refused as soon as its chunk sizes add up to more
    than ``limit``: a client announcing a huge chunk and trickling it gets
    its 413 at once, not after sending ``limit`` bytes."""

    def __init__(self, req: gunicorn_message.Request,
                 unreader: gunicorn_unreader.Unreader, limit: int) -> None:
        super().__init__(req, unreader)
        self.limit = limit
        self.announced = 0

    def parse_chunk_size(self, unreader: gunicorn_unreader.Unreader,
                         data: bytes | bytearray | None = None
                         ) -> tuple[int, bytes | None]:
        size, rest = super().parse_chunk_size(unreader, data=data)
        self.announced += size
        if self.announced > self.limit:
            raise exception.RequestTooLarge()
        return size, rest


class JSONFaultWorker(gthread.ThreadWorker):
    """gthread, whose own error responses are JSON faults.

    :cvar max_body_size: the largest chunked body read (the size limit
        middleware refuses a larger Content-Length itself); None for no
        early check.
    """

    max_body_size: int | None = None

    def handle_error(self, req: gunicorn_message.Request | None,
                     client: socket.socket, addr: typing.Any,
                     exc: BaseException) -> None:
        capture = _Capture()
        super().handle_error(req, capture, addr, exc)
        code, reason = _status(capture.data)
        try:
            util.write_nonblock(client, fault_bytes(code, reason))
        except Exception:
            self.log.debug('Failed to send error message.')

    def handle_request(self, req: gunicorn_message.Request,
                       conn: gthread.TConn) -> bool:
        reader = getattr(req.body, 'reader', None)
        if (self.max_body_size is not None and
                type(reader) is gunicorn_body.ChunkedReader):
            # Nothing of the body is read yet: the reader can be swapped.
            req.body.reader = _LimitedChunkedReader(
                req, req.unreader, self.max_body_size)
        return super().handle_request(req, conn)


def worker_class(max_body_size: int | None
                 ) -> type[JSONFaultWorker]:
    """JSONFaultWorker refusing chunked bodies over ``max_body_size``."""
    return type('JSONFaultWorker', (JSONFaultWorker,),
                {'max_body_size': max_body_size,
                 '__module__': __name__})

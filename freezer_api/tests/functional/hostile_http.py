"""A raw-socket HTTP/1.1 client for the hostile-input test.

http.client and requests refuse to send most of what the catalogue sends
(broken framing, NULs in headers, two Host lines, a body that never
ends), so a case is turned into bytes here (request_bytes) and written to
the server with exchange(), which can also trickle, half-close and wait
for the server to hang up.
"""

import dataclasses
import http.client
import io
import json
import re
import select
import socket
import time

from freezer_api.tests.functional import utils

LINGER_SECONDS = 15.0
TRICKLE = b'x' * 512
TRICKLE_INTERVAL = 0.1


@dataclasses.dataclass
class Reply:
    """What exchange() got back; ``error`` says why there is no status."""

    status: int | None = None
    headers: dict = dataclasses.field(default_factory=dict)
    body: bytes = b''
    error: str | None = None
    closed: bool = False
    seconds: float = 0.0

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class _Bytes:
    """What http.client.HTTPResponse reads from: the bytes received."""

    def __init__(self, data):
        self.data = data

    def makefile(self, mode):
        return io.BytesIO(self.data)


def _complete(data):
    end = data.find(b'\r\n\r\n')
    if end < 0:
        return False
    head = bytes(data[:end]).decode('latin-1').lower()
    status = head.split(' ', 2)[1] if ' ' in head else ''
    if status in ('204', '304'):
        return True
    length = re.search(r'\r\ncontent-length:\s*(\d+)', head)
    if length:
        return len(data) - end - 4 >= int(length.group(1))
    if 'transfer-encoding: chunked' in head:
        return data.endswith(b'0\r\n\r\n')
    return False


def _parse(data):
    resp = http.client.HTTPResponse(_Bytes(bytes(data)))
    resp.begin()
    body = resp.read()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


def exchange(port, data, timeout=10.0, trickle=False, half_close=False,
             linger=False):
    """Write ``data`` to the server and read its reply.

    :param trickle: once ``data`` is sent, keep sending a little more now
        and then, as a slow client would, until the reply comes.
    :param half_close: shut our side down once ``data`` is sent.
    :param linger: after the reply, keep trickling until the server hangs
        up (``Reply.closed``), at most LINGER_SECONDS.
    """
    t0 = time.monotonic()
    reply = Reply()
    sock = socket.create_connection((utils.HOST, port), timeout=timeout)
    sock.setblocking(False)
    out = memoryview(data)
    got = bytearray()
    deadline = t0 + timeout
    next_trickle = 0.0
    replied = None
    try:
        while time.monotonic() < deadline:
            readable, writable, _ = select.select(
                [sock], [sock] if out else [], [], 0.02)
            if readable:
                try:
                    chunk = sock.recv(65536)
                except ConnectionError:
                    chunk = b''
                if not chunk:
                    reply.closed = True
                    break
                got += chunk
                if replied is None and _complete(got):
                    replied = time.monotonic()
                    if not linger:
                        break
                    deadline = replied + LINGER_SECONDS
            if writable and out:
                try:
                    out = out[sock.send(out[:65536]):]
                except BlockingIOError:
                    pass
                except ConnectionError:
                    out = memoryview(b'')
                    trickle = False
                if not out and half_close:
                    sock.shutdown(socket.SHUT_WR)
            if (not out and (trickle or linger) and
                    time.monotonic() >= next_trickle):
                next_trickle = time.monotonic() + TRICKLE_INTERVAL
                try:
                    sock.send(TRICKLE)
                except BlockingIOError:
                    pass
                except ConnectionError:
                    trickle = linger = False
    finally:
        sock.close()
    reply.seconds = (replied or time.monotonic()) - t0
    if not got:
        reply.error = 'no reply' + (' (closed)' if reply.closed else
                                    f' within {timeout:.0f}s')
        return reply
    try:
        reply.status, reply.headers, reply.body = _parse(got)
    except (http.client.HTTPException, ValueError) as e:
        reply.error = f'unreadable reply ({e}): {bytes(got[:120])!r}'
    if linger and not reply.closed:
        reply.error = (f'the server kept the connection open '
                       f'{LINGER_SECONDS:.0f}s after its reply, reading')
    return reply


def _chunked(body, size=8192):
    out = bytearray()
    for start in range(0, len(body), size):
        piece = body[start:start + size]
        out += b'%x\r\n' % len(piece) + piece + b'\r\n'
    return bytes(out + b'0\r\n\r\n')


def request_bytes(case, port, sub):
    defaults = [('Host', f'{utils.HOST}:{port}'),
                ('Accept', 'application/json'),
                ('Content-Type', 'application/json'),
                ('Connection', 'close')]
    body = b''
    if case.wire is not None:
        body = sub(case.wire)
    elif case.body is not None:
        body = sub(case.body)
        if case.chunked:
            defaults.append(('Transfer-Encoding', 'chunked'))
            body = _chunked(body)
        else:
            defaults.append(('Content-Length', str(len(body))))
    headers = dict((k.lower(), (k, v)) for k, v in defaults)
    extra = []
    for name, value in case.headers:
        if name.startswith('+'):
            extra.append((name[1:], value))
        else:
            headers[name.lower()] = (name, value)
    lines = [f'{case.method} {sub(case.path)} HTTP/1.1']
    lines += [f'{k}: {sub(v)}' for k, v in list(headers.values()) + extra
              if v is not None]
    head = '\r\n'.join(lines).encode('utf-8') + b'\r\n\r\n'
    return head + body

"""The gunicorn worker: its own error responses are JSON faults, and a
chunked body is refused by the size its chunks announce."""

import http.client
import io
import json
from unittest import mock

from gunicorn.http import body as gunicorn_body
from gunicorn.http import errors
from gunicorn.http import unreader
from gunicorn.workers import gthread
from oslo_middleware import sizelimit

from freezer_api.api import worker
from freezer_api.cmd import api
from freezer_api.common import exception
from freezer_api.tests.unit import base

LIMIT = 114688


class _Socket(worker._Capture):
    """A blocking client socket that keeps what the worker writes to it
    and reads it back."""

    def gettimeout(self):
        return 1.0

    def makefile(self, mode):
        return io.BytesIO(bytes(self.data))


def _worker():
    w = object.__new__(worker.worker_class(LIMIT))
    w.log = mock.Mock()
    return w


def _reply(sock):
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response, json.loads(response.read())


class TestErrorPages(base.TestCase):

    def assertJSONFault(self, exc, status):
        sock = _Socket()
        _worker().handle_error(None, sock, ('127.0.0.1', 1), exc)
        response, fault = _reply(sock)
        self.assertEqual(status, response.status)
        self.assertEqual('application/json',
                         response.getheader('Content-Type'))
        self.assertEqual('close', response.getheader('Connection'))
        self.assertEqual({'title', 'description'}, set(fault))
        self.assertNotIn('<html>', json.dumps(fault))
        return fault

    def test_client_errors_keep_gunicorn_statuses(self):
        for exc, status in (
                (errors.InvalidHeader('CONTENT-LENGTH'), 400),
                (errors.InvalidHeader('HOST'), 400),
                (errors.InvalidRequestLine('GET /a\x00b'), 400),
                (errors.InvalidChunkSize(b'zz'), 400),
                (errors.ChunkMissingTerminator(b'XX'), 400),
                (errors.LimitRequestLine(9000, 4094), 414),
                (errors.LimitRequestHeaders('fields size'), 431)):
            fault = self.assertJSONFault(exc, status)
            # gunicorn's text echoes the request's bytes; ours does not.
            self.assertNotIn('\x00', fault['description'])

    def test_server_errors_are_500_without_details(self):
        fault = self.assertJSONFault(RuntimeError('secret detail'), 500)
        self.assertNotIn('secret', fault['description'])
        self.assertNotIn('RuntimeError', fault['description'])


class TestChunkedBodyLimit(base.TestCase):

    def reader(self, *pieces):
        return worker._LimitedChunkedReader(
            object(), unreader.IterUnreader(pieces), LIMIT)

    def test_a_huge_chunk_is_refused_before_it_is_read(self):
        pieces = [b'10000000\r\n'] + [b'x' * 512] * 10
        reader = self.reader(*pieces)
        self.assertRaises(exception.RequestTooLarge, reader.read, 8192)

    def test_chunks_adding_up_past_the_limit_are_refused(self):
        chunk = b'%x\r\n%s\r\n' % (LIMIT // 2, b'y' * (LIMIT // 2))
        reader = self.reader(chunk * 3 + b'0\r\n\r\n')
        self.assertRaises(exception.RequestTooLarge, reader.read, LIMIT * 2)

    def test_a_body_within_the_limit_is_read(self):
        reader = self.reader(b'2\r\n{}\r\n0\r\n\r\n')
        self.assertEqual(b'{}', reader.read(100))

    def test_the_worker_swaps_only_a_chunked_reader(self):
        seen = []

        def handle_request(self, req, conn):
            seen.append(type(req.body.reader))

        chunked = mock.Mock(unreader=unreader.IterUnreader([]))
        chunked.body = gunicorn_body.Body(
            gunicorn_body.ChunkedReader(chunked, chunked.unreader))
        length = mock.Mock()
        length.body = gunicorn_body.Body(
            gunicorn_body.LengthReader(unreader.IterUnreader([]), 0))
        with mock.patch.object(gthread.ThreadWorker, 'handle_request',
                               handle_request):
            _worker().handle_request(chunked, None)
            _worker().handle_request(length, None)
        self.assertEqual([worker._LimitedChunkedReader,
                          gunicorn_body.LengthReader], seen)

    def test_server_options_name_the_worker_and_the_limit(self):
        for limit in (LIMIT, 1000):
            self.conf.register_opts(sizelimit.OPTS, group='oslo_middleware')
            self.conf.set_override('max_request_body_size', limit,
                                   group='oslo_middleware')
            worker_class = api.server_options(self.conf)['worker_class']
            self.assertTrue(issubclass(worker_class,
                                       worker.JSONFaultWorker))
            self.assertEqual(limit, worker_class.max_body_size)

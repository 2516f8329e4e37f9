"""The oslo.middleware layers a request passes by when they have nothing
to do with it (middleware.OnlyWhen) still act whenever they should."""

import io
import json

import webob.exc
import webtest

from freezer_api.api import app
from freezer_api.api import middleware
from freezer_api.common import exception
from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as fx

HORIZON = 'https://horizon.example.org'
URL = fx.url('actions')


class TestCORS(base.ApiTestCase):

    def setUp(self):
        super().setUp()
        self.conf.set_override('allowed_origin', [HORIZON], group='cors')
        self.app = webtest.TestApp(app.setup_app(self.conf))

    def test_a_request_with_an_allowed_origin_gets_cors_headers(self):
        response = self.get(URL, headers=dict(base.MEMBER_A, Origin=HORIZON))
        self.assertEqual(200, response.status_int)
        self.assertEqual(HORIZON,
                         response.headers['Access-Control-Allow-Origin'])

    def test_a_preflight_is_answered(self):
        response = self.request('OPTIONS', URL, headers={
            'Origin': HORIZON, 'Access-Control-Request-Method': 'POST'})
        self.assertEqual(HORIZON,
                         response.headers['Access-Control-Allow-Origin'])
        self.assertIn('POST', response.headers['Access-Control-Allow-Methods'])

    def test_other_origins_and_none_get_no_cors_headers(self):
        for headers in (dict(base.MEMBER_A, Origin='https://evil.example'),
                        base.MEMBER_A):
            response = self.get(URL, headers=headers)
            self.assertEqual(200, response.status_int)
            self.assertNotIn('Access-Control-Allow-Origin', response.headers)


class TestProxyHeaders(base.ApiTestCase):

    FORWARDED = {'X-Forwarded-Proto': 'https',
                 'X-Forwarded-Host': 'backup.example.org'}

    def version_link(self):
        response = self.get('/', headers=dict(self.FORWARDED))
        return response.json['versions'][0]['links'][0]['href']

    def test_ignored_unless_enabled(self):
        self.assertEqual('http://localhost/v2/', self.version_link())

    def test_used_when_enabled(self):
        self.conf.set_override('enable_proxy_headers_parsing', True,
                               group='oslo_middleware')
        self.assertEqual('https://backup.example.org/v2/',
                         self.version_link())


class TestBodyWithoutLength(base.ApiTestCase):
    """A chunked body has no Content-Length: the size limit still reads
    it (through its limiting reader)."""

    def call(self, body):
        environ = {
            'REQUEST_METHOD': 'POST', 'PATH_INFO': URL,
            'SERVER_NAME': 'localhost', 'SERVER_PORT': '80',
            'SERVER_PROTOCOL': 'HTTP/1.1', 'HTTP_HOST': 'localhost',
            'wsgi.url_scheme': 'http', 'wsgi.input': io.BytesIO(body),
            'wsgi.errors': io.StringIO(), 'CONTENT_TYPE': 'application/json',
            'HTTP_TRANSFER_ENCODING': 'chunked',
            # As gunicorn says of a chunked body it has decoded.
            'wsgi.input_terminated': True,
        }
        for name, value in base.MEMBER_A.items():
            environ['HTTP_' + name.upper().replace('-', '_')] = value
        started = []
        body = b''.join(self.app.app(
            environ, lambda status, headers, exc=None: started.append(status)))
        return started[0], json.loads(body)

    def test_over_the_limit_is_413(self):
        status, fault = self.call(b'x' * 200000)
        self.assertEqual('413', status[:3])
        self.assertEqual({'title', 'description'}, set(fault))
        self.assertEqual([], self.get(URL).json['actions'])

    def test_under_the_limit_is_read(self):
        status, doc = self.call(json.dumps({'freezer_action': {
            'action': 'backup', 'backup_name': 'b', 'path_to_backup': '/',
            'mode': 'fs'}}).encode())
        self.assertEqual('201', status[:3], doc)


class TestHasBody(base.ApiTestCase):

    def test_has_body(self):
        for environ, expected in (
                ({}, False), ({'CONTENT_LENGTH': ''}, False),
                ({'CONTENT_LENGTH': '0'}, False),
                ({'CONTENT_LENGTH': '12'}, True),
                ({'HTTP_TRANSFER_ENCODING': 'chunked'}, True)):
            self.assertEqual(expected, middleware.has_body(environ), environ)


class TestIdentityUnavailable(base.ApiTestCase):
    """auth_token's 503 (Keystone unreachable) is WebOb's error page: it
    becomes a fault with a description of our own."""

    def test_503_page_becomes_a_fault(self):
        app = webtest.TestApp(middleware.JSONFaults(
            webob.exc.HTTPServiceUnavailable()))
        for accept in ('*/*', 'text/html', 'application/json'):
            response = app.get('/', headers={'Accept': accept},
                               expect_errors=True)
            self.assertEqual(503, response.status_int)
            self.assertEqual('application/json', response.content_type)
            self.assertNotIn('<', response.text)
            self.assertEqual(
                {'title': 'Service Unavailable',
                 'description': exception.IdentityUnavailable().message},
                response.json)

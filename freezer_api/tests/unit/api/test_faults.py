"""The mapping of errors to JSON faults (freezer_api.api.faults)."""

import json
import logging

import fixtures
import testtools
import webob
from webob import exc as webob_exc
import webob.request

from freezer_api.api import faults
from freezer_api.common import exception

GENERIC_500 = {'title': 'Internal Server Error',
               'description': 'An unexpected error occurred on the server.'}


class FaultTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='freezer_api', level=logging.INFO))

    def assertFault(self, response, status, body, headers=None):
        self.assertEqual(status, response.status)
        self.assertEqual('application/json', response.content_type)
        self.assertNotIn('charset', response.headers['Content-Type'])
        self.assertEqual(body, json.loads(response.body))
        for name, value in (headers or {}).items():
            self.assertEqual(value, response.headers.get(name), name)

    @staticmethod
    def raised(error, respond):
        """``respond(error)`` called while ``error`` is being handled, as
        the hook and the middleware call it."""
        try:
            raise error
        except Exception as e:
            return respond(e)


class TestRender(testtools.TestCase):

    def test_the_body_is_title_then_description(self):
        self.assertEqual(b'{"title": "T", "description": "D \\u00e9"}',
                         faults.render('T', 'D \u00e9'))


class TestFaultResponse(FaultTestCase):

    def test_status_title_and_description_come_from_the_exception(self):
        for error, status in (
                (exception.ResourceNotFound(resource='Action', id='a1'),
                 '404 Not Found'),
                (exception.Conflict(resource='Job', id='j1'),
                 '409 Conflict'),
                (exception.MalformedJSON(reason='x'), '753 Syntax Error'),
                (exception.StorageError(), '500 Internal Server Error')):
            self.assertFault(faults.fault_response(error), status,
                             {'title': error.title,
                              'description': error.message})

    def test_its_headers_are_sent(self):
        self.assertFault(
            faults.fault_response(exception.DatabaseUnavailable()),
            '503 Service Unavailable',
            {'title': 'Service Unavailable',
             'description': exception.DatabaseUnavailable().message},
            headers={'Retry-After': '5'})
        self.assertNotIn('Retry-After', faults.fault_response(
            exception.NotFound()).headers)


class TestHandlerErrors(FaultTestCase):
    """Errors raised while Pecan handles a request (the FaultHook)."""

    def respond(self, error, method='GET'):
        request = webob.Request.blank('/v2/p/actions', method=method)
        return self.raised(error, lambda e: faults.handler_error_response(
            e, request))

    def test_a_5xx_of_ours_is_logged_in_one_line_a_503_not_at_all(self):
        self.assertFault(self.respond(exception.StorageError()),
                         '500 Internal Server Error',
                         {'title': 'Internal Storage Error',
                          'description': 'Database operation failed.'})
        self.assertEqual('Request failed: Database operation failed.\n',
                         self.log.output)
        self.respond(exception.DatabaseUnavailable())
        self.respond(exception.NotFound())
        self.assertEqual(1, len(self.log.output.splitlines()))

    def test_webob_http_errors_become_ours(self):
        self.assertFault(self.respond(webob_exc.HTTPNotFound()),
                         '404 Not Found', exception.NotFound().to_dict())
        self.assertFault(
            self.respond(webob_exc.HTTPMethodNotAllowed(
                headers={'Allow': 'GET, POST'}), method='PUT'),
            '405 Method Not Allowed',
            {'title': 'Method Not Allowed',
             'description': 'The method PUT is not allowed on this '
                            'resource.'},
            headers={'Allow': 'GET, POST'})
        # A 4xx keeps WebOb's title and explanation (never the detail).
        error = webob_exc.HTTPNotAcceptable('detail not sent')
        self.assertFault(self.respond(error), '406 Not Acceptable',
                         {'title': 'Not Acceptable',
                          'description': error.explanation})

    def test_a_webob_5xx_is_the_generic_500_logged_in_one_line(self):
        error = webob_exc.HTTPBadGateway('upstream')
        self.assertFault(self.respond(error), '500 Internal Server Error',
                         GENERIC_500)
        self.assertEqual('Request failed: 502 %s\n' % error.explanation,
                         self.log.output)

    def test_a_url_not_utf8_is_400(self):
        error = UnicodeDecodeError('utf-8', b'\xff', 0, 1, 'invalid')
        self.assertFault(self.respond(error), '400 Bad Request',
                         {'title': 'Bad request format',
                          'description': 'The request URL is not valid '
                                         'UTF-8'})
        self.assertEqual('', self.log.output)

    def test_anything_else_is_the_generic_500_its_traceback_logged(self):
        response = self.respond(RuntimeError('SELECT token FROM secrets'))
        self.assertFault(response, '500 Internal Server Error', GENERIC_500)
        self.assertNotIn(b'SELECT', response.body)
        self.assertIn('Unexpected error while handling GET /v2/p/actions',
                      self.log.output)
        self.assertIn('Traceback', self.log.output)

    def test_a_client_gone_mid_body_is_400_in_one_warning(self):
        response = self.respond(webob.request.DisconnectionError('gone'))
        self.assertFault(response, '400 Bad Request',
                         exception.ClientDisconnected().to_dict())
        self.assertEqual('Request refused: %s\n'
                         % exception.ClientDisconnected().message,
                         self.log.output)


class TestEscapedErrors(FaultTestCase):
    """Errors escaping the application (the JSONFaults middleware)."""

    ENVIRON = {'REQUEST_METHOD': 'POST', 'PATH_INFO': '/v2/p/jobs'}

    def respond(self, error):
        return self.raised(error, lambda e: faults.escaped_error_response(
            e, self.ENVIRON))

    def test_ours_are_sent_unlogged(self):
        self.assertFault(self.respond(exception.StorageError()),
                         '500 Internal Server Error',
                         exception.StorageError().to_dict())
        self.assertFault(self.respond(exception.BadFraming()),
                         '400 Bad Request',
                         exception.BadFraming().to_dict())
        self.assertEqual('Request refused: %s\n'
                         % exception.BadFraming().message, self.log.output)

    def test_anything_else_is_the_generic_500_its_traceback_logged(self):
        for error in (ValueError('password=secret'),
                      webob_exc.HTTPNotFound()):
            response = self.respond(error)
            self.assertFault(response, '500 Internal Server Error',
                             GENERIC_500)
        self.assertEqual(2, self.log.output.count(
            'Unexpected error while handling POST /v2/p/jobs'))


class TestRewrite(testtools.TestCase):
    """Error responses of other middleware become faults."""

    def test_a_fault_is_recognised(self):
        self.assertTrue(faults.is_fault(faults.fault_response(
            exception.NotFound())))
        for response in (
                webob.Response(status=400, body=b'{"title": "t"}',
                               content_type='application/json'),
                webob.Response(status=400, text='no json'),
                webob.Response(status=400, content_type='text/plain',
                               body=b'{"title": "t", "description": "d"}')):
            self.assertFalse(faults.is_fault(response))

    def test_text_keeps_its_status_last_line_and_auth_headers(self):
        response = webob.Response(
            status='401 Unauthorized', content_type='text/plain',
            body=b'401 Unauthorized\n\nAuthentication required\n',
            headers={'WWW-Authenticate': "Keystone uri='http://ks'",
                     'X-Other': 'dropped'})
        fault = faults.rewrite_response(response)
        self.assertEqual('401 Unauthorized', fault.status)
        self.assertEqual({'title': 'Unauthorized',
                          'description': 'Authentication required'},
                         json.loads(fault.body))
        self.assertEqual("Keystone uri='http://ks'",
                         fault.headers['WWW-Authenticate'])
        self.assertNotIn('X-Other', fault.headers)

    def test_another_json_shape_is_read(self):
        response = webob.Response(
            status='503 Service Unavailable',
            content_type='application/json', headers={'Retry-After': '7'},
            body=b'{"error": {"message": "<html>down</html>", '
                 b'"title": "Service Unavailable"}}')
        fault = faults.rewrite_response(response)
        self.assertEqual({'title': 'Service Unavailable',
                          'description':
                              exception.IdentityUnavailable().message},
                         json.loads(fault.body))
        self.assertEqual('7', fault.headers['Retry-After'])

    def test_413_gets_our_description(self):
        response = webob.Response(
            status='413 Request Entity Too Large',
            body=b'Request is too large. Larger than %s.')
        self.assertEqual({'title': 'Request Entity Too Large',
                          'description': exception.RequestTooLarge().message},
                         json.loads(faults.rewrite_response(response).body))


class TestProtocolFault(testtools.TestCase):
    """What the gunicorn worker sends for the errors it answers itself."""

    def test_known_and_unknown_statuses(self):
        self.assertEqual(
            ('Request Header Fields Too Large',
             'The request headers are larger than the server accepts.'),
            faults.protocol_fault(431))
        self.assertEqual(('Internal Server Error',
                          exception.FreezerException().message),
                         faults.protocol_fault(599))

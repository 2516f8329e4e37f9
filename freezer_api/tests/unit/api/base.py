"""API tests: requests go through the whole WSGI stack (webtest)."""

import json

import fixtures
import webtest

from freezer_api.api import app
from freezer_api.tests.unit import base
from freezer_api.tests.unit import helpers

PROJECT_A = 'project-a'
PROJECT_B = 'project-b'

MEMBER_A = {'X-User-Id': 'user-a', 'X-Project-Id': PROJECT_A,
            'X-Roles': 'member,reader'}
READER_A = {'X-User-Id': 'reader-a', 'X-Project-Id': PROJECT_A,
            'X-Roles': 'reader'}
MEMBER_B = {'X-User-Id': 'user-b', 'X-Project-Id': PROJECT_B,
            'X-Roles': 'member,reader'}
ADMIN = {'X-User-Id': 'admin', 'X-Project-Id': 'admin-project',
         'X-Roles': 'admin,member,reader'}
SERVICE = {'X-User-Id': 'freezer', 'X-Project-Id': 'service',
           'X-Roles': 'service'}


def with_if_match(version, headers=MEMBER_A):
    """``headers`` with an If-Match on ``version``."""
    return dict(headers, **{'If-Match': '"%s"' % version})


class ApiTestCase(base.DbTestCase):
    """Talks to setup_app() in noauth mode; the caller is set by headers."""

    headers = MEMBER_A

    def setUp(self):
        super().setUp()
        # No background look for lost runs: it would wake up in a later
        # test, on that test's database (test_sweep calls it directly).
        self.useFixture(fixtures.MockPatch(
            'freezer_api.db.sqlalchemy.sweep.start'))
        self.app = webtest.TestApp(app.setup_app(self.conf))

    def request(self, method, path, body=None, headers=None, status=None,
                raw=None, **kwargs):
        """Send a request; ``body`` is JSON-encoded unless ``raw`` is
        given."""
        all_headers = dict(self.headers if headers is None else headers)
        if body is not None:
            raw = json.dumps(body)
        if raw is not None:
            all_headers.setdefault('Content-Type', 'application/json')
            kwargs['body'] = raw.encode() if isinstance(raw, str) else raw
        return self.app.request(path, method=method, headers=all_headers,
                                status=status, expect_errors=True, **kwargs)

    def post_concurrently(self, requests, timeout=120):
        """POST every (path, body, headers) at once, each from a thread
        with an app of its own; the webtest responses, in order.

        The test fails when a request does not finish within ``timeout``
        seconds (all of them together) or raises.

        The apps are built before the threads start: building a Pecan app
        resets Pecan's thread-local request state.
        """
        apps = [webtest.TestApp(app.setup_app(self.conf)) for _ in requests]

        def post(index):
            path, body, headers = requests[index]
            return lambda: apps[index].post_json(
                path, body, headers=headers, expect_errors=True)

        return helpers.run_concurrently(
            self, [post(i) for i in range(len(requests))], timeout,
            names=['request %d (%s)' % (i, request[0])
                   for i, request in enumerate(requests)])

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request('POST', path, body=body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.request('PATCH', path, body=body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)

    def assertFault(self, response, status, title=None):
        """``response`` is the JSON fault ``{"title", "description"}``."""
        self.assertEqual(status, response.status_int, response.text)
        self.assertEqual('application/json', response.content_type)
        body = response.json
        self.assertEqual({'title', 'description'}, set(body))
        if title is not None:
            self.assertEqual(title, body['title'])
        for leak in ('Traceback', 'sqlalchemy', 'SELECT', 'INSERT',
                     'freezer_api.'):
            self.assertNotIn(leak, response.text)
        return body

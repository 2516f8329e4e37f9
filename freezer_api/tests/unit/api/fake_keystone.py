"""A small fake Keystone on 127.0.0.1 for the trust tests: the v3 calls
freezer_api.common.trusts makes (version discovery, password and token
authentication, list/create/delete trusts), with Keystone's checks on
trusts, and switches to make it fail."""

import json
import socketserver
import threading
import time
import urllib.parse
import uuid
from wsgiref import simple_server

import fixtures

ROLES = ('admin', 'member', 'reader', 'service')
EXPIRES = '2099-01-01T00:00:00.000000Z'


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _Reply(Exception):
    def __init__(self, status, body=None, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class FakeKeystone(fixtures.Fixture):
    """Attributes: ``url`` (without /v3), ``trusts`` (id -> trust),
    ``calls`` ((method, path) of every request), and the switches
    ``fail`` ((method, path prefix) -> status to answer), ``raw``
    ((method, path prefix) -> (status line, body bytes) to answer instead)
    and ``delay`` (seconds to wait before answering a trust call)."""

    SERVICE_USER = ('freezer', 'freezer-secret', 'service-user-id')

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        # user id -> {project id: [role names]}
        self.assignments = {self.SERVICE_USER[2]: {'service': ['service']}}
        # token -> (user id, project id or None)
        self.tokens = {}
        self.trusts = {}
        self.created = []
        self.calls = []
        self.fail = {}
        self.raw = {}
        self.delay = 0

    def _setUp(self):
        self.server = simple_server.make_server(
            '127.0.0.1', 0, self._app, server_class=_Server,
            handler_class=_QuietHandler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_port
        thread = threading.Thread(target=self.server.serve_forever,
                                  daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)

    def add_user(self, user_id, token, roles_by_project):
        """A user with a token (scoped to its first project) and roles."""
        self.assignments[user_id] = roles_by_project
        self.tokens[token] = (user_id, next(iter(roles_by_project)))

    def trust_calls(self, method=None):
        """The (method, path) of the trust calls made so far."""
        return [c for c in self.calls
                if c[1].startswith('/v3/OS-TRUST/')
                and method in (None, c[0])]

    # ------------------------------------------------------------ WSGI
    def _app(self, environ, start_response):
        method = environ['REQUEST_METHOD']
        path = environ.get('PATH_INFO', '')
        with self.lock:
            self.calls.append((method, path))
        for (raw_method, prefix), (status, payload) in self.raw.items():
            if raw_method == method and path.startswith(prefix):
                start_response(status, [('Content-Type', 'application/json')])
                return [payload]
        try:
            length = int(environ.get('CONTENT_LENGTH') or 0)
            raw = environ['wsgi.input'].read(length) if length else b''
            body = json.loads(raw) if raw else None
            self._route(method, path, environ, body)
            raise _Reply('404 Not Found', {'error': {'code': 404}})
        except _Reply as reply:
            headers = [('Content-Type', 'application/json')]
            headers += list(reply.headers.items())
            payload = b'' if reply.body is None else json.dumps(
                reply.body).encode()
            start_response(reply.status, headers)
            return [payload]

    def _route(self, method, path, environ, body):
        if path.rstrip('/') == '/v3' and method == 'GET':
            raise _Reply('200 OK', {'version': {
                'id': 'v3.14', 'status': 'stable',
                'updated': '2020-04-07T00:00:00Z',
                'links': [{'rel': 'self', 'href': self.url + '/v3/'}],
                'media-types': [{
                    'base': 'application/json',
                    'type': 'application/vnd.openstack.identity-v3+json'}],
            }})
        if path == '/v3/auth/tokens' and method == 'POST':
            self._authenticate(body)
        if path.startswith('/v3/OS-TRUST/trusts'):
            if self.delay:
                time.sleep(self.delay)
            for (fail_method, prefix), status in self.fail.items():
                if fail_method == method and path.startswith(prefix):
                    raise _Reply('%d Failed' % status,
                                 {'error': {'code': status}})
            user_id = self._caller(environ)
            self._trusts(method, path, environ, body, user_id)

    def _caller(self, environ):
        found = self.tokens.get(environ.get('HTTP_X_AUTH_TOKEN'))
        if found is None:
            raise _Reply('401 Unauthorized', {'error': {'code': 401}})
        return found[0]

    def _authenticate(self, body):
        identity = body['auth']['identity']
        if identity['methods'] == ['password']:
            user = identity['password']['user']
            name, password, user_id = self.SERVICE_USER
            if (user.get('name'), user.get('password')) != (name, password):
                raise _Reply('401 Unauthorized', {'error': {'code': 401}})
        else:
            found = self.tokens.get(identity['token']['id'])
            if found is None:
                raise _Reply('401 Unauthorized', {'error': {'code': 401}})
            user_id = found[0]
        scope = body['auth'].get('scope', {}).get('project', {})
        project_id = scope.get('id') or scope.get('name')
        roles = self.assignments.get(user_id, {}).get(project_id)
        if project_id and not roles:
            raise _Reply('401 Unauthorized', {'error': {'code': 401}})
        token = 'issued-' + uuid.uuid4().hex
        with self.lock:
            self.tokens[token] = (user_id, project_id)
        reply = {'token': {
            'methods': identity['methods'], 'expires_at': EXPIRES,
            'issued_at': '2026-01-01T00:00:00.000000Z',
            'user': {'id': user_id, 'name': user_id,
                     'domain': {'id': 'default', 'name': 'Default'}},
            'roles': [{'id': 'id-' + r, 'name': r} for r in roles or ()],
            'catalog': [],
        }}
        if project_id:
            reply['token']['project'] = {
                'id': project_id, 'name': project_id,
                'domain': {'id': 'default', 'name': 'Default'}}
        raise _Reply('201 Created', reply, {'X-Subject-Token': token})

    def _trusts(self, method, path, environ, body, user_id):
        trust_id = path[len('/v3/OS-TRUST/trusts'):].strip('/')
        if method == 'GET' and not trust_id:
            query = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''))
            trustor = query.get('trustor_user_id', [None])[0]
            if trustor != user_id:
                raise _Reply('403 Forbidden', {'error': {'code': 403}})
            raise _Reply('200 OK', {'trusts': [
                {k: v for k, v in t.items() if k != 'roles'}
                for t in self.trusts.values()
                if t['trustor_user_id'] == trustor]})
        if method == 'POST' and not trust_id:
            trust = body['trust']
            if trust['trustor_user_id'] != user_id:
                raise _Reply('403 Forbidden', {'error': {'code': 403}})
            held = self.assignments.get(user_id, {}).get(
                trust['project_id'], [])
            for role in trust['roles']:
                if role['name'] not in ROLES:
                    raise _Reply('404 Not Found', {'error': {'code': 404}})
                if role['name'] not in held:
                    raise _Reply('403 Forbidden', {'error': {'code': 403}})
            trust = dict(trust, id=uuid.uuid4().hex, expires_at=None,
                         remaining_uses=None)
            with self.lock:
                self.trusts[trust['id']] = trust
                self.created.append(trust['id'])
            raise _Reply('201 Created', {'trust': trust})
        if method == 'DELETE' and trust_id:
            trust = self.trusts.get(trust_id)
            if trust is None:
                raise _Reply('404 Not Found', {'error': {'code': 404}})
            if trust['trustor_user_id'] != user_id:
                raise _Reply('403 Forbidden', {'error': {'code': 403}})
            with self.lock:
                del self.trusts[trust_id]
            raise _Reply('204 No Content')

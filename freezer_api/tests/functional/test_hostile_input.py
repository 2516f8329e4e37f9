"""Hostile requests against a real freezer-api, over a real socket.

Every case of CATALOGUE is written as raw bytes to the server group of the
functional layer and must be

- REJECT: answered 4xx (753 for a body that is not JSON, as the API
  reference documents) with the JSON fault ``{"title", "description"}``,
  whose text names no SQL, driver, Python class or traceback;
- SEARCH: answered 200 with exactly the documents a literal reading of the
  search selects (the oracle below reads the project's lists);
- ACCEPT: answered as documented (the stored document is checked, then
  deleted), for requests that look hostile and are not;
- SLOW: a client that announces a huge body and trickles it gets 413, or a
  closed connection, in bounded time.

After each case the lists it could change (those of its resource and of the
resources that embed it or are made by it, in the test's project, and in
the victim project when the case names it) must be what they were; all ten
lists are compared around the whole catalogue.

Decisions the cases pin down:

- A body is JSON in UTF-8 whatever its Content-Type (README's quick start
  posts with ``curl -d``, i.e. form-urlencoded): it is never read as a form
  or a multipart part; UTF-16 and UTF-32 are refused, a UTF-8 BOM may be.
- Duplicate keys: the last one wins, for validation and storage alike (the
  reference's Python json), so a duplicate cannot get a value past the
  schema; ``project_id`` and ``user_id`` come from the URL and the caller
  whatever the body says.
- An integer is at most 64 bits wherever it is stored (column or JSON), and
  within its column's range; ``-0`` is 0, and an integral float (``1.0``,
  ``1e2``) may be taken for the integer.
- A body on GET of an item or on DELETE is ignored; over the size limit it
  is still 413.
- A request that HTTP/1.1 itself refuses (broken framing, a header over the
  limits, a bad or missing Host, RFC 9112 section 3.2) gets the same JSON
  fault: the clients parse every error body.

Where things are: the Case type, the shared documents and the hostile
encodings' helpers in hostile_cases.py; the cases by category in
hostile_cases_body.py (size, nesting, encoding, not JSON, numbers,
duplicate keys), hostile_cases_wire.py (slow clients, methods, framing,
content-type, headers) and hostile_cases_ids.py (ids, NUL, SQL, search
shape); the raw-socket client in hostile_http.py. Here: the catalogue in
the order it runs, the oracle that reads a search literally, and the test
(seeding, snapshots, checks, report).
"""

import collections
import concurrent.futures
import json
import re
import threading
import time
import urllib.parse
import uuid

import requests

from freezer_api.tests.functional import base
from freezer_api.tests.functional import hostile_cases_body
from freezer_api.tests.functional import hostile_cases_ids
from freezer_api.tests.functional import hostile_cases_wire
from freezer_api.tests.functional import hostile_http
from freezer_api.tests.functional import utils
from freezer_api.tests.functional.hostile_cases import ACCEPT
from freezer_api.tests.functional.hostile_cases import EITHER
from freezer_api.tests.functional.hostile_cases import LITERALS
from freezer_api.tests.functional.hostile_cases import MISSING
from freezer_api.tests.functional.hostile_cases import REJECT
from freezer_api.tests.functional.hostile_cases import RESOURCES
from freezer_api.tests.functional.hostile_cases import SEARCH
from freezer_api.tests.functional.hostile_cases import SINGULAR
from freezer_api.tests.functional.hostile_cases import SLOW
from freezer_api.tests.functional.hostile_cases import quote

# The lists a write to a resource could change: jobs embed their actions
# and make inline ones, sessions start their jobs.
AFFECTS = {'actions': ('actions', 'jobs'),
           'jobs': ('jobs', 'actions', 'sessions'),
           'sessions': ('sessions', 'jobs'),
           'clients': ('clients', 'jobs'),
           'backups': ('backups',)}
# Jobs go before the actions they embed and the sessions they are in.
DELETE_ORDER = ('jobs', 'sessions', 'actions', 'clients', 'backups')
SLOW_SECONDS = 5.0

# What an error body must never hold. Echoed input is ours and holds none.
_LEAKS = (
    re.compile(r'sqlalchemy|psycopg|pymysql|mysqldb|mariadb|sqlite|'
               r'postgres|traceback|\bsql\b|select .* from|insert into|'
               r'\(\d{4}, |error:  |detail:  |file "|line \d+, in|'
               r'<class |object at 0x|freezer_api\.|site-packages|'
               r'sys\.\w+\(', re.IGNORECASE),
    re.compile(r'\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*(?:Error|Exception)\b'),
)

# In the order they run.
CATALOGUE = (
    hostile_cases_body.size_cases() + hostile_cases_wire.slow_cases() +
    hostile_cases_body.body_cases() + hostile_cases_ids.id_cases() +
    hostile_cases_body.number_cases() + hostile_cases_ids.nul_cases() +
    hostile_cases_wire.method_cases() + hostile_cases_wire.framing_cases() +
    hostile_cases_wire.content_type_cases() +
    hostile_cases_body.duplicate_cases() + hostile_cases_ids.sql_cases() +
    hostile_cases_ids.search_shape_cases() +
    hostile_cases_wire.header_cases())


# ------------------------------------------------------------ the oracle
def _canonical(value):
    def normal(v):
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, dict):
            return {k: normal(x) for k, x in v.items()}
        if isinstance(v, list):
            return [normal(x) for x in v]
        return v
    return json.dumps(normal(value), sort_keys=True)


def _walk(doc):
    """Every (key, value) pair at any depth, and every scalar value."""
    pairs, scalars = [], []
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            pairs.extend(node.items())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        else:
            scalars.append(node)
    return pairs, scalars


def _holds(doc, kind, key, value):
    """Whether one search term holds for ``doc``, read literally."""
    pairs, scalars = _walk(doc)
    if kind in ('is', 'not'):
        found = any(k == key and _canonical(v) == _canonical(value)
                    for k, v in pairs)
        if value is None and not any(k == key for k, _v in pairs):
            found = True
        return found if kind == 'is' else not found
    if kind in ('text', 'not-text'):
        text = value.lower()
        found = any(isinstance(s, str) and text in s.lower()
                    for s in scalars)
        return found if kind == 'text' else not found
    return False


def _doc_id(resource, doc):
    if resource == 'clients':
        return doc['client']['client_id']
    return doc[SINGULAR[resource] + '_id']


def _at(doc, dotted):
    node = doc
    for part in dotted.split('.'):
        if isinstance(node, list) and part.isdigit() and int(part) < len(
                node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node



# ------------------------------------------------------------ the test
class HostileInputTest(base.FunctionalTestCase):
    """Every case of CATALOGUE against the real server; all problems are
    reported together."""

    auth_strategy = 'noauth'
    needs_client = False

    def setUp(self):
        super().setUp()
        self.port = urllib.parse.urlsplit(self.server.url).port
        self.project = 'hostile-' + uuid.uuid4().hex[:12]
        self.victim = 'victim-' + uuid.uuid4().hex[:12]
        self._local = threading.local()
        self._pool = concurrent.futures.ThreadPoolExecutor(5)
        self.addCleanup(self._pool.shutdown)
        self.tokens = {'@P@': self.project, '@V@': self.victim}
        self.retried = 0
        self.addCleanup(self._delete_all, self.victim)
        self.addCleanup(self._delete_all, self.project)
        self._seed()

    # -------------------------------------------------------- plumbing
    def _session(self):
        if not hasattr(self._local, 'session'):
            self._local.session = requests.Session()
        return self._local.session

    def _call(self, method, project, path, doc=None):
        resp = self._session().request(
            method, f'{self.server.url}/v2/{project}/{path}', json=doc,
            headers={'Accept': 'application/json'}, timeout=30)
        if resp.status_code >= 300:
            raise AssertionError(f'{method} {project}/{path}: '
                                 f'{resp.status_code} {resp.text[:300]}')
        return resp.json() if resp.content else None

    def _post(self, project, resource, doc):
        reply = self._call('POST', project, resource, doc)
        return reply[SINGULAR[resource] + '_id']

    def _seed(self):
        """One document of each resource in the project and in the victim
        project, and in the project one per LITERALS, as search bait."""
        hexa = uuid.uuid4().hex[:10]
        for prefix, project in (('', self.project), ('v-', self.victim)):
            ids = {}
            ids['client'] = self._post(project, 'clients', {
                'client_id': f'{prefix}hc-{hexa}', 'hostname': 'seed',
                'description': 'plain'})
            ids['action'] = self._post(project, 'actions', {
                'action_id': f'{prefix}ha-{hexa}', 'max_retries': 2,
                'freezer_action': {'action': 'backup', 'mode': 'fs',
                                   'backup_name': 'plain'}})
            ids['job'] = self._post(project, 'jobs', {
                'job_id': f'{prefix}hj-{hexa}', 'client_id': ids['client'],
                'job_actions': [{'action_id': ids['action']}],
                'description': 'plain'})
            ids['session'] = self._post(project, 'sessions', {
                'schedule': {}, 'description': 'plain'})
            self._call('PUT', project,
                       f'sessions/{ids["session"]}/jobs/{ids["job"]}')
            ids['backup'] = self._post(project, 'backups', {
                'container': 'seed', 'hostname': 'seed',
                'backup_name': 'plain'})
            self.tokens.update({f'@{prefix}{k}@': v for k, v in ids.items()})
        for i, literal in enumerate(LITERALS):
            self._post(self.project, 'actions', {'freezer_action': {
                'action': 'backup', 'backup_name': literal}})
            self._post(self.project, 'jobs', {
                'client_id': self.tokens['@client@'],
                'job_actions': [{'action_id': self.tokens['@action@']}],
                'description': literal})
            self._post(self.project, 'sessions', {'schedule': {},
                                                  'description': literal})
            self._post(self.project, 'clients', {
                'client_id': f'hc{i}-{hexa}', 'hostname': 'seed',
                'description': literal})
            self._post(self.project, 'backups', {
                'container': 'seed', 'hostname': 'seed',
                'backup_name': literal})

    def _list(self, project, resource):
        # A connection of its own, as the cases: through the proxy that
        # is quicker than a kept-alive one.
        path = f'/v2/{project}/{resource}?limit=1000'
        reply = hostile_http.exchange(self.port, (
            f'GET {path} HTTP/1.1\r\nHost: {utils.HOST}:{self.port}\r\n'
            f'Accept: application/json\r\nConnection: close\r\n\r\n'
        ).encode())
        if reply.status != 200:
            raise AssertionError(f'GET {path}: {reply.status} '
                                 f'{reply.error or reply.body[:300]!r}')
        return {_doc_id(resource, d): d for d in reply.json()[resource]}

    def snapshot(self, keys):
        """{(project, resource): {id: document}} for ``keys``."""
        keys = list(keys)
        lists = self._pool.map(lambda key: self._list(*key), keys)
        return dict(zip(keys, lists, strict=True))

    def _watched(self, case):
        """The lists a case could change: those of its resource and of
        the resources that embed or are made by it; in the victim project
        too when the case names it."""
        segments = case.path.split('?')[0].split('/')
        resource = segments[3] if len(segments) > 3 else ''
        if resource not in RESOURCES:
            resources = RESOURCES
        elif case.method == 'GET':
            resources = (resource,)
        else:
            resources = AFFECTS[resource]
        projects = [self.project]
        if '@V@' in repr(case) or '@v-' in repr(case):
            projects.append(self.victim)
        return [(p, r) for p in projects for r in resources]

    def _delete(self, project, resource, doc_id):
        self._session().delete(
            f'{self.server.url}/v2/{project}/{resource}/{quote(doc_id)}',
            timeout=30)

    def _delete_new(self, before, after):
        """Delete what a case created (jobs before their actions)."""
        for resource in DELETE_ORDER:
            for (project, listed), docs in after.items():
                if listed != resource:
                    continue
                for doc_id in set(docs) - set(before[(project, listed)]):
                    self._delete(project, resource, doc_id)

    def _delete_all(self, project):
        for resource in DELETE_ORDER:
            for doc_id in self._list(project, resource):
                self._delete(project, resource, doc_id)

    def sub(self, value):
        for token, real in self.tokens.items():
            if isinstance(value, bytes):
                value = value.replace(token.encode(), real.encode())
            else:
                value = value.replace(token, real)
        return value

    def _sub_deep(self, value):
        if isinstance(value, str):
            return self.sub(value)
        if isinstance(value, dict):
            return {self.sub(k): self._sub_deep(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._sub_deep(v) for v in value]
        return value

    # -------------------------------------------------------- checks
    @staticmethod
    def _fault_problems(reply, status=None):
        problems = []
        if status is not None and reply.status != status:
            problems.append(f'expected {status}, got {reply.status}')
        elif not (400 <= reply.status < 500 or reply.status == 753):
            problems.append(f'expected a 4xx, got {reply.status}')
        if reply.status < 400:
            return [f'{problems[0]}: {reply.body[:100]!r}']
        ctype = reply.headers.get('content-type', '')
        body = reply.json()
        if not ctype.startswith('application/json'):
            problems.append(f'Content-Type {ctype!r}, not JSON')
        if not (isinstance(body, dict) and
                all(isinstance(body.get(k), str) and body[k]
                    for k in ('title', 'description'))):
            problems.append(f'not a {{"title", "description"}} fault: '
                            f'{reply.body[:160]!r}')
        text = reply.body.decode('utf-8', 'replace')
        for leak in _LEAKS:
            found = leak.search(text)
            if found:
                problems.append(f'the body mentions {found.group(0)!r}: '
                                f'{text[:200]!r}')
        return problems

    def _search_problems(self, case, reply, before):
        if reply.status != 200:
            return [f'expected 200, got {reply.status} '
                    f'{reply.body[:160]!r}']
        body = reply.json()
        if not isinstance(body, dict) or not isinstance(
                body.get(case.resource), list):
            return [f'not a {case.resource} list: {reply.body[:160]!r}']
        got = [_doc_id(case.resource, d) for d in body[case.resource]]
        terms = [(kind, key, self._sub_deep(value))
                 for kind, key, value in case.terms]
        want = [doc_id for doc_id, doc in
                before[(self.project, case.resource)].items()
                if all(_holds(doc, *term) for term in terms)]
        if got != want:
            return [f'expected {len(want)} documents {want[:4]}, got '
                    f'{len(got)} {got[:4]}']
        return []

    def _accept_problems(self, case, reply, after):
        if reply.status not in case.statuses:
            return [f'expected {case.statuses}, got {reply.status} '
                    f'{reply.body[:200]!r}']
        if not case.stored:
            return []
        doc = reply.json()
        resource = case.path.split('/')[3].split('?')[0]
        doc_id = (doc or {}).get(SINGULAR[resource] + '_id')
        listed = after[(self.project, resource)].get(doc_id)
        problems = []
        if reply.status == 201:
            if listed is None:
                return [f'accepted, but {resource} {doc_id!r} is not listed']
            doc = listed
        elif doc != listed:
            problems.append(f'the reply is not the listed {resource}: '
                            f'{reply.body[:120]!r}')
        for dotted, value in case.stored:
            got = _at(doc, dotted)
            value = self._sub_deep(value)
            if value is MISSING or got is MISSING:
                same = value is got
            else:
                same = json.dumps(got) == json.dumps(value)
            if not same:
                shown = 'nothing' if got is MISSING else json.dumps(got)
                problems.append(f'stored {dotted} = {shown[:80]}, expected '
                                f'{"nothing" if value is MISSING else value}')
        return problems

    @staticmethod
    def _changes(before, after):
        changes = []
        for key, docs in after.items():
            old = before.get(key, {})
            project, resource = key
            where = ('victim ' if project.startswith('victim-') else
                     '') + resource
            changes += [f'+{where}:{i}' for i in docs if i not in old]
            changes += [f'-{where}:{i}' for i in old if i not in docs]
            changes += [f'~{where}:{i}' for i in docs
                        if i in old and docs[i] != old[i]]
        return changes

    def _problems(self, case, reply, before, after):
        expect = case.expect
        if expect == EITHER:
            expect = ACCEPT if reply.status in case.statuses else REJECT
        if expect == SLOW and reply.closed and reply.status is None:
            return [], expect  # hung up on the slow client: fine
        if reply.error:
            return [reply.error], expect
        if expect == SLOW:
            return self._fault_problems(reply, 413), expect
        if expect == SEARCH:
            return self._search_problems(case, reply, before), expect
        if expect == ACCEPT:
            return self._accept_problems(case, reply, after), expect
        problems = self._fault_problems(reply, case.status)
        if reply.status is not None and 500 <= reply.status < 600:
            problems.append(self._server_says(reply))
        return problems, expect

    def _server_says(self, reply):
        """The server's log lines of the request that got ``reply``."""
        request_id = reply.headers.get('x-openstack-request-id', '?')
        lines = [line for line in self.server.log_tail(400).splitlines()
                 if request_id in line]
        return f'server log ({request_id}): ' + (
            ' | '.join(line[-200:] for line in lines[-3:]) or 'nothing')

    def send(self, case):
        slow = case.expect == SLOW
        data = hostile_http.request_bytes(case, self.port, self.sub)
        return hostile_http.exchange(
            self.port, data, timeout=SLOW_SECONDS if slow else 10,
            trickle=slow, half_close=case.half_close, linger=case.linger)

    def run_case(self, case, state):
        """Send ``case``; return (problems, state after it, outcome).

        ``state`` holds the lists as last seen; what a case created is
        deleted again, so that every case starts from the seeded data (a
        document a case changed stays changed, and is reported).
        """
        keys = self._watched(case)
        before = {k: state[k] for k in keys}
        reply = self.send(case)
        after = self.snapshot(keys)
        if (reply.status == 503 and 'retry-after' in reply.headers and
                not self._changes(before, after)):
            # The database was busy (SQLite under several servers): a
            # client retries, and so do we, once.
            self.retried += 1
            time.sleep(0.5)
            reply = self.send(case)
            after = self.snapshot(keys)
        problems, outcome = self._problems(case, reply, before, after)
        changes = self._changes(before, after)
        if changes:
            self._delete_new(before, after)
            after = self.snapshot(keys)
            if not (outcome == ACCEPT and not self._changes(before, after)):
                problems.append('data changed: ' + ' '.join(changes[:6]))
        return problems, {**state, **after}, outcome

    def _report(self, case, problems):
        body = self.sub(case.wire if case.wire is not None
                        else case.body or b'')
        return (f'[{case.category}] {case.name}\n    request: {case.method} '
                f'{self.sub(case.path)[:100]!r} {body[:70]!r}\n    ' +
                '\n    '.join(problems))

    def test_hostile_catalogue(self):
        t0 = time.monotonic()
        everything = [(p, r) for p in (self.project, self.victim)
                      for r in RESOURCES]
        state = start = self.snapshot(everything)
        failures, outcomes = [], collections.Counter()

        def record(case, problems, outcome):
            outcomes[outcome] += 1
            if problems:
                failures.append(self._report(case, problems))

        # The slow clients write nothing and mostly wait: they run beside
        # the others, and the check over the whole catalogue covers them.
        slow = [case for case in CATALOGUE if case.expect == SLOW]
        with concurrent.futures.ThreadPoolExecutor(len(slow)) as pool:
            replies = {case: pool.submit(self.send, case) for case in slow}
            for case in CATALOGUE:
                if case.expect == SLOW:
                    continue
                problems, state, outcome = self.run_case(case, state)
                record(case, problems, outcome)
            for case, future in replies.items():
                record(case, *self._problems(case, future.result(), {}, {}))
        # Against the state last seen: a change no case saw (a list no case
        # watched, or made by a slow client) shows here.
        changes = self._changes(state if failures else start,
                                self.snapshot(everything))
        if changes:
            failures.append('the lists changed over the catalogue: ' +
                            ' '.join(changes[:10]))
        categories = collections.Counter(case.category for case in CATALOGUE)
        seconds = time.monotonic() - t0
        if self.retried:
            seconds_text = f'{seconds:.0f}s, {self.retried} retried after 503'
        else:
            seconds_text = f'{seconds:.0f}s'
        if failures:
            summary = (f'hostile cases tried: {len(CATALOGUE)}, '
                       f'{len(failures)} misbehaved ({seconds_text})')
        else:
            summary = (
                f'hostile cases tried: {len(CATALOGUE)}, all 4xx JSON '
                f'({outcomes.get(REJECT, 0)} rejected, '
                f'{outcomes.get(SLOW, 0)} slow clients cut off) or answered '
                f'as documented ({outcomes.get(SEARCH, 0)} literal searches, '
                f'{outcomes.get(ACCEPT, 0)} accepted), nothing changed '
                f'({seconds_text})')
        self.figures('hostile input', summary=summary,
                     by_category=dict(sorted(categories.items())))
        if failures:
            self.fail(summary + '\n' + '\n'.join(failures))


"""The floor: the least work the benchmark's requests need.

A plain WSGI function on the standard library alone (``sqlite3`` and
``json``), served by the same gunicorn as the two servers under test. It
answers the scenarios' requests, with the same URLs and status codes, by
doing what they need and nothing more: no framework, middleware, policy,
schema validation, versions of embedded actions or general search index.
Its cost is the cost of the work itself (HTTP parsing by gunicorn, one
SQLite statement or two, JSON in and out), against which the servers'
overheads are measured.

Storage: one table per resource, an integer primary key ``seq`` (creation
order), a unique document id, an index on (project_id, seq) for lists, and
the document as JSON text. The two searches the scenarios make have the
searched fields in their own indexed columns: ``actions.backup_name`` for
``{"match": [{"backup_name": X}]}``, ``jobs.client_id`` and
``jobs.status`` for the scheduler's poll (``client_id`` = X, ``status`` !=
completed). A job embeds its actions (they are also stored as actions, as
the servers do). SQLite in WAL mode; writes take the lock up front
(``BEGIN IMMEDIATE``), as ours does.

Routes: GET/POST /v2/{p}/actions, GET/PATCH/DELETE /v2/{p}/actions/{id},
GET/POST /v2/{p}/jobs (trailing slash too), GET/PATCH /v2/{p}/jobs/{id},
POST /v2/{p}/backups. Any other search body is refused with 400.

Served with ``FREEZER_FLOOR_DB`` naming the SQLite file; ``python floor.py
seed '{"db": ..., "start": ..., "stop": ..., "pool": ...}'`` creates or
grows that file with :func:`dataset.plan`'s documents, as rows this app
would write for them, by multi-row INSERTs.
"""

import json
import os
import sqlite3
import sys
import threading
import time
import urllib.parse
import uuid

SCHEMA = """
CREATE TABLE IF NOT EXISTS clients (
    seq INTEGER PRIMARY KEY, project_id TEXT NOT NULL,
    client_id TEXT NOT NULL, doc TEXT NOT NULL,
    UNIQUE (project_id, client_id));
CREATE TABLE IF NOT EXISTS actions (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL, backup_name TEXT, version INTEGER NOT NULL,
    doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS actions_project ON actions (project_id, seq);
CREATE INDEX IF NOT EXISTS actions_name
    ON actions (project_id, backup_name, seq);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL, client_id TEXT, status TEXT,
    version INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_project ON jobs (project_id, seq);
CREATE INDEX IF NOT EXISTS jobs_client ON jobs (project_id, client_id, seq);
CREATE TABLE IF NOT EXISTS backups (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS backups_project ON backups (project_id, seq);
"""

MAX_LIMIT = 1000
DEFAULT_LIMIT = 10


class HTTPError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


# --- documents ---------------------------------------------------------------

def new_id():
    return uuid.uuid4().hex


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def action_document(project, user, action_id, body):
    if not isinstance(body.get('freezer_action'), dict):
        raise HTTPError('400 Bad Request', 'freezer_action is required')
    return {
        'action_id': action_id, 'project_id': project, 'user_id': user,
        'freezer_action': body['freezer_action'],
        'max_retries': body.get('max_retries', 5),
        'max_retries_interval': body.get('max_retries_interval', 6),
        'mandatory': body.get('mandatory', False),
    }


def action_row(doc):
    return (doc['action_id'], doc['project_id'],
            doc['freezer_action'].get('backup_name'), 1, json.dumps(doc))


def job_documents(project, user, job_id, body, now):
    """(job document, its action documents): the inline actions get new
    ids and are embedded in the job."""
    if not isinstance(body.get('job_actions'), list) or not isinstance(
            body.get('client_id'), str):
        raise HTTPError('400 Bad Request', 'client_id, job_actions needed')
    actions = [action_document(project, user,
                               entry.get('action_id') or new_id(), entry)
               for entry in body['job_actions']]
    schedule = dict(body.get('job_schedule') or {}, time_created=now,
                    time_started=-1, time_ended=-1)
    job = {
        'job_id': job_id, 'project_id': project, 'user_id': user,
        'client_id': body['client_id'],
        'session_id': body.get('session_id', ''),
        'session_tag': body.get('session_tag', 0),
        'description': body.get('description', ''),
        'job_schedule': schedule, 'job_actions': actions,
    }
    return job, actions


def job_row(doc):
    return (doc['job_id'], doc['project_id'], doc['client_id'],
            doc['job_schedule'].get('status', ''), 1, json.dumps(doc))


def backup_document(project, user, backup_id, body):
    return {'backup_id': backup_id, 'project_id': project, 'user_id': user,
            'status': 'available', 'backup_metadata': body}


# --- database ----------------------------------------------------------------

_local = threading.local()


def connection():
    """This thread's connection to the file named by FREEZER_FLOOR_DB."""
    conn = getattr(_local, 'conn', None)
    if conn is None:
        conn = sqlite3.connect(os.environ['FREEZER_FLOOR_DB'],
                               isolation_level=None,
                               check_same_thread=False)
        conn.execute('PRAGMA journal_mode = WAL')
        conn.execute('PRAGMA busy_timeout = 30000')
        _local.conn = conn
    return conn


class write:
    """A write transaction: BEGIN IMMEDIATE ... COMMIT (or ROLLBACK)."""

    def __enter__(self):
        self.conn = connection()
        self.conn.execute('BEGIN IMMEDIATE')
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        self.conn.execute('ROLLBACK' if exc_type else 'COMMIT')


def _insert_action(conn, doc):
    conn.execute('INSERT INTO actions (id, project_id, backup_name, '
                 'version, doc) VALUES (?, ?, ?, ?, ?)', action_row(doc))


def _page(sql, params, limit, offset):
    rows = connection().execute(sql + ' ORDER BY seq LIMIT ? OFFSET ?',
                                params + (limit, offset)).fetchall()
    return '[' + ','.join(row[0] for row in rows) + ']'


def _search_terms(search, allowed):
    """{key: value} of a search of single-pair terms on ``allowed`` keys
    ({'match': {...}, 'match_not': {...}}), or 400."""
    terms = {}
    for part in ('match', 'match_not'):
        pairs = {}
        for item in search.get(part) or []:
            if not isinstance(item, dict) or len(item) != 1:
                raise HTTPError('400 Bad Request', 'unsupported search')
            pairs.update(item)
        terms[part] = pairs
    keys = (tuple(sorted(terms['match'])), tuple(sorted(terms['match_not'])))
    if keys != ((), ()) and keys not in allowed:
        raise HTTPError('400 Bad Request', 'unsupported search')
    return terms


# --- resources ---------------------------------------------------------------

def list_actions(req):
    terms = _search_terms(req.search, {(('backup_name',), ())})
    name = terms['match'].get('backup_name')
    if name is None:
        body = _page('SELECT doc FROM actions WHERE project_id = ?',
                     (req.project,), req.limit, req.offset)
    else:
        body = _page('SELECT doc FROM actions WHERE project_id = ? AND '
                     'backup_name = ?', (req.project, name), req.limit,
                     req.offset)
    return '200 OK', '{"actions":%s}' % body


def create_action(req):
    doc = action_document(req.project, req.user,
                          req.body.get('action_id') or new_id(), req.body)
    with write() as conn:
        _insert_action(conn, doc)
    return '201 Created', json.dumps({'action_id': doc['action_id']})


def _get(table, project, doc_id, label):
    row = connection().execute(
        'SELECT doc FROM %s WHERE id = ? AND project_id = ?' % table,
        (doc_id, project)).fetchone()
    if row is None:
        raise HTTPError('404 Not Found', '%s %s not found' % (label, doc_id))
    return '200 OK', row[0]


def show_action(req, action_id):
    return _get('actions', req.project, action_id, 'Action')


def _patch(conn, table, project, doc_id, patch, label):
    """(merged document, new version) of a locked read-modify-write."""
    row = conn.execute(
        'SELECT doc, version FROM %s WHERE id = ? AND project_id = ?'
        % table, (doc_id, project)).fetchone()
    if row is None:
        raise HTTPError('404 Not Found', '%s %s not found' % (label, doc_id))
    doc = json.loads(row[0])
    merged = merge_patch(doc, {k: v for k, v in patch.items()
                               if k not in ('project_id', 'user_id',
                                            label.lower() + '_id')})
    return merged, row[1] + 1


def update_action(req, action_id):
    with write() as conn:
        doc, version = _patch(conn, 'actions', req.project, action_id,
                              req.body, 'Action')
        conn.execute('UPDATE actions SET doc = ?, backup_name = ?, '
                     'version = ? WHERE id = ?',
                     (json.dumps(doc), doc['freezer_action'].get(
                         'backup_name'), version, action_id))
    return '200 OK', json.dumps({'action_id': action_id,
                                 'version': version})


def delete_action(req, action_id):
    with write() as conn:
        conn.execute('DELETE FROM actions WHERE id = ? AND project_id = ?',
                     (action_id, req.project))
    return '204 No Content', ''


def list_jobs(req):
    terms = _search_terms(req.search, {(('client_id',), ('status',))})
    client = terms['match'].get('client_id')
    if client is None:
        body = _page('SELECT doc FROM jobs WHERE project_id = ?',
                     (req.project,), req.limit, req.offset)
    else:
        body = _page('SELECT doc FROM jobs WHERE project_id = ? AND '
                     'client_id = ? AND status != ?',
                     (req.project, client, terms['match_not']['status']),
                     req.limit, req.offset)
    return '200 OK', '{"jobs":%s}' % body


def create_job(req):
    job, actions = job_documents(req.project, req.user,
                                 req.body.get('job_id') or new_id(),
                                 req.body, int(time.time()))
    with write() as conn:
        if conn.execute('SELECT 1 FROM clients WHERE project_id = ? AND '
                        'client_id = ?', (req.project, job['client_id'])
                        ).fetchone() is None:
            raise HTTPError('422 Unprocessable Entity', 'unknown client')
        for action in actions:
            _insert_action(conn, action)
        conn.execute('INSERT INTO jobs (id, project_id, client_id, status, '
                     'version, doc) VALUES (?, ?, ?, ?, ?, ?)', job_row(job))
    return '201 Created', json.dumps({'job_id': job['job_id']})


def show_job(req, job_id):
    return _get('jobs', req.project, job_id, 'Job')


def update_job(req, job_id):
    with write() as conn:
        doc, version = _patch(conn, 'jobs', req.project, job_id, req.body,
                              'Job')
        conn.execute('UPDATE jobs SET doc = ?, client_id = ?, status = ?, '
                     'version = ? WHERE id = ?',
                     (json.dumps(doc), doc.get('client_id'),
                      doc.get('job_schedule', {}).get('status', ''),
                      version, job_id))
    return '200 OK', json.dumps({'job_id': job_id, 'version': version})


def create_backup(req):
    doc = backup_document(req.project, req.user, new_id(), req.body)
    with write() as conn:
        conn.execute('INSERT INTO backups (id, project_id, doc) '
                     'VALUES (?, ?, ?)', (doc['backup_id'], req.project,
                                          json.dumps(doc)))
    return '201 Created', json.dumps({'backup_id': doc['backup_id']})


ROUTES = {
    ('actions', False): {'GET': list_actions, 'POST': create_action},
    ('actions', True): {'GET': show_action, 'PATCH': update_action,
                        'DELETE': delete_action},
    ('jobs', False): {'GET': list_jobs, 'POST': create_job},
    ('jobs', True): {'GET': show_job, 'PATCH': update_job},
    ('backups', False): {'POST': create_backup},
}


# --- WSGI --------------------------------------------------------------------

class Request:
    def __init__(self, environ, project):
        self.project = project
        self.user = environ.get('HTTP_X_USER_ID', '')
        query = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''))
        self.limit = min(int(query.get('limit', ['0'])[0]) or
                         DEFAULT_LIMIT, MAX_LIMIT)
        self.offset = int(query.get('offset', ['0'])[0])
        length = int(environ.get('CONTENT_LENGTH') or 0)
        raw = environ['wsgi.input'].read(length) if length else b''
        self.body = json.loads(raw) if raw else {}
        if not isinstance(self.body, dict):
            raise HTTPError('400 Bad Request', 'a JSON object is expected')
        self.search = self.body


def dispatch(environ):
    parts = environ.get('PATH_INFO', '').strip('/').split('/')
    if len(parts) not in (3, 4) or parts[0] != 'v2':
        raise HTTPError('404 Not Found', 'no such resource')
    methods = ROUTES.get((parts[2], len(parts) == 4))
    handler = methods and methods.get(environ['REQUEST_METHOD'])
    if handler is None:
        raise HTTPError('405 Method Not Allowed', 'not allowed')
    try:
        req = Request(environ, parts[1])
    except ValueError as exc:
        raise HTTPError('400 Bad Request', str(exc)) from None
    return handler(req, *parts[3:])


def application(environ, start_response):
    try:
        status, body = dispatch(environ)
    except HTTPError as exc:
        status, body = exc.status, json.dumps({'error': str(exc)})
    data = body.encode()
    headers = [('Content-Length', str(len(data)))]
    if data:
        headers.append(('Content-Type', 'application/json'))
    start_response(status, headers)
    return [data]


# --- seeding -----------------------------------------------------------------

def seed(db, start, stop, pool, batch=5000):
    """Create the schema if needed and add :func:`dataset.plan`'s
    documents as the rows this app writes for them."""
    import dataset  # only the seeder needs it (and it is next to us)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executescript(SCHEMA)
    conn.execute('PRAGMA journal_mode = WAL')
    rows = {'clients': [], 'actions': [], 'jobs': []}
    backups = []
    for kind, project, _number, doc_id, doc in dataset.plan(start, stop,
                                                            pool):
        if kind == 'client':
            rows['clients'].append((project, doc['client_id'],
                                    json.dumps(doc)))
        elif kind == 'action':
            rows['actions'].append(action_row(action_document(
                project, dataset.USER, doc_id, doc)))
        elif kind == 'job':
            job, actions = job_documents(project, dataset.USER, doc_id, doc,
                                         dataset.TIME0)
            rows['actions'] += [action_row(a) for a in actions]
            rows['jobs'].append(job_row(job))
        else:
            backups.append((doc_id, project, json.dumps(backup_document(
                project, dataset.USER, doc_id, doc))))
    conn.execute('BEGIN')
    conn.executemany('INSERT INTO clients (project_id, client_id, doc) '
                     'VALUES (?, ?, ?)', rows['clients'])
    conn.executemany('INSERT INTO actions (id, project_id, backup_name, '
                     'version, doc) VALUES (?, ?, ?, ?, ?)', rows['actions'])
    conn.executemany('INSERT INTO jobs (id, project_id, client_id, status, '
                     'version, doc) VALUES (?, ?, ?, ?, ?, ?)', rows['jobs'])
    conn.executemany('INSERT INTO backups (id, project_id, doc) '
                     'VALUES (?, ?, ?)', backups)
    conn.execute('COMMIT')
    conn.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    conn.close()
    return sum(map(len, rows.values())) + len(backups)


def main(argv):
    if len(argv) != 2 or argv[0] != 'seed':
        raise SystemExit('usage: floor.py seed JSON')
    spec = json.loads(argv[1])
    t0 = time.perf_counter()
    count = seed(spec['db'], spec['start'], spec['stop'], spec['pool'])
    print(json.dumps({'seconds': time.perf_counter() - t0,
                      'documents': count}))


if __name__ == '__main__':
    main(sys.argv[1:])

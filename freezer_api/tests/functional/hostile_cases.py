"""The vocabulary of the hostile-input catalogue: the Case type and what
its builders share.

test_hostile_input.py sends every Case and judges the reply; the cases
themselves are built, by category, in

- hostile_cases_body.py: bodies over the size limit, too deep, badly
  encoded, not JSON, with hostile numbers or duplicate keys;
- hostile_cases_wire.py: the HTTP around a body: slow clients, methods
  and ignored bodies, broken framing, Content-Type, headers;
- hostile_cases_ids.py: ids and path segments, NUL characters, SQL in
  searches and list parameters, malformed searches.

Here: the size limit, the resources and their seeded literals, the
outcomes a case may expect, a valid body of each resource (DOCS) and every
request that carries one (WRITES), and the helpers that turn a document
into hostile bytes.
"""

import dataclasses
import json
import urllib.parse

from oslo_middleware import opts as middleware_opts


def _body_limit():
    """[oslo_middleware] max_request_body_size (the servers' default)."""
    for _group, options in middleware_opts.list_opts_sizelimit():
        for opt in options:
            if opt.name == 'max_request_body_size':
                return opt.default
    raise LookupError('max_request_body_size')


LIMIT = _body_limit()
DEEP = 10000
RESOURCES = ('actions', 'jobs', 'sessions', 'clients', 'backups')
SINGULAR = {'actions': 'action', 'jobs': 'job', 'sessions': 'session',
            'clients': 'client', 'backups': 'backup'}
# Values that mean something to SQL (or to LIKE, or to SQLAlchemy's LIKE
# escape character "/"): a search must take them literally.
LITERALS = ("' OR 1=1 --", '%', '_', '\\', '"; DROP TABLE actions; --',
            '/')
# The seeded key each resource's literal documents carry.
LITERAL_KEY = {'actions': 'backup_name', 'jobs': 'description',
               'sessions': 'description', 'clients': 'description',
               'backups': 'backup_name'}

REJECT, SEARCH, ACCEPT, EITHER, SLOW = (
    'reject', 'search', 'accept', 'either', 'slow')
MISSING = object()


@dataclasses.dataclass(frozen=True)
class Case:
    """One hostile request and what must come of it.

    Strings and bytes may hold tokens (``@P@`` the project, ``@V@`` the
    victim project, ``@action@`` ... the seeded ids, ``@v-action@`` ...
    the victim's), replaced when the case is sent.
    """

    category: str
    name: str
    method: str
    path: str
    body: bytes | None = None
    # (name, value): value None drops a default header; a name starting
    # with "+" adds one more header line.
    headers: tuple = ()
    expect: str = REJECT
    status: int | None = None       # REJECT: the one status allowed
    statuses: tuple = ()            # ACCEPT/EITHER: the success statuses
    stored: tuple = ()              # ACCEPT: (dotted path, JSON value)
    resource: str = ''              # SEARCH: the resource listed
    terms: tuple = ()               # SEARCH: (kind, key, value) to apply
    chunked: bool = False
    wire: bytes | None = None       # the body as sent, framing included
    half_close: bool = False
    linger: bool = False            # SLOW: the server must also hang up


def json_bytes(doc):
    """``doc`` as the JSON bytes a client would send."""
    return json.dumps(doc).encode()


def splice(doc, raw, marker='hostile'):
    """The JSON of ``doc`` with its string ``marker`` replaced by ``raw``."""
    text = json_bytes(doc)
    old = json_bytes(marker)
    if old not in text:
        raise ValueError(f'{marker!r} not in {text!r}')
    return text.replace(old, raw, 1)


def set_at(doc, dotted, marker='@@value@@'):
    """A deep copy of ``doc`` whose ``dotted`` path holds ``marker``."""
    doc = json.loads(json.dumps(doc))
    node = doc
    parts = dotted.split('.')
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else (
            node.setdefault(part, {}))
    node[parts[-1]] = marker
    return doc

def quote(text):
    """``text`` as one URL path segment or query value."""
    return urllib.parse.quote(text, safe='')


# A valid body of each resource; its string "hostile" is what the
# encodings replace, and what an accepted body stores at MARKER[resource].
DOCS = {
    'actions': {'freezer_action': {'action': 'backup', 'mode': 'fs',
                                   'backup_name': 'hostile'}},
    'jobs': {'client_id': '@client@', 'job_schedule': {},
             'job_actions': [{'freezer_action': {'action': 'backup',
                                                 'mode': 'fs'},
                              'max_retries': 1}],
             'description': 'hostile'},
    'sessions': {'schedule': {}, 'description': 'hostile'},
    'clients': {'client_id': 'hostile-new-client', 'hostname': 'hostile'},
    'backups': {'container': 'c', 'hostname': 'h', 'backup_name': 'hostile'},
}
MARKER = {'actions': 'freezer_action.backup_name', 'jobs': 'description',
          'sessions': 'description', 'clients': 'client.hostname',
          'backups': 'backup_metadata.backup_name'}
SEARCH_DOC = {'match': [{'backup_name': 'hostile'}]}

# (label, method, path, body): every request that carries a document.
WRITES = (
    ('actions POST', 'POST', '/v2/@P@/actions', DOCS['actions']),
    ('actions POST item', 'POST', '/v2/@P@/actions/@action@',
     DOCS['actions']),
    ('actions PATCH', 'PATCH', '/v2/@P@/actions/@action@', DOCS['actions']),
    ('jobs POST', 'POST', '/v2/@P@/jobs', DOCS['jobs']),
    ('jobs POST item', 'POST', '/v2/@P@/jobs/@job@', DOCS['jobs']),
    ('jobs PATCH', 'PATCH', '/v2/@P@/jobs/@job@', DOCS['jobs']),
    ('jobs event', 'POST', '/v2/@P@/jobs/@job@/event', {'start': 'hostile'}),
    ('sessions POST', 'POST', '/v2/@P@/sessions', DOCS['sessions']),
    ('sessions POST item', 'POST', '/v2/@P@/sessions/@session@',
     DOCS['sessions']),
    ('sessions PATCH', 'PATCH', '/v2/@P@/sessions/@session@',
     DOCS['sessions']),
    ('sessions action', 'POST', '/v2/@P@/sessions/@session@/action',
     {'end': {'job_id': '@job@', 'current_tag': 0, 'result': 'hostile'}}),
    ('clients POST', 'POST', '/v2/@P@/clients', DOCS['clients']),
    ('backups POST', 'POST', '/v2/@P@/backups', DOCS['backups']),
    ('backups PATCH', 'PATCH', '/v2/@P@/backups/@backup@',
     {'status': 'error', 'backup_metadata': {'backup_name': 'hostile'}}),
)
COLLECTIONS = tuple(w for w in WRITES if w[0].endswith(' POST'))


def list_path(resource, query='limit=1000'):
    """The project's list (or search) of ``resource``."""
    return f'/v2/@P@/{resource}?{query}'


"""Hostile bodies: what is wrong with the document itself.

- size: bodies over [oslo_middleware] max_request_body_size, plain and
  chunked, on every write, search, item GET and DELETE (413);
- nesting, encoding, not JSON, numbers, content-type: the encodings no
  endpoint may take (too deep, not UTF-8, UTF-16/32, NaN, not an object,
  a form, ...), the CORE ones sent to every endpoint, the others to the
  collections and the actions list;
- numbers: integers past their column's or JSON's range, field by field;
- duplicate keys: the last one wins, so a duplicate gets nothing past the
  schema and cannot choose the owner.

The Case type and the shared documents are in hostile_cases.py.
"""

import codecs
import json

from freezer_api.tests.functional.hostile_cases import ACCEPT
from freezer_api.tests.functional.hostile_cases import COLLECTIONS
from freezer_api.tests.functional.hostile_cases import DEEP
from freezer_api.tests.functional.hostile_cases import DOCS
from freezer_api.tests.functional.hostile_cases import EITHER
from freezer_api.tests.functional.hostile_cases import LIMIT
from freezer_api.tests.functional.hostile_cases import MISSING
from freezer_api.tests.functional.hostile_cases import REJECT
from freezer_api.tests.functional.hostile_cases import RESOURCES
from freezer_api.tests.functional.hostile_cases import SEARCH
from freezer_api.tests.functional.hostile_cases import SEARCH_DOC
from freezer_api.tests.functional.hostile_cases import SINGULAR
from freezer_api.tests.functional.hostile_cases import WRITES
from freezer_api.tests.functional.hostile_cases import Case
from freezer_api.tests.functional.hostile_cases import json_bytes
from freezer_api.tests.functional.hostile_cases import list_path
from freezer_api.tests.functional.hostile_cases import set_at
from freezer_api.tests.functional.hostile_cases import splice


def _encodings(doc, for_search=False):
    """(category, name, body, headers) of bodies no endpoint may take."""
    text = json.dumps(doc)
    v = text.encode()
    ctype = 'Content-Type'
    out = [
        ('nesting', 'objects 10000 deep',
         b'{"a":' * DEEP + b'1' + b'}' * DEEP, ()),
        ('nesting', 'arrays 10000 deep', b'[' * DEEP + b']' * DEEP, ()),
        ('nesting', 'a value 10000 deep',
         splice(doc, b'[' * DEEP + b']' * DEEP), ()),
        ('nesting', 'a value past the depth limit',
         splice(doc, b'[' * 101 + b']' * 101), ()),
        ('encoding', 'invalid UTF-8', splice(doc, b'"\xff\xfe"'), ()),
        ('encoding', 'overlong UTF-8', splice(doc, b'"\xc0\xaf"'), ()),
        ('encoding', 'UTF-8 encoded surrogate', splice(doc, b'"\xed\xa0\x80"'),
         ()),
        ('encoding', 'UTF-16LE with BOM',
         codecs.BOM_UTF16_LE + text.encode('utf-16-le'), ()),
        ('encoding', 'UTF-16BE with BOM',
         codecs.BOM_UTF16_BE + text.encode('utf-16-be'), ()),
        ('encoding', 'UTF-32LE with BOM',
         codecs.BOM_UTF32_LE + text.encode('utf-32-le'), ()),
        ('encoding', 'UTF-32BE with BOM',
         codecs.BOM_UTF32_BE + text.encode('utf-32-be'), ()),
        ('encoding', 'UTF-16LE without BOM', text.encode('utf-16-le'), ()),
        ('encoding', 'lone surrogate \\ud800', splice(doc, b'"\\ud800"'), ()),
        ('encoding', 'lone surrogate in a key',
         v[:-1] + b', "\\udc00x": 1}', ()),
        ('nul', 'raw NUL in a value', splice(doc, b'"a\x00b"'), ()),
        ('numbers', 'NaN', splice(doc, b'NaN'), ()),
        ('numbers', 'Infinity', splice(doc, b'Infinity'), ()),
        ('numbers', '-Infinity', splice(doc, b'-Infinity'), ()),
        ('numbers', '1e400', splice(doc, b'1e400'), ()),
        ('numbers', 'an integer of 5000 digits', splice(doc, b'7' * 5000),
         ()),
        ('not JSON', 'a list', b'[]', ()),
        ('not JSON', 'a string', b'"x"', ()),
        ('not JSON', 'a number', b'1', ()),
        ('not JSON', 'null', b'null', ()),
        ('not JSON', 'true', b'true', ()),
        ('not JSON', 'truncated', v[:-1], ()),
        ('not JSON', 'trailing garbage', v + b' x', ()),
        ('not JSON', 'two documents', v + v, ()),
        ('not JSON', 'single quotes', text.replace('"', "'").encode(), ()),
        ('not JSON', 'a comment', b'/* c */ ' + v, ()),
        ('content-type', 'a form',
         b'freezer_action%5Baction%5D=backup&mode=fs',
         ((ctype, 'application/x-www-form-urlencoded'),)),
        ('content-type', 'multipart with a JSON part', _multipart(v),
         ((ctype, 'multipart/form-data; boundary=hostile'),)),
        ('content-type', 'text/plain, not JSON', b'backup please',
         ((ctype, 'text/plain'),)),
        ('content-type', 'no Content-Type, not JSON', b'backup please',
         ((ctype, None),)),
        ('content-type', 'charset=latin-1 with a Latin-1 byte',
         splice(doc, b'"caf\xe9"'),
         ((ctype, 'application/json; charset=latin-1'),)),
    ]
    if not for_search:
        out += [('not JSON', 'empty', b'', ()),
                ('not JSON', 'blank', b' \r\n\t ', ())]
    return out


def _over_limit(doc):
    return splice(doc, json_bytes('x' * LIMIT))


def _multipart(part):
    return (b'--hostile\r\nContent-Disposition: form-data; name="doc"\r\n'
            b'Content-Type: application/json\r\n\r\n' + part +
            b'\r\n--hostile--\r\n')


def size_cases():
    cases = []
    for label, method, path, doc in WRITES:
        body = _over_limit(doc)
        cases += [
            Case('size', f'{label}: over the limit', method, path, body,
                 status=413),
            Case('size', f'{label}: over the limit, chunked', method, path,
                 body, status=413, chunked=True),
        ]
    for resource in RESOURCES:
        body = _over_limit(SEARCH_DOC)
        cases += [
            Case('size', f'{resource} search: over the limit', 'GET',
                 list_path(resource), body, status=413),
            Case('size', f'{resource} search: over the limit, chunked',
                 'GET', list_path(resource), body, status=413,
                 chunked=True),
            Case('size', f'{resource} DELETE: a body over the limit',
                 'DELETE', f'/v2/@P@/{resource}/@{SINGULAR[resource]}@',
                 body, status=413),
        ]
    cases.append(Case('size', 'actions GET item: a body over the limit',
                      'GET', '/v2/@P@/actions/@action@',
                      _over_limit(SEARCH_DOC), status=413))
    return cases


# The encodings sent to every endpoint; the others go to the collections
# and to the actions list (the parsing is shared, the handlers are not).
CORE = ('objects 10000 deep', 'invalid UTF-8', 'UTF-16LE with BOM',
        'lone surrogate \\ud800', 'raw NUL in a value', 'NaN', '1e400',
        'an integer of 5000 digits', 'a list', 'null', 'truncated', 'a form',
        'empty')


def body_cases():
    cases = []
    for label, method, path, doc in WRITES:
        for category, name, body, headers in _encodings(doc):
            if name in CORE or (label, method, path, doc) in COLLECTIONS:
                cases.append(Case(category, f'{label}: {name}', method, path,
                                  body, headers))
    for resource in RESOURCES:
        for category, name, body, headers in _encodings(SEARCH_DOC, True):
            if name in CORE or resource == 'actions':
                cases.append(Case(category, f'{resource} search: {name}',
                                  'GET', list_path(resource), body,
                                  headers))
    return cases


# (resource, dotted path, range): 'int' a 32-bit column (0..2**31-1),
# 'bigint' a 64-bit column, 'json' an integer kept in a JSON document.
INT_FIELDS = (
    ('actions', 'max_retries', 'int'),
    ('actions', 'max_retries_interval', 'int'),
    ('actions', 'freezer_action.timeout', 'json'),
    ('actions', 'freezer_action.priority', 'json'),
    ('jobs', 'session_tag', 'int'),
    ('jobs', 'job_actions.0.max_retries', 'int'),
    ('jobs', 'job_actions.0.freezer_action.timeout', 'json'),
    ('jobs', 'job_schedule.time_created', 'json'),
    ('jobs', 'job_schedule.time_started', 'json'),
    ('jobs', 'job_schedule.time_ended', 'json'),
    ('jobs', 'job_schedule.current_pid', 'json'),
    ('sessions', 'session_tag', 'int'),
    ('sessions', 'hold_off', 'int'),
    ('sessions', 'time_start', 'bigint'),
    ('sessions', 'time_end', 'bigint'),
    ('sessions', 'time_started', 'bigint'),
    ('sessions', 'time_ended', 'bigint'),
    ('sessions', 'schedule.time_created', 'json'),
    ('sessions', 'schedule.current_pid', 'json'),
)
# NaN, Infinity and 1e400 are refused before any field is looked at: they
# are among the encodings.
_ANY_INT = (('2**63', str(2 ** 63)), ('2**64', str(2 ** 64)),
            ('-2**63-1', str(-2 ** 63 - 1)), ('1.5', '1.5'),
            ('"7"', '"7"'), ('true', 'true'))


def number_cases():
    cases = []
    for resource, dotted, kind in INT_FIELDS:
        doc = set_at(DOCS[resource], dotted)
        path = f'/v2/@P@/{resource}'

        def add(name, raw, expect=REJECT, stored=MISSING, doc=doc,
                dotted=dotted, resource=resource, path=path):
            cases.append(Case(
                'numbers', f'{resource} POST: {dotted} = {name}', 'POST',
                path, splice(doc, raw.encode(), '@@value@@'), expect=expect,
                statuses=(201,) if expect != REJECT else (),
                stored=((dotted, stored),) if stored is not MISSING else ()))

        for name, raw in _ANY_INT:
            add(name, raw)
        if kind == 'int':
            add('2**31', str(2 ** 31))
            add('-1', '-1')
            add('-0', '-0', ACCEPT, 0)
            add('1.0', '1.0', EITHER, 1)
            add('1e2', '1e2', EITHER, 100)
        elif kind == 'bigint':
            add('2**63-1', str(2 ** 63 - 1), ACCEPT, 2 ** 63 - 1)
            add('-2**63', str(-2 ** 63), ACCEPT, -2 ** 63)
    action = '/v2/@P@/sessions/@session@/action'
    for name, raw in (('2**31', str(2 ** 31)), ('-1', '-1'),
                      ('"2147483648"', '"2147483648"'),
                      ('"99999999999"', '"99999999999"'),
                      ('2**64', str(2 ** 64)), ('1.5', '1.5'),
                      ('true', 'true'), ('Arabic-Indic digits', '"١٢"'),
                      ('" 1"', '" 1"'), ('"1\\n"', '"1\\n"'),
                      ('NaN', 'NaN')):
        body = ('{"start": {"job_id": "@job@", "current_tag": %s}}'
                % raw).encode()
        cases.append(Case('numbers', f'sessions action: current_tag = {name}',
                          'POST', action, body))
    patches = (('actions', 'max_retries', str(2 ** 31)),
               ('jobs', 'session_tag', str(2 ** 64)),
               ('sessions', 'hold_off', str(2 ** 64)),
               ('sessions', 'time_start', str(2 ** 63)))
    for resource, dotted, raw in patches:
        cases.append(Case(
            'numbers', f'{resource} PATCH: {dotted} = {raw}', 'PATCH',
            f'/v2/@P@/{resource}/@{SINGULAR[resource]}@',
            splice({dotted: 'v'}, raw.encode(), 'v')))
    return cases


def duplicate_cases():
    fa = b'"freezer_action": {"action": "backup", "backup_name": "dup"}'
    owner = (b', "project_id": "@P@", "project_id": "@V@", '
             b'"user_id": "noauth", "user_id": "evil"')
    mine = (('project_id', '@P@'), ('user_id', 'noauth'))
    job = (b'"client_id": "@client@", "job_actions": [{"freezer_action": '
           b'{"action": "backup"}}]')
    client = b'"client_id": "hostile-dup", "hostname": "h"'
    backup = b'"container": "c", "hostname": "h", "backup_name": "dup"'

    def case(resource, name, body, expect=REJECT, stored=(), path=None):
        return Case('duplicate keys', f'{resource} POST: {name}', 'POST',
                    path or f'/v2/@P@/{resource}', body, expect=expect,
                    statuses=(201,) if expect == ACCEPT else (),
                    stored=stored)

    return [
        case('actions', 'project_id and user_id twice',
             b'{' + fa + owner + b'}', ACCEPT, mine),
        case('actions', 'freezer_action valid, then not',
             b'{' + fa + b', "freezer_action": {"action": "bogus"}}'),
        case('actions', 'freezer_action not valid, then valid',
             b'{"freezer_action": {"action": "bogus"}, ' + fa + b'}',
             ACCEPT, (('freezer_action.action', 'backup'),)),
        case('actions', 'action valid, then not',
             b'{"freezer_action": {"action": "backup", "action": "bogus"}}'),
        case('actions', 'action_id valid, then not',
             b'{"action_id": "dup-ok", "action_id": "../x", ' + fa + b'}'),
        case('actions', 'max_retries valid, then too big',
             b'{' + fa + b', "max_retries": 1, "max_retries": 2147483648}'),
        case('jobs', 'client_id valid, then not',
             b'{' + job + b', "client_id": "../x"}'),
        case('jobs', 'job_actions, then an action of the victim',
             b'{' + job + b', "job_actions": [{"action_id": "@v-action@"}]}'),
        case('jobs', 'user_credentials twice',
             b'{' + job + b', "user_credentials": {}, '
             b'"user_credentials": {"trust_id": "evil"}}',
             ACCEPT, (('user_credentials', MISSING),)),
        case('jobs', 'project_id and user_id twice',
             b'{' + job + owner + b'}', ACCEPT, mine),
        case('sessions', 'jobs twice',
             b'{"schedule": {}, "jobs": {}, "jobs": {"@v-job@": '
             b'{"client_id": "x"}}}', ACCEPT, (('jobs', {}),)),
        case('sessions', 'project_id and user_id twice',
             b'{"schedule": {}' + owner + b'}', ACCEPT, mine),
        case('sessions', 'description valid, then \\u0000',
             b'{"schedule": {}, "description": "ok", '
             b'"description": "a\\u0000b"}'),
        case('clients', 'is_central false, then true',
             b'{' + client + b', "is_central": false, "is_central": true}'),
        case('clients', 'client_id valid, then not',
             b'{' + client + b', "client_id": "a/b"}'),
        case('clients', 'client valid, then not',
             b'{"client": {' + client + b'}, "client": {"client_id": "a/b"}}'),
        case('backups', 'project_id and user_id twice',
             b'{' + backup + owner + b'}', ACCEPT, mine),
        case('backups', 'status valid, then not',
             b'{' + backup + b', "status": "available", "status": "bogus"}'),
        Case('duplicate keys', 'sessions action: job_id, then the victim\'s',
             'POST', '/v2/@P@/sessions/@session@/action',
             b'{"start": {"job_id": "@job@", "job_id": "@v-job@", '
             b'"current_tag": 0}}'),
        Case('duplicate keys', 'actions search: match twice, last wins',
             'GET', list_path('actions'),
             b'{"match": [{"backup_name": "nothing"}], "match": []}',
             expect=SEARCH, resource='actions'),
        Case('duplicate keys', 'actions search: a key twice in a term',
             'GET', list_path('actions'),
             b'{"match": [{"backup_name": "nothing", "backup_name": '
             b'"%"}]}', expect=SEARCH, resource='actions',
             terms=(('is', 'backup_name', '%'),)),
    ]

"""Hostile HTTP around a body: how it is sent rather than what it says.

- slow: a huge body announced and trickled (413 or a hang-up, in time);
- methods: chunked searches and writes, documents where a search is
  expected, bodies on item GET and on DELETE (ignored);
- framing: broken chunking, short bodies, contradictory lengths;
- content-type: a JSON body is read as JSON whatever its Content-Type,
  and a UTF-8 BOM may be taken;
- headers: oversized and repeated headers, spoofed X-Project-Id, bad or
  missing Host.

The Case type and the shared documents are in hostile_cases.py.
"""

import codecs

from freezer_api.tests.functional.hostile_cases import ACCEPT
from freezer_api.tests.functional.hostile_cases import COLLECTIONS
from freezer_api.tests.functional.hostile_cases import DEEP
from freezer_api.tests.functional.hostile_cases import DOCS
from freezer_api.tests.functional.hostile_cases import EITHER
from freezer_api.tests.functional.hostile_cases import LIMIT
from freezer_api.tests.functional.hostile_cases import MARKER
from freezer_api.tests.functional.hostile_cases import RESOURCES
from freezer_api.tests.functional.hostile_cases import SEARCH
from freezer_api.tests.functional.hostile_cases import SLOW
from freezer_api.tests.functional.hostile_cases import Case
from freezer_api.tests.functional.hostile_cases import json_bytes
from freezer_api.tests.functional.hostile_cases import list_path


def slow_cases():
    announce = (('Content-Length', str(10 ** 9)),)
    cases = [Case('slow', f'{label}: Content-Length 10**9, trickled',
                  method, path, headers=announce, expect=SLOW, wire=b'')
             for label, method, path, _doc in COLLECTIONS]
    cases += [
        Case('slow', 'actions search: Content-Length 10**9, trickled', 'GET',
             list_path('actions'), headers=announce, expect=SLOW, wire=b''),
        Case('slow', 'actions POST: keep-alive, 413, then hang up', 'POST',
             '/v2/@P@/actions', expect=SLOW, wire=b'', linger=True,
             headers=announce + (('Connection', None),)),
        Case('slow', 'actions POST: a chunk of 256 MiB announced, trickled',
             'POST', '/v2/@P@/actions', expect=SLOW, wire=b'10000000\r\n',
             headers=(('Transfer-Encoding', 'chunked'),)),
    ]
    return cases


def method_cases():
    # A literal document: no case writes to those.
    search = json_bytes({'match': [{'backup_name': '_'}]})
    return [
        Case('methods', 'actions search: chunked', 'GET',
             list_path('actions'), search, chunked=True, expect=SEARCH,
             resource='actions', terms=(('is', 'backup_name', '_'),)),
        Case('methods', 'actions POST: chunked', 'POST', '/v2/@P@/actions',
             json_bytes(DOCS['actions']), chunked=True, expect=ACCEPT,
             statuses=(201,), stored=((MARKER['actions'], 'hostile'),)),
        Case('methods', 'actions search: a document, not a search', 'GET',
             list_path('actions'), json_bytes(DOCS['actions'])),
        Case('methods', 'jobs search: a document, chunked', 'GET',
             list_path('jobs'), json_bytes(DOCS['jobs']), chunked=True),
        Case('methods', 'actions search: a large value under the limit',
             'GET', list_path('actions'),
             json_bytes({'match': [{'backup_name': 'x' * (LIMIT - 100)}]}),
             expect=SEARCH, resource='actions',
             terms=(('is', 'backup_name', 'x' * (LIMIT - 100)),)),
        Case('methods', 'actions GET item: a document body is ignored',
             'GET', '/v2/@P@/actions/@action@', json_bytes(DOCS['actions']),
             expect=ACCEPT, statuses=(200,),
             stored=(('action_id', '@action@'),)),
        Case('methods', 'actions DELETE: a body naming the seed', 'DELETE',
             '/v2/@P@/actions/absent-action',
             json_bytes({'action_id': '@action@'}), expect=EITHER,
             statuses=(204,)),
        Case('methods', 'jobs DELETE: a body 10000 deep', 'DELETE',
             '/v2/@P@/jobs/absent-job', b'[' * DEEP + b']' * DEEP,
             expect=EITHER, statuses=(204,)),
        Case('methods', 'sessions DELETE: a body that is not JSON',
             'DELETE', '/v2/@P@/sessions/absent-session', b'\xff\xfe',
             expect=EITHER, statuses=(204,)),
    ]


def framing_cases():
    te = (('Transfer-Encoding', 'chunked'),)
    body = json_bytes(DOCS['actions'])
    cases = []
    for label, method, path in (
            ('actions POST', 'POST', '/v2/@P@/actions'),
            ('actions search', 'GET', list_path('actions'))):
        cases += [
            Case('framing', f'{label}: chunk size "zz"', method, path,
                 headers=te, wire=b'zz\r\n{}\r\n0\r\n\r\n'),
            Case('framing', f'{label}: chunk without its CRLF', method, path,
                 headers=te, wire=b'2\r\n{}XX0\r\n\r\n'),
            Case('framing', f'{label}: chunked body cut short', method,
                 path, headers=te, wire=b'40\r\n{"freezer_action"',
                 half_close=True),
            Case('framing', f'{label}: Content-Length body cut short',
                 method, path, headers=(('Content-Length', '100'),),
                 wire=b'{"freezer_action"', half_close=True),
            Case('framing', f'{label}: Content-Length and chunked', method,
                 path, headers=te + (('Content-Length', '5'),),
                 wire=b'0\r\n\r\n'),
            Case('framing', f'{label}: two Content-Lengths', method, path,
                 headers=(('Content-Length', '2'),
                          ('+Content-Length', '40')), wire=b'{}'),
            Case('framing', f'{label}: Content-Length -1', method, path,
                 headers=(('Content-Length', '-1'),), wire=b'{}'),
            Case('framing', f'{label}: Content-Length "abc"', method, path,
                 headers=(('Content-Length', 'abc'),), wire=b'{}'),
        ]
    cases.append(Case('framing', 'actions POST: a chunk past the limit',
                      'POST', '/v2/@P@/actions', headers=te,
                      wire=b'%x\r\n' % (LIMIT + 1) + body +
                      b' ' * (LIMIT + 1 - len(body)) + b'\r\n0\r\n\r\n',
                      status=413))
    return cases


def content_type_cases():
    cases = []
    for resource in RESOURCES:
        body = json_bytes(DOCS[resource])
        stored = ((MARKER[resource], 'hostile'),)
        for name, value in (('text/plain', 'text/plain'),
                            ('form-urlencoded',
                             'application/x-www-form-urlencoded'),
                            ('missing', None),
                            ('charset=latin-1, ASCII body',
                             'application/json; charset=latin-1')):
            cases.append(Case(
                'content-type', f'{resource} POST: JSON with Content-Type '
                f'{name} is read as JSON', 'POST', f'/v2/@P@/{resource}',
                body, (('Content-Type', value),), expect=ACCEPT,
                statuses=(201,), stored=stored))
        cases.append(Case(
            'encoding', f'{resource} POST: a UTF-8 BOM', 'POST',
            f'/v2/@P@/{resource}', codecs.BOM_UTF8 + body, expect=EITHER,
            statuses=(201,), stored=stored))
    return cases


def header_cases():
    search = list_path('actions')
    post = '/v2/@P@/actions'
    valid = json_bytes(DOCS['actions'])
    spoof = (('X-Project-Id', '@V@'),)
    return [
        Case('headers', 'a header of 9000 bytes', 'GET', search,
             headers=(('X-Hostile', 'a' * 9000),)),
        Case('headers', 'POST with a header of 9000 bytes', 'POST', post,
             valid, (('X-Hostile', 'a' * 9000),)),
        Case('headers', '200 headers', 'GET', search,
             headers=tuple((f'X-Hostile-{i}', 'v') for i in range(200))),
        Case('headers', 'a request line of 9000 bytes', 'GET',
             list_path('actions', 'q=' + 'a' * 9000)),
        Case('headers', 'a raw NUL in a header', 'GET', search,
             headers=(('X-Hostile', 'a\x00b'),)),
        Case('headers', 'X-User-Id of 300 characters', 'POST', post, valid,
             (('X-User-Id', 'u' * 300),)),
        Case('headers', 'X-Project-Id of the victim: list', 'GET', search,
             headers=spoof),
        Case('headers', 'X-Project-Id of the victim: POST', 'POST', post,
             valid, spoof),
        Case('headers', 'X-Project-Id of the victim: DELETE', 'DELETE',
             '/v2/@P@/actions/@action@', headers=spoof),
        Case('headers', 'the victim\'s URL, our X-Project-Id: DELETE',
             'DELETE', '/v2/@V@/actions/@v-action@',
             headers=(('X-Project-Id', '@P@'),)),
        Case('headers', 'the victim\'s URL, our X-Project-Id: PATCH',
             'PATCH', '/v2/@V@/jobs/@v-job@', json_bytes(DOCS['jobs']),
             (('X-Project-Id', '@P@'),)),
        Case('headers', 'X-Project-Id twice: DELETE', 'DELETE',
             '/v2/@V@/backups/@v-backup@',
             headers=(('X-Project-Id', '@P@'), ('+X-Project-Id', '@V@'))),
        Case('headers', 'X-Project-Id "ours,victim": POST', 'POST',
             '/v2/@V@/actions', valid, (('X-Project-Id', '@P@,@V@'),)),
        Case('headers', 'Host with control characters', 'GET', search,
             headers=(('Host', '\x01\x02garbage'),)),
        Case('headers', 'Host with control characters: POST', 'POST', post,
             valid, (('Host', '\x01\x02garbage'),)),
        Case('headers', 'two Host headers', 'GET', search,
             headers=(('+Host', 'evil.example'),)),
        Case('headers', 'Host with a space', 'GET', search,
             headers=(('Host', 'a b'),)),
        Case('headers', 'no Host in HTTP/1.1', 'GET', search,
             headers=(('Host', None),)),
    ]

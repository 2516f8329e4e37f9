"""Hostile ids, NULs and searches.

- ids: bad and Unicode ids in bodies, bad path segments on every item
  route, the victim project's ids, traversal in the project segment;
- nul: NUL characters in values, keys, searches and list parameters
  (stored where the column allows it, refused elsewhere);
- sql: SQL, LIKE wildcards and escapes in every search form and list
  parameter, taken literally;
- search shape: searches that are JSON objects but not searches.

The Case type and the shared documents are in hostile_cases.py.
"""

import json

from freezer_api.tests.functional.hostile_cases import ACCEPT
from freezer_api.tests.functional.hostile_cases import DEEP
from freezer_api.tests.functional.hostile_cases import DOCS
from freezer_api.tests.functional.hostile_cases import EITHER
from freezer_api.tests.functional.hostile_cases import LITERAL_KEY
from freezer_api.tests.functional.hostile_cases import LITERALS
from freezer_api.tests.functional.hostile_cases import REJECT
from freezer_api.tests.functional.hostile_cases import RESOURCES
from freezer_api.tests.functional.hostile_cases import SEARCH
from freezer_api.tests.functional.hostile_cases import SINGULAR
from freezer_api.tests.functional.hostile_cases import WRITES
from freezer_api.tests.functional.hostile_cases import Case
from freezer_api.tests.functional.hostile_cases import json_bytes
from freezer_api.tests.functional.hostile_cases import list_path
from freezer_api.tests.functional.hostile_cases import quote
from freezer_api.tests.functional.hostile_cases import set_at

BAD_IDS = (
    ('256 characters', 'a' * 256), ('256 letters é', 'é' * 256),
    ('\\u0000 inside', 'a\x00b'), ('a slash', 'a/b'), ('..', '..'),
    ('../x', '../x'), ('%00', 'a%00b'), ('%2F', 'a%2Fb'),
    ('a final newline', 'abc\n'), ('right-to-left override', 'abc\u202e'),
    ('zero-width space', 'a\u200bb'), ('empty', ''), ('a space', 'a b'),
    ('an emoji', '\U0001f600'), ('a number', 123), ('null', None),
    ('an object', {'id': 'x'}),
)
UNICODE_IDS = (('letters é', 'é' * 10), ('255 CJK letters', '日' * 255))
BAD_SEGMENTS = (
    ('256 characters', 'a' * 256), ('%00', 'a%00b'), ('%2F', 'a%2Fb'),
    ('..', '..'), ('%2e%2e', '%2e%2e'), ('%252F', 'a%252Fb'),
    ('%FF', '%FF'), ('%0A', 'abc%0A'), ('%20', 'a%20b'), ('%C3%A9', '%C3%A9'),
)


def id_cases():
    cases = []
    for resource in ('actions', 'jobs', 'clients'):
        key = SINGULAR[resource] + '_id'
        doc = DOCS[resource]
        good = () if resource == 'clients' else UNICODE_IDS
        for name, value in BAD_IDS + (UNICODE_IDS if not good else ()):
            cases.append(Case('ids', f'{resource} POST: {key} {name}',
                              'POST', f'/v2/@P@/{resource}',
                              json_bytes(dict(doc, **{key: value}))))
        for name, value in good:
            cases.append(Case('ids', f'{resource} POST: {key} {name}',
                              'POST', f'/v2/@P@/{resource}',
                              json_bytes(dict(doc, **{key: value})),
                              expect=ACCEPT, statuses=(201,),
                              stored=((key, value),)))
    for resource in RESOURCES:
        item = f'/v2/@P@/{resource}/'
        writes = [w for w in WRITES if w[2] == f'{item}@{SINGULAR[resource]}@']
        segments = BAD_SEGMENTS + (('the victim\'s id',
                                    f'@v-{SINGULAR[resource]}@'),)
        for name, segment in segments:
            path = item + segment
            cases.append(Case('ids', f'{resource} GET item: {name}', 'GET',
                              path))
            cases.append(Case('ids', f'{resource} DELETE: {name}', 'DELETE',
                              path, expect=EITHER, statuses=(204,)))
            for label, method, _path, doc in writes:
                accept = segment == '%C3%A9' and method == 'POST'
                cases.append(Case(
                    'ids', f'{label}: {name}', method, path, json_bytes(doc),
                    expect=ACCEPT if accept else REJECT,
                    statuses=(201,) if accept else (),
                    stored=((SINGULAR[resource] + '_id', 'é'),) if accept
                    else ()))
    cases += [
        Case('ids', 'actions GET item: a raw NUL in the path', 'GET',
             '/v2/@P@/actions/a\x00b'),
        Case('ids', 'sessions add job: the victim\'s job', 'PUT',
             '/v2/@P@/sessions/@session@/jobs/@v-job@'),
        Case('ids', 'sessions add job: %00', 'PUT',
             '/v2/@P@/sessions/@session@/jobs/a%00b'),
        Case('ids', 'sessions add job: the victim\'s session', 'PUT',
             '/v2/@P@/sessions/@v-session@/jobs/@job@'),
        Case('ids', 'sessions remove job: the victim\'s session', 'DELETE',
             '/v2/@P@/sessions/@v-session@/jobs/@v-job@'),
        Case('ids', 'jobs event: the victim\'s job', 'POST',
             '/v2/@P@/jobs/@v-job@/event', b'{"stop": null}'),
        Case('ids', 'sessions action: the victim\'s session', 'POST',
             '/v2/@P@/sessions/@v-session@/action',
             b'{"start": {"job_id": "@v-job@", "current_tag": 0}}'),
        Case('ids', 'jobs POST: an action of the victim', 'POST',
             '/v2/@P@/jobs', json_bytes(dict(DOCS['jobs'], job_actions=[
                 {'action_id': '@v-action@'}]))),
    ]
    for name, project in (('256 characters', 'p' * 256),
                          ('%00', '@P@%00'), ('%2F..%2F', '@P@%2F..%2F@V@'),
                          ('/../', '@P@/../@V@'), ('..%2F', '..%2F@V@'),
                          ('%2e%2e', '%2e%2e/@V@')):
        path = f'/v2/{project}/actions'
        cases += [Case('ids', f'project {name}: GET list', 'GET', path),
                  Case('ids', f'project {name}: POST', 'POST', path,
                       json_bytes(DOCS['actions']))]
    return cases


def nul_cases():
    accepted = (
        ('actions', 'freezer_action.backup_name'),
        ('actions', 'freezer_action.a\x00b'),
        ('clients', 'description'),
        ('backups', 'container'),
        ('backups', 'x\x00y'),
    )
    cases = []
    for resource, dotted in accepted:
        doc = set_at(DOCS[resource], dotted, 'a\x00b')
        stored = dotted
        if resource == 'clients':
            stored = 'client.' + dotted
        elif resource == 'backups':
            stored = 'backup_metadata.' + dotted
        cases.append(Case('nul', f'{resource} POST: \\u0000 in {dotted!r}',
                          'POST', f'/v2/@P@/{resource}', json_bytes(doc),
                          expect=ACCEPT, statuses=(201,),
                          stored=((stored, 'a\x00b'),)))
    refused = (('jobs', 'description'), ('sessions', 'description'),
               ('sessions', 'status'), ('sessions', 'result'),
               ('clients', 'hostname'))
    for resource, dotted in refused:
        doc = set_at(DOCS[resource], dotted, 'a\x00b')
        cases.append(Case('nul', f'{resource} POST: \\u0000 in {dotted}',
                          'POST', f'/v2/@P@/{resource}', json_bytes(doc)))
    cases += [
        Case('nul', 'sessions action: \\u0000 in result', 'POST',
             '/v2/@P@/sessions/@session@/action', json_bytes({'end': {
                 'job_id': '@job@', 'current_tag': 0, 'result': 'a\x00b'}})),
        Case('nul', 'actions search: \\u0000 in a value', 'GET',
             list_path('actions'),
             json_bytes({'match': [{'backup_name': 'a\x00b'}]}), expect=SEARCH,
             resource='actions', terms=(('is', 'backup_name', 'a\x00b'),)),
        Case('nul', 'actions search: \\u0000 in free text', 'GET',
             list_path('actions'),
             json_bytes({'match': [{'_all': 'a\x00b'}]})),
        Case('nul', 'actions list: limit=1%00', 'GET',
             list_path('actions', 'limit=1%00')),
        Case('nul', 'actions list: offset=%00', 'GET',
             list_path('actions', 'offset=%00')),
    ]
    return cases


def sql_cases():
    cases = []
    for resource in RESOURCES:
        key = LITERAL_KEY[resource]
        for literal in LITERALS:
            forms = (
                ('match', {'match': [{key: literal}]}, 'is'),
                ('match_not', {'match_not': [{key: literal}]}, 'not'),
                ('_all pairs', {'match': [{'_all': json.dumps(
                    [{key: literal}])}]}, 'is'),
                ('_all free text', {'match': [{'_all': literal}]}, 'text'),
            )
            for form, search, kind in forms:
                cases.append(Case(
                    'sql', f'{resource} search {form}: {literal}', 'GET',
                    list_path(resource), json_bytes(search), expect=SEARCH,
                    resource=resource, terms=((kind, key, literal),)))
            quoted = quote(literal)
            if resource == 'actions':
                cases += [
                    Case('sql', f'{resource} list: limit={literal}', 'GET',
                         list_path(resource, f'limit={quoted}')),
                    Case('sql', f'{resource} list: offset={literal}', 'GET',
                         list_path(resource, f'offset={quoted}')),
                ]
        cases += [
            Case('sql', f'{resource} list: offset={LITERALS[0]}', 'GET',
                 list_path(resource, f'offset={quote(LITERALS[0])}')),
            Case('sql', f'{resource} list: an unknown parameter', 'GET',
                 list_path(resource, f'limit=1000&q={quote(LITERALS[0])}'),
                 expect=SEARCH, resource=resource),
        ]
    cases += [
        Case('sql', f'jobs list: all_projects={literal}', 'GET',
             list_path('jobs', f'all_projects={quote(literal)}'))
        for literal in LITERALS]
    cases += [
        Case('sql', 'actions list: limit twice, the last not a number',
             'GET', list_path('actions', 'limit=1000&limit=1%20OR%201=1')),
        Case('sql', 'actions list: limit=1e3', 'GET',
             list_path('actions', 'limit=1e3')),
        Case('sql', 'actions list: limit=-1', 'GET',
             list_path('actions', 'limit=-1')),
        Case('sql', 'actions list: limit=0x10', 'GET',
             list_path('actions', 'limit=0x10')),
        Case('sql', 'actions list: limit=fullwidth 1', 'GET',
             list_path('actions', 'limit=%EF%BC%91')),
        Case('sql', 'actions list: offset past any table', 'GET',
             list_path('actions', 'limit=1000&offset=' + '9' * 30),
             expect=SEARCH, resource='actions',
             terms=(('nothing', None, None),)),
        Case('sql', 'actions list: limit of 3000 digits', 'GET',
             list_path('actions', 'limit=' + '9' * 3000),
             expect=SEARCH, resource='actions'),
    ]
    return cases


def search_shape_cases():
    # Bodies that are not objects are among the encodings (body_cases).
    shapes = (
        ('match a string', b'{"match": "x"}'),
        ('match [1]', b'{"match": [1]}'),
        ('match ["x"]', b'{"match": ["x"]}'),
        ('match [[]]', b'{"match": [[]]}'),
        ('match an object', b'{"match": {}}'),
        ('match_not an object', b'{"match_not": {}}'),
        ('match_not a string', b'{"match_not": "x"}'),
        ('_all a number', b'{"match": [{"_all": 1}]}'),
        ('_all null', b'{"match": [{"_all": null}]}'),
        ('_all an object', b'{"match": [{"_all": {"a": 1}}]}'),
        ('_all free text of 1001 characters',
         json_bytes({'match': [{'_all': 'x' * 1001}]})),
        ('_all nested past the depth limit',
         json_bytes({'match': [{'_all': '[' * 150 + ']' * 150}]})),
        ('_all 10000 deep', json_bytes({'match': [{'_all': '[' * DEEP}]})),
        ('an unknown key', b'{"search": []}'),
        ('match and an unknown key', b'{"match": [], "extra": 1}'),
        ('65 terms', json_bytes({'match': [{'k': 0}] * 65})),
        ('a term of 65 keys',
         json_bytes({'match': [{'k%d' % i: 0 for i in range(65)}]})),
    )
    return [Case('search shape', f'{resource} search: {name}', 'GET',
                 list_path(resource), body)
            for resource in RESOURCES for name, body in shapes]

"""Documents the jobs, sessions and RBAC tests build on: clients, jobs
and sessions created through the API."""

import copy
import json
import os
import uuid

from freezer_api.api.schemas.v2 import common
from freezer_api.tests.unit.api import base

ALL_CAPABILITIES = {
    'supported_actions': common.SUPPORTED_ACTIONS,
    'supported_modes': common.SUPPORTED_MODES,
    'supported_storages': common.SUPPORTED_STORAGES,
    'supported_engines': common.SUPPORTED_ENGINES,
}

FS_BACKUP = {
    'freezer_action': {
        'action': 'backup',
        'mode': 'fs',
        'backup_name': 'etc-backup',
        'container': 'freezer_etc',
        'path_to_backup': '/etc',
        'storage': 'local',
        'engine_name': 'tar',
    },
    'max_retries': 3,
    'max_retries_interval': 10,
}

MYSQL_BACKUP = {
    'freezer_action': {
        'action': 'backup',
        'mode': 'mysql',
        'backup_name': 'db-backup',
        'container': 'freezer_db',
        'mysql_conf': '/root/.my.cnf',
        'storage': 'swift',
    },
}


def _recorded_patches():
    with open(os.path.join(os.path.dirname(__file__),
                           'scheduler_patches.json')) as f:
        return json.load(f)


# Every distinct body freezer-scheduler 19.0.0 PATCHed on a job in a
# recorded run (backups, restores, a session, a failure, an interval job,
# stop and abort), one list per job, in the order sent.
SCHEDULER_PATCHES = _recorded_patches()


def url(resource, project_id=base.PROJECT_A, *ids):
    return '/'.join(['/v2', project_id, resource] + list(ids))


def assert_trailing_slashes_work(test, resource, body):
    """Create, show and list ``resource`` (of project a) through URLs
    that end with a slash."""
    collection = url(resource)
    id_key = resource[:-1] + '_id'
    response = test.post(collection + '/', body)
    test.assertEqual(201, response.status_int, response.text)
    doc_id = response.json[id_key]
    test.assertEqual(200, test.get('%s/%s/' % (collection, doc_id))
                     .status_int)
    test.assertEqual([doc_id], [doc[id_key] for doc in test.get(
        collection + '/').json[resource]])


def assert_other_project_deletes_nothing(test, resource, doc_id):
    """A DELETE of project a's ``doc_id`` through project b's URL is
    answered 204, as for any absent document, and deletes nothing."""
    item = url(resource, base.PROJECT_A, doc_id)
    before = test.get(item).json
    response = test.delete(url(resource, base.PROJECT_B, doc_id),
                           headers=base.MEMBER_B)
    test.assertEqual(204, response.status_int)
    test.assertEqual(before, test.get(item).json)


def headers_for(project_id):
    """A member of ``project_id`` (the base personas for a and b)."""
    if project_id == base.PROJECT_A:
        return base.MEMBER_A
    if project_id == base.PROJECT_B:
        return base.MEMBER_B
    return {'X-User-Id': 'user-%s' % project_id, 'X-Project-Id': project_id,
            'X-Roles': 'member,reader'}


def client_body(client_id, is_central=False, **capabilities):
    body = {'client_id': client_id, 'hostname': client_id,
            'description': 'the scheduler of %s' % client_id,
            'uuid': uuid.uuid4().hex, 'is_central': is_central}
    body.update(copy.deepcopy(ALL_CAPABILITIES))
    body.update(capabilities)
    return body


def add_client(test, client_id='node1', project_id=base.PROJECT_A,
               is_central=False, **capabilities):
    """Register a client of ``project_id`` as freezer-scheduler does
    (POST /v2/{p}/clients); a central one is registered by an admin."""
    headers = base.ADMIN if is_central else headers_for(project_id)
    body = client_body(client_id, is_central, **capabilities)
    response = test.post(url('clients', project_id), body, headers=headers)
    test.assertEqual(201, response.status_int, response.text)
    test.assertEqual(client_id, response.json['client_id'])
    return client_id


def job_body(client_id='node1', job_actions=None, **fields):
    body = {
        'client_id': client_id,
        'description': 'etc every day',
        'job_schedule': {'schedule_interval': '1 days'},
        'job_actions': copy.deepcopy(
            [FS_BACKUP] if job_actions is None else job_actions),
    }
    body.update(copy.deepcopy(fields))
    return body


def create_job(test, body=None, project_id=base.PROJECT_A, headers=None):
    response = test.post(url('jobs', project_id), body or job_body(),
                         headers=headers or headers_for(project_id))
    test.assertEqual(201, response.status_int, response.text)
    return response.json['job_id']


def get_job(test, job_id, project_id=base.PROJECT_A, headers=None):
    response = test.get(url('jobs', project_id, job_id),
                        headers=headers or headers_for(project_id))
    test.assertEqual(200, response.status_int, response.text)
    return response.json


def create_session(test, body=None, project_id=base.PROJECT_A,
                   headers=None):
    response = test.post(url('sessions', project_id),
                         body or {'schedule': {'schedule_interval':
                                               '2 hours'}},
                         headers=headers or headers_for(project_id))
    test.assertEqual(201, response.status_int, response.text)
    return response.json['session_id']


def add_to_session(test, session_id, job_id, project_id=base.PROJECT_A,
                   headers=None):
    response = test.request(
        'PUT', url('sessions', project_id, session_id, 'jobs', job_id),
        headers=headers or headers_for(project_id))
    test.assertEqual(204, response.status_int, response.text)

"""The measured scenarios, the same for the three servers.

The data set is :mod:`dataset`'s. Every scenario is in the measured
project ``dataset.PROJECTS[0]``, as a ``member``, and names documents by
the ids the seeders gave them (:func:`dataset.doc_id`), chosen by a random
generator seeded with the scenario, the size and the measurement, so that
every server gets the same sequence.

Reads come first, then the writes; PATCH job_schedule only touches jobs
that are not completed (the poll keeps returning the same jobs), POST job
posts completed jobs, and DELETE deletes the actions seeded for it, each
request a different one (:class:`Scenario` ``start``).
"""

import dataclasses
import json
import random

import dataset
import loadgen

P = dataset.PROJECTS[0]
# List requests page through the first LIST_WINDOW documents: an OFFSET
# costs a step per skipped row on every server (the floor too), so a
# window that grew with the project would measure deeper pages, not a
# bigger project.
LIST_WINDOW = 1000


def headers(project=P):
    """What keystonemiddleware would pass on for a project member; our
    noauth mode reads the same X-Project-Id, X-User-Id and X-Roles."""
    return {
        'Accept': 'application/json',
        'Content-Type': 'application/json',
        'X-Identity-Status': 'Confirmed',
        'X-Project-Id': project,
        'X-User-Id': dataset.USER,
        'X-Roles': 'member,reader',
    }


def _dump(doc):
    return json.dumps(doc).encode()


def _get_action(size, rng, i):
    return loadgen.Request('GET', '/v2/%s/actions/%s' % (
        P, dataset.action_id(P, rng.randrange(size))))


def _list_actions(size, rng, i):
    return loadgen.Request('GET', '/v2/%s/actions?limit=10&offset=%d' % (
        P, rng.randrange(min(size, LIST_WINDOW) - 10)))


def _search_actions(size, rng, i):
    name = dataset.backup_name(10 * rng.randrange(size // 10))
    return loadgen.Request(
        'GET', '/v2/%s/actions?limit=10&offset=0' % P,
        _dump({'match': [{'backup_name': name}]}))


def poll_request(project, client):
    """freezer-scheduler's poll, exactly as it sends it (trailing slash,
    all_projects, a JSON body on GET)."""
    return loadgen.Request(
        'GET', '/v2/%s/jobs/?limit=10&offset=0&all_projects=False' % project,
        _dump({'match_not': [{'status': 'completed'}],
               'match': [{'client_id': client}]}))


def _scheduler_poll(size, rng, i):
    return poll_request(P, dataset.client_id(
        P, rng.randrange(dataset.counts(size)['clients'])))


def _get_job(size, rng, i):
    return loadgen.Request('GET', '/v2/%s/jobs/%s' % (
        P, dataset.job_id(P, rng.randrange(dataset.counts(size)['jobs']))))


def _patch_action(size, rng, i):
    return loadgen.Request(
        'PATCH', '/v2/%s/actions/%s' % (
            P, dataset.action_id(P, rng.randrange(size))),
        _dump({'max_retries': 1 + i % 5,
               'freezer_action': {'max_level': 3 + i % 4}}))


def schedule_patch(schedule, **changes):
    """The scheduler's status report: its whole local job_schedule."""
    return _dump({'job_schedule': dict(schedule, **changes),
                  'session_id': '', 'session_tag': 0})


def _patch_job(size, rng, i):
    jobs = dataset.counts(size)['jobs']
    j = rng.randrange(1, jobs, 2)  # odd: not completed
    schedule = dataset.created_schedule(dataset.job_schedule(j))
    return loadgen.Request(
        'PATCH', '/v2/%s/jobs/%s' % (P, dataset.job_id(P, j)),
        schedule_patch(schedule, time_started=dataset.TIME0 + 1000 + i,
                       status='running' if i % 2 else 'scheduled',
                       result='', current_pid=10000 + i))


def _post_action(size, rng, i):
    return loadgen.Request('POST', '/v2/%s/actions' % P, _dump(
        dataset.action_doc(2 * size + rng.randrange(10 * size))))


def _post_job(size, rng, i):
    # A completed job (even number) of an existing client.
    clients = dataset.counts(size)['clients']
    j = 10 * rng.randrange(clients) + 2 * rng.randrange(5)
    return loadgen.Request('POST', '/v2/%s/jobs' % P,
                           _dump(dataset.job_doc(P, j)))


def _post_backup(size, rng, i):
    jobs = dataset.counts(size)['jobs']
    return loadgen.Request('POST', '/v2/%s/backups' % P, _dump(
        dataset.backup_doc(size + rng.randrange(10 * size),
                           dataset.job_id(P, rng.randrange(jobs)))))


def _delete_action(size, rng, i):
    return loadgen.Request('DELETE', '/v2/%s/actions/%s' % (
        P, dataset.deletable_id(P, size, i)))


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    expected_status: int
    make: object
    read: bool = True
    short: str = ''

    def requests(self, size, count, seed, start=0):
        """``count`` requests; ``start`` numbers the first one (a DELETE
        deletes pool action number ``start + i``)."""
        rng = random.Random('%s/%d/%s' % (self.name, size, seed))
        return [self.make(size, rng, start + i) for i in range(count)]


SCENARIOS = (
    Scenario('get_action', 'GET one action', 200, _get_action,
             short='GET action'),
    Scenario('list_actions', 'list 10 actions', 200, _list_actions,
             short='list 10'),
    Scenario('search_actions', 'search actions (backup_name)', 200,
             _search_actions, short='search'),
    Scenario('scheduler_poll', 'scheduler poll (GET /jobs + search)', 200,
             _scheduler_poll, short='scheduler poll'),
    Scenario('get_job', 'GET one job', 200, _get_job, short='GET job'),
    Scenario('patch_action', 'PATCH action', 200, _patch_action,
             read=False, short='PATCH action'),
    Scenario('patch_job', 'PATCH job_schedule (scheduler)', 200,
             _patch_job, read=False, short='PATCH job'),
    Scenario('post_action', 'POST action', 201, _post_action, read=False,
             short='POST action'),
    Scenario('post_job', 'POST job (2 actions)', 201, _post_job,
             read=False, short='POST job'),
    Scenario('post_backup', 'POST backup', 201, _post_backup, read=False,
             short='POST backup'),
    Scenario('delete_action', 'DELETE action', 204, _delete_action,
             read=False, short='DELETE action'),
)

BY_NAME = {s.name: s for s in SCENARIOS}

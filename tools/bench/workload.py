"""The data set and the measured scenarios, the same for both servers.

Data, created through each server's HTTP API, in each of two projects:

* ``CLIENTS`` clients (freezer-scheduler registrations);
* ``ACTIONS`` stand-alone backup actions; every backup name is shared by
  ``ACTIONS // BACKUP_NAMES`` of them;
* ``JOBS`` jobs with two actions each (a backup and a restore), spread
  evenly over the clients; every second job is ``completed``, the others
  ``scheduled``;
* ``BACKUPS`` backups (the document freezer-agent posts).

Project ``PROJECTS[0]`` is the one measured; the second one makes the
project scoping real. Requests are made as a ``member`` of the project.

A scenario builds its request list from the ids a server returned while
seeding, choosing them with a random generator seeded by the scenario name
and repetition number, so that both servers get the same sequence.
"""

import concurrent.futures
import dataclasses
import json
import random
import threading
import time

import loadgen
import requests

PROJECTS = ('bench-project-1', 'bench-project-2')
USER = 'bench-user'
CLIENTS = 5
ACTIONS = 1000
BACKUP_NAMES = 100
JOBS = 250
BACKUPS = 500
TIME0 = 1790000000


def headers(project=PROJECTS[0]):
    """What keystonemiddleware would pass on for a project member; our
    noauth mode reads the same X-Project-Id, X-User-Id and X-Roles."""
    return {
        'Accept': 'application/json',
        'Content-Type': 'application/json',
        'X-Identity-Status': 'Confirmed',
        'X-Project-Id': project,
        'X-User-Id': USER,
        'X-Roles': 'member,reader',
    }


def _dump(doc):
    return json.dumps(doc).encode()


def client_doc(project, i):
    return {
        'client_id': '%s-host-%d' % (project, i),
        'hostname': 'host-%d' % i,
        'description': 'benchmark host %d' % i,
        'supported_actions': ['backup', 'restore', 'info', 'admin', 'exec'],
        'supported_modes': ['fs', 'mongo', 'mysql', 'sqlserver', 'cinder',
                            'glance', 'cindernative', 'nova'],
        'supported_storages': ['local', 'swift', 'ssh', 's3'],
        'supported_engines': ['tar', 'rsync', 'rsyncv2', 'nova', 'osbrick',
                              'glance'],
        'is_central': False,
    }


def action_doc(i):
    return {
        'freezer_action': {
            'action': 'backup',
            'mode': 'fs',
            'backup_name': 'bk-%03d' % (i % BACKUP_NAMES),
            'path_to_backup': '/srv/data/%d' % i,
            'container': '/srv/backups/%d' % (i % 7),
            'storage': 'local',
            'engine_name': 'tar',
            'compression': 'gzip',
            'max_level': 7,
        },
        'max_retries': 3,
        'max_retries_interval': 10,
    }


def job_doc(project, j):
    return {
        'client_id': '%s-host-%d' % (project, j % CLIENTS),
        'description': 'benchmark job %d' % j,
        'job_schedule': {
            'schedule_interval': '1 days',
            'time_created': TIME0,
            'time_started': TIME0 + j,
            'time_ended': TIME0 + j + 60,
            'status': 'completed' if j % 2 == 0 else 'scheduled',
            'result': 'success' if j % 2 == 0 else '',
            'event': '',
        },
        'job_actions': [
            {'freezer_action': {
                'action': 'backup', 'mode': 'fs',
                'backup_name': 'job-%d' % j,
                'path_to_backup': '/srv/job/%d' % j,
                'container': '/srv/backups/job', 'storage': 'local'},
             'max_retries': 2, 'max_retries_interval': 30},
            {'freezer_action': {
                'action': 'restore', 'mode': 'fs',
                'backup_name': 'job-%d' % j,
                'restore_abs_path': '/srv/restore/%d' % j,
                'container': '/srv/backups/job', 'storage': 'local'},
             'max_retries': 1, 'max_retries_interval': 5},
        ],
    }


def backup_doc(project, i, job_id=''):
    """The document freezer-agent posts after a backup."""
    return {
        'curr_backup_level': i % 4, 'fs_real_path': '/srv/data/%d' % i,
        'vol_snap_path': '/srv/data/%d' % i, 'client_os': 'linux',
        'client_version': '19.0.0', 'time_stamp': TIME0 + i,
        'action': 'backup', 'always_level': '', 'backup_media': 'fs',
        'backup_name': 'bk-%03d' % (i % BACKUP_NAMES),
        'container': '/srv/backups/%d' % (i % 7), 'container_segments': '',
        'dry_run': '', 'hostname': 'host-%d' % (i % CLIENTS),
        'path_to_backup': '/srv/data/%d' % i, 'max_level': '',
        'log_file': '/var/log/freezer/freezer.log', 'storage': 'local',
        'mode': 'fs', 'proxy': '', 'compression': 'gzip',
        'ssh_key': '/root/.ssh/id_rsa', 'ssh_username': '', 'ssh_host': '',
        'ssh_port': 22, 'consistency_checksum': '',
        'cindernative_backup_az': '',
        'cindernative_backup_container': 'freezer_backups',
        'cindernative_vol_id': '', 'nova_inst_id': '', 'cinder_vol_id': '',
        'cinderbrick_vol_id': '', 'glance_image_id': '',
        'engine_name': 'tar', 'job_id': job_id,
    }


# --- seeding -----------------------------------------------------------------

@dataclasses.dataclass
class Seeded:
    """Ids a server returned, in creation order, per project."""

    clients: dict = dataclasses.field(default_factory=dict)
    actions: dict = dataclasses.field(default_factory=dict)
    jobs: dict = dataclasses.field(default_factory=dict)
    backups: dict = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    retries: int = 0
    lock: object = dataclasses.field(default_factory=threading.Lock)


def _post_all(url, project, collection, docs, id_key, workers, seeded):
    """POST every document; retry a failed POST (the reference answers
    500 "database is locked" when concurrent SQLite writers collide)."""
    local = threading.local()
    rng = random.Random(collection)

    def post(doc):
        if not hasattr(local, 'session'):
            local.session = requests.Session()
            local.session.headers.update(headers(project))
        detail = ''
        for _attempt in range(30):
            try:
                resp = local.session.post(
                    '%s/v2/%s/%s' % (url, project, collection),
                    data=_dump(doc), timeout=120)
                if resp.status_code == 201:
                    return resp.json()[id_key]
                detail = '%s %s' % (resp.status_code, resp.text[:300])
            except requests.RequestException as exc:
                detail = repr(exc)
            with seeded.lock:
                seeded.retries += 1
            time.sleep(0.05 + 0.25 * rng.random())
        raise RuntimeError('seeding %s failed: %s' % (collection, detail))

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(post, docs))


def seed(url, workers=4):
    """Create the data set through the API at ``url``."""
    t0 = time.perf_counter()
    seeded = Seeded()

    def post_all(project, collection, docs, id_key):
        return _post_all(url, project, collection, docs, id_key, workers,
                         seeded)

    for project in PROJECTS:
        seeded.clients[project] = post_all(
            project, 'clients',
            [client_doc(project, i) for i in range(CLIENTS)], 'client_id')
        seeded.actions[project] = post_all(
            project, 'actions',
            [action_doc(i) for i in range(ACTIONS)], 'action_id')
        seeded.jobs[project] = post_all(
            project, 'jobs',
            [job_doc(project, j) for j in range(JOBS)], 'job_id')
        seeded.backups[project] = post_all(
            project, 'backups',
            [backup_doc(project, i, seeded.jobs[project][i % JOBS])
             for i in range(BACKUPS)], 'backup_id')
    seeded.seconds = time.perf_counter() - t0
    return seeded


# --- scenarios ---------------------------------------------------------------

P = PROJECTS[0]


def _get_action(ids, rng, i):
    return loadgen.Request(
        'GET', '/v2/%s/actions/%s' % (P, rng.choice(ids.actions[P])))


def _list_actions(ids, rng, i):
    return loadgen.Request(
        'GET', '/v2/%s/actions?limit=10&offset=%d'
        % (P, rng.randrange(ACTIONS - 10)))


def _search_actions(ids, rng, i):
    name = 'bk-%03d' % rng.randrange(BACKUP_NAMES)
    return loadgen.Request(
        'GET', '/v2/%s/actions?limit=10&offset=0' % P,
        _dump({'match': [{'backup_name': name}]}))


def _scheduler_poll(ids, rng, i):
    # freezer-scheduler's poll, exactly as it sends it (trailing slash too).
    return loadgen.Request(
        'GET', '/v2/%s/jobs/?limit=10&offset=0&all_projects=False' % P,
        _dump({'match': [{'client_id': rng.choice(ids.clients[P])}],
               'match_not': [{'status': 'completed'}]}))


def _patch_job(ids, rng, i):
    # The scheduler's status report. Only jobs that are not completed, so
    # the set of jobs the poll returns stays the same.
    j = rng.randrange(1, JOBS, 2)
    return loadgen.Request(
        'PATCH', '/v2/%s/jobs/%s' % (P, ids.jobs[P][j]),
        _dump({'job_schedule': {
                  'time_created': TIME0, 'time_started': TIME0 + 1000 + i,
                  'time_ended': -1, 'event': '',
                  'status': 'running' if i % 2 else 'scheduled',
                  'result': '', 'current_pid': 10000 + i},
               'session_id': '', 'session_tag': 0}))


def _post_action(ids, rng, i):
    return loadgen.Request(
        'POST', '/v2/%s/actions' % P,
        _dump(action_doc(ACTIONS + rng.randrange(10 * ACTIONS))))


def _post_backup(ids, rng, i):
    return loadgen.Request(
        'POST', '/v2/%s/backups' % P,
        _dump(backup_doc(P, BACKUPS + rng.randrange(10 * BACKUPS),
                         rng.choice(ids.jobs[P]))))


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    expected_status: int
    make: object

    def requests(self, ids, count, seed):
        rng = random.Random('%s/%s' % (self.name, seed))
        return [self.make(ids, rng, i) for i in range(count)]


SCENARIOS = (
    Scenario('get_action', 'GET one action', 200, _get_action),
    Scenario('list_actions', 'list 10 actions', 200, _list_actions),
    Scenario('search_actions', 'search actions (backup_name)', 200,
             _search_actions),
    Scenario('scheduler_poll', 'scheduler poll (GET /jobs + search)', 200,
             _scheduler_poll),
    Scenario('patch_job', 'PATCH job_schedule', 200, _patch_job),
    Scenario('post_action', 'POST action', 201, _post_action),
    Scenario('post_backup', 'POST backup', 201, _post_backup),
)

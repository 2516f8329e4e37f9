"""The data set of the benchmark, the same for the three servers.

Standard library only: the seeders import it in three different Python
environments (ours, the reference's virtualenv, the floor's stdlib).

A *size* N is the number of stand-alone actions in the measured project
``PROJECTS[0]``; the rest grows with it:

* ``N // 100`` clients (freezer-scheduler registrations);
* ``N`` actions; action ``i`` has backup name ``bk-{i // 10}``, so that
  every backup name is shared by exactly 10 actions at any size (a search
  by name returns one full page, wherever it is in the project);
* ``N // 10`` jobs of 2 inline actions each (a backup and a restore, so
  ``N // 5`` more actions), job ``j`` belonging to client ``j // 10``:
  10 jobs per client, every second one ``completed`` (the scheduler's poll
  of a client finds its 5 other ones, fewer than a page);
* ``N // 10`` backups (the document freezer-agent posts);
* ``DELETE_POOL`` more actions per size, named ``del-...``, for the DELETE
  scenario to delete one existing action per request.

The second project ``PROJECTS[1]`` (which makes the project scoping real)
always has the documents of size ``SECOND_SIZE``.

Ids are derived from (kind, project, number), so that every seeder stores
the same ids and the scenarios can name documents without asking the
servers. Sizes are seeded in increasing order, each adding only the
documents the previous size did not have (:func:`ranges`).
"""

import hashlib

PROJECTS = ('bench-project-1', 'bench-project-2')
USER = 'bench-user'
SECOND_SIZE = 1000
TIME0 = 1790000000
# Sizes must be multiples of this (clients are N // 100).
SIZE_UNIT = 100


def doc_id(kind, project, number):
    """A stable 32-hex id (the shape of the uuid4 hex the servers make)."""
    return hashlib.md5(('%s/%s/%s' % (kind, project, number)).encode(),
                       usedforsecurity=False).hexdigest()


def counts(size):
    """How many documents of each kind a project of ``size`` has."""
    return {'clients': size // 100, 'actions': size, 'jobs': size // 10,
            'backups': size // 10}


def ranges(start, stop):
    """{kind: range of numbers} that growing a project from size
    ``start`` to ``stop`` adds."""
    lo, hi = counts(start), counts(stop)
    return {kind: range(lo[kind], hi[kind]) for kind in hi}


# --- documents as clients post them --------------------------------------

def client_id(project, i):
    return '%s-host-%d' % (project, i)


def client_doc(project, i):
    """The registration freezer-scheduler posts at start-up."""
    return {
        'client_id': client_id(project, i),
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


def backup_name(i):
    return 'bk-%06d' % (i // 10)


def action_doc(i, name=None):
    return {
        'freezer_action': {
            'action': 'backup',
            'mode': 'fs',
            'backup_name': name or backup_name(i),
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


def action_id(project, i):
    return doc_id('action', project, i)


def deletable_id(project, size, k):
    return doc_id('deletable-%d' % size, project, k)


def deletable_doc(size, k):
    return action_doc(k, name='del-%d-%06d' % (size, k))


def job_client(j):
    return j // 10


def job_active(j):
    """Whether job ``j`` is not completed (the poll returns it)."""
    return j % 2 == 1


def job_schedule(j):
    """As posted; a POST adds the times of :func:`created_schedule`."""
    return {
        'schedule_interval': '1 days',
        'status': 'scheduled' if job_active(j) else 'completed',
        'result': '' if job_active(j) else 'success',
        'event': '',
    }


def created_schedule(schedule, now=TIME0):
    """The schedule a POST /jobs stores (both servers add these times)."""
    return dict(schedule, time_created=now, time_started=-1, time_ended=-1)


def job_doc(project, j, with_ids=False):
    """A job of two inline actions; ``with_ids``: the actions carry the
    ids the seeders give them (a client posting a job gives none)."""
    doc = {
        'client_id': client_id(project, job_client(j)),
        'description': 'benchmark job %d' % j,
        'job_schedule': job_schedule(j),
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
    if with_ids:
        for k, entry in enumerate(doc['job_actions']):
            entry['action_id'] = doc_id('job-action-%d' % k, project, j)
    return doc


def job_id(project, j):
    return doc_id('job', project, j)


def backup_doc(i, job=''):
    """The document freezer-agent posts after a backup (35 keys and the
    job id the scheduler adds)."""
    return {
        'curr_backup_level': i % 4, 'fs_real_path': '/srv/data/%d' % i,
        'vol_snap_path': '/srv/data/%d' % i, 'client_os': 'linux',
        'client_version': '19.0.0', 'time_stamp': TIME0 + i,
        'action': 'backup', 'always_level': '', 'backup_media': 'fs',
        'backup_name': backup_name(i),
        'container': '/srv/backups/%d' % (i % 7), 'container_segments': '',
        'dry_run': '', 'hostname': 'host-%d' % (i % 97),
        'path_to_backup': '/srv/data/%d' % i, 'max_level': '',
        'log_file': '/var/log/freezer/freezer.log', 'storage': 'local',
        'mode': 'fs', 'proxy': '', 'compression': 'gzip',
        'ssh_key': '/root/.ssh/id_rsa', 'ssh_username': '', 'ssh_host': '',
        'ssh_port': 22, 'consistency_checksum': '',
        'cindernative_backup_az': '',
        'cindernative_backup_container': 'freezer_backups',
        'cindernative_vol_id': '', 'nova_inst_id': '', 'cinder_vol_id': '',
        'cinderbrick_vol_id': '', 'glance_image_id': '',
        'engine_name': 'tar', 'job_id': job,
    }


def backup_id(project, i):
    return doc_id('backup', project, i)


# --- what a seeder is asked to add ---------------------------------------

def plan(start, stop, pool):
    """The documents to add to grow the data set from size ``start`` (0:
    empty) to ``stop``, per project, as (kind, project, number, id,
    document) in creation order: clients first (jobs name them), then
    actions, jobs, backups and the DELETE pool of size ``stop``."""
    todo = []
    projects = [(PROJECTS[0], start, stop)]
    if start == 0:
        projects.append((PROJECTS[1], 0, SECOND_SIZE))
    for project, lo, hi in projects:
        grow = ranges(lo, hi)
        todo += [('client', project, i, client_id(project, i),
                  client_doc(project, i)) for i in grow['clients']]
        todo += [('action', project, i, action_id(project, i),
                  action_doc(i)) for i in grow['actions']]
        todo += [('job', project, j, job_id(project, j),
                  job_doc(project, j, with_ids=True)) for j in grow['jobs']]
        todo += [('backup', project, i, backup_id(project, i),
                  backup_doc(i, job_id(project, i)))
                 for i in grow['backups']]
    todo += [('action', PROJECTS[0], k, deletable_id(PROJECTS[0], stop, k),
              deletable_doc(stop, k)) for k in range(pool)]
    return todo


# --- the PostgreSQL scheduler simulation ---------------------------------

SIM_PROJECT = 'sim-project'
SIM_JOBS = 3  # per client: 2 recurring (active) and 1 completed
SIM_BACKUPS = 2  # per client, history


def sim_job_active(k):
    return k < 2


def sim_job_number(client, k):
    return SIM_JOBS * client + k


def sim_schedule(k, interval):
    """Job ``k`` of a client: recurring every ``interval`` s (``k`` 0 and
    1), or a one-off that completed."""
    if sim_job_active(k):
        return {'schedule_interval': '%d seconds' % interval,
                'status': 'scheduled', 'result': 'success', 'event': ''}
    return {'status': 'completed', 'result': 'success', 'event': ''}


def sim_job_doc(client, k, interval):
    j = sim_job_number(client, k)
    doc = job_doc(SIM_PROJECT, j, with_ids=True)
    doc['client_id'] = client_id(SIM_PROJECT, client)
    doc['job_actions'] = doc['job_actions'][:1]  # one backup action
    doc['job_schedule'] = sim_schedule(k, interval)
    return doc


def sim_plan(clients, interval):
    """The simulation's documents: ``clients`` registered schedulers,
    SIM_JOBS jobs each and SIM_BACKUPS backups each, in one project."""
    p = SIM_PROJECT
    todo = [('client', p, c, client_id(p, c), client_doc(p, c))
            for c in range(clients)]
    todo += [('job', p, sim_job_number(c, k),
              job_id(p, sim_job_number(c, k)), sim_job_doc(c, k, interval))
             for c in range(clients) for k in range(SIM_JOBS)]
    todo += [('backup', p, i, backup_id(p, i),
              backup_doc(i, job_id(p, sim_job_number(i // SIM_BACKUPS, 0))))
             for i in range(clients * SIM_BACKUPS)]
    return todo


# --- shared by the two seeders ------------------------------------------------

def column_value(obj, column):
    """What an INSERT of the SQLAlchemy model object ``obj`` stores in
    ``column``: its value, else the column's Python-side default."""
    value = getattr(obj, column.key)
    default = column.default
    if value is None and default is not None and default.is_scalar:
        return default.arg
    if value is None and default is not None and default.is_callable:
        return default.arg(None)
    return value

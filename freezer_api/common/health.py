"""The health of a job and the liveness of a client, from what the service
knows: the job's schedule, its last runs and when its client last polled.

Job states, the first that holds:

* ``stopped``: a stop was asked for (``event: stop``) or the scheduler
  reports the job stopped (``status: stop``);
* ``running-too-long``: its open run started more than ``run_timeout``
  seconds ago and its client still polls;
* ``failing``: its last run failed, was aborted, or is lost (below);
* ``overdue``: by its schedule a run was due more than ``grace`` seconds
  ago, and none has started since;
* ``never-run``: it has no run yet (and none is overdue);
* ``ok`` otherwise.

Client states: ``online`` when it polled within ``client_timeout``
seconds, ``stale`` within three times that, ``offline`` otherwise (or
when it never polled). A run still open whose client has not polled for
``run_timeout`` seconds (since the later of its start and that client's
last poll) is ``lost``.
"""

import dataclasses
import datetime
import typing
import zoneinfo

from oslo_config import cfg

from freezer_api.common import schedule as schedules
from freezer_api.common.types import Document

OK = 'ok'
FAILING = 'failing'
OVERDUE = 'overdue'
RUNNING_TOO_LONG = 'running-too-long'
NEVER_RUN = 'never-run'
STOPPED = 'stopped'
JOB_STATES = (OK, FAILING, OVERDUE, RUNNING_TOO_LONG, NEVER_RUN, STOPPED)

ONLINE = 'online'
STALE = 'stale'
OFFLINE = 'offline'
CLIENT_STATES = (ONLINE, STALE, OFFLINE)

# A run's status when it is read: the two it is stored with, and lost.
RUNNING = 'running'
ENDED = 'ended'
LOST = 'lost'

# Results of a run that went wrong.
FAILED_RESULTS = ('fail', 'aborted')

# How many client_timeouts a client is stale before it is offline.
STALE_FACTOR = 3

_UTC = datetime.timezone.utc


@dataclasses.dataclass(frozen=True)
class Limits:
    """The ``[history]`` options health is judged by."""

    grace: int
    client_timeout: int
    run_timeout: int
    timezone: datetime.tzinfo

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> 'Limits':
        history = conf.history
        return cls(grace=history.grace,
                   client_timeout=history.client_timeout,
                   run_timeout=history.run_timeout,
                   timezone=_timezone(history.scheduler_timezone))


def _timezone(name: str) -> datetime.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise cfg.Error('[history] scheduler_timezone: unknown time zone '
                        '%r' % name) from None


def client_state(last_seen: int | None, now: int, limits: Limits) -> str:
    if last_seen is None:
        return OFFLINE
    quiet = now - last_seen
    if quiet <= limits.client_timeout:
        return ONLINE
    if quiet <= STALE_FACTOR * limits.client_timeout:
        return STALE
    return OFFLINE


def run_status(status: str, time_started: int, client_seen: int | None,
               now: int, limits: Limits) -> str:
    """A stored run status as it reads now: a running run is lost when its
    client has not polled for ``run_timeout`` seconds since it started."""
    if status != RUNNING:
        return status
    quiet_since = max(time_started, client_seen or 0)
    return LOST if now - quiet_since > limits.run_timeout else RUNNING


@dataclasses.dataclass(frozen=True)
class JobFacts:
    """What the database knows of one job's runs and client.

    :ivar last_run: its newest run (a run document, its status as read),
        or None.
    :ivar last_success: when its last successful run ended, or None.
    :ivar consecutive_failures: its failed or aborted runs since its last
        success.
    :ivar client_seen: when its client last polled, or None.
    :ivar armed_at: when the scheduler armed it again (a start after a
        stop or after its one run, a changed schedule), or None: since
        its creation.
    """

    job: Document
    last_run: Document | None
    last_success: int | None
    consecutive_failures: int
    client_seen: int | None
    armed_at: int | None = None


def _moment(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, _UTC)


def next_due(job_schedule: Document, last_started: int | None, now: int,
             limits: Limits, armed_at: int | None = None) -> int | None:
    """When the job's next run is due (seconds since the epoch), or None
    when none is: a completed job is forgotten by the scheduler until it
    is started again.

    :param armed_at: when the scheduler armed the job again (a start, a
        changed schedule; a run started before does not count), or None:
        when it was created (``time_created``).
    """
    if job_schedule.get('status') == 'completed':
        return None
    if armed_at is None:
        created = job_schedule.get('time_created')
        armed_at = (created if isinstance(created, int) and created > 0
                    else now)
    elif last_started is not None and last_started < armed_at:
        last_started = None
    due = schedules.next_due(
        job_schedule, _moment(armed_at),
        None if last_started is None else _moment(last_started),
        limits.timezone)
    return None if due is None else int(due.timestamp())


def _state(facts: JobFacts, due: int | None, now: int,
           limits: Limits) -> str:
    job_schedule = facts.job['job_schedule']
    last = facts.last_run
    if job_schedule.get('event') == 'stop' or \
            job_schedule.get('status') == 'stop':
        return STOPPED
    if last is not None and last['status'] == RUNNING and \
            now - last['time_started'] > limits.run_timeout:
        return RUNNING_TOO_LONG
    if last is not None and (last['status'] == LOST or
                             last['result'] in FAILED_RESULTS):
        return FAILING
    running = last is not None and last['status'] == RUNNING
    if due is not None and not running and now > due + limits.grace:
        return OVERDUE
    if last is None:
        return NEVER_RUN
    return OK


def _run_summary(run: Document | None) -> Document | None:
    if run is None:
        return None
    return {key: run[key] for key in ('run_id', 'status', 'result',
                                      'time_started', 'time_ended')}


def job_health(facts: JobFacts, now: int, limits: Limits) -> Document:
    """The health document of one job."""
    job = facts.job
    last = facts.last_run
    due = next_due(job['job_schedule'],
                   None if last is None else last['time_started'], now,
                   limits, facts.armed_at)
    return {
        'job_id': job['job_id'],
        'client_id': job['client_id'],
        'description': job.get('description'),
        'state': _state(facts, due, now, limits),
        'next_due': due,
        'last_run': _run_summary(last),
        'last_success': facts.last_success,
        # A lost run is a failure too, though nothing stored says so.
        'consecutive_failures': facts.consecutive_failures + (
            1 if last is not None and last['status'] == LOST else 0),
        'client_state': client_state(facts.client_seen, now, limits),
    }


def client_health(client: Document, last_seen: int | None, now: int,
                  limits: Limits) -> Document:
    """The liveness document of one client (a client document)."""
    body: dict[str, typing.Any] = client['client']
    return {
        'client_id': body.get('client_id'),
        'hostname': body.get('hostname'),
        'state': client_state(last_seen, now, limits),
        'last_seen': last_seen,
    }

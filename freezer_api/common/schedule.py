"""When a job is due, by freezer-scheduler's own rules.

freezer-scheduler (19.0.0) arms every job it polls with an APScheduler 3
trigger built from the job's ``job_schedule`` (``Job.get_schedule_args``
in ``freezer/scheduler/scheduler_job.py``), in this order:

* ``schedule_date``: one run at that date (a date trigger). A date without
  an offset is read in the scheduler's time zone.
* ``schedule_interval``: ``"continuous"`` (every second) or ``"N unit"``,
  ``unit`` one of weeks, days, hours, minutes, seconds (an interval
  trigger: N units of elapsed time, so an interval of days keeps its
  length, not its wall-clock time, across a daylight-saving change).
  Without a start date the first run is one interval after arming.
* ``schedule_<field>`` for the cron fields year, month, day, week,
  day_of_week, hour, minute, second (a cron trigger, evaluated in the
  scheduler's time zone: wall-clock times, across daylight-saving
  changes too).
* nothing of these: one run 2 seconds after arming.

``schedule_start_date`` and ``schedule_end_date`` bound the interval and
cron triggers. A start date already past when the job is armed means "2
seconds after arming"; an end date before the start date is ignored.
Both are read as UTC when they have no offset.

A schedule the scheduler cannot arm (``"1 day"``, ``"daily"``, a cron
field out of range) never runs: it is not a schedule here either.

The triggers are APScheduler's own, built with the arguments the
scheduler gives them; only "now" is passed in (the time the job was
armed), so the arithmetic is the scheduler's, time zones included.
"""

from collections.abc import Mapping
import datetime
import typing

from apscheduler.triggers import cron
from apscheduler.triggers import date
from apscheduler.triggers import interval
from oslo_utils import timeutils

# An APScheduler trigger (APScheduler 3 has no type information).
Trigger: typing.TypeAlias = typing.Any

CRON_FIELDS = ('year', 'month', 'day', 'week', 'day_of_week', 'hour',
               'minute', 'second')

# The delay of a job armed without a schedule, or with a start date that
# has passed.
ARM_DELAY = datetime.timedelta(seconds=2)

_UTC = datetime.timezone.utc


def _utc_isotime(text: str) -> datetime.datetime:
    """An ISO 8601 date as freezer reads one (oslo.utils, UTC by
    default)."""
    return typing.cast(datetime.datetime, timeutils.parse_isotime(text))


def _bounds(schedule: Mapping[str, typing.Any],
            armed_at: datetime.datetime) -> dict[str, typing.Any]:
    """The start and end dates of an interval or cron trigger."""
    bounds: dict[str, typing.Any] = {}
    start = schedule.get('schedule_start_date')
    if not start:
        return bounds
    start_date = _utc_isotime(start)
    if int(start_date.timestamp()) <= int(armed_at.timestamp()):
        start_date = armed_at + ARM_DELAY
    bounds['start_date'] = start_date
    end = schedule.get('schedule_end_date')
    if end:
        end_date: datetime.datetime | None = _utc_isotime(end)
        if int(_utc_isotime(start).timestamp()) > int(
                typing.cast(datetime.datetime, end_date).timestamp()):
            end_date = None
        bounds['end_date'] = end_date
    return bounds


def _cron_fields(schedule: Mapping[str, typing.Any]) -> dict[str, typing.Any]:
    fields = {}
    for key, value in schedule.items():
        if key.startswith('schedule_'):
            field = key.split('_', 1)[1]
            if field in CRON_FIELDS:
                fields[field] = value
    return fields


def trigger(schedule: Mapping[str, typing.Any],
            armed_at: datetime.datetime,
            timezone: datetime.tzinfo) -> Trigger | None:
    """The trigger freezer-scheduler arms a job of ``schedule`` (its
    ``job_schedule``) with at ``armed_at``, in its ``timezone``; None when
    it cannot arm it.

    :param armed_at: an aware datetime.
    """
    try:
        return _trigger(schedule, armed_at, timezone)
    except (ValueError, TypeError, OverflowError, AttributeError):
        # What the scheduler logs as "Unable to schedule job".
        return None


def _trigger(schedule: Mapping[str, typing.Any],
             armed_at: datetime.datetime,
             timezone: datetime.tzinfo) -> Trigger:
    run_date = schedule.get('schedule_date')
    if run_date:
        return date.DateTrigger(run_date=run_date, timezone=timezone)
    every = schedule.get('schedule_interval')
    if every:
        bounds = _bounds(schedule, armed_at)
        if every == 'continuous':
            length = {'seconds': 1}
        else:
            count, unit = every.split(' ')
            length = {unit: int(count)}
        length_only = interval.IntervalTrigger(**length, timezone=timezone)
        # APScheduler starts an unbounded interval one interval after
        # its own now: the arming.
        bounds.setdefault('start_date', armed_at + length_only.interval)
        return interval.IntervalTrigger(**length, **bounds,
                                        timezone=timezone)
    fields = _cron_fields(schedule)
    if fields:
        return cron.CronTrigger(**fields, **_bounds(schedule, armed_at),
                                timezone=timezone)
    return date.DateTrigger(run_date=armed_at + ARM_DELAY, timezone=timezone)


def next_due(schedule: Mapping[str, typing.Any],
             armed_at: datetime.datetime,
             last_started: datetime.datetime | None,
             timezone: datetime.tzinfo) -> datetime.datetime | None:
    """When the next run of a job is due, or None when no run is (its one
    run is done, its end date has passed, or it cannot be armed).

    :param armed_at: when the scheduler armed the job (aware).
    :param last_started: when its last run started (aware), if it ran
        since it was armed: a run fires on the trigger's time, and the
        next fire is the trigger's next after it.
    """
    armed = trigger(schedule, armed_at, timezone)
    if armed is None:
        return None
    if last_started is None:
        due = armed.get_next_fire_time(None, armed_at)
    else:
        due = armed.get_next_fire_time(
            last_started, last_started + datetime.timedelta(microseconds=1))
    if due is None:
        return None
    return typing.cast(datetime.datetime, due).astimezone(_UTC)

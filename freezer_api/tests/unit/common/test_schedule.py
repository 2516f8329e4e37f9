"""When a job is due, by freezer-scheduler's rules (common/schedule.py).

The expected times are those freezer-scheduler 19.0.0 runs a job at:
its ``Job.get_schedule_args`` read with APScheduler 3's triggers, and
what APScheduler does across daylight-saving changes (checked against
the library, and written out here so that a change of it shows).
"""

import datetime
import zoneinfo

from oslotest import base as oslotest_base

from freezer_api.common import schedule

UTC = datetime.timezone.utc
BERLIN = zoneinfo.ZoneInfo('Europe/Berlin')
NEW_YORK = zoneinfo.ZoneInfo('America/New_York')
# When the scheduler armed the job in these tests.
ARMED = datetime.datetime(2026, 3, 26, 12, 0, 0, tzinfo=UTC)


def utc(*fields):
    return datetime.datetime(*fields, tzinfo=UTC)


def runs(job_schedule, count, timezone=UTC, armed_at=ARMED):
    """The first ``count`` due times, each run starting when due."""
    due, last = [], None
    for _ in range(count):
        last = schedule.next_due(job_schedule, armed_at, last, timezone)
        if last is None:
            break
        due.append(last)
    return due


class TestInterval(oslotest_base.BaseTestCase):

    def test_first_run_one_interval_after_arming(self):
        self.assertEqual(
            [utc(2026, 3, 26, 12, 0, 10), utc(2026, 3, 26, 12, 0, 20),
             utc(2026, 3, 26, 12, 0, 30)],
            runs({'schedule_interval': '10 seconds'}, 3))

    def test_units(self):
        for every, length in (('3 weeks', datetime.timedelta(weeks=3)),
                              ('2 days', datetime.timedelta(days=2)),
                              ('5 hours', datetime.timedelta(hours=5)),
                              ('30 minutes', datetime.timedelta(minutes=30)),
                              ('1 seconds', datetime.timedelta(seconds=1))):
            self.assertEqual(
                [ARMED + length, ARMED + 2 * length],
                runs({'schedule_interval': every}, 2), every)

    def test_continuous_is_every_second(self):
        self.assertEqual([ARMED + datetime.timedelta(seconds=1),
                          ARMED + datetime.timedelta(seconds=2)],
                         runs({'schedule_interval': 'continuous'}, 2))

    def test_next_run_follows_the_last_start(self):
        last = utc(2026, 3, 27, 8, 15, 0)
        self.assertEqual(
            utc(2026, 3, 27, 9, 15, 0),
            schedule.next_due({'schedule_interval': '1 hours'}, ARMED,
                              last, UTC))

    def test_days_keep_their_length_across_daylight_saving(self):
        # Elapsed time, not wall-clock time: a daily backup at 02:00 in
        # Berlin runs at 03:00 after the clocks go forward.
        last = datetime.datetime(2026, 3, 28, 2, 0, tzinfo=BERLIN)
        due = schedule.next_due({'schedule_interval': '1 days'}, ARMED,
                                last, BERLIN)
        self.assertEqual(datetime.timedelta(hours=24), due - last)
        self.assertEqual(3, due.astimezone(BERLIN).hour)

    def test_start_date_in_the_future(self):
        self.assertEqual(
            [utc(2026, 4, 1, 6, 0), utc(2026, 4, 1, 18, 0)],
            runs({'schedule_interval': '12 hours',
                  'schedule_start_date': '2026-04-01T06:00:00'}, 2))

    def test_start_date_with_an_offset(self):
        self.assertEqual(
            [utc(2026, 4, 1, 4, 0)],
            runs({'schedule_interval': '12 hours',
                  'schedule_start_date': '2026-04-01T06:00:00+02:00'}, 1))

    def test_start_date_past_means_two_seconds_after_arming(self):
        self.assertEqual(
            [ARMED + datetime.timedelta(seconds=2),
             ARMED + datetime.timedelta(seconds=2, hours=1)],
            runs({'schedule_interval': '1 hours',
                  'schedule_start_date': '2026-01-01T00:00:00'}, 2))

    def test_end_date_ends_the_runs(self):
        self.assertEqual(
            [utc(2026, 4, 1, 0, 0), utc(2026, 4, 2, 0, 0)],
            runs({'schedule_interval': '1 days',
                  'schedule_start_date': '2026-04-01T00:00:00',
                  'schedule_end_date': '2026-04-02T12:00:00'}, 5))

    def test_end_date_before_start_date_is_ignored(self):
        self.assertEqual(
            3, len(runs({'schedule_interval': '1 days',
                         'schedule_start_date': '2026-04-05T00:00:00',
                         'schedule_end_date': '2026-04-02T00:00:00'}, 3)))

    def test_end_date_needs_a_start_date(self):
        # The scheduler reads the end date only with a start date.
        self.assertEqual(
            3, len(runs({'schedule_interval': '1 days',
                         'schedule_end_date': '2026-03-27T00:00:00'}, 3)))

    def test_what_the_scheduler_cannot_arm_is_never_due(self):
        for every in ('1 day', 'daily', 'x hours', '1  hours', '1.5 hours',
                      '1 hours extra'):
            self.assertIsNone(
                schedule.next_due({'schedule_interval': every}, ARMED,
                                  None, UTC), every)


class TestCron(oslotest_base.BaseTestCase):

    def test_daily_at_an_hour_in_the_schedulers_zone(self):
        self.assertEqual(
            [utc(2026, 3, 27, 5, 0), utc(2026, 3, 28, 5, 0)],
            runs({'schedule_hour': 6, 'schedule_minute': 0}, 2,
                 timezone=BERLIN))
        self.assertEqual(
            [utc(2026, 3, 27, 6, 0), utc(2026, 3, 28, 6, 0)],
            runs({'schedule_hour': 6, 'schedule_minute': 0}, 2))

    def test_fields_as_strings(self):
        self.assertEqual(
            [utc(2026, 3, 30, 1, 30), utc(2026, 4, 1, 1, 30)],
            runs({'schedule_day_of_week': 'mon,wed',
                  'schedule_hour': '1', 'schedule_minute': '30'}, 2))

    def test_spring_forward_runs_an_hour_later_that_day(self):
        # 02:30 does not exist in Berlin on 29 March 2026: APScheduler
        # runs at 03:30 summer time, then at 02:30 summer time again.
        due = runs({'schedule_hour': 2, 'schedule_minute': 30}, 5,
                   timezone=BERLIN)
        local = [d.astimezone(BERLIN).strftime('%m-%d %H:%M %Z')
                 for d in due]
        self.assertEqual(['03-27 02:30 CET', '03-28 02:30 CET',
                          '03-29 03:30 CEST', '03-30 02:30 CEST',
                          '03-31 02:30 CEST'], local)

    def test_fall_back_runs_twice(self):
        # 02:30 happens twice in Berlin on 25 October 2026.
        armed = utc(2026, 10, 23, 12, 0)
        due = runs({'schedule_hour': 2, 'schedule_minute': 30}, 4,
                   timezone=BERLIN, armed_at=armed)
        self.assertEqual(
            [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30),
             utc(2026, 10, 25, 1, 30), utc(2026, 10, 26, 1, 30)], due)

    def test_hourly_across_fall_back_keeps_elapsed_hours(self):
        armed = utc(2026, 11, 1, 3, 30)
        due = runs({'schedule_minute': 0}, 4, timezone=NEW_YORK,
                   armed_at=armed)
        self.assertEqual([utc(2026, 11, 1, 4), utc(2026, 11, 1, 5),
                          utc(2026, 11, 1, 6), utc(2026, 11, 1, 7)], due)

    def test_start_and_end_dates(self):
        self.assertEqual(
            [utc(2026, 5, 1, 3, 0), utc(2026, 5, 2, 3, 0)],
            runs({'schedule_hour': 3, 'schedule_minute': 0,
                  'schedule_start_date': '2026-05-01T00:00:00',
                  'schedule_end_date': '2026-05-02T23:00:00'}, 5))

    def test_other_schedule_keys_are_not_cron_fields(self):
        self.assertEqual(
            [utc(2026, 3, 27, 4, 0)],
            runs({'schedule_hour': 4, 'schedule_minute': 0,
                  'schedule_interval': '', 'schedule_date': '',
                  'schedule_colour': 'blue'}, 1))

    def test_out_of_range_is_never_due(self):
        for fields in ({'schedule_hour': 25}, {'schedule_minute': 'x'},
                       {'schedule_day_of_week': 'someday'}):
            self.assertIsNone(
                schedule.next_due(fields, ARMED, None, UTC), fields)


class TestDateAndNone(oslotest_base.BaseTestCase):

    def test_one_run_at_the_date(self):
        self.assertEqual(
            [utc(2026, 12, 24, 20, 0)],
            runs({'schedule_date': '2026-12-24T20:00:00Z'}, 3))

    def test_date_without_offset_is_in_the_schedulers_zone(self):
        self.assertEqual(
            [utc(2026, 12, 24, 19, 0)],
            runs({'schedule_date': '2026-12-24T20:00:00'}, 1,
                 timezone=BERLIN))
        self.assertEqual(
            [utc(2026, 12, 24, 15, 0)],
            runs({'schedule_date': '2026-12-24T20:00:00+05:00'}, 1,
                 timezone=BERLIN))

    def test_date_wins_over_interval_and_cron(self):
        self.assertEqual(
            [utc(2026, 6, 1, 0, 0)],
            runs({'schedule_date': '2026-06-01T00:00:00Z',
                  'schedule_interval': '1 hours', 'schedule_hour': 3}, 3))

    def test_interval_wins_over_cron(self):
        self.assertEqual(
            [ARMED + datetime.timedelta(hours=1)],
            runs({'schedule_interval': '1 hours', 'schedule_hour': 3}, 1))

    def test_unreadable_date_is_never_due(self):
        self.assertIsNone(schedule.next_due(
            {'schedule_date': 'tomorrow'}, ARMED, None, UTC))

    def test_no_schedule_runs_once_two_seconds_after_arming(self):
        self.assertEqual([ARMED + datetime.timedelta(seconds=2)],
                         runs({}, 3))
        self.assertEqual([ARMED + datetime.timedelta(seconds=2)],
                         runs({'status': 'scheduled', 'event': ''}, 3))

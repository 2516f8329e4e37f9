"""The rules of job health and client liveness (common/health.py)."""

import datetime

from oslo_config import cfg

from freezer_api.common import health
from freezer_api.conf import history
from freezer_api.tests.unit import base

NOW = 1795740000
LIMITS = health.Limits(grace=60, client_timeout=100, run_timeout=1000,
                       timezone=datetime.timezone.utc)


def run(status='ended', result='success', started=NOW - 500):
    return {'run_id': 'r', 'status': status, 'result': result,
            'time_started': started, 'time_ended': started + 10}


def facts(job_schedule=None, last_run=None, failures=0, seen=NOW):
    job = {'job_id': 'j', 'client_id': 'c', 'description': 'd',
           'job_schedule': dict({'time_created': NOW - 10000},
                                **(job_schedule or {}))}
    return health.JobFacts(job=job, last_run=last_run, last_success=None,
                           consecutive_failures=failures, client_seen=seen)


def state(*args, **kwargs):
    return health.job_health(facts(*args, **kwargs), NOW, LIMITS)['state']


class TestClientState(base.TestCase):

    def test_boundaries(self):
        cases = [(None, 'offline'), (NOW, 'online'), (NOW - 100, 'online'),
                 (NOW - 101, 'stale'), (NOW - 300, 'stale'),
                 (NOW - 301, 'offline')]
        for seen, expected in cases:
            self.assertEqual(expected,
                             health.client_state(seen, NOW, LIMITS), seen)


class TestRunStatus(base.TestCase):

    def test_lost_after_run_timeout_of_silence(self):
        self.assertEqual('running', health.run_status(
            'running', NOW - 5000, NOW - 1000, NOW, LIMITS))
        self.assertEqual('lost', health.run_status(
            'running', NOW - 5000, NOW - 1001, NOW, LIMITS))
        self.assertEqual('lost', health.run_status(
            'running', NOW - 1001, None, NOW, LIMITS))
        self.assertEqual('ended', health.run_status(
            'ended', NOW - 5000, None, NOW, LIMITS))


class TestJobState(base.TestCase):

    def test_order_of_the_states(self):
        interval = {'schedule_interval': '1 minutes'}
        # Stopped wins over everything.
        self.assertEqual('stopped', state(dict(interval, event='stop'),
                                          run(result='fail')))
        self.assertEqual('stopped', state(dict(interval, status='stop')))
        self.assertEqual('running-too-long', state(
            interval, run('running', None, NOW - 1001)))
        self.assertEqual('failing', state(interval, run(result='fail')))
        self.assertEqual('failing', state(interval, run('lost', None)))
        self.assertEqual('overdue', state(interval, run()))
        self.assertEqual('ok', state(interval, run('running', None)))
        self.assertEqual('never-run', state(
            {'schedule_interval': '1 days'}))
        self.assertEqual('overdue', state(interval))
        self.assertEqual('ok', state({'schedule_interval': '1 days'},
                                     run()))

    def test_next_due(self):
        due = health.next_due({'schedule_interval': '2 hours'}, NOW - 60,
                              NOW, LIMITS)
        self.assertEqual(NOW - 60 + 7200, due)
        self.assertIsNone(health.next_due(
            {'schedule_interval': '2 hours', 'status': 'completed'},
            NOW - 60, NOW, LIMITS))
        self.assertIsNone(health.next_due({'schedule_interval': '1 day'},
                                          None, NOW, LIMITS))
        # Never armed yet: from when the job was created.
        self.assertEqual(NOW - 100 + 7200, health.next_due(
            {'schedule_interval': '2 hours', 'time_created': NOW - 100},
            None, NOW, LIMITS))

    def test_an_unknown_time_zone_is_a_configuration_error(self):
        conf = cfg.ConfigOpts()
        history.register_opts(conf)
        conf([], default_config_files=[])
        conf.set_override('scheduler_timezone', 'Mars/Olympus', 'history')
        self.assertRaises(cfg.Error, health.Limits.from_conf, conf)

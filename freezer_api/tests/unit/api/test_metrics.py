"""GET /metrics: Prometheus figures of the backups and of this process."""

import time

from prometheus_client import parser

from freezer_api.api import metrics
from freezer_api.tests.unit.api import base
from freezer_api.tests.unit.api import job_fixtures as fixtures
from freezer_api.tests.unit.api import test_health


def samples(text):
    """{(name, frozenset of labels): value} of a scrape."""
    found = {}
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, frozenset(sample.labels.items())] = (
                sample.value)
    return found


class TestMetrics(test_health.HealthTestCase):

    def scrape(self, headers=base.ADMIN, status=200):
        response = self.get('/metrics', headers=headers)
        self.assertEqual(status, response.status_int, response.text)
        return response

    def test_figures_of_the_backups(self):
        now = int(time.time())
        failing = self.job(schedule_interval='1 days')
        self.run_job(failing, now - 300, now - 290, 'success')
        self.run_job(failing, now - 200, now - 190, 'fail')
        self.run_job(failing, now - 100, now - 90, 'fail')
        fixtures.add_client(self, 'node1', project_id=base.PROJECT_B)
        other = fixtures.create_job(self, project_id=base.PROJECT_B)
        self.send(test_health.report('running', now - 10), job_id=other,
                  project_id=base.PROJECT_B)
        self.poll(project_id=base.PROJECT_B)
        response = self.scrape()
        self.assertEqual(metrics.CONTENT_TYPE,
                         response.headers['Content-Type'])
        found = samples(response.text)

        def value(name, **labels):
            return found.get((name, frozenset(labels.items())))

        a, b = base.PROJECT_A, base.PROJECT_B
        self.assertEqual(1, value('freezer_jobs', project_id=a,
                                  state='failing'))
        self.assertEqual(1, value('freezer_jobs', project_id=a,
                                  state='never-run'))
        self.assertEqual(0, value('freezer_jobs', project_id=a,
                                  state='overdue'))
        self.assertEqual(1, value('freezer_jobs', project_id=b,
                                  state='ok'))
        since = value('freezer_job_seconds_since_last_success',
                      project_id=a, job_id=failing)
        self.assertAlmostEqual(290, since, delta=5)
        self.assertEqual(2, value('freezer_job_consecutive_failures',
                                  project_id=a, job_id=failing))
        self.assertEqual(2, value('freezer_runs', project_id=a,
                                  result='fail'))
        self.assertEqual(1, value('freezer_runs', project_id=a,
                                  result='success'))
        self.assertEqual(1, value('freezer_runs', project_id=b,
                                  result='running'))
        self.assertEqual(1, value('freezer_clients', project_id=a,
                                  state='offline'))
        self.assertEqual(1, value('freezer_clients', project_id=b,
                                  state='online'))

    def test_figures_of_this_process(self):
        self.get(fixtures.url('jobs', base.PROJECT_A, 'nope'))
        self.get('/v2/x/no/such/path/at/all')
        found = samples(self.scrape().text)
        self.assertGreaterEqual(found[(
            'freezer_api_requests_total', frozenset({
                'method': 'GET', 'route': '/v2/{project_id}/jobs/{job_id}',
                'status': '404'}.items()))], 1)
        self.assertGreaterEqual(found[(
            'freezer_api_requests_total', frozenset({
                'method': 'GET', 'route': 'other',
                'status': '404'}.items()))], 1)
        self.assertIn(('freezer_api_request_duration_seconds_count',
                       frozenset({'method': 'GET',
                                  'route': '/v2/{project_id}/jobs/{job_id}'}
                                 .items())), found)

    def test_unknown_methods_share_one_series(self):
        for method in ('BREW', 'PROPFIND'):
            self.request(method, fixtures.url('jobs', base.PROJECT_A))
        found = samples(self.scrape().text)
        methods = {dict(labels)['method'] for name, labels in found
                   if name == 'freezer_api_requests_total'}
        self.assertIn('other', methods)
        self.assertFalse(methods & {'BREW', 'PROPFIND'})

    def test_admins_only_by_default(self):
        for headers in (base.MEMBER_A, base.READER_A, base.SERVICE):
            self.assertFault(self.scrape(headers, 403), 403)

    def test_route_labels(self):
        cases = {
            '/': '/', '/v2': '/v2', '/v2/': '/v2', '/metrics': '/metrics',
            '/healthcheck': '/healthcheck',
            '/v2/p/jobs': '/v2/{project_id}/jobs',
            '/v2/p/jobs/j/runs': '/v2/{project_id}/jobs/{job_id}/runs',
            '/v2/p/sessions/s/jobs/j':
                '/v2/{project_id}/sessions/{session_id}/jobs/{job_id}',
            '/v2/p/health': '/v2/{project_id}/health',
            '/v2/p/nothing': 'other', '/x' * 50: 'other',
        }
        for path, label in cases.items():
            self.assertEqual(label, metrics.route_label(path), path)

"""``GET /metrics``: figures for Prometheus, in its text format.

Two kinds of figures:

* of the backups, computed from the database at each scrape, so that
  every API process gives the same ones and a restart loses none
  (:mod:`freezer_api.db.sqlalchemy.metrics`): jobs by project and health
  state, seconds since each job's last success, failed runs in a row,
  stored runs by result, clients by liveness;
* of this API process: the requests it answered, by method, route and
  status, and how long they took (:class:`RequestMetrics`).
"""

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
import time
import typing

import prometheus_client
from prometheus_client import core as prometheus_core
from prometheus_client import registry as prometheus_registry

from freezer_api.api import routes
from freezer_api.api.controllers.v2 import route_tables
from freezer_api.common import context
from freezer_api.common import health
from freezer_api.db import api as db_api

CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST

# The figures of this process.
PROCESS = prometheus_client.CollectorRegistry(auto_describe=True)
REQUESTS = prometheus_client.Counter(
    'freezer_api_requests', 'HTTP requests this API process answered.',
    ['method', 'route', 'status'], registry=PROCESS)
LATENCY = prometheus_client.Histogram(
    'freezer_api_request_duration_seconds',
    'Seconds this API process took to answer a request (until its body '
    'was ready).', ['method', 'route'], registry=PROCESS,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
             2.5, 5.0, 10.0))

Environ = dict[str, typing.Any]
StartResponse = Callable[..., typing.Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

# Paths outside /v2/{project_id}: (segments, route label).
_OWN_PATHS = [((), '/'), (('v2',), '/v2'),
              (('v2', 'openapi.json'), '/v2/openapi.json'),
              (('healthcheck',), '/healthcheck'), (('metrics',), '/metrics')]


def _route_patterns() -> dict[tuple[str, int],
                              list[tuple[routes.Pattern, str]]]:
    """(resource, segments after /v2/{project_id}) -> [(pattern of those
    segments, route label)] of every route of the project's resources."""
    patterns: dict[tuple[str, int], list[tuple[routes.Pattern, str]]] = {}
    for resource, table in route_tables.RESOURCES.items():
        for route in table:
            pattern = (resource, *route.pattern)
            patterns.setdefault((resource, len(pattern)), []).append(
                (pattern, routes.project_path('/v2', resource,
                                              route.pattern)))
    return patterns


_PROJECT_ROUTES = _route_patterns()


def _matches(pattern: routes.Pattern, segments: list[str]) -> bool:
    return len(pattern) == len(segments) and all(
        expected is routes.ID or expected == segment
        for expected, segment in zip(pattern, segments, strict=True))


# Methods counted by name; any other is counted as ``other``, so that a
# client cannot add series at will.
_METHODS = frozenset(('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE',
                      'OPTIONS'))


def route_label(path: str) -> str:
    """The route a request path is of, as the route tables write it
    (``/v2/{project_id}/jobs/{job_id}``), or ``other``: a label of few
    values whatever the paths asked for."""
    segments = [segment for segment in path.split('/') if segment]
    for own, label in _OWN_PATHS:
        if tuple(segments) == own:
            return label
    if len(segments) >= 3 and segments[0] == 'v2':
        rest = segments[2:]
        for pattern, label in _PROJECT_ROUTES.get((rest[0], len(rest)),
                                                  ()):
            if _matches(pattern, rest):
                return label
    return 'other'


class RequestMetrics:
    """WSGI middleware that counts and times every request, outermost so
    that refusals (401, 413, ...) count too."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: Environ,
                 start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status = ['500']

        def recording_start(status_line: str, headers: typing.Any,
                            exc_info: typing.Any = None) -> typing.Any:
            status[0] = status_line.split(' ', 1)[0]
            return start_response(status_line, headers, exc_info)

        try:
            return self.app(environ, recording_start)
        finally:
            method = environ.get('REQUEST_METHOD', '')
            if method not in _METHODS:
                method = 'other'
            route = route_label(environ.get('PATH_INFO', ''))
            REQUESTS.labels(method, route, status[0]).inc()
            LATENCY.labels(method, route).observe(
                time.perf_counter() - started)


def _gauge(name: str, documentation: str, labels: list[str],
           values: typing.Mapping[tuple[str, str], int]
           ) -> prometheus_core.GaugeMetricFamily:
    family = prometheus_core.GaugeMetricFamily(name, documentation,
                                               labels=labels)
    for label_values, value in sorted(values.items()):
        family.add_metric(list(label_values), value)
    return family


class _Backups(prometheus_registry.Collector):
    """The figures of the backups, read when collected."""

    def __init__(self, ctx: context.RequestContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[prometheus_core.Metric]:
        figures = db_api.metrics_snapshot(self.ctx)
        yield _gauge(
            'freezer_jobs', 'Jobs by project and health state (ok, '
            'failing, overdue, running-too-long, never-run, stopped).',
            ['project_id', 'state'], _every_state(figures.jobs))
        yield _gauge(
            'freezer_job_seconds_since_last_success',
            'Seconds since the last successful run of a job ended.',
            ['project_id', 'job_id'], figures.since_success)
        yield _gauge(
            'freezer_job_consecutive_failures',
            'Failed or aborted runs of a job since its last success.',
            ['project_id', 'job_id'], figures.failures)
        yield _gauge(
            'freezer_runs', 'Stored runs (within [history] retention_days) '
            'by project and result (success, fail, aborted, none, or '
            'running for a run not ended).', ['project_id', 'result'],
            figures.runs)
        yield _gauge(
            'freezer_clients', 'Clients by project and liveness (online, '
            'stale, offline).', ['project_id', 'state'], figures.clients)


def _every_state(jobs: typing.Mapping[tuple[str, str], int]
                 ) -> dict[tuple[str, str], int]:
    """Job counts with a 0 for each state a project has no job in: an
    alert on a state's count then sees it fall back to 0."""
    counts = {(project, state): 0 for project, _ in jobs
              for state in health.JOB_STATES}
    counts.update(jobs)
    return counts


def render(ctx: context.RequestContext) -> bytes:
    """The text of a scrape."""
    registry = prometheus_client.CollectorRegistry(auto_describe=False)
    registry.register(_Backups(ctx))
    return (prometheus_client.generate_latest(registry) +
            prometheus_client.generate_latest(PROCESS))

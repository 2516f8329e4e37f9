"""Fuzz the API with schemathesis, driven by the OpenAPI document it serves.

Every operation of ``GET /v2/openapi.json`` gets requests made from its
schemas: valid ones, ones that break the schemas, and valid ones aimed at
documents that exist (so that updates, replaces, events and session
actions reach the database). Every answer must be no server error, with a
status, content type, headers and body the document declares. Bodies
that are not JSON must get the 753 fault.

The runs are bounded and reproducible: a fixed number of examples per
operation, derandomized, no example database, no shrinking. One test
class per resource lets stestr spread them over its workers.
"""

import functools
import json
import re

import hypothesis
from hypothesis import strategies as st
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as openapi_checks
import testscenarios

from freezer_api.api import openapi
from freezer_api.tests.unit.api import base

# FuzzTestCase runs once per scenario, each a test of its own.
load_tests = testscenarios.load_tests_apply_scenarios

PROJECT = base.PROJECT_A

# Examples per operation and mode: a few hundred requests per resource.
EXAMPLES = {'positive': 20, 'negative': 20, 'existing': 20}
JUNK_EXAMPLES = 10


def _or_syntax_error(check):
    """``check``, except that 753 is the documented answer to a body that
    is not JSON (schemathesis sends some); OpenAPI can only name it in an
    extension of the responses."""
    def wrapped(ctx, response, case):
        responses = case.operation.definition.raw['responses']
        if response.status_code == 753 and openapi.SYNTAX_ERROR in responses:
            fault = json.loads(response.content)
            if set(fault) != {'title', 'description'}:
                raise AssertionError('753 without the JSON fault: %r'
                                     % fault)
            return None
        return check(ctx, response, case)
    wrapped.__name__ = check.__name__
    return wrapped


CHECKS = [_or_syntax_error(check) for check in (
    not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
)]
# Data that breaks the schemas need not conform to the success schemas,
# and may be accepted: ids and keys the service owns are ignored, a DELETE
# of what cannot exist is a DELETE of what does not.
NEGATIVE_CHECKS = CHECKS[:3]

# The service runs with noauth: no token to send, none to leave out.
CONFIG = schemathesis.Config.from_dict(
    {'generation': {'with-security-parameters': False}})

MODES = {
    'positive': schemathesis.GenerationMode.POSITIVE,
    'negative': schemathesis.GenerationMode.NEGATIVE,
    'existing': schemathesis.GenerationMode.POSITIVE,
}

PATH_PARAMETER = re.compile(r'{(\w+)}')

# The (operation, mode) runs that cannot make a single example, and why;
# any other run that cannot is a failure, and so is one of these that can.
# Only the negative mode belongs here: the positive and existing modes can
# always make a valid request.
UNSATISFIABLE = {
    # No parameter and no body: nothing of it can break the schema.
    ('GET /v2', 'negative'),
}


def _settings(examples):
    return hypothesis.settings(
        max_examples=examples, derandomize=True, database=None,
        deadline=None, print_blob=False,
        # The failures are reported by test_fuzz, escaped: a lone
        # surrogate in a captured print would break the subunit stream.
        verbosity=hypothesis.Verbosity.quiet,
        phases=(hypothesis.Phase.explicit, hypothesis.Phase.generate),
        suppress_health_check=list(hypothesis.HealthCheck))


def _not_json(raw):
    if not raw.strip():
        return False
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return True
    return False


JUNK = st.one_of(st.binary(min_size=1, max_size=64),
                 st.text(min_size=1, max_size=64).map(str.encode),
                 st.sampled_from([b'{', b'{"a": NaN}', b'[1,]', b"{'a': 1}",
                                  b'{"a": 1e999}', b'"\\ud800"',
                                  b'[' * 5000])).filter(_not_json)


def _order(operation):
    """Writes before deletes; inner documents deleted first (a session's
    job before the session)."""
    if operation.method.upper() == 'DELETE':
        return (1, -operation.path.count('/'), operation.path)
    return (0, 0, operation.path + operation.method)


class _Fuzz:
    """Fuzz the operations tagged ``tag`` on a database of their own."""

    tag = ''
    headers = {}  # noauth: the URL's project, roles member and reader

    def setUp(self):
        super().setUp()
        self.existing = self._seed()
        self.schema = schemathesis.openapi.from_wsgi(
            '/v2/openapi.json', self.app.app, config=CONFIG)

    def _seed(self):
        """Documents the 'existing' runs aim at: their path parameters."""
        url = '/v2/%s/' % PROJECT
        for method, path, body in (
                ('POST', 'clients', {'client_id': 'fuzz-client',
                                     'hostname': 'fuzz-host'}),
                ('POST', 'actions/fuzz-action',
                 {'freezer_action': {'action': 'backup', 'mode': 'fs'}}),
                ('POST', 'jobs/fuzz-job',
                 {'client_id': 'fuzz-client',
                  'job_actions': [{'action_id': 'fuzz-action'}]}),
                ('POST', 'sessions/fuzz-session', {'schedule': {}}),
                ('PUT', 'sessions/fuzz-session/jobs/fuzz-job', None)):
            response = self.request(method, url + path, body=body)
            self.assertLess(response.status_int, 300, response.text)
        response = self.post(url + 'backups', {
            'container': 'c', 'hostname': 'fuzz-host',
            'backup_name': 'fuzz'})
        self.assertEqual(201, response.status_int, response.text)
        return {'project_id': PROJECT, 'action_id': 'fuzz-action',
                'job_id': 'fuzz-job', 'session_id': 'fuzz-session',
                'client_id': 'fuzz-client',
                'backup_id': response.json['backup_id']}

    def operations(self):
        """The operations of ``tag``, writes before deletes."""
        found = []
        for result in self.schema.get_all_operations():
            operation = result.ok()
            if self.tag in (operation.definition.raw.get('tags') or ()):
                found.append(operation)
        self.assertNotEqual([], found, self.tag)
        return sorted(found, key=_order)

    def strategy(self, operation, mode):
        if mode != 'existing':
            return operation.as_strategy(generation_mode=MODES[mode])
        names = PATH_PARAMETER.findall(operation.path)
        strategy = operation.as_strategy(
            generation_mode=MODES[mode],
            path_parameters={n: self.existing[n] for n in names})
        return strategy.map(self._aim_at_existing)

    def _aim_at_existing(self, case):
        """A generated body that names the seeded client and job."""
        body = case.body
        if isinstance(body, dict):
            if 'client_id' in body and '/jobs' in case.operation.path:
                body['client_id'] = self.existing['client_id']
            for params in body.values():
                if isinstance(params, dict) and 'job_id' in params:
                    params['job_id'] = self.existing['job_id']
        return case

    def fuzz(self, operation, mode):
        checks = NEGATIVE_CHECKS if mode == 'negative' else CHECKS

        @_settings(EXAMPLES[mode])
        @hypothesis.given(case=self.strategy(operation, mode))
        def run(case):
            case.call_and_validate(checks=checks)

        run()

    def junk(self, operation):
        """Bodies that are not JSON: the 753 fault, nothing else."""
        path = PATH_PARAMETER.sub(
            lambda m: self.existing[m.group(1)], operation.path)

        @_settings(JUNK_EXAMPLES)
        @hypothesis.given(raw=JUNK)
        def run(raw):
            response = self.request(operation.method.upper(), path, raw=raw)
            self.assertFault(response, 753, 'Malformed JSON')

        run()

    def test_fuzz(self):
        failures = []
        for operation in self.operations():
            runs = [(mode, functools.partial(self.fuzz, operation, mode))
                    for mode in EXAMPLES]
            if 'requestBody' in operation.definition.raw:
                runs.append(('junk', functools.partial(self.junk, operation)))
            for mode, run in runs:
                expected = (operation.label, mode) in UNSATISFIABLE
                try:
                    run()
                except hypothesis.errors.Unsatisfiable as error:
                    if not expected:
                        failures.append('%s (%s): no example could be '
                                        'made: %s' % (operation.label, mode,
                                                      error))
                # FailureGroup is a BaseExceptionGroup, not an Exception.
                except (Exception, schemathesis.errors.FailureGroup) as error:
                    failures.append('%s (%s): %s' % (
                        operation.label, mode, str(error).encode(
                            'ascii', 'backslashreplace').decode()))
                else:
                    if expected:
                        failures.append(
                            '%s (%s): listed in UNSATISFIABLE, but examples '
                            'were made' % (operation.label, mode))
        if failures:
            self.fail('\n\n'.join(failures))


class UnsatisfiableListTestCase(base.ApiTestCase):

    def test_only_negative_runs_of_served_operations(self):
        schema = schemathesis.openapi.from_wsgi(
            '/v2/openapi.json', self.app.app, config=CONFIG)
        labels = {result.ok().label
                  for result in schema.get_all_operations()}
        for label, mode in UNSATISFIABLE:
            self.assertEqual('negative', mode, label)
            self.assertIn(label, labels)


class FuzzTestCase(_Fuzz, base.ApiTestCase):
    """One run of ``test_fuzz`` for each tag of the OpenAPI document."""

    scenarios = [(tag, {'tag': tag}) for tag in (
        'actions', 'jobs', 'sessions', 'clients', 'backups', 'v2')]

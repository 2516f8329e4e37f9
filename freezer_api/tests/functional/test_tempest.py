"""The upstream freezer-tempest-plugin, unchanged, against our server.

tempest (with the plugin) runs in its own venv against the functional
Keystone, whose catalog's ``backup`` endpoint is our freezer-api in
keystone mode (fixtures_tempest.py). Each test method runs one group of
the plugin's tests (API, CLI, agent, scheduler, the two scenarios) in one
``tempest run``, so the counts say which part broke, and the slow central
scenario is a step of its own.

Every plugin test must pass, except those in :data:`EXPECTED_FAILURES`
(the reference freezer-api 19.0.0 fails them as well, or the environment
lacks what they need). An expected failure that passes is reported, not
failed on. The per-test list of every group is appended to
:func:`results_file`, which tools/run-tests.sh prints after the
functional step.
"""

import os
import re

from testtools import content

from freezer_api.tests.functional import base
from freezer_api.tests.functional import fixtures_tempest
from freezer_api.tests.functional import utils

_PLUGIN = 'freezer_tempest_plugin.tests.'

# test id (without tempest's "[id-...]" attributes) -> (why it fails, a
# regex its traceback must match). A failure that does not match is a
# real one: the test then fails for another reason than the known one.
EXPECTED_FAILURES = {
    _PLUGIN + 'freezer.agent.test_swift_backup.TestFreezerSwiftBackup.'
    'test_freezer_swift_backup': (
        'backs up to Swift (the agent\'s default storage); there is no '
        'Swift here',
        r'object-store service not found'),
    _PLUGIN + 'freezer_api.api.test_api_backups.TestFreezerApiBackups.'
    'test_api_backups_delete_other_users_backups': (
        'expects 404 from a DELETE of another project\'s backup; the '
        'reference 19.0.0 answers 204, and every client relies on 204',
        r"delete_backups .* returned .*'status': '204'"),
}

# Not run, and why (none at present): tests that cost minutes of waiting
# and that the reference fails too. FREEZER_FUNC_TEMPEST_ALL=1 runs them
# as well (they then count as expected failures).
NOT_RUN: dict[str, str] = {}

# name -> (regex of the tests, seconds before the run is killed). Every
# plugin test is in exactly one group (test_groups_cover_the_plugin).
GROUPS = {
    'api': (r'^freezer_tempest_plugin\.tests\.freezer_api\.', 900),
    'cli': (r'^freezer_tempest_plugin\.tests\.freezerclient\.', 600),
    'agent': (r'^freezer_tempest_plugin\.tests\.freezer\.agent\.', 600),
    'scheduler': (r'^freezer_tempest_plugin\.tests\.scheduler\.', 600),
    # One backup and one restore through a real scheduler: ~2-3 minutes.
    'scenario': (r'^freezer_tempest_plugin\.tests\.freezer\.scenario\.'
                 r'test_backups\.TestFreezerScenario\.', 1500),
    # ~4.5 minutes: test_central_backup_restore_flow ~2.3 (a backup and a
    # restore, each waiting for the scheduler's next poll, every 60 s),
    # test_scheduler_capabilities_restriction ~2.
    'scenario_central': (r'^freezer_tempest_plugin\.tests\.freezer\.'
                         r'scenario\.test_backups\.'
                         r'TestFreezerCentralScenario\.', 2700),
}

# The groups whose run gets the service user's credentials in the file
# the plugin reads them from (fixtures_tempest.TempestFixture.run): the
# central scenario's scheduler runs as that user, the trustee of the
# API's trusts. (test_central_scheduler_ignores_job_without_trust
# passes by timing, as against the reference: its PATCH of
# "user_credentials": {} changes nothing, callers cannot set trusts, so
# the job keeps its trust; the test looks 10 s later, before the
# scheduler's next poll. test_central_scheduler.py runs a job that truly
# has no trust.)
SERVICE_CREDENTIALS_GROUPS = {'scenario_central'}


def results_file():
    """Where the per-test lists go (run-tests.sh points it at its log
    directory)."""
    return os.environ.get('FREEZER_FUNC_TEMPEST_RESULTS') or os.path.join(
        utils.func_dir(), 'tempest-results.txt')


def _write_results(text):
    path = results_file()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'a') as f:
        f.write(text)


def classify(outcome):
    """(label, note) of one test: PASS, SKIP, FAIL, XFAIL (an expected
    failure, failing the known way), XPASS (an expected failure that
    passed)."""
    reason, signature = EXPECTED_FAILURES.get(outcome.short_id,
                                              (None, None))
    if outcome.status == 'success':
        if reason is not None:
            return 'XPASS', ('expected to fail, but passed: take it out '
                             f'of EXPECTED_FAILURES ({reason})')
        return 'PASS', ''
    if outcome.status == 'skip':
        return 'SKIP', outcome.text('reason').strip()
    if reason is not None:
        if re.search(signature, outcome.text('traceback')):
            return 'XFAIL', reason
        return 'FAIL', ('an expected failure, but its traceback does not '
                        f'match {signature!r}')
    # 'fail', or an outcome tempest should not report (e.g. 'uxsuccess').
    return 'FAIL', '' if outcome.status == 'fail' else outcome.status


class TempestPluginTest(base.FunctionalTestCase):
    """freezer-tempest-plugin 3.5.0 against the keystone-mode server."""

    auth_strategy = 'keystone'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tempest = fixtures_tempest.TempestFixture(
            cls.keystone, client_venv=cls.client.path)
        cls.tempest.setUp()
        cls._listed = None
        t = cls.tempest.timings
        with open(results_file(), 'w') as f:
            f.write(
                f'freezer-tempest-plugin results (tempest venv '
                f'{t["venv"]:.1f}s, workspace {t["init"]:.1f}s'
                + (f', kept in {cls.tempest.root}' if cls.tempest.keep
                   else '') + ')\n')

    @classmethod
    def tearDownClass(cls):
        cls.tempest.cleanUp()
        super().tearDownClass()

    @classmethod
    def listed(cls):
        """Every test id of the plugin, as tempest lists them (once)."""
        if cls._listed is None:
            cls._listed = cls.tempest.list_tests('^freezer_tempest_plugin\\.')
        return cls._listed

    def run_group(self, name):
        """Run one group; record its list; fail on unexpected failures,
        timeouts and listed tests that did not run.

        (``tempest run --subunit`` exits 0 whatever the outcomes: the
        stream is what tells.)
        """
        regex, timeout = GROUPS[name]
        wanted = {fixtures_tempest.short_id(t) for t in self.listed()
                  if re.search(regex, t)}
        self.assertTrue(wanted, f'no plugin test matches {regex}')
        not_run = {} if os.environ.get('FREEZER_FUNC_TEMPEST_ALL') else {
            t: why for t, why in NOT_RUN.items() if t in wanted}
        wanted -= set(not_run)
        exclude = '|'.join('^' + re.escape(t) for t in sorted(not_run))
        run = self.tempest.run(
            regex, timeout=timeout, exclude=exclude,
            service_credentials=name in SERVICE_CREDENTIALS_GROUPS)
        self.addOnException(self._attach_tempest_logs(run))

        rows, counts, problems = [], {}, []
        for outcome in sorted(run.outcomes, key=lambda o: o.test_id):
            label, note = classify(outcome)
            counts[label] = counts.get(label, 0) + 1
            rows.append(f'  {label:<5} {outcome.seconds:6.1f}s  '
                        f'{outcome.short_id}'
                        + (f'  -- {note}' if note else ''))
            if label == 'FAIL':
                problems.append(f'{outcome.short_id}: {outcome.status}')
                self.addDetail(f'tempest {outcome.short_id}',
                               content.text_content(outcome.report()))
        missing = sorted(wanted - {o.short_id for o in run.outcomes})
        rows += [f'  NOT RUN          {t}' for t in missing]
        rows += [f'  SKIP            {t}  -- not run: {why}'
                 for t, why in sorted(not_run.items())]
        problems += [f'{t}: listed but not run' for t in missing]
        if run.timed_out:
            problems.append(f'tempest run killed after {timeout}s')
        summary = ', '.join(f'{n} {label.lower()}'
                            for label, n in sorted(counts.items()))
        _write_results(
            f'\n[{name}] {len(run.outcomes)} tests in {run.seconds:.0f}s'
            + (' (TIMED OUT)' if run.timed_out else '')
            + f': {summary or "none"}\n' + '\n'.join(rows) + '\n')
        self.assertEqual([], problems,
                         f'tempest group {name!r}: unexpected results')

    def _attach_tempest_logs(self, run):
        """On failure: tempest's stderr and the scenario schedulers' logs
        (the plugin writes them to LOGDIR)."""
        def attach(exc_info):
            self.addDetail('tempest-stderr',
                           content.text_content(run.stderr_tail()))
            for path, text in self.tempest.scheduler_logs():
                self.addDetail(os.path.basename(path),
                               content.text_content(text))
        return attach

    # ------------------------------------------------------------ tests
    def test_groups_cover_the_plugin(self):
        """Each plugin test is in exactly one group; each expected failure
        names a plugin test."""
        listed = [fixtures_tempest.short_id(t) for t in self.listed()]
        self.assertGreater(len(listed), 0)
        for test_id in listed:
            groups = [n for n, (regex, _) in GROUPS.items()
                      if re.search(regex, test_id)]
            self.assertEqual(1, len(groups), f'{test_id} is in {groups}')
        self.assertEqual([], sorted(set(EXPECTED_FAILURES) - set(listed)))
        self.assertEqual([], sorted(set(NOT_RUN) - set(listed)))

    def test_api(self):
        self.run_group('api')

    def test_cli(self):
        self.run_group('cli')

    def test_agent(self):
        self.run_group('agent')

    def test_scheduler(self):
        self.run_group('scheduler')

    def test_scenario(self):
        self.run_group('scenario')

    def test_scenario_central(self):
        self.run_group('scenario_central')

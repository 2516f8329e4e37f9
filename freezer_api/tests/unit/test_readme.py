"""README.rst is the one README and holds the two quick-start commands a
newcomer runs first; CI runs the same test command."""

import os

from freezer_api.tests.unit import base
from freezer_api.tests.unit import helpers

ROOT = helpers.ROOT
START_COMMAND = ('python3 -m venv .venv && .venv/bin/pip install . && '
                 '.venv/bin/freezer-api')
TEST_COMMAND = 'bash tools/run-tests.sh'


def _read(name):
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


class TestReadme(base.TestCase):

    def test_one_readme(self):
        self.assertFalse(os.path.exists(os.path.join(ROOT, 'README.md')))

    def test_quick_start_commands_come_first(self):
        lines = [line.strip() for line in _read('README.rst').splitlines()]
        commands = [line for line in lines if line in (START_COMMAND,
                                                       TEST_COMMAND)]
        self.assertEqual([START_COMMAND, TEST_COMMAND], commands[:2])
        # Near the top: before the first section after the quick start.
        self.assertLess(lines.index(TEST_COMMAND),
                        lines.index('Talking to it'))

    def test_ci_runs_the_readme_test_command(self):
        self.assertIn(TEST_COMMAND, _read(os.path.join('.ci', 'run')))

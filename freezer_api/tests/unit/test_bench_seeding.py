"""The benchmark's bulk seeder stores what the database layer stores.

``tools/bench/seed_ours.py`` seeds the large project sizes by running the
layer's own write functions against a stand-in for the session. When the
layer changes how it writes, the stand-in must follow, or the seeder
silently falls back to the layer (ten times slower, and the bench's
15-minute budget is gone): this test runs its own comparison.
"""

import os
import subprocess
import sys

import fixtures
import testtools

from freezer_api.tests.unit import helpers

BENCH = os.path.join(helpers.ROOT, 'tools', 'bench')


class TestBulkSeeder(testtools.TestCase):

    def run_seeder(self, code):
        # A process of its own: the seeder configures the database layer's
        # global engine and oslo.config.
        result = subprocess.run(
            [sys.executable, '-W', 'ignore', '-c', code],
            cwd=BENCH, capture_output=True, text=True, timeout=300,
            env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                [BENCH, helpers.ROOT])))
        self.assertEqual(0, result.returncode, result.stderr[-3000:])
        return result.stdout.strip().splitlines()[-1]

    def test_bulk_writer_matches_layer(self):
        self.assertEqual("''", self.run_seeder(
            'import seed_ours; print(repr(seed_ours.bulk_matches_layer()))'),
            'the bulk writer differs from the layer')

    def test_seed_goes_through_the_bulk_writer(self):
        # The whole seeding path, on a few documents: the comparison, the
        # layer for the clients, the bulk writer without validation.
        url = 'sqlite:///' + os.path.join(
            self.useFixture(fixtures.TempDir()).path, 'seed.sqlite')
        self.assertEqual("(26, 'bulk')", self.run_seeder(
            'import seed_ours; print(repr(seed_ours.seed(%r, '
            'seed_ours.sample_items())))' % url))

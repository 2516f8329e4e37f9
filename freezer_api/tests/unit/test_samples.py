"""The sample config and policy files in etc/freezer are what the
generators make from the code (regenerate with tox -e genconfig,
tox -e genpolicy)."""

import io
import os

import fixtures
from oslo_config import cfg
from oslo_config import generator as config_generator
from oslo_policy import generator as policy_generator

from freezer_api.tests.unit import base
from freezer_api.tests.unit import helpers

ETC = helpers.ETC


def _read(name):
    with open(os.path.join(ETC, name)) as f:
        return f.read()


class TestSamples(base.TestCase):

    def test_config_sample_is_current(self):
        conf = cfg.ConfigOpts()
        config_generator.register_cli_opts(conf)
        conf(['--config-file',
              os.path.join(ETC, 'freezer-api-config-generator.conf'),
              '--output-file', os.devnull])
        output = io.StringIO()
        config_generator.generate(conf, output)
        self.assertEqual(_read('freezer-api.conf.sample'),
                         output.getvalue())

    def test_policy_sample_is_current(self):
        output = os.path.join(self.useFixture(fixtures.TempDir()).path,
                              'policy.yaml')
        policy_generator.generate_sample(
            ['--namespace', 'freezer-api', '--output-file', output],
            cfg.ConfigOpts())
        with open(output) as f:
            self.assertEqual(_read('policy.yaml.sample'), f.read())

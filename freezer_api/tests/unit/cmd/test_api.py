"""What the two ways of serving the API do before any request thread
runs: ``freezer-api`` (gunicorn) and ``freezer_api.wsgi.api`` (uWSGI,
mod_wsgi)."""

import importlib
import sys
from unittest import mock

import fixtures
from oslo_config import cfg

from freezer_api import conf as freezer_conf
from freezer_api.cmd import api as cmd_api
from freezer_api.tests.unit import base

WSGI_MODULE = 'freezer_api.wsgi.api'


class TestAnnotationsSettledBeforeServing(base.TestCase):
    """Annotations are settled (service.settle_annotations) once the
    application is built: a function loaded later would be missed."""

    def steps(self):
        steps = mock.Mock()
        for name, target in (
                ('prepare', 'freezer_api.common.service.prepare_service'),
                ('check', 'freezer_api.common.trusts.check_config'),
                ('migrate', 'freezer_api.db.migration.upgrade'),
                ('setup_app', 'freezer_api.api.app.setup_app'),
                ('settle',
                 'freezer_api.common.service.settle_annotations')):
            patcher = mock.patch(target)
            steps.attach_mock(patcher.start(), name)
            self.addCleanup(patcher.stop)
        return steps

    def called(self, steps):
        return [call[0] for call in steps.mock_calls
                if call[0] in ('setup_app', 'settle', 'serve')]

    def test_freezer_api_settles_them_before_forking(self):
        steps = self.steps()
        conf = cfg.ConfigOpts()
        freezer_conf.register_opts(conf)
        conf([], default_config_files=[])
        server = self.useFixture(
            fixtures.MockPatchObject(cmd_api, 'Server')).mock
        server.return_value.run = steps.serve
        # The test runner's stderr may be captured, without a file
        # descriptor for faulthandler.
        with mock.patch.object(cmd_api.db_impl, 'dispose_engine'), \
                mock.patch.object(cmd_api.faulthandler, 'enable'), \
                mock.patch.object(cmd_api, 'CONF', conf):
            cmd_api.main([])
        self.assertEqual(['setup_app', 'settle', 'serve'],
                         self.called(steps))

    def test_the_wsgi_module_settles_them_when_imported(self):
        steps = self.steps()
        self.addCleanup(sys.modules.pop, WSGI_MODULE, None)
        sys.modules.pop(WSGI_MODULE, None)
        module = importlib.import_module(WSGI_MODULE)
        self.assertEqual(['setup_app', 'settle'], self.called(steps))
        self.assertIs(steps.setup_app.return_value, module.application)

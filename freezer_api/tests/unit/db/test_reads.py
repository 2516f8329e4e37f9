"""The reads every resource shares (freezer_api.db.sqlalchemy.reads)."""

from unittest import mock

import fixtures
from oslo_db import exception as db_exc

from freezer_api.common import exception
from freezer_api.db import search_index
from freezer_api.db.sqlalchemy import actions
from freezer_api.db.sqlalchemy import backups
from freezer_api.db.sqlalchemy import jobs
from freezer_api.db.sqlalchemy import sessions
from freezer_api.tests.unit import base


class TestReadNames(base.DbTestCase):

    def test_a_failing_read_is_logged_under_its_own_name(self):
        """The log names the read as the facade calls it, as it did when
        every resource wrote its reads by hand."""
        ctx = self.context()
        log = self.useFixture(fixtures.FakeLogger(
            name='freezer_api.db.sqlalchemy.api'))
        reads = [(read, (ctx, 'project-a', 'some-id'), 'get_document')
                 for read in (actions.get_action, jobs.get_job,
                              sessions.get_session, backups.get_backup)]
        reads += [(read, (ctx, 'project-a', search_index.Search(), 10, 0),
                   'list_documents')
                  for read in (actions.list_actions, jobs.list_jobs,
                               sessions.list_sessions, backups.list_backups)]
        for read, args, inner in reads:
            with mock.patch('freezer_api.db.sqlalchemy.documents.' + inner,
                            side_effect=db_exc.DBError('boom')):
                self.assertRaises(exception.StorageError, read, *args)
        names = ['get_action', 'get_job', 'get_session', 'get_backup',
                 'list_actions', 'list_jobs', 'list_sessions',
                 'list_backups']
        for name in names:
            self.assertIn('Database operation %s failed' % name, log.output)

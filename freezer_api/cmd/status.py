"""``freezer-status upgrade check``: is this deployment ready for the
installed code?"""

import sys

from oslo_config import cfg
from oslo_upgradecheck import common_checks
from oslo_upgradecheck import upgradecheck

from freezer_api import conf as freezer_conf
from freezer_api.db import migration

CONF = cfg.CONF


class Checks(upgradecheck.UpgradeCommands):

    def _check_database_schema(self):
        try:
            current = migration.version(CONF.database.connection)
        except Exception as e:
            return upgradecheck.Result(
                upgradecheck.Code.FAILURE,
                'The database cannot be read: %s' % type(e).__name__)
        head = migration.head()
        if current != head:
            return upgradecheck.Result(
                upgradecheck.Code.FAILURE,
                'The database schema is at %s, the code needs %s: run '
                '"freezer-manage db sync".' % (current, head))
        return upgradecheck.Result(upgradecheck.Code.SUCCESS)

    _upgrade_checks = (
        ('Database schema', _check_database_schema),
        ('Policy File JSON to YAML Migration',
         (common_checks.check_policy_json, {'conf': CONF})),
    )


def main():
    freezer_conf.register_opts(CONF)
    return upgradecheck.main(CONF, project='freezer',
                             upgrade_command=Checks())


if __name__ == '__main__':
    sys.exit(main())

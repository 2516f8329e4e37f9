"""``freezer-manage``: database administration.

    freezer-manage [--config-file FILE] db sync      # create or upgrade
    freezer-manage [--config-file FILE] db upgrade   # the same
    freezer-manage [--config-file FILE] db version   # current revision
"""

import sys

from oslo_config import cfg
from oslo_log import log

from freezer_api.common import service
from freezer_api.db import migration

CONF = cfg.CONF
LOG = log.getLogger(__name__)


def do_db_sync():
    migration.upgrade(CONF.database.connection)
    print('Database is at revision %s' %
          migration.version(CONF.database.connection))


def do_db_version():
    print(migration.version(CONF.database.connection) or 'None')


def add_command_parsers(subparsers):
    db = subparsers.add_parser('db', help='Manage the database schema.')
    db_commands = db.add_subparsers(dest='db_command', required=True)
    for name, func, text in (
            ('sync', do_db_sync, 'Create or upgrade the schema to the '
                                 'newest revision.'),
            ('upgrade', do_db_sync, 'Same as sync.'),
            ('version', do_db_version, 'Print the schema revision.')):
        parser = db_commands.add_parser(name, help=text)
        parser.set_defaults(func=func)


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                handler=add_command_parsers,
                                help='Available commands')


def main(argv=None):
    CONF.register_cli_opt(command_opt)
    service.prepare_service(sys.argv[1:] if argv is None else argv,
                            prog='freezer-manage')
    try:
        CONF.command.func()
    except Exception as e:
        LOG.exception('freezer-manage failed')
        print('freezer-manage: %s' % e, file=sys.stderr)
        return 1
    return 0

"""``freezer-manage``: database administration.

    freezer-manage [--config-file FILE] db sync      # create or upgrade
    freezer-manage [--config-file FILE] db upgrade   # the same
    freezer-manage [--config-file FILE] db version   # current revision
    freezer-manage [--config-file FILE] db stamp REV # record REV (or head)

A failure exits non-zero with a one-line reason on stderr: 2 when the
input is wrong (a ``[database] connection`` that is not a URL, a revision
the code does not know), 1 when the database cannot be reached or fails.
The traceback goes only to the log file, if one is configured; passwords
are masked wherever the URL is repeated.
"""

import argparse
import re
import sys
import traceback

from alembic import util as alembic_util
from oslo_config import cfg
from oslo_log import log
import sqlalchemy as sa

from freezer_api.common import service
from freezer_api.common import utils
from freezer_api.db import migration

CONF = cfg.CONF
LOG = log.getLogger(__name__)

EXIT_DATABASE_ERROR = 1
EXIT_BAD_INPUT = 2

# user:password@ in anything that looks like a URL, parseable or not.
_URL_PASSWORD = re.compile(r'(//[^:/@\s]*):[^@\s]*@')


def do_db_sync(conf: cfg.ConfigOpts) -> None:
    migration.upgrade(conf.database.connection)
    print('Database is at revision %s' %
          migration.version(conf.database.connection))


def do_db_version(conf: cfg.ConfigOpts) -> None:
    print(migration.version(conf.database.connection) or 'None')


def do_db_stamp(conf: cfg.ConfigOpts) -> None:
    migration.stamp(conf.database.connection, conf.command.revision)
    print('Database is recorded at revision %s' %
          migration.version(conf.database.connection))


def add_command_parsers(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser('db', help='Manage the database schema.')
    db_commands = db.add_subparsers(dest='db_command', required=True)
    for name, func, text in (
            ('sync', do_db_sync, 'Create or upgrade the schema to the '
                                 'newest revision.'),
            ('upgrade', do_db_sync, 'Same as sync.'),
            ('version', do_db_version, 'Print the schema revision.'),
            ('stamp', do_db_stamp, 'Record a revision as the schema\'s '
                                   'without migrating.')):
        parser = db_commands.add_parser(name, help=text)
        parser.set_defaults(func=func)
        if name == 'stamp':
            parser.add_argument('revision',
                                help='A revision id, or "head".')


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                handler=add_command_parsers,
                                help='Available commands')


def redact(text: str, url: str | None) -> str:
    """``text`` without the password of ``url`` or of any URL in it."""
    try:
        password = sa.engine.make_url(url).password if url else None
    except sa.exc.ArgumentError:
        password = None
    if password:
        text = text.replace(str(password), '***')
    return _URL_PASSWORD.sub(r'\1:***@', text)


def failure(error: Exception) -> tuple[int, str]:
    """(exit code, one-line reason) for an error of a db command."""
    if isinstance(error, sa.exc.ArgumentError):
        return EXIT_BAD_INPUT, ('[database] connection is not a usable '
                                'database URL: %s' % error)
    if isinstance(error, alembic_util.CommandError):
        return EXIT_BAD_INPUT, str(error)
    if isinstance(error, sa.exc.DBAPIError):
        return EXIT_DATABASE_ERROR, ('cannot use the database: %s' %
                                     utils.error_summary(error))
    return EXIT_DATABASE_ERROR, utils.error_summary(error)


def main(argv: list[str] | None = None,
         conf: cfg.ConfigOpts | None = None) -> int:
    """Run the command in ``argv`` (default: the command line); return the
    exit code. ``conf`` defaults to the global options, tests pass their
    own."""
    conf = CONF if conf is None else conf
    conf.register_cli_opt(command_opt)
    service.prepare_service(sys.argv[1:] if argv is None else argv,
                            conf=conf, prog='freezer-manage')
    try:
        conf.command.func(conf)
    except Exception as e:
        url = conf.database.connection
        code, reason = failure(e)
        reason = redact(' '.join(reason.split()), url)
        # The traceback is for the log file only, never for the terminal.
        if (conf.log_file or conf.log_dir) and not conf.use_stderr:
            LOG.error('freezer-manage failed: %s\n%s', reason, redact(
                ''.join(traceback.format_exception(e)), url))
        print('freezer-manage: %s' % reason, file=sys.stderr)
        return code
    return 0

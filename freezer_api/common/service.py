"""Process set-up shared by the freezer-api commands."""

import logging

from oslo_config import cfg
from oslo_log import log

from freezer_api import conf as freezer_conf
from freezer_api import version
from freezer_api.common import utils

CONF = cfg.CONF
PROJECT = 'freezer'
PROG = 'freezer-api'


def prepare_service(argv: list[str] | None = None,
                    conf: cfg.ConfigOpts = CONF,
                    prog: str = PROG) -> cfg.ConfigOpts:
    """Parse the command line and config files, and set up logging.

    Config files are looked up like the original service's: freezer-api.conf
    in ~/.freezer, ~, /etc/freezer and /etc, unless --config-file is given.
    """
    freezer_conf.register_opts(conf)
    log.register_options(conf)
    conf(argv, project=PROJECT, prog=prog,
         version=version.version_string(),
         default_config_files=cfg.find_config_files(PROJECT, PROG))
    log.setup(conf, prog)
    for handler in logging.getLogger().handlers:
        handler.addFilter(OneLineLibraryErrors())
    return conf


class OneLineLibraryErrors(logging.Filter):
    """Log the database libraries' errors in one line, without traceback.

    During a database outage SQLAlchemy's pool logs every connection it
    fails to reset or close, and oslo.db every error it wraps or gives up
    retrying, each with a traceback: hundreds of tracebacks that say
    nothing the request's own one-line warning does not. Their records
    keep their text and gain the exception's first line; the pool's drop
    to WARNING, the outage itself being logged once at ERROR.
    """

    LIBRARIES = ('sqlalchemy.pool', 'oslo_db')

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or not record.name.startswith(
                self.LIBRARIES):
            return True
        record.msg = '%s: %s' % (record.getMessage(),
                                 utils.error_summary(record.exc_info[1]))
        record.args = None
        record.exc_info = record.exc_text = None
        if record.name.startswith('sqlalchemy.pool') and \
                record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, 'WARNING'
        return True

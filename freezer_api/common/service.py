"""Process set-up shared by the freezer-api commands."""

import gc
import logging
import types

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


def settle_annotations() -> int:
    """Turn the annotations of every function loaded so far into the
    dict they become when first read; call it before workers fork.

    CPython up to 3.13 keeps a function's annotations as a tuple until
    they are first read. If a garbage collection runs while that tuple
    is turned into a dict and lets another thread read the same
    annotations, the tuple is freed under the first reader: wrong
    annotations, or a worker killed by SIGSEGV. oslo.policy reads the
    annotations of its checks' ``__call__`` on every enforcement (and
    pecan those of the controllers), so a new worker's first
    concurrent requests could crash it, dropping their connections.
    Read once here, in the parent, they are dicts in every worker.

    :returns: the number of functions looked at.
    """
    functions = [obj for obj in gc.get_objects()
                 if isinstance(obj, types.FunctionType)]
    for function in functions:
        function.__annotations__  # noqa: B018 (reading it is the point)
    return len(functions)


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

"""Process set-up shared by the freezer-api commands."""

from oslo_config import cfg
from oslo_log import log

from freezer_api import conf as freezer_conf
from freezer_api import version

CONF = cfg.CONF
PROJECT = 'freezer'
PROG = 'freezer-api'


def prepare_service(argv=None, conf=CONF, prog=PROG):
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
    return conf

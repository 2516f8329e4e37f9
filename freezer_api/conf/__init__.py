"""freezer-api configuration: one module per option group."""

from oslo_config import cfg

from freezer_api.conf import api
from freezer_api.conf import centralized
from freezer_api.conf import default
from freezer_api.conf import history
from freezer_api.conf import opts

CONF = cfg.CONF


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every option freezer-api reads on ``conf``."""
    default.register_opts(conf)
    api.register_opts(conf)
    centralized.register_opts(conf)
    history.register_opts(conf)
    opts.register_lib_opts(conf)


opts.set_lib_defaults()
register_opts(CONF)

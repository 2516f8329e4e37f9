"""Entry points for oslo-config-generator.

The [database], [keystone_authtoken], [oslo_policy], [oslo_middleware],
[cors], [healthcheck] and logging options belong to their libraries and are
listed through those libraries' own namespaces (see
etc/freezer/freezer-api-config-generator.conf); only their defaults that we
change are set here.
"""

from oslo_config import cfg
from oslo_db import options as db_options
from oslo_log import log
from oslo_middleware import cors
from oslo_middleware.healthcheck import opts as healthcheck_opts

from freezer_api.conf import api
from freezer_api.conf import centralized
from freezer_api.conf import database
from freezer_api.conf import default
from freezer_api.conf import history

# The healthcheck also reports whether the database answers.
HEALTHCHECK_BACKENDS = ['freezer_database']

EXTRA_LOG_LEVELS = ['keystonemiddleware=WARN', 'pecan=WARN', 'alembic=WARN',
                    'gunicorn.access=WARN']


def list_opts() -> list[tuple[str | cfg.OptGroup, list[cfg.Opt]]]:
    """Every option freezer-api itself defines, by group."""
    return [
        ('DEFAULT', default.list_opts()),
        (api.api_group, api.opts),
        (centralized.centralized_group, centralized.opts),
        (history.history_group, history.opts),
    ]


def set_lib_defaults() -> None:
    """Set the defaults freezer-api chooses for library options.

    They are set on the option objects themselves, so that both the
    service and oslo-config-generator's sample show them.
    """
    cors.set_defaults(
        allow_headers=['X-Auth-Token', 'X-Openstack-Request-Id',
                       'X-Project-Id', 'X-User-Id', 'X-Roles',
                       'Content-Type', 'If-Match'],
        expose_headers=['X-Openstack-Request-Id', 'ETag'],
        allow_methods=['GET', 'PUT', 'POST', 'DELETE', 'PATCH'])
    cfg.set_defaults(db_options.database_opts,
                     connection=database.DEFAULT_CONNECTION)
    cfg.set_defaults(healthcheck_opts.HEALTHCHECK_OPTS,
                     backends=HEALTHCHECK_BACKENDS)
    log.set_defaults(default_log_levels=(log.get_default_log_levels() +
                                         EXTRA_LOG_LEVELS))


def register_lib_opts(conf: cfg.ConfigOpts) -> None:
    """Register the library options we read before their middleware does."""
    conf.register_opts(db_options.database_opts, group='database')
    conf.register_opts(healthcheck_opts.HEALTHCHECK_OPTS, group='healthcheck')

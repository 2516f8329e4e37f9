"""Options of the [DEFAULT] group."""

from oslo_config import cfg

AUTH_STRATEGIES = ('keystone', 'noauth')

# Also command-line options (--bind-host, --bind-port) of "freezer-api".
cli_opts = [
    cfg.HostAddressOpt(
        'bind-host', default='127.0.0.1',
        help='Address the "freezer-api" server listens on. A WSGI server '
             'such as uWSGI or mod_wsgi has its own setting.'),
    cfg.PortOpt(
        'bind-port', default=9090,
        help='TCP port the "freezer-api" server listens on.'),
]

opts = [
    cfg.StrOpt(
        'auth_strategy', default='noauth', choices=AUTH_STRATEGIES,
        help='How callers are authenticated. "keystone" validates tokens '
             'with keystonemiddleware auth_token (configure '
             '[keystone_authtoken]); use it in production. "noauth" trusts '
             'the X-User-Id, X-Project-Id and X-Roles headers, defaulting to '
             'user "noauth" with roles member,reader in the project of the '
             'URL: only for a developer or a single trusted host.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_cli_opts(cli_opts)
    conf.register_opts(opts)


def list_opts() -> list[cfg.Opt]:
    return cli_opts + opts

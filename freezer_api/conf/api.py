"""Options of the [api] group: the HTTP API and its server."""

import os

from oslo_config import cfg

api_group = cfg.OptGroup(
    'api', title='API options',
    help='Options for the HTTP API and the server run by "freezer-api".')

opts = [
    cfg.IntOpt(
        'max_limit', default=1000, min=1,
        help='The largest number of items a list request returns; a larger '
             '"limit" query parameter is reduced to this value.'),
    cfg.IntOpt(
        'default_limit', default=10, min=1,
        help='Number of items a list request returns when it gives no '
             '"limit" (or limit=0).'),
    cfg.IntOpt(
        'workers', min=1, sample_default='<number of CPUs>',
        help='Number of worker processes of the "freezer-api" server; by '
             'default, one per CPU of the host.'),
    cfg.IntOpt(
        'threads', default=8, min=1,
        help='Number of request threads in each worker process of the '
             '"freezer-api" server.'),
    cfg.IntOpt(
        'client_socket_timeout', default=60, min=1,
        help='Seconds an idle keep-alive client connection is kept open by '
             'the "freezer-api" server.'),
    cfg.BoolOpt(
        'auto_migrate', default=True,
        help='Create or upgrade the database schema when "freezer-api" '
             'starts. Turn it off when several API hosts share one database '
             'and "freezer-manage db sync" is run by the deployment tool.'),
]


def workers(conf: cfg.ConfigOpts) -> int:
    """The worker processes to run: ``[api] workers``, or one per CPU."""
    return conf.api.workers or os.cpu_count() or 1


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(api_group)
    conf.register_opts(opts, group=api_group)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {api_group: opts}

"""Options of the [centralized_scheduler] group: Keystone trusts that let
a central freezer-scheduler run the jobs of every project."""

from oslo_config import cfg

centralized_group = cfg.OptGroup(
    'centralized_scheduler', title='Centralized scheduler options',
    help='A central freezer-scheduler (a client registered with '
         '"is_central": true, running as a service user) runs the jobs of '
         'every project through a Keystone trust that the API makes, when '
         'a job is created, from the job\'s creator to that service user. '
         'Only with [DEFAULT] auth_strategy = keystone: in noauth mode no '
         'trust is made.')

opts = [
    cfg.BoolOpt(
        'enabled', default=True,
        help='Make a trust for every job created for a central client.'),
    cfg.BoolOpt(
        'enforce_trusts', default=False,
        help='Make a trust for every job created, whatever its client.'),
    cfg.StrOpt(
        'auth_section', default='keystone_authtoken',
        help='The config section of the keystoneauth options (auth_type, '
             'auth_url, credentials) of the service user the trusts are '
             'given to (the trustee): the user the central scheduler runs '
             'as.'),
    cfg.ListOpt(
        'trusts_delegated_roles', default=['member'],
        help='Names of the roles a trust delegates on the job\'s project; '
             'the job\'s creator must hold them. Empty: the roles the '
             'creator holds on the project.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(centralized_group)
    conf.register_opts(opts, group=centralized_group)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {centralized_group: opts}

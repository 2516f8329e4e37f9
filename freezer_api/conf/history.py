"""Options of the [history] group: the runs the service derives from the
scheduler's status reports, and how long it keeps them."""

from oslo_config import cfg

history_group = cfg.OptGroup(
    'history', title='Run history options',
    help='Each time freezer-scheduler reports a job as running, and then as '
         'no longer running, the service records a run of the job (see '
         'GET /v2/{project_id}/runs).')

opts: list[cfg.Opt] = [
    cfg.IntOpt(
        'retention_days', default=90, min=1,
        help='Days a run is kept after it ended. Older runs are deleted a '
             'few at a time (prune_batch) whenever a new run of their '
             'project starts.'),
    cfg.IntOpt(
        'prune_batch', default=10, min=1,
        help='The most runs past retention_days deleted when a run starts: '
             'pruning stays a small part of the scheduler\'s status '
             'report.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(history_group)
    conf.register_opts(opts, group=history_group)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {history_group: opts}

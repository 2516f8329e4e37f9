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
        'grace', default=900, min=0,
        help='Seconds a job may be late before its health says "overdue": '
             'a job due by its schedule that has not started this long '
             'after. Allow for the scheduler\'s poll interval (a job is '
             'armed when it is first polled).'),
    cfg.IntOpt(
        'client_timeout', default=300, min=1,
        help='Seconds after its last poll for jobs that a client (a '
             'freezer-scheduler) is "online"; until three times this it is '
             '"stale", and "offline" after that, or when it never polled.'),
    cfg.IntOpt(
        'run_timeout', default=86400, min=1,
        help='Seconds a run may last. A longer run is "running-too-long" '
             'in its job\'s health; a run whose client has not polled for '
             'this long is "lost" (its agent or host went away).'),
    cfg.StrOpt(
        'scheduler_timezone', default='UTC',
        help='The time zone (an IANA name such as "Europe/Berlin") the '
             'freezer-schedulers run in: their cron fields and dates '
             'without an offset are read in it, as they read them.'),
    cfg.IntOpt(
        'sweep_interval', default=60, min=1,
        help='Seconds between two looks, by each API process, for what no '
             'request reports: runs that became lost, runs missed (jobs '
             'overdue) and clients gone offline, told as the run.lost, '
             'run.missed and client.offline notifications (each once, '
             'whichever process sees it first). Only when notifications '
             'are sent ([oslo_messaging_notifications] driver).'),
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

"""Policy default for /metrics."""

from freezer_api.common.policies import base

rules = [
    base.ProjectRule('metrics:get', 'rule:context_is_admin',
                     'Scrape the metrics for Prometheus: the health of '
                     'every project\'s jobs, runs and clients, and this '
                     'API process\'s requests.'),
]

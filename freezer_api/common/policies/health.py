"""Policy defaults for /v2/{project_id}/health and a job's health."""

from freezer_api.common.policies import base

rules = [
    base.ProjectRule('health:get_all', base.ADMIN_OR_READER_OR_SERVICE,
                     'Show the health of a project\'s jobs (state, next due '
                     'run, last success, failures in a row) and whether its '
                     'clients still poll.'),
    base.ProjectRule('health:get', base.ADMIN_OR_READER_OR_SERVICE,
                     'Show the health of one job.'),
]

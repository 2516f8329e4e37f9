"""Policy defaults for /v2/{project_id}/runs and a job's runs."""

from freezer_api.common.policies import base

rules = [
    base.ProjectRule('runs:get_all', base.ADMIN_OR_READER_OR_SERVICE,
                     'List and search the runs of a project\'s jobs, or of '
                     'one job, newest first.'),
    base.ProjectRule('runs:get', base.ADMIN_OR_READER_OR_SERVICE,
                     'Show a run of a job.'),
]

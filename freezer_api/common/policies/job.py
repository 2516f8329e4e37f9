"""Policy defaults for /v2/{project_id}/jobs."""

from freezer_api.common.policies import base

rules = [
    base.ProjectRule('jobs:get_all', base.ADMIN_OR_READER_OR_SERVICE,
                     'List and search the jobs of a project.'),
    base.ProjectRule('jobs:get_all_projects', base.ADMIN_OR_SERVICE,
                     'List or show jobs of every project: a list or show '
                     'with all_projects=true is not limited to the project '
                     'of the URL.'),
    base.ProjectRule('jobs:create', base.ADMIN_OR_OWNER,
                     'Create a job, or create or replace one with a chosen '
                     'id.'),
    base.ProjectRule('jobs:get', base.ADMIN_OR_READER_OR_SERVICE,
                     'Show a job.'),
    base.ProjectRule('jobs:update', base.ADMIN_OR_OWNER,
                     'Update a job with a merge patch (freezer-scheduler '
                     'reports the job state this way).'),
    base.ProjectRule('jobs:delete', base.ADMIN_OR_OWNER,
                     'Delete a job.'),
    base.ProjectRule('jobs:event:create', base.ADMIN_OR_OWNER,
                     'Ask the scheduler to start, stop or abort a job.'),
]

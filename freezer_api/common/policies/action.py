"""Policy defaults for /v2/{project_id}/actions."""

from freezer_api.common.policies import base

rules = [
    base.ProjectRule('actions:get_all', base.ADMIN_OR_READER_OR_SERVICE,
                     'List and search the actions of a project.'),
    base.ProjectRule('actions:create', base.ADMIN_OR_OWNER,
                     'Create an action.'),
    base.ProjectRule('actions:get', base.ADMIN_OR_READER_OR_SERVICE,
                     'Show an action.'),
    base.ProjectRule('actions:update', base.ADMIN_OR_OWNER,
                     'Update an action with a merge patch.'),
    base.ProjectRule('actions:replace', base.ADMIN_OR_OWNER,
                     'Create or replace an action with a chosen id.'),
    base.ProjectRule('actions:delete', base.ADMIN_OR_OWNER,
                     'Delete an action and unlink it from the jobs of its '
                     'project.'),
]

"""Policy defaults for /v2/{project_id}/sessions."""

from freezer_api.common.policies import base

rules = [
    base.ProjectRule('sessions:get_all', base.ADMIN_OR_READER_OR_SERVICE,
                     'List and search the sessions of a project.'),
    base.ProjectRule('sessions:create', base.ADMIN_OR_OWNER,
                     'Create a session.'),
    base.ProjectRule('sessions:get', base.ADMIN_OR_READER_OR_SERVICE,
                     'Show a session.'),
    base.ProjectRule('sessions:update', base.ADMIN_OR_OWNER,
                     'Update a session with a merge patch.'),
    base.ProjectRule('sessions:replace', base.ADMIN_OR_OWNER,
                     'Create or replace a session with a chosen id.'),
    base.ProjectRule('sessions:delete', base.ADMIN_OR_OWNER,
                     'Delete a session.'),
    base.ProjectRule('sessions:action:create', base.ADMIN_OR_OWNER,
                     'Start or end a job of a session (freezer-scheduler).'),
    base.ProjectRule('sessions:job:add', base.ADMIN_OR_OWNER,
                     'Add a job to a session.'),
    base.ProjectRule('sessions:job:remove', base.ADMIN_OR_OWNER,
                     'Remove a job from a session.'),
]

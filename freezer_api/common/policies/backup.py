"""Policy defaults for /v2/{project_id}/backups."""

from freezer_api.common.policies import base

rules = [
    base.ProjectRule('backups:get_all', base.ADMIN_OR_READER_OR_SERVICE,
                     'List and search the backup records of a project.'),
    base.ProjectRule('backups:create', base.ADMIN_OR_OWNER_OR_SERVICE,
                     'Record a backup (freezer-scheduler does this after '
                     'freezer-agent ran one).'),
    base.ProjectRule('backups:get', base.ADMIN_OR_READER_OR_SERVICE,
                     'Show a backup record.'),
    base.ProjectRule('backups:update', base.ADMIN_OR_OWNER_OR_SERVICE,
                     'Change the status of a backup record or merge into '
                     'its metadata.'),
    base.ProjectRule('backups:delete', base.ADMIN_OR_OWNER_OR_SERVICE,
                     'Delete a backup record.'),
]

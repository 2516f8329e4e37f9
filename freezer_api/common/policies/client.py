"""Policy defaults for /v2/{project_id}/clients."""

from freezer_api.common.policies import base

rules = [
    base.ProjectRule('clients:get_all', base.ADMIN_OR_READER_OR_SERVICE,
                     'List and search the clients of a project and the '
                     'central clients.'),
    base.ProjectRule('clients:create', base.ADMIN_OR_OWNER,
                     'Register or re-register a client (freezer-scheduler '
                     'does this when it starts).'),
    base.ProjectRule('clients:create_central', base.ADMIN_OR_SERVICE,
                     'Register a central client, which every project sees '
                     'and can run jobs on (checked in addition to '
                     'clients:create).'),
    base.ProjectRule('clients:get', base.ADMIN_OR_READER_OR_SERVICE,
                     'Show a client.'),
    base.ProjectRule('clients:delete', base.ADMIN_OR_OWNER,
                     'Delete a client of the project.'),
]

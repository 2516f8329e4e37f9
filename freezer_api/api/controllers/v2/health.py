"""/v2/{project_id}/health: whether the project's backups happen: each
job's state, when it is due and its last success, and whether its
clients still poll (read only)."""

import pecan

from freezer_api.api import method
from freezer_api.api.controllers import routing
from freezer_api.api.controllers.v2 import base
from freezer_api.api.controllers.v2 import route_tables
from freezer_api.api.schemas.v2 import common
from freezer_api.db import api as db_api


class HealthController(routing.RoutedController):

    routes = route_tables.HEALTH

    @method.reply(body=common.SEARCH)
    def list(self) -> method.Document:
        ctx, project_id = base.authorize()
        limit, offset = method.paging()
        jobs = db_api.list_job_health(ctx, project_id, method.search_body(),
                                      limit, offset)
        clients = db_api.list_client_health(
            ctx, project_id, pecan.request.cfg.api.max_limit)
        return {'jobs': jobs, 'clients': clients}

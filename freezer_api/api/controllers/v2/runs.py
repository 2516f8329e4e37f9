"""/v2/{project_id}/runs: the history of the jobs' runs, as the service
derives it from what freezer-scheduler reports (read only)."""

from freezer_api.api import method
from freezer_api.api.controllers import routing
from freezer_api.api.controllers.v2 import base
from freezer_api.api.controllers.v2 import jobs
from freezer_api.api.controllers.v2 import route_tables
from freezer_api.api.schemas.v2 import common
from freezer_api.db import api as db_api


class RunsController(routing.RoutedController):

    routes = route_tables.RUNS

    @method.reply(body=common.SEARCH)
    def list(self) -> method.Document:
        ctx, project_id = base.authorize()
        limit, offset = method.paging()
        return {'runs': jobs.shown_runs(ctx, project_id, db_api.list_runs(
            ctx, project_id, method.search_body(), limit, offset))}

    @method.reply()
    def show(self, run_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        document = db_api.get_run(ctx, project_id, run_id)
        return method.set_etag(jobs.shown_runs(ctx, project_id, [document])[0])

"""``/v2`` (the JSON-home document), ``/v2/openapi.json`` and
``/v2/{project_id}/<resource>``."""

from collections.abc import Callable
import re
import typing

import pecan

from freezer_api.api import hooks
from freezer_api.api import openapi
from freezer_api.api.controllers import routing
from freezer_api.api.controllers.v2 import actions
from freezer_api.api.controllers.v2 import backups
from freezer_api.api.controllers.v2 import clients
from freezer_api.api.controllers.v2 import health
from freezer_api.api.controllers.v2 import homedoc
from freezer_api.api.controllers.v2 import jobs
from freezer_api.api.controllers.v2 import runs
from freezer_api.api.controllers.v2 import sessions
from freezer_api.api.routes import NO_POLICY
from freezer_api.api.routes import Route
from freezer_api.common import exception

PROJECT_ID = re.compile(r'[\w-]{1,255}')


class V2Controller(routing.RoutedController):

    # The routes without a project. Their single segments cannot be taken
    # for a project id: a request with fewer than two segments never is.
    routes = [
        Route((), {'GET': 'home'}, rules={'GET': NO_POLICY}),
        Route(('openapi.json',), {'GET': 'openapi'}, 'openapi',
              rules={'GET': NO_POLICY}),
    ]
    project_id_pattern = PROJECT_ID

    resources = {
        'actions': actions.ActionsController(),
        'jobs': jobs.JobsController(),
        'sessions': sessions.SessionsController(),
        'clients': clients.ClientsController(),
        'backups': backups.BackupsController(),
        'runs': runs.RunsController(),
        'health': health.HealthController(),
    }

    def __init__(self) -> None:
        self.openapi_document = openapi.Document(self)
        self.home_document = homedoc.render(self)

    @pecan.expose()
    def _route(self, args: list[str], request: pecan.Request | None = None
               ) -> tuple[Callable[..., typing.Any], list[str]]:
        request = request or pecan.request
        segments = [a for a in args if a]
        if len(segments) < 2:
            return super()._route(segments, request)
        if segments[1] not in self.resources:
            raise exception.NotFound()
        project_id = segments[0]
        if not PROJECT_ID.fullmatch(project_id):
            raise exception.NotFound()
        ctx = hooks.request_context()
        if request.context.get('noauth') and not ctx.project_id:
            # noauth without X-Project-Id: the caller acts in the URL's
            # project (SPEC "Identity without Keystone").
            ctx.project_id = project_id
        request.context['project_id'] = project_id
        return self.resources[segments[1]]._route(segments[2:], request)

    def home(self) -> str:
        pecan.request.pecan['content_type'] = 'application/json-home'
        return self.home_document

    def openapi(self) -> str:
        pecan.request.pecan['content_type'] = 'application/json'
        return self.openapi_document.text

"""``/v2``: the JSON-home document, and ``/v2/{project_id}/...``."""

import re

import pecan
from pecan import rest

from freezer_api.api.controllers.v2 import actions
from freezer_api.api.controllers.v2 import homedoc
from freezer_api.api import hooks
from freezer_api.common import exception

PROJECT_ID = re.compile(r'^[\w-]{1,255}$')


class ProjectController:
    """The resources of one project."""

    actions = actions.ActionsController()


class V2Controller(rest.RestController):

    @pecan.expose(content_type='application/json-home')
    def get_all(self, **kwargs):
        return homedoc.render()

    @pecan.expose()
    def _lookup(self, project_id, *remainder):
        if not PROJECT_ID.match(project_id):
            raise exception.NotFound()
        ctx = hooks.request_context()
        if pecan.request.context.get('noauth') and not ctx.project_id:
            # noauth without X-Project-Id: the caller acts in the URL's
            # project (SPEC "Identity without Keystone").
            ctx.project_id = project_id
        pecan.request.context['project_id'] = project_id
        return ProjectController(), remainder

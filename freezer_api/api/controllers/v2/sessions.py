"""/v2/{project_id}/sessions: jobs started and ended together."""

from freezer_api.api.controllers import routing


class SessionsController(routing.RoutedController):

    routes = []

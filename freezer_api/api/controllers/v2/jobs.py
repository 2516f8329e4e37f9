"""/v2/{project_id}/jobs: scheduled lists of actions for a client."""

from freezer_api.api.controllers import routing


class JobsController(routing.RoutedController):

    routes = []

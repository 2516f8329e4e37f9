"""/v2/{project_id}/clients: registered freezer-schedulers and what they
can do."""

from freezer_api.api.controllers import routing


class ClientsController(routing.RoutedController):

    routes = []

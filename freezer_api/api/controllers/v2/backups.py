"""/v2/{project_id}/backups: metadata records of the backups made."""

from freezer_api.api.controllers import routing


class BackupsController(routing.RoutedController):

    routes = []

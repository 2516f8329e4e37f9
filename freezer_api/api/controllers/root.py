"""GET / (the versions document) and the /v2 mount point."""

import pecan
from pecan import rest

from freezer_api.api import method
from freezer_api.api.controllers.v2 import root as v2_root

# When the v2 API was declared stable; clients only echo it.
V2_UPDATED = '2018-02-21T13:30:00'


def versions_document():
    """The versions document, with links built from this request's URL."""
    base = pecan.request.application_url.rstrip('/')
    return {'versions': [{
        'id': 'v2',
        'status': 'CURRENT',
        'updated': V2_UPDATED,
        'links': [{'href': base + '/v2/', 'rel': 'self'}],
    }]}


class RootController(rest.RestController):
    """``/``: lists the API versions (300 Multiple Choices), no auth."""

    v2 = v2_root.V2Controller()

    @method.expose(status=300)
    def get_all(self, **kwargs):
        return versions_document()

"""``/`` (the versions document, no auth), ``/metrics`` (for
Prometheus) and the ``/v2`` mount point."""

from collections.abc import Callable
import typing

import pecan

from freezer_api.api import hooks
from freezer_api.api import method
from freezer_api.api import metrics
from freezer_api.api.controllers import routing
from freezer_api.api.controllers.v2 import root as v2_root
from freezer_api.api.controllers.v2 import route_tables
from freezer_api.api.routes import NO_POLICY
from freezer_api.api.routes import Route
from freezer_api.common import policy

# When the v2 API was declared stable; clients only echo it.
V2_UPDATED = '2018-02-21T13:30:00'


def versions_document() -> method.Document:
    """The versions document, with links built from this request's URL."""
    base = pecan.request.application_url.rstrip('/')
    return {'versions': [{
        'id': 'v2',
        'status': 'CURRENT',
        'updated': V2_UPDATED,
        'links': [{'href': base + '/v2/', 'rel': 'self'}],
    }]}


class RootController(routing.RoutedController):

    routes = [Route((), {'GET': 'versions'}, rules={'GET': NO_POLICY}),
              *route_tables.SERVICE]
    v2 = v2_root.V2Controller()

    @pecan.expose()
    def _route(self, args: list[str], request: pecan.Request | None = None
               ) -> tuple[Callable[..., typing.Any], list[str]]:
        segments = [a for a in args if a]
        if segments and segments[0] == 'v2':
            return self.v2._route(segments[1:], request)
        return super()._route(segments, request)

    @method.reply(status=300)
    def versions(self) -> method.Document:
        return versions_document()

    def metrics(self) -> str:
        request = pecan.request
        ctx = hooks.request_context()
        # Of every project: the caller's own project is the target.
        policy.authorize(request.context['route'].rule('GET'), ctx,
                         ctx.project_id)
        request.pecan['content_type'] = metrics.CONTENT_TYPE
        return metrics.render(ctx).decode('utf-8')

"""Explicit routing for our controllers.

A controller declares its routes as a table of ``Route``
(``freezer_api/api/routes.py``, data without Pecan): for each path
pattern, the handler method of each HTTP method, the relation name
JSON-home gives the path, the query parameters of its href template and
the policy rule each method is authorized with, e.g.::

    WIDGETS = [
        Route((), {'GET': 'list', 'POST': 'create'}, 'widgets',
              query=PAGING,
              rules={'GET': 'widgets:get_all', 'POST': 'widgets:create'}),
        Route((ID,), {'GET': 'show', 'PATCH': 'update',
                      'DELETE': 'delete'}, 'widget',
              rules={'GET': 'widgets:get', 'PATCH': 'widgets:update',
                     'DELETE': 'widgets:delete'}),
        Route((ID, 'event'), {'POST': 'event'}, 'widget_event',
              rules={'POST': 'widgets:event:create'}),
    ]

The tables of the resources under /v2/{project_id} are in
``v2/route_tables.py``; a controller's ``routes`` names its table.

This table is the one list of routes: dispatch (``resolve``), the
JSON-home document (``v2/homedoc.py``), the OpenAPI document
(``api/openapi.py``), the ``operations`` of the policy rules
(``common/policies``, through ``routes.rule_operations``) and the RBAC
matrix's coverage test all read it. The policy rule of a route and
method is written once, in the table: a method without one is refused
when the table is built (``NO_POLICY`` says so on purpose, for the
documents outside any project), and a handler's first call,
``base.authorize()``, checks the rule of the route being served. A
handler's success status and request schema stay on its
``method.reply(status=..., body=...)``.

Ids in the path become the handler's positional arguments. Nothing is
taken from the body or the query string: Pecan's habit of filling named
arguments from them is bypassed. An unknown path is 404, a known path with
another method 405 with ``Allow``.
"""

from collections.abc import Callable
import typing

import pecan

from freezer_api.api.routes import ID
from freezer_api.api.routes import Pattern
from freezer_api.api.routes import Route
from freezer_api.common import exception


def _match(pattern: Pattern, segments: list[str]) -> list[str] | None:
    if len(pattern) != len(segments):
        return None
    ids = []
    for expected, segment in zip(pattern, segments, strict=True):
        if expected is ID:
            ids.append(segment)
        elif expected != segment:
            return None
    return ids


class RoutedController:
    """Base for controllers that route with a ``routes`` table."""

    routes: typing.ClassVar[list[Route]] = []

    def resolve(self, method: str, segments: list[str]
                ) -> tuple[Callable[..., typing.Any], list[str],
                           Route | None]:
        """(bound handler, ids, route) for a request, or the right error;
        the route is None for OPTIONS, which no handler answers."""
        for route in self.routes:
            methods = route.methods
            ids = _match(route.pattern, segments)
            if ids is None:
                continue
            allow = ', '.join(sorted(methods))
            if method == 'OPTIONS':
                return _options(allow), [], None
            if method not in methods:
                error = exception.MethodNotAllowed(method=method)
                error.headers = {'Allow': allow}
                raise error
            return getattr(self, methods[method]), ids, route
        raise exception.NotFound()

    @pecan.expose()
    def _route(self, args: list[str], request: pecan.Request | None = None
               ) -> tuple[Callable[..., typing.Any], list[str]]:
        request = request or pecan.request
        segments = [a for a in args if a]
        handler, ids, route = self.resolve(request.method, segments)
        request.context['handler'] = (handler, ids)
        # What the handler's authorize() reads its rule from.
        request.context['route'] = route
        return self._invoke, []

    @pecan.expose(content_type='application/json')
    def _invoke(self, *args: typing.Any, **kwargs: typing.Any) -> typing.Any:
        handler, ids = pecan.request.context['handler']
        return handler(*ids)


def _options(allow: str) -> Callable[[], str]:
    def options() -> str:
        pecan.response.status = 200
        pecan.response.headers['Allow'] = allow
        pecan.response.content_type = None
        return ''
    return options

"""Explicit routing for our controllers.

A controller declares its routes as a table of path patterns and the
handler method for each HTTP method, e.g.::

    routes = [
        ((), {'GET': 'list', 'POST': 'create'}),
        ((ID,), {'GET': 'show', 'PATCH': 'update', 'DELETE': 'delete'}),
        ((ID, 'event'), {'POST': 'event'}),
    ]

Ids in the path become the handler's positional arguments. Nothing is
taken from the body or the query string: Pecan's habit of filling named
arguments from them is bypassed. An unknown path is 404, a known path with
another method 405 with ``Allow``.
"""

from collections.abc import Callable
import typing

import pecan

from freezer_api.common import exception

ID = object()

# A path pattern: literal segments and ID, which matches any segment.
Pattern = tuple[typing.Any, ...]
# A route: a path pattern and its handler's name for each HTTP method.
Route = tuple[Pattern, dict[str, str]]


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

    routes: list[Route] = []

    def resolve(self, method: str, segments: list[str]
                ) -> tuple[Callable[..., typing.Any], list[str]]:
        """(bound handler, ids) for a request, or the right error."""
        for pattern, methods in self.routes:
            ids = _match(pattern, segments)
            if ids is None:
                continue
            allow = ', '.join(sorted(methods))
            if method == 'OPTIONS':
                return _options(allow), []
            if method not in methods:
                error = exception.MethodNotAllowed(method=method)
                error.headers = {'Allow': allow}
                raise error
            return getattr(self, methods[method]), ids
        raise exception.NotFound()

    @pecan.expose()
    def _route(self, args: list[str], request: pecan.Request | None = None
               ) -> tuple[Callable[..., typing.Any], list[str]]:
        request = request or pecan.request
        segments = [a for a in args if a]
        handler, ids = self.resolve(request.method, segments)
        request.context['handler'] = (handler, ids)
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

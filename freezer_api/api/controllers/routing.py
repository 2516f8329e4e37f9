"""Explicit routing for our controllers.

A controller declares its routes as a table: for each path pattern, the
handler method of each HTTP method, the relation name JSON-home gives the
path and the query parameters of its href template, e.g.::

    routes = [
        Route((), {'GET': 'list', 'POST': 'create'}, 'widgets',
              query=PAGING),
        Route((ID,), {'GET': 'show', 'PATCH': 'update',
                      'DELETE': 'delete'}, 'widget'),
        Route((ID, 'event'), {'POST': 'event'}, 'widget_event'),
    ]

This table is the one list of routes: dispatch (``resolve``), the
JSON-home document (``v2/homedoc.py``), the OpenAPI document
(``api/openapi.py``) and the RBAC matrix's coverage test all read it. A
handler's success status and request schema stay on its
``method.reply(status=..., body=...)``, its policy rule in its
``authorize(rule)`` call (a unit test checks that rule documents the
route's path and method).

Ids in the path become the handler's positional arguments. Nothing is
taken from the body or the query string: Pecan's habit of filling named
arguments from them is bypassed. An unknown path is 404, a known path with
another method 405 with ``Allow``.
"""

from collections.abc import Callable
from collections.abc import Iterator
import dataclasses
import typing

import pecan

from freezer_api.common import exception

ID = object()

# A path pattern: literal segments and ID, which matches any segment.
Pattern = tuple[typing.Any, ...]
# The query parameters of a paged list.
PAGING = ('limit', 'offset')


@dataclasses.dataclass(frozen=True)
class Route:
    """One path of a controller and what is known of it.

    :param pattern: literal segments and ID.
    :param methods: HTTP method -> the handler's name.
    :param relation: the JSON-home relation name (the reference service's,
        which the upstream tempest plugin looks up), or None for a path
        JSON-home does not list.
    :param query: the query parameters of the JSON-home href template.
    """

    pattern: Pattern
    methods: dict[str, str]
    relation: str | None = None
    query: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[typing.Any]:
        """Unpack as ``(pattern, methods)``: code that needs only the path
        and the handlers reads a route as the pair it used to be."""
        return iter((self.pattern, self.methods))


def path_segments(pattern: Pattern, resource: str) -> list[str]:
    """The segments of ``pattern`` under ``resource``, each ID as a
    ``{<singular>_id}`` variable named after the segment before it, e.g.
    ``(ID, 'jobs', ID)`` under 'sessions' is ``['sessions',
    '{session_id}', 'jobs', '{job_id}']``."""
    segments = [resource]
    for segment in pattern:
        if segment is ID:
            segments.append('{%s_id}' % singular(segments[-1]))
        else:
            segments.append(segment)
    return segments


def singular(plural: str) -> str:
    """'jobs' -> 'job'; a name without a final s is kept."""
    return plural[:-1] if plural.endswith('s') else plural


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
                ) -> tuple[Callable[..., typing.Any], list[str]]:
        """(bound handler, ids) for a request, or the right error."""
        for route in self.routes:
            methods = route.methods
            ids = _match(route.pattern, segments)
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

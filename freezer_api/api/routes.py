"""The routes of the API as data: the ``Route`` of a path and what is
known of it (its handlers, the JSON-home relation, the policy rule of
each method), and what is derived from routes alone (paths, the
operations each policy rule guards).

No web framework here: the policy defaults (``freezer_api.common.policies``)
read the route tables to document their operations in oslo.policy's
tools, which must not load Pecan and the controllers for that.
Dispatch is ``freezer_api/api/controllers/routing.py``.
"""

from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
import dataclasses
import typing

ID = object()

# A path pattern: literal segments and ID, which matches any segment.
Pattern = tuple[typing.Any, ...]
# The query parameters of a paged list.
PAGING = ('limit', 'offset')
# The rule of a method no policy guards: the version and API documents,
# which name no project.
NO_POLICY: typing.Final = None


class Operation(typing.TypedDict):
    """An operation as DocumentedRuleDefault documents it."""

    path: str
    method: str


@dataclasses.dataclass(frozen=True)
class Route:
    """One path of a controller and what is known of it.

    :param pattern: literal segments and ID.
    :param methods: HTTP method -> the handler's name.
    :param relation: the JSON-home relation name (the reference service's,
        which the upstream tempest plugin looks up), or None for a path
        JSON-home does not list.
    :param query: the query parameters of the JSON-home href template.
    :param rules: HTTP method -> the policy rule its handler is authorized
        with, or NO_POLICY; every method must have one.
    :param extra_rules: HTTP method -> the rules its handler checks besides
        its own when a request asks for more (``clients:create_central``
        for a central client). A rule ending in ``?<query>`` applies to
        the requests with that query: its documented path carries it.
    """

    pattern: Pattern
    methods: dict[str, str]
    relation: str | None = None
    query: tuple[str, ...] = ()
    rules: dict[str, str | None] = dataclasses.field(kw_only=True)
    extra_rules: dict[str, tuple[str, ...]] = dataclasses.field(
        default_factory=dict, kw_only=True)

    def __post_init__(self) -> None:
        # At import: a handler without a rule never serves a request.
        if set(self.rules) != set(self.methods):
            raise ValueError('route %r: the methods %s need a policy rule '
                             'each, not %s' % (self.pattern,
                                               sorted(self.methods),
                                               sorted(self.rules)))
        if not set(self.extra_rules) <= set(self.methods):
            raise ValueError('route %r: extra rules of methods it does not '
                             'take' % (self.pattern,))

    def __iter__(self) -> Iterator[typing.Any]:
        """Unpack as ``(pattern, methods)``: code that needs only the path
        and the handlers reads a route as the pair it used to be."""
        return iter((self.pattern, self.methods))

    def rule(self, method: str, extra: str | None = None) -> str:
        """The policy rule of ``method``, or ``extra`` if it is one of the
        method's extra rules; ValueError if the route names no such rule
        (a handler that checks what its route does not say)."""
        if extra is None:
            rule = self.rules[method]
        else:
            names = [r.partition('?')[0]
                     for r in self.extra_rules.get(method, ())]
            rule = extra if extra in names else None
        if rule is None:
            raise ValueError('%s %r names no policy rule %s'
                             % (method, self.pattern, extra or ''))
        return rule


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


def project_path(prefix: str, resource: str, pattern: Pattern) -> str:
    """The path of ``pattern`` under ``<prefix>/{project_id}/<resource>``,
    ids as variables (:func:`path_segments`)."""
    return '%s/{project_id}/%s' % (
        prefix, '/'.join(path_segments(pattern, resource)))


def rule_operations(tables: Mapping[str, Sequence[Route]],
                    prefix: str = '/v2') -> dict[str, list[Operation]]:
    """Policy rule -> the operations it guards, as DocumentedRuleDefault
    documents them: the path and method of each route of ``tables``
    (resource -> its routes, under ``prefix``) that checks it, in the
    order of the tables.

    :raises ValueError: a route of a project that no rule guards.
    """
    operations: dict[str, list[Operation]] = {}
    for resource, routes in tables.items():
        for route in routes:
            path = project_path(prefix, resource, route.pattern)
            for method in route.methods:
                rule = route.rules[method]
                if rule is NO_POLICY:
                    raise ValueError('%s %s: a route of a project needs a '
                                     'policy rule' % (method, path))
                for guard in (rule, *route.extra_rules.get(method, ())):
                    name, sep, query = guard.partition('?')
                    operations.setdefault(name, []).append(
                        {'path': path + sep + query, 'method': method})
    return operations


def service_operations(service_routes: Sequence[Route]
                       ) -> dict[str, list[Operation]]:
    """Policy rule -> the operations it guards, for routes of the root
    outside any project (``/metrics``)."""
    operations: dict[str, list[Operation]] = {}
    for route in service_routes:
        path = '/' + '/'.join(route.pattern)
        for method, rule in route.rules.items():
            if rule is not NO_POLICY:
                operations.setdefault(rule, []).append(
                    {'path': path, 'method': method})
    return operations

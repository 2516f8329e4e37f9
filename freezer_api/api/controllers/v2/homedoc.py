"""The JSON-home document of /v2 (draft-nottingham-json-home), built from
the controllers' ``routes`` tables."""

from __future__ import annotations

import json
import typing

from freezer_api.api import routes

if typing.TYPE_CHECKING:
    from freezer_api.api.controllers.v2 import root as v2_root

# The reference service's relation names, which the upstream tempest
# plugin looks up: relative "rel/<name>" and "param/<name>".
RELATION = 'rel/%s'
PARAM = 'param/%s'


def _resource(template: str, variables: list[str],
              allow: list[str]) -> dict[str, typing.Any]:
    resource: dict[str, typing.Any]
    if variables:
        resource = {'href-template': template,
                    'href-vars': {v: PARAM % v for v in variables}}
    else:
        resource = {'href': template}
    resource['hints'] = {'allow': allow,
                         'formats': {'application/json': {}}}
    return resource


def _entry(path: str, route: routes.Route
           ) -> tuple[str, dict[str, typing.Any]]:
    """(relation, resource) of a route whose path is ``path``."""
    variables = [segment[1:-1] for segment in path.split('/')
                 if segment.startswith('{')]
    variables.extend(route.query)
    if route.query:
        path += '{?%s}' % ','.join(route.query)
    return (RELATION % route.relation,
            _resource(path, variables, list(route.methods)))


def document(v2: v2_root.V2Controller,
             prefix: str = '/v2') -> dict[str, typing.Any]:
    """The JSON-home document of ``v2``: its resources' routes, then its
    own, each that has a relation; in the order of the tables."""
    resources = {}
    for plural, controller in v2.resources.items():
        for route in controller.routes:
            if route.relation is not None:
                path = '%s/{project_id}/%s' % (prefix, '/'.join(
                    routes.path_segments(route.pattern, plural)))
                name, resource = _entry(path, route)
                resources[name] = resource
    for route in v2.routes:
        if route.relation is not None:
            name, resource = _entry('/'.join((prefix,) + route.pattern),
                                    route)
            resources[name] = resource
    return {'resources': resources}


def render(v2: v2_root.V2Controller) -> str:
    """The JSON-home document of ``v2`` as the API sends it."""
    return json.dumps(document(v2), indent=4)

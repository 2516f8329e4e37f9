"""What the v2 resource controllers share."""

from collections.abc import Callable
from collections.abc import Container

import pecan

from freezer_api.api import hooks
from freezer_api.api import method
from freezer_api.api.schemas import validator
from freezer_api.api.schemas.v2 import common
from freezer_api.common import context
from freezer_api.common import policy
from freezer_api.common import utils

# Of {name: id}: errors name the id's parameter.
ID_VALIDATOR = validator.Validator({'$schema': common.DRAFT,
                                    'type': 'object',
                                    'additionalProperties': common.ID})


def authorize(extra: str | None = None
              ) -> tuple[context.RequestContext, str]:
    """Check the policy rule of the route being served for the caller on
    the URL's project: the rule its ``routes`` table names for the
    request's method, or ``extra``, one of the route's ``extra_rules``.

    :returns: (context, project_id)
    """
    request = pecan.request
    rule = request.context['route'].rule(request.method, extra)
    ctx = hooks.request_context()
    project_id = request.context['project_id']
    policy.authorize(rule, ctx, project_id)
    return ctx, project_id


def strip(body: method.Document, keys: Container[str]) -> method.Document:
    """``body`` without the keys the service owns."""
    return {k: v for k, v in body.items() if k not in keys}


def merge_into(patch: method.Document, read_only: Container[str],
               to_values: Callable[[method.Document], method.Document],
               schema: validator.Validator | None = None
               ) -> Callable[[method.Document], method.Document]:
    """An ``apply`` callback for the database's update functions.

    It merges ``patch`` (RFC 7396) into the current document, drops the
    keys the service owns, validates the result against ``schema`` (400)
    and returns ``to_values(merged)``, the columns to store. The database
    calls it with the row locked, so concurrent patches never lose one
    another.
    """
    def apply(current: method.Document) -> method.Document:
        merged = strip(utils.merge_patch(current, patch), read_only)
        if schema is not None:
            schema.validate(merged)
        return to_values(merged)
    return apply


def check_id(name: str, doc_id: str) -> None:
    """400 unless ``doc_id``, the URL's ``name``, is a valid id."""
    ID_VALIDATOR.validate({name: doc_id})

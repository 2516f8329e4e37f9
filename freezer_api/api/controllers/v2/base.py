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

ID_VALIDATOR = validator.Validator(dict(common.ID,
                                        **{'$schema': common.DRAFT}))


def authorize(rule: str) -> tuple[context.RequestContext, str]:
    """Check ``rule`` for the caller on the URL's project.

    :returns: (context, project_id)
    """
    ctx = hooks.request_context()
    project_id = pecan.request.context['project_id']
    policy.authorize(rule, ctx, project_id)
    return ctx, project_id


def strip(body: method.Document, keys: Container[str]) -> method.Document:
    """``body`` without the keys the service owns."""
    return {k: v for k, v in body.items() if k not in keys}


def merge_into(patch: method.Document, read_only: Container[str],
               to_values: Callable[[method.Document], method.Document]
               ) -> Callable[[method.Document], method.Document]:
    """An ``apply`` callback for the database's update functions.

    It merges ``patch`` (RFC 7396) into the current document, drops the
    keys the service owns and returns ``to_values(merged)``, the columns to
    store; ``to_values`` validates and raises BadRequest. The database calls
    it with the row locked, so concurrent patches never lose one another.
    """
    def apply(current: method.Document) -> method.Document:
        return to_values(strip(utils.merge_patch(current, patch), read_only))
    return apply


def check_id(doc_id: str) -> None:
    """400 unless ``doc_id`` (from the URL) is a valid id."""
    ID_VALIDATOR.validate(doc_id)

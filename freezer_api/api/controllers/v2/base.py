"""What the v2 resource controllers share."""

import pecan

from freezer_api.api import hooks
from freezer_api.common import exception
from freezer_api.common import policy
from freezer_api.common import utils

# How often a merge patch is re-applied when a concurrent write changed
# the document between our read and our write. Every failed attempt means
# another write landed, but under contention one request can lose dozens
# of races in a row (61 seen with 8 writers on one document): the bound
# only stops a runaway loop, it must never turn a race into a 412.
PATCH_ATTEMPTS = 1000


def authorize(rule):
    """Check ``rule`` for the caller on the URL's project.

    :returns: (context, project_id)
    """
    ctx = hooks.request_context()
    project_id = pecan.request.context['project_id']
    policy.authorize(rule, ctx, project_id)
    return ctx, project_id


def strip(body, keys):
    """``body`` without the keys the service owns."""
    return {k: v for k, v in body.items() if k not in keys}


def patch_document(load, store, patch, expected_version):
    """Merge ``patch`` into a stored document and write it back.

    :param load: () -> the current document.
    :param store: (merged document, version it was read at) -> new document;
        raises PreconditionFailed when the stored version moved on.
    :param expected_version: the If-Match version, or None.

    Without If-Match, a write that lost a race is re-applied on the new
    state, so concurrent patches of different keys never lose one another.
    """
    for attempt in range(PATCH_ATTEMPTS):
        current = load()
        if expected_version not in (None, current['_version']):
            raise exception.PreconditionFailed(
                'The document is at version %d, not %d'
                % (current['_version'], expected_version))
        merged = utils.merge_patch(current, patch)
        try:
            return store(merged, current['_version'])
        except exception.PreconditionFailed:
            if expected_version is not None or \
                    attempt == PATCH_ATTEMPTS - 1:
                raise

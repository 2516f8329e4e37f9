"""The database facade the API calls.

Controllers use only these functions. Each takes the request context first
and returns plain documents (dicts) as the API shows them, or raises a
:class:`freezer_api.common.exception.FreezerException`.
"""

from freezer_api.db.sqlalchemy import actions
from freezer_api.db.sqlalchemy import api


def get_action(context, project_id, action_id):
    """The action ``action_id`` of ``project_id``; NotFound otherwise."""
    return actions.get_action(context, project_id, action_id)


def list_actions(context, project_id, search, limit, offset):
    """Actions of ``project_id`` that satisfy ``search``, in creation
    order, ``limit`` of them after skipping ``offset``."""
    return actions.list_actions(context, project_id, search, limit, offset)


def create_action(context, values):
    """Store a new action; Conflict if its id is taken in any project."""
    return actions.create_action(context, values)


def replace_action(context, values, expected_version=None):
    """Create the action or replace it in its project.

    :returns: (document, created)
    """
    return actions.replace_action(context, values, expected_version)


def update_action(context, project_id, action_id, apply,
                  expected_version=None):
    """Update an action in one locked read-modify-write.

    :param apply: (current document) -> the columns to store; it may
        raise to refuse the change, and then nothing is written.
    :raises PreconditionFailed: the stored version is not
        ``expected_version``.
    """
    return actions.update_action(context, project_id, action_id, apply,
                              expected_version)


def delete_action(context, project_id, action_id, expected_version=None):
    """Delete the action if it exists in ``project_id``."""
    return actions.delete_action(context, project_id, action_id,
                              expected_version)


def check_database(context):
    """Raise if the database cannot answer a trivial query."""
    return api.check_database(context)


# --- jobs ----------------------------------------------------------------


# --- sessions ------------------------------------------------------------


# --- clients -------------------------------------------------------------


# --- backups -------------------------------------------------------------

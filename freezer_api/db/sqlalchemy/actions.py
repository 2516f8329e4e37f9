"""Actions: one backup, restore, info, admin or exec step.

An action may be embedded in jobs of its project: its replace, update and
delete change those jobs too and live in :mod:`relations`.
"""

from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import models


def action_document(row):
    return {
        'action_id': row.action_id,
        'project_id': row.project_id,
        'user_id': row.user_id,
        'freezer_action': row.freezer_action,
        'max_retries': row.max_retries,
        'max_retries_interval': row.max_retries_interval,
        'mandatory': row.mandatory,
        '_version': row.version,
    }


ACTIONS = documents.Kind('actions', 'Action', models.Action, 'action_id',
                         action_document)


@api.read_connection
def get_action(context, project_id, action_id):
    return documents.get_document(context.connection, ACTIONS, action_id,
                                  project_id)


@api.read_connection
def list_actions(context, project_id, search, limit, offset):
    return documents.list_documents(context.connection, ACTIONS, project_id,
                                    search, limit, offset)


@api.write_transaction
def create_action(context, values):
    """A new action is in no job yet: its row is the only one written."""
    return documents.create(context.session, ACTIONS, values)

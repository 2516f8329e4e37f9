"""Actions: one backup, restore, info, admin or exec step.

An action may be embedded in jobs of its project: its replace, update and
delete change those jobs too and live in :mod:`relations`.
"""

import typing

from freezer_api.common import notifications
from freezer_api.common.context import RequestContext
from freezer_api.common.types import Document
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import models
from freezer_api.db.sqlalchemy import reads


def action_document(row: documents.ColumnsRow) -> Document:
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


get_action = reads.getter(ACTIONS)
list_actions = reads.lister(ACTIONS)


@api.write_transaction
def create_action(context: RequestContext,
                  values: dict[str, typing.Any]) -> Document:
    """A new action is in no job yet: its row is the only one written."""
    document = documents.create(context.session, ACTIONS, values)
    notifications.written(context.session, 'action', 'create', document)
    return document

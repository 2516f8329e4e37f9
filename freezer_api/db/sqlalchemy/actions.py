"""Actions: one backup, restore, info, admin or exec step.

An action may be embedded in jobs of its project: its replace, update and
delete change those jobs too and live in :mod:`relations`.
"""

import typing

from freezer_api.common import search as search_lang
from freezer_api.common.context import RequestContext
from freezer_api.common.types import Document
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import models


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


@api.read_connection
def get_action(context: api.ReadContext, project_id: str | None,
               action_id: str) -> Document:
    return documents.get_document(context.connection, ACTIONS, action_id,
                                  project_id)


@api.read_connection
def list_actions(context: api.ReadContext, project_id: str | None,
                 search: search_lang.Search, limit: int,
                 offset: int) -> list[Document]:
    return documents.list_documents(context.connection, ACTIONS, project_id,
                                    search, limit, offset)


@api.write_transaction
def create_action(context: RequestContext,
                  values: dict[str, typing.Any]) -> Document:
    """A new action is in no job yet: its row is the only one written."""
    return documents.create(context.session, ACTIONS, values)

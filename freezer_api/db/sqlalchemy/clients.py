"""Clients: registered freezer-schedulers and what they can do.

A client belongs to its project; a central client is also seen by every
other project, and its id is unique across all projects.
"""

import typing

import sqlalchemy as sa
from sqlalchemy import orm

from freezer_api.common import exception
from freezer_api.common import notifications
from freezer_api.common.context import RequestContext
from freezer_api.common.types import Document
from freezer_api.db import search_index as search_lang
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import models

# The client fields a registration never changes once stored.
FIXED = ('client_id', 'is_central')


def client_document(row: documents.ColumnsRow) -> Document:
    return {
        'project_id': row.project_id,
        'user_id': row.user_id,
        'client': row.client,
        '_version': row.version,
    }


CLIENTS = documents.Kind('clients', 'Client', models.Client, 'client_id',
                         client_document)


def _central(session: orm.Session, client_id: str,
             for_update: bool = False) -> models.Client | None:
    """The central client ``client_id`` of whichever project owns it."""
    if '\x00' in client_id:
        return None
    query = sa.select(models.Client).where(
        models.Client.central_client_id == client_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def visible_client(session: orm.Session, project_id: str,
                   client_id: str) -> models.Client | None:
    """The project's own client ``client_id``, else the central one."""
    row = documents.get_row(session, CLIENTS, client_id, project_id)
    return row if row is not None else _central(session, client_id)


def _told(session: orm.Session, change: str, client_id: str,
          document: Document) -> None:
    notifications.written(session, 'client', change, document, client_id)


@api.read_transaction
def get_client(context: RequestContext, project_id: str,
               client_id: str) -> Document:
    row = visible_client(context.session, project_id, client_id)
    if row is None:
        raise CLIENTS.not_found(client_id)
    return client_document(row)


@api.read_connection
def list_clients(context: api.ReadContext, project_id: str,
                 search: search_lang.Search, limit: int,
                 offset: int) -> list[Document]:
    model = models.Client
    return documents.list_documents(
        context.connection, CLIENTS, project_id, search, limit, offset,
        scope=sa.or_(model.project_id == project_id,
                     model.is_central.is_(True)))


@api.upsert_transaction
def register_client(context: RequestContext, values: dict[str, typing.Any],
                    given: Document) -> tuple[Document, bool]:
    session = context.session
    row = documents.get_row(session, CLIENTS, values['client_id'],
                            values['project_id'], for_update=True)
    if row is None:
        owner = _central(session, values['client_id'])
        if owner is not None:
            # A central client of another project: its id is taken
            # everywhere.
            raise exception.Conflict(resource=CLIENTS.label,
                                     id=values['client_id'])
        central_id = values['client_id'] if values['is_central'] else None
        document = documents.insert(session, CLIENTS, dict(
            values, central_client_id=central_id))
        _told(session, 'create', values['client_id'], document)
        return document, True
    client = dict(row.client)
    client.update((k, v) for k, v in given.items() if k not in FIXED)
    if client == row.client:
        return client_document(row), False
    document = documents.update(session, CLIENTS, row, {
        'client': client, 'user_id': values['user_id']})
    _told(session, 'update', values['client_id'], document)
    return document, False


@api.write_transaction
def delete_client(context: RequestContext, project_id: str, client_id: str,
                  expected_version: int | None = None) -> None:
    session = context.session
    if documents.get_row(session, CLIENTS, client_id, project_id) is None:
        if _central(session, client_id) is not None:
            # Only the project that registered a central client may
            # delete it.
            raise exception.Forbidden()
    row = documents.delete(session, CLIENTS, project_id, client_id,
                           expected_version)
    if row is not None:
        _told(session, 'delete', client_id, dict(
            client_document(row), user_id=context.user_id))

"""Backups: the metadata records of the backups freezer-agent made."""

from collections.abc import Callable
import typing

from freezer_api.common import search as search_lang
from freezer_api.common.context import RequestContext
from freezer_api.common.types import Document
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import models


def backup_document(row: documents.ColumnsRow) -> Document:
    return {
        'backup_id': row.backup_id,
        'project_id': row.project_id,
        'user_id': row.user_id,
        'status': row.status,
        'backup_metadata': row.backup_metadata,
        '_version': row.version,
    }


BACKUPS = documents.Kind('backups', 'Backup', models.Backup, 'backup_id',
                         backup_document)


@api.read_connection
def get_backup(context: api.ReadContext, project_id: str | None,
               backup_id: str) -> Document:
    return documents.get_document(context.connection, BACKUPS, backup_id,
                                  project_id)


@api.read_connection
def list_backups(context: api.ReadContext, project_id: str | None,
                 search: search_lang.Search, limit: int,
                 offset: int) -> list[Document]:
    return documents.list_documents(context.connection, BACKUPS, project_id,
                                    search, limit, offset)


@api.write_transaction
def create_backup(context: RequestContext,
                  values: dict[str, typing.Any]) -> Document:
    return documents.insert(context.session, BACKUPS, values)


@api.write_transaction
def update_backup(context: RequestContext, project_id: str, backup_id: str,
                  apply: Callable[[Document], dict[str, typing.Any]],
                  expected_version: int | None = None) -> Document:
    return documents.patch(context.session, BACKUPS, project_id, backup_id,
                           apply, expected_version)


@api.write_transaction
def delete_backup(context: RequestContext, project_id: str, backup_id: str,
                  expected_version: int | None = None) -> None:
    documents.delete(context.session, BACKUPS, project_id, backup_id,
                     expected_version)

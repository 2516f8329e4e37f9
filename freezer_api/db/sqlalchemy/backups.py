"""Backups: the metadata records of the backups freezer-agent made."""

from collections.abc import Callable
import typing

from freezer_api.common import notifications
from freezer_api.common.context import RequestContext
from freezer_api.common.types import Document
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import models
from freezer_api.db.sqlalchemy import reads
from freezer_api.db.sqlalchemy import runs


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


def _told(context: RequestContext, change: str,
          document: Document) -> Document:
    notifications.written(context.session, 'backup', change, document)
    return document


get_backup = reads.getter(BACKUPS)
list_backups = reads.lister(BACKUPS)


@api.write_transaction
def create_backup(context: RequestContext,
                  values: dict[str, typing.Any]) -> Document:
    """Store a backup record; one posted with a ``job_id`` (as
    freezer-scheduler posts them) is linked to that job's open run."""
    document = documents.insert(context.session, BACKUPS, values)
    _told(context, 'create', document)
    runs.link_backup(context.session, values['project_id'],
                     values['backup_metadata'].get('job_id'),
                     values['backup_id'])
    return document


@api.write_transaction
def update_backup(context: RequestContext, project_id: str, backup_id: str,
                  apply: Callable[[Document], dict[str, typing.Any]],
                  expected_version: int | None = None) -> Document:
    return _told(context, 'update', documents.patch(
        context.session, BACKUPS, project_id, backup_id, apply,
        expected_version))


@api.write_transaction
def delete_backup(context: RequestContext, project_id: str, backup_id: str,
                  expected_version: int | None = None) -> None:
    row = documents.delete(context.session, BACKUPS, project_id, backup_id,
                           expected_version)
    if row is not None:
        _told(context, 'delete', dict(backup_document(row),
                                      user_id=context.user_id))

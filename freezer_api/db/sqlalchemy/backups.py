"""Backups: the metadata records of the backups freezer-agent made."""

from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import models


def backup_document(row):
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
def get_backup(context, project_id, backup_id):
    return documents.get_document(context.connection, BACKUPS, backup_id,
                                  project_id)


@api.read_connection
def list_backups(context, project_id, search, limit, offset):
    return documents.list_documents(context.connection, BACKUPS, project_id,
                                    search, limit, offset)


@api.write_transaction
def create_backup(context, values):
    return documents.insert(context.session, BACKUPS, values)


@api.write_transaction
def update_backup(context, project_id, backup_id, apply,
                  expected_version=None):
    return documents.patch(context.session, BACKUPS, project_id, backup_id,
                           apply, expected_version)


@api.write_transaction
def delete_backup(context, project_id, backup_id, expected_version=None):
    documents.delete(context.session, BACKUPS, project_id, backup_id,
                     expected_version)

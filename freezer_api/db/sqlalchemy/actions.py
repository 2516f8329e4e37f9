"""Actions: one backup, restore, info, admin or exec step."""

from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import documents
from freezer_api.db.sqlalchemy import jobs
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


@api.read_transaction
def get_action(context, project_id, action_id):
    return documents.get_document(context.session, ACTIONS, action_id,
                                  project_id)


@api.read_transaction
def list_actions(context, project_id, search, limit, offset):
    return documents.list_documents(context.session, ACTIONS, project_id,
                                    search, limit, offset)


@api.write_transaction
def create_action(context, values):
    return documents.create(context.session, ACTIONS, values)


@api.upsert_transaction
def replace_action(context, values, expected_version=None):
    document, created = documents.replace(context.session, ACTIONS, values,
                                          expected_version)
    if not created:
        _changed(context.session, document['action_id'])
    return document, created


@api.write_transaction
def update_action(context, project_id, action_id, apply,
                  expected_version=None):
    document = documents.patch(context.session, ACTIONS, project_id,
                               action_id, apply, expected_version)
    _changed(context.session, action_id)
    return document


@api.write_transaction
def delete_action(context, project_id, action_id, expected_version=None):
    documents.delete(context.session, ACTIONS, project_id, action_id,
                     expected_version,
                     before=lambda row: jobs.action_deleting(context.session,
                                                             row.seq))


def _changed(session, action_id):
    """Every job that embeds the action changed with it."""
    row = documents.get_row(session, ACTIONS, action_id)
    jobs.action_changed(session, row.seq)



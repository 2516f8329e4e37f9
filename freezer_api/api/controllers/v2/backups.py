"""/v2/{project_id}/backups: metadata records of the backups made."""

from collections.abc import Callable

from freezer_api.api import method
from freezer_api.api.controllers import routing
from freezer_api.api.controllers.v2 import base
from freezer_api.api.controllers.v2 import route_tables
from freezer_api.api.schemas import validator
from freezer_api.api.schemas.v2 import backups as schema
from freezer_api.api.schemas.v2 import common
from freezer_api.common import context
from freezer_api.common import utils
from freezer_api.db import api as db_api

VALIDATOR = validator.Validator(schema.BACKUP)


def split_status(metadata: method.Document, status: str | None = None
                 ) -> tuple[str | None, method.Document]:
    """(status, metadata without it): a ``status`` key of the metadata
    goes to the backup's status unless ``status`` is given."""
    metadata = dict(metadata)
    metadata_status = metadata.pop('status', None)
    return status or metadata_status, metadata


def patch_values(ctx: context.RequestContext, patch: method.Document
                 ) -> Callable[[method.Document], method.Document]:
    """An ``apply`` callback for the database: the columns a validated
    PATCH body makes of the current backup."""
    def apply(current: method.Document) -> method.Document:
        values: method.Document = {'user_id': ctx.user_id}
        status = patch.get('status')
        if 'backup_metadata' in patch:
            merged = utils.merge_patch(current['backup_metadata'],
                                       patch['backup_metadata'])
            # What a backup is must stay known: the required keys too.
            VALIDATOR.validate(merged)
            status, values['backup_metadata'] = split_status(merged, status)
        if status is not None:
            values['status'] = status
        return values
    return apply


def shown(document: method.Document) -> method.Document:
    """The backup as callers see it: without ``_version``.

    The upstream tempest plugin compares a listed backup key for key with
    what it posted; the version is sent as the ETag (and as ``version`` in
    a PATCH reply) instead.
    """
    return {k: v for k, v in document.items() if k != '_version'}


class BackupsController(routing.RoutedController):

    # The reference named a single backup "backups" and the collection
    # "backup_list".
    routes = route_tables.BACKUPS

    @method.reply(body=common.SEARCH)
    def list(self) -> method.Document:
        ctx, project_id = base.authorize()
        limit, offset = method.paging()
        search = method.search_body()
        return {'backups': [shown(doc) for doc in db_api.list_backups(
            ctx, project_id, search, limit, offset)]}

    @method.reply()
    def show(self, backup_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        return shown(method.set_etag(db_api.get_backup(ctx, project_id,
                                                       backup_id)))

    @method.reply(status=201, body=schema.BACKUP)
    def create(self) -> method.Document:
        ctx, project_id = base.authorize()
        metadata = method.document_body()
        status, metadata = split_status(metadata)
        # The id is always generated, as the original service did; ids in
        # the body stay in the metadata as they were posted.
        document = db_api.create_backup(ctx, {
            'backup_id': utils.generate_id(),
            'project_id': project_id,
            'user_id': ctx.user_id,
            'status': status or schema.DEFAULT_STATUS,
            'backup_metadata': metadata,
        })
        return {'backup_id': document['backup_id']}

    @method.reply(body=schema.BACKUP_PATCH)
    def update(self, backup_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        patch = method.document_body()
        document = db_api.update_backup(ctx, project_id, backup_id,
                                        patch_values(ctx, patch),
                                        method.if_match())
        method.set_etag(document)
        return dict(shown(document), version=document['_version'])

    @method.reply(status=204)
    def delete(self, backup_id: str) -> None:
        ctx, project_id = base.authorize()
        db_api.delete_backup(ctx, project_id, backup_id, method.if_match())

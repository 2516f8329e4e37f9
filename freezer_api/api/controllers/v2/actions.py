"""/v2/{project_id}/actions: one backup, restore, info, admin or exec step
with its retry settings."""

from freezer_api.api import method
from freezer_api.api.controllers import routing
from freezer_api.api.controllers.v2 import base
from freezer_api.api.controllers.v2 import route_tables
from freezer_api.api.schemas import validator
from freezer_api.api.schemas.v2 import actions as schema
from freezer_api.api.schemas.v2 import common
from freezer_api.common import context
from freezer_api.common import utils
from freezer_api.db import api as db_api

VALIDATOR = validator.Validator(schema.ACTION)


def action_values(ctx: context.RequestContext, project_id: str,
                  action_id: str, document: method.Document
                  ) -> method.Document:
    """The columns to store of a validated action document."""
    return {
        'action_id': action_id,
        'project_id': project_id,
        'user_id': ctx.user_id,
        'freezer_action': document['freezer_action'],
        'max_retries': document.get('max_retries',
                                    schema.DEFAULTS['max_retries']),
        'max_retries_interval': document.get(
            'max_retries_interval', schema.DEFAULTS['max_retries_interval']),
        'mandatory': document.get('mandatory',
                                  schema.DEFAULTS['mandatory']),
    }


class ActionsController(routing.RoutedController):

    routes = route_tables.ACTIONS

    @method.reply(body=common.SEARCH)
    def list(self) -> method.Document:
        ctx, project_id = base.authorize()
        limit, offset = method.paging()
        search = method.search_body()
        return {'actions': db_api.list_actions(ctx, project_id, search,
                                               limit, offset)}

    @method.reply()
    def show(self, action_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        return method.set_etag(db_api.get_action(ctx, project_id,
                                                 action_id))

    @method.reply(status=201, body=schema.ACTION)
    def create(self) -> method.Document:
        ctx, project_id = base.authorize()
        body = method.document_body()
        action_id = body.get('action_id', utils.generate_id())
        document = db_api.create_action(ctx, action_values(
            ctx, project_id, action_id, body))
        return {'action_id': document['action_id']}

    @method.reply(status=201, body=schema.ACTION_REPLACEMENT)
    def replace(self, action_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        base.check_id('action_id', action_id)
        values = action_values(ctx, project_id, action_id,
                               method.document_body())
        document, _created = db_api.replace_action(ctx, values,
                                                   method.if_match())
        return method.written('action_id', document)

    @method.reply(body=schema.ACTION_PATCH)
    def update(self, action_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        document = db_api.update_action(
            ctx, project_id, action_id, base.merge_into(
                method.document_body(), schema.READ_ONLY,
                lambda merged: action_values(ctx, project_id, action_id,
                                             merged), VALIDATOR),
            method.if_match())
        return method.written('action_id', document)

    @method.reply(status=204)
    def delete(self, action_id: str) -> None:
        ctx, project_id = base.authorize()
        db_api.delete_action(ctx, project_id, action_id, method.if_match())

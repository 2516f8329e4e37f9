"""/v2/{project_id}/sessions: jobs, possibly on several clients, started
and ended together; freezer-scheduler drives them through /action."""

import typing

from freezer_api.api import method
from freezer_api.api.controllers import routing
from freezer_api.api.controllers.v2 import base
from freezer_api.api.controllers.v2 import route_tables
from freezer_api.api.schemas import validator
from freezer_api.api.schemas.v2 import common
from freezer_api.api.schemas.v2 import sessions as schema
from freezer_api.common import context
from freezer_api.common import exception
from freezer_api.common import utils
from freezer_api.db import api as db_api

VALIDATOR = validator.Validator(schema.SESSION)

# The jobs of a session are managed through /sessions/{id}/jobs/{job_id},
# which keeps the session and its jobs consistent; a body cannot set them.
SERVICE_MANAGED = schema.READ_ONLY + ('jobs',)


def _values(ctx: context.RequestContext, project_id: str, session_id: str,
            document: method.Document,
            **forced: typing.Any) -> method.Document:
    """The columns to store of a validated session document."""
    document = base.strip(document, SERVICE_MANAGED)
    values = dict(schema.DEFAULTS)
    values.update({k: v for k, v in document.items()
                   if v is not None and k in schema.FIELDS})
    values.update(forced, session_id=session_id, project_id=project_id,
                  user_id=ctx.user_id)
    return values


class SessionsController(routing.RoutedController):

    routes = route_tables.SESSIONS

    @method.reply(body=common.SEARCH)
    def list(self) -> method.Document:
        ctx, project_id = base.authorize()
        limit, offset = method.paging()
        search = method.search_body()
        return {'sessions': db_api.list_sessions(ctx, project_id, search,
                                                 limit, offset)}

    @method.reply()
    def show(self, session_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        return method.set_etag(db_api.get_session(ctx, project_id,
                                                  session_id))

    @method.reply(status=201, body=schema.SESSION)
    def create(self) -> method.Document:
        ctx, project_id = base.authorize()
        # The id is always generated, as the original service did.
        values = _values(ctx, project_id, utils.generate_id(),
                         method.document_body(), status='active')
        document = db_api.create_session(ctx, values)
        return {'session_id': document['session_id']}

    @method.reply(status=201, body=schema.SESSION_REPLACEMENT)
    def replace(self, session_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        base.check_id('session_id', session_id)
        values = _values(ctx, project_id, session_id,
                         method.document_body())
        document, _created = db_api.replace_session(ctx, values,
                                                    method.if_match())
        return method.written('session_id', document)

    @method.reply(body=schema.SESSION_PATCH)
    def update(self, session_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        document = db_api.update_session(
            ctx, project_id, session_id, base.merge_into(
                method.document_body(), SERVICE_MANAGED,
                lambda merged: _values(ctx, project_id, session_id, merged),
                VALIDATOR),
            method.if_match())
        return method.written('session_id', document)

    @method.reply(status=204)
    def delete(self, session_id: str) -> None:
        ctx, project_id = base.authorize()
        db_api.delete_session(ctx, project_id, session_id,
                              method.if_match())

    @method.reply(status=202, body=schema.ACTION)
    def action(self, session_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        body = method.document_body()
        (name, params), = body.items()
        tag = params.get('current_tag')
        if tag is not None and int(tag) > common.MAX_INT:
            raise exception.InvalidParameter(
                name='current_tag',
                reason='It is above %d.' % common.MAX_INT)
        return db_api.session_action(
            ctx, project_id, session_id, params['job_id'], name,
            current_tag=None if tag is None else int(tag),
            result=params.get('result'))

    @method.reply(status=204)
    def add_job(self, session_id: str, job_id: str) -> None:
        ctx, project_id = base.authorize()
        db_api.add_session_job(ctx, project_id, session_id, job_id)

    @method.reply(status=204)
    def remove_job(self, session_id: str, job_id: str) -> None:
        ctx, project_id = base.authorize()
        db_api.remove_session_job(ctx, project_id, session_id, job_id)

"""/v2/{project_id}/clients: registered freezer-schedulers and what they
can do."""

import copy

from freezer_api.api import method
from freezer_api.api.controllers import routing
from freezer_api.api.controllers.v2 import base
from freezer_api.api.controllers.v2 import route_tables
from freezer_api.api.schemas import validator
from freezer_api.api.schemas.v2 import clients as schema
from freezer_api.api.schemas.v2 import common
from freezer_api.common import utils
from freezer_api.db import api as db_api

VALIDATOR = validator.Validator(schema.CLIENT)


def client_fields(body: method.Document) -> method.Document:
    """The client fields a validated registration body gives.

    The body is the flat client object freezer-scheduler and
    python-freezerclient post; the api-ref's ``{"client": {...},
    "client_id": ...}`` form is unwrapped first.
    """
    nested = body.get('client')
    if isinstance(nested, dict):
        if 'client_id' not in nested and 'client_id' in body:
            nested = dict(nested, client_id=body['client_id'])
        # The body was validated as an envelope; the client it holds is
        # validated here.
        VALIDATOR.validate(nested)
        body = nested
    return {k: body[k] for k in schema.FIELDS if k in body}


def new_client(given: method.Document) -> method.Document:
    """Every field of a client first registered with ``given``."""
    client = {'client_id': given['client_id'], 'hostname': None,
              'description': None, 'uuid': utils.generate_id(),
              'is_central': False}
    client.update(copy.deepcopy(schema.SUPPORTED))
    client.update(given)
    return client


class ClientsController(routing.RoutedController):

    routes = route_tables.CLIENTS

    @method.reply(body=common.SEARCH)
    def list(self) -> method.Document:
        ctx, project_id = base.authorize()
        limit, offset = method.paging()
        search = method.search_body()
        return {'clients': db_api.list_clients(ctx, project_id, search,
                                               limit, offset)}

    @method.reply()
    def show(self, client_id: str) -> method.Document:
        ctx, project_id = base.authorize()
        return method.set_etag(db_api.get_client(ctx, project_id,
                                                 client_id))

    @method.reply(status=201, body=schema.CLIENT)
    def register(self) -> method.Document:
        ctx, project_id = base.authorize()
        given = client_fields(method.document_body())
        client = new_client(given)
        if client['is_central']:
            base.authorize('clients:create_central')
        db_api.register_client(ctx, {
            'project_id': project_id,
            'user_id': ctx.user_id,
            'client_id': client['client_id'],
            'is_central': client['is_central'],
            'client': client,
        }, given)
        return {'client_id': client['client_id']}

    @method.reply(status=204)
    def delete(self, client_id: str) -> None:
        ctx, project_id = base.authorize()
        db_api.delete_client(ctx, project_id, client_id, method.if_match())

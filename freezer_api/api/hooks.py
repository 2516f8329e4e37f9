"""Pecan hooks: configuration, the request context, and JSON faults."""

from oslo_config import cfg
from oslo_log import log
from oslo_middleware import request_id
import pecan
from pecan import core as pecan_core
from pecan import hooks
import webob

from freezer_api.api import faults
from freezer_api.common import context
from freezer_api.common import exception
from freezer_api.db import api as db_api

LOG = log.getLogger(__name__)

NOAUTH_ROLES = ['member', 'reader']
# Paths answered without a token in keystone mode (app.py sends them
# past auth_token): version discovery.
PUBLIC_PATHS = frozenset({'/'})
# The longest user or project id the database stores.
MAX_IDENTITY_LENGTH = 255


class ConfigHook(hooks.PecanHook):
    """Attach the configuration to the request."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    def on_route(self, state: pecan_core.RoutingState) -> None:
        state.request.cfg = self.conf
        # Work of the process that no request does: started with the
        # first request of each worker (threads do not survive a fork).
        db_api.start_background_work()


class ContextHook(hooks.PecanHook):
    """Build the RequestContext from the identity headers.

    With keystone those headers were set by auth_token from a validated
    token (and stripped from the caller's request). With noauth the caller
    sets them itself, and missing ones get the noauth defaults; the
    project then defaults to the URL's (see the v2 controller).
    """

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    def on_route(self, state: pecan_core.RoutingState) -> None:
        environ = state.request.environ
        noauth = self.conf.auth_strategy == 'noauth'
        if not noauth and state.request.path_info in PUBLIC_PATHS:
            # auth_token did not see this request: its identity headers,
            # if any, are the caller's own and not to be believed.
            ctx = context.RequestContext(
                request_id=environ.get(request_id.ENV_REQUEST_ID))
        elif (not noauth and
                environ.get('HTTP_X_IDENTITY_STATUS') != 'Confirmed'):
            raise exception.Unauthorized()
        else:
            ctx = context.RequestContext.from_environ(environ)
        if noauth:
            ctx.user_id = ctx.user_id or 'noauth'
            ctx.roles = ctx.roles or list(NOAUTH_ROLES)
            # Keystone's ids are short; a noauth caller's may be anything.
            for header, value in (('X-User-Id', ctx.user_id),
                                  ('X-Project-Id', ctx.project_id)):
                if value and len(value) > MAX_IDENTITY_LENGTH:
                    raise exception.InvalidParameter(
                        name=header, reason='It is longer than %d '
                        'characters.' % MAX_IDENTITY_LENGTH)
        state.request.context['freezer_context'] = ctx
        state.request.context['noauth'] = noauth


class FaultHook(hooks.PecanHook):
    """Answer every error raised while handling a request as JSON."""

    def on_error(self, state: pecan_core.RoutingState,
                 error: BaseException) -> webob.Response:
        return faults.handler_error_response(error, state.request)


def request_context() -> context.RequestContext:
    """The caller's context of the current request."""
    return pecan.request.context['freezer_context']

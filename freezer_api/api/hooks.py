"""Pecan hooks: configuration, the request context, and JSON faults."""

import json

from oslo_log import log
from oslo_middleware import request_id
import pecan
from pecan import hooks
import webob
from webob import exc as webob_exc
import webob.request

from freezer_api.common import context
from freezer_api.common import exception

LOG = log.getLogger(__name__)

NOAUTH_ROLES = ['member', 'reader']
# Paths answered without a token in keystone mode (app.py sends them
# past auth_token): version discovery.
PUBLIC_PATHS = frozenset({'/'})
# The longest user or project id the database stores.
MAX_IDENTITY_LENGTH = 255


class ConfigHook(hooks.PecanHook):
    """Attach the configuration to the request."""

    def __init__(self, conf):
        self.conf = conf

    def on_route(self, state):
        state.request.cfg = self.conf


class ContextHook(hooks.PecanHook):
    """Build the RequestContext from the identity headers.

    With keystone those headers were set by auth_token from a validated
    token (and stripped from the caller's request). With noauth the caller
    sets them itself, and missing ones get the noauth defaults; the
    project then defaults to the URL's (see the v2 controller).
    """

    def __init__(self, conf):
        self.conf = conf

    def on_route(self, state):
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


def fault_response(error):
    """The JSON fault response of a FreezerException."""
    response = webob.Response(
        status='%d %s' % (int(error.code), _reason(error)),
        content_type='application/json', charset=None,
        body=json.dumps(error.to_dict()).encode())
    response.headers.update(error.headers)
    return response


def body_error_response(error):
    """The fault of an error the caller caused while sending its body
    (a client gone mid-body, a body framed wrongly), logged in one line;
    None for any other error."""
    if isinstance(error, webob.request.DisconnectionError):
        error = exception.ClientDisconnected()
    if isinstance(error, (exception.ClientDisconnected,
                          exception.BadFraming)):
        LOG.warning('Request refused: %s', error.message)
        return fault_response(error)
    return None


def _reason(error):
    if int(error.code) == 753:
        return 'Syntax Error'
    return webob_exc.status_map.get(int(error.code),
                                    webob_exc.HTTPServerError).title


class FaultHook(hooks.PecanHook):
    """Answer every error raised while handling a request as JSON."""

    def on_error(self, state, error):
        fault = body_error_response(error)
        if fault is not None:
            return fault
        if isinstance(error, exception.FreezerException):
            # A 503 was logged where it was found, in one line.
            if (500 <= int(error.code) < 600 and
                    not isinstance(error, exception.ServiceUnavailable)):
                LOG.error('Request failed: %s', error.message)
            return fault_response(error)
        if isinstance(error, webob_exc.HTTPException):
            code = error.code
            if code == 404:
                fault = exception.NotFound()
            elif code == 405:
                fault = exception.MethodNotAllowed(
                    method=state.request.method)
                allow = error.headers.get('Allow')
                if allow:
                    fault.headers = {'Allow': allow}
            elif code < 500:
                fault = exception.BadRequest(error.explanation)
                fault.code = code
                fault.title = error.title
            else:
                LOG.error('Request failed: %s %s', code, error.explanation)
                fault = exception.FreezerException()
            return fault_response(fault)
        if isinstance(error, UnicodeError):
            # WebOb decodes the URL and query string lazily.
            return fault_response(exception.BadRequest(
                'The request URL is not valid UTF-8'))
        LOG.exception('Unexpected error while handling %s %s',
                      state.request.method, state.request.path_info)
        return fault_response(exception.FreezerException())


def request_context():
    """The caller's context of the current request."""
    return pecan.request.context['freezer_context']

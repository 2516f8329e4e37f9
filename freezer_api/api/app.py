"""Build the freezer-api WSGI application, middleware included, in code.

Outermost first: CORS -> RequestId -> log context -> Host check -> UTF-8
URL check -> healthcheck (/healthcheck only) -> HTTPProxyToWSGI -> JSON
faults -> trailing slash -> body read errors -> size limit -> auth
(keystonemiddleware auth_token, or noauth; ``/`` is public) -> Pecan.
"""

from __future__ import annotations

from collections.abc import Callable
import functools
import inspect
import typing

from keystonemiddleware import auth_token
from oslo_config import cfg
from oslo_log import log
from oslo_middleware import base as oslo_middleware_base
from oslo_middleware import cors
from oslo_middleware import healthcheck
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import request_id
from oslo_middleware import sizelimit
import pecan
from pecan import core as pecan_core
from pecan import routing as pecan_routing
from pecan import util as pecan_util

from freezer_api.api import hooks
from freezer_api.api import method
from freezer_api.api import metrics
from freezer_api.api import middleware
from freezer_api.common import exception
from freezer_api.common import notifications
from freezer_api.common import policy
from freezer_api.db import api as db_api

if typing.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

LOG = log.getLogger(__name__)


class _Request(pecan.Request):
    """Pecan's request, whose ``json`` is the body as the handlers decode
    it, and fails only with ValueError.

    Pecan decodes a JSON body on its own before routing, twice (to fill
    handler arguments we do not use), and catches only ValueError and
    TypeError there: a body nested too deep, or not UTF-8, would escape
    as a 500 or a bare 400 instead of reaching our handler, which answers
    753. Decoded once (:func:`method.request_json`), the body is parsed
    once per request instead of three times. An error reading the body
    (too large, cut off) is not a decoding error: it goes on as it is.
    """

    @property
    def json(self) -> typing.Any:
        self.make_body_seekable()  # reads the body, or fails, first
        try:
            return method.request_json(self)
        except exception.FreezerException:
            raise ValueError('The body is not JSON') from None


@functools.lru_cache(maxsize=256)
def _function_argspec(function: Callable[..., typing.Any]) -> typing.Any:
    return pecan_util.getargspec(function)


def _argspec(method: Callable[..., typing.Any]) -> typing.Any:
    """Pecan's argspec of a controller, worked out once per function.

    Pecan reads the signature of the controller it routes to, and of the
    one it calls, on every request, building a new namedtuple class each
    time (about a tenth of the CPU of a request). A function's signature
    does not change, and a bound method's is its function's.
    """
    return _function_argspec(getattr(method, '__func__', method))


pecan_core.getargspec = pecan_routing.getargspec = _argspec


@functools.lru_cache(maxsize=64)
def _function_fullargspec(function: object) -> inspect.FullArgSpec:
    return inspect.getfullargspec(function)


def _fullargspec(func: object) -> inspect.FullArgSpec:
    """``inspect.getfullargspec``, worked out once per function:
    oslo.middleware asks it of every middleware's ``process_response`` on
    every request. (inspect gives a bound method its function's spec,
    ``self`` included.)"""
    return _function_fullargspec(getattr(func, '__func__', func))


oslo_middleware_base.getfullargspec = _fullargspec


def _pecan_app(conf: cfg.ConfigOpts) -> pecan.Pecan:
    return pecan.make_app(
        'freezer_api.api.controllers.root.RootController',
        hooks=[hooks.ConfigHook(conf), hooks.ContextHook(conf),
               hooks.FaultHook()],
        request_cls=_Request,
        force_canonical=False,
        guess_content_type_from_ext=False,
        debug=False,
    )


def setup_app(conf: cfg.ConfigOpts | None = None) -> WSGIApplication:
    """The WSGI application for ``conf`` (default: the global CONF)."""
    conf = conf or cfg.CONF
    policy.get_enforcer(conf)
    db_api.configure(conf)
    notifications.configure(conf)

    app = _pecan_app(conf)
    if conf.auth_strategy == 'keystone':
        protected = auth_token.AuthProtocol(app, {'oslo_config_config': conf})
    else:
        protected = app
    app = middleware.PathDispatch(
        protected, dict.fromkeys(hooks.PUBLIC_PATHS, app))
    # The oslo.middleware layers below each build a WebOb request and
    # response around the request; those that would do nothing with it
    # are passed by (middleware.OnlyWhen).
    app = middleware.OnlyWhen(
        sizelimit.RequestBodySizeLimiter(app, conf), app,
        middleware.has_body)
    app = middleware.BodyErrors(app)
    app = middleware.TrailingSlash(app)
    app = middleware.JSONFaults(app)
    app = middleware.OnlyWhen(
        http_proxy_to_wsgi.HTTPProxyToWSGI(app, conf), app,
        lambda environ: conf.oslo_middleware.enable_proxy_headers_parsing)
    app = middleware.PathDispatch(
        app, {'/healthcheck': healthcheck.Healthcheck(None, conf)})
    app = middleware.UTF8URL(app)
    app = middleware.HostHeader(app)
    app = middleware.LogContext(app)
    app = request_id.RequestId(app)
    app = middleware.OnlyWhen(cors.CORS(app, conf), app,
                              lambda environ: 'HTTP_ORIGIN' in environ)
    return metrics.RequestMetrics(app)

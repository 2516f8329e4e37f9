"""``freezer-api``: serve the API with a multi-process, multi-threaded
WSGI server (gunicorn, gthread workers)."""

import faulthandler
import sys
import typing

from gunicorn.app import base as gunicorn_base
from oslo_config import cfg
from oslo_log import log
from oslo_middleware import sizelimit
from oslo_utils import netutils

from freezer_api.api import app
from freezer_api.api import worker
from freezer_api.common import service
from freezer_api.common import trusts
from freezer_api.common.types import WSGIApp
from freezer_api.conf import api as api_conf
from freezer_api.db import migration
from freezer_api.db.sqlalchemy import api as db_impl

CONF = cfg.CONF
LOG = log.getLogger(__name__)


class Server(gunicorn_base.BaseApplication):
    """gunicorn, configured from our options instead of its command line."""

    def __init__(self, application: WSGIApp,
                 options: dict[str, typing.Any]) -> None:
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        return self.application


def _bind_address(host: str, port: int) -> str:
    if netutils.is_valid_ipv6(host):
        return '[%s]:%d' % (host, port)
    return '%s:%d' % (host, port)


def server_options(conf: cfg.ConfigOpts) -> dict[str, typing.Any]:
    # Registered by the size limit middleware of the application; read
    # here too so that a chunked body is refused by its announced size.
    conf.register_opts(sizelimit.OPTS, group='oslo_middleware')
    body_limit = conf.oslo_middleware.max_request_body_size
    return {
        'bind': _bind_address(conf.bind_host, conf.bind_port),
        'workers': api_conf.workers(conf),
        'threads': conf.api.threads,
        'worker_class': worker.worker_class(body_limit),
        'keepalive': conf.api.client_socket_timeout,
        'timeout': 120,
        'graceful_timeout': 30,
        'preload_app': True,
        'accesslog': None,
        'errorlog': '-',
        'proc_name': 'freezer-api',
        # gunicorn's control socket is one path per user, shared by every
        # server on the machine; freezer-api does not use it.
        'control_socket_disable': True,
    }


def main(argv: list[str] | None = None) -> None:
    service.prepare_service(sys.argv[1:] if argv is None else argv)
    # A worker that crashes in C code writes the Python stack of each of
    # its threads to the error log (stderr) before it dies.
    faulthandler.enable()
    CONF.log_opt_values(LOG, log.DEBUG)
    trusts.check_config(CONF)
    if CONF.api.auto_migrate:
        migration.upgrade(CONF.database.connection)
    application = app.setup_app()
    # Workers are forked from this process: none may inherit a connection,
    # and none may turn annotations into dicts in concurrent threads.
    db_impl.dispose_engine()
    service.settle_annotations()
    LOG.info('freezer-api listening on %s (auth_strategy=%s, %d worker(s) '
             'x %d thread(s))', _bind_address(CONF.bind_host, CONF.bind_port),
             CONF.auth_strategy, api_conf.workers(CONF), CONF.api.threads)
    Server(application, server_options(CONF)).run()

"""WSGI entry point for uWSGI, mod_wsgi or gunicorn:
``freezer_api.wsgi.api:application``.

Configuration comes from the default locations, or from the files in
$FREEZER_API_CONFIG_FILES (comma separated); the schema is not migrated
here: run ``freezer-manage db sync`` on deploy.
"""

import os

from freezer_api.api import app
from freezer_api.common import service
from freezer_api.common import trusts
from freezer_api.common.types import WSGIApp


def _argv() -> list[str]:
    files = os.environ.get('FREEZER_API_CONFIG_FILES', '')
    argv: list[str] = []
    for name in filter(None, (f.strip() for f in files.split(','))):
        argv += ['--config-file', name]
    return argv


def init_application() -> WSGIApp:
    conf = service.prepare_service(_argv())
    trusts.check_config(conf)
    application = app.setup_app(conf)
    # uWSGI forks its workers from the process that imported this module,
    # and mod_wsgi's threads start serving once it is imported: as with
    # freezer-api, their threads must find the annotations settled.
    service.settle_annotations()
    return application


application = init_application()

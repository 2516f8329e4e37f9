"""freezer-api's application built in this process, on a database of its
own, for benchmarks that need no HTTP server (ab_cost.py,
metrics_scrape.py)."""


def application(url):
    """A webtest app of ``setup_app`` (``auth_strategy = noauth``) whose
    database is ``url``, already migrated.

    freezer_api is imported here, when called: a caller that puts another
    source tree first on ``sys.path`` gets that tree's.
    """
    from oslo_config import cfg
    from oslo_db.sqlalchemy import enginefacade
    from oslo_db.sqlalchemy import test_fixtures
    from oslo_log import log
    import webtest

    from freezer_api import conf as freezer_conf
    from freezer_api.api import app
    from freezer_api.db.sqlalchemy import api as db_impl

    conf = cfg.ConfigOpts()
    freezer_conf.register_opts(conf)
    log.register_options(conf)
    conf([], project='freezer', default_config_files=[])
    conf.set_override('auth_strategy', 'noauth')
    facade = enginefacade.transaction_context()
    facade.configure(connection=url, **db_impl.FACADE_OPTIONS)
    facade.append_on_engine_create(db_impl.configure_engine)
    # The service's engine facade, pointed at this database (as the unit
    # tests do).
    test_fixtures.ReplaceEngineFacadeFixture(
        db_impl.main_context_manager, facade).setUp()
    return webtest.TestApp(app.setup_app(conf))

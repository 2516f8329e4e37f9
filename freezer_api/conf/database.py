"""Options of the [database] group (oslo.db) with our embedded default."""

from oslo_db import options as db_options

# A relative SQLite path: the file lives in the directory the service is
# started from, which is what a developer running the quick start expects.
DEFAULT_CONNECTION = 'sqlite:///freezer-api.sqlite'


def register_opts(conf):
    db_options.set_defaults(conf, connection=DEFAULT_CONNECTION)

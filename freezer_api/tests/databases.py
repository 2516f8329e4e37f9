"""Scratch databases on a PostgreSQL or MySQL/MariaDB server, for tests.

The unit tests, the migration tests and the functional servers each make
databases of their own on the server they are given, and drop them after.
"""

import uuid

import sqlalchemy as sa


def _execute(server_url, statement):
    engine = sa.create_engine(server_url, isolation_level='AUTOCOMMIT')
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def create(server_url, prefix):
    """Create an empty database named ``<prefix>_<random>`` on the server
    of ``server_url`` (a URL or string); returns the URL of it."""
    url = sa.engine.make_url(server_url)
    name = '%s_%s' % (prefix, uuid.uuid4().hex[:12])
    _execute(url, 'CREATE DATABASE %s' % name)
    return url.set(database=name)


def drop(server_url, url):
    """Drop the database of ``url`` from the server of ``server_url``, even
    if connections to it remain (pools of the code under test may still
    hold some)."""
    url = sa.engine.make_url(url)
    force = ' WITH (FORCE)' if url.get_backend_name() == 'postgresql' else ''
    _execute(sa.engine.make_url(server_url),
             'DROP DATABASE IF EXISTS %s%s' % (url.database, force))

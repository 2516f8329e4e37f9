"""Schema migrations with alembic: upgrade, stamp and version, for
freezer-manage, the server's start-up and the tests."""

from collections.abc import Callable
import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
import sqlalchemy as sa

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), 'sqlalchemy',
                              'migrations')


def _config(connection: sa.engine.Connection | None = None
            ) -> alembic_config.Config:
    config = alembic_config.Config()
    config.set_main_option('script_location', MIGRATIONS_DIR)
    if connection is not None:
        config.attributes['connection'] = connection
    return config


def _run(url: str,
         alembic_command: Callable[[alembic_config.Config, str], None],
         revision: str) -> None:
    """``alembic_command`` to ``revision`` in one transaction on the
    database at ``url``."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            alembic_command(_config(connection), revision)
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = 'head') -> None:
    """Create or upgrade the schema of the database at ``url``."""
    _run(url, command.upgrade, revision)


def stamp(url: str, revision: str) -> None:
    """Record ``revision`` (``head`` allowed) as the schema's revision of
    the database at ``url`` without running any migration: for a schema
    made by other means, or to undo a wrong record."""
    _run(url, command.stamp, revision)


def version(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None if empty."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            context = alembic_migration.MigrationContext.configure(connection)
            return context.get_current_revision()
    finally:
        engine.dispose()


def head() -> str | None:
    """The newest revision this code knows."""
    from alembic import script
    return script.ScriptDirectory.from_config(_config()).get_current_head()

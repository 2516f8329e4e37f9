"""alembic environment: runs on the connection freezer_api.db.migration
passes in, so the URL and engine options come from one place."""

from alembic import context

from freezer_api.db.sqlalchemy import models

target_metadata = models.Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes['connection']
    context.configure(connection=connection,
                      target_metadata=target_metadata,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()

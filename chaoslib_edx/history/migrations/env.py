"""Alembic's environment: run on the connection the store hands over (never a URL of
alembic.ini's: the inventory names the database)."""

from alembic import context

from chaoslib_edx.history.models import Base

connection = context.config.attributes["connection"]  # the store's, in a transaction
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()

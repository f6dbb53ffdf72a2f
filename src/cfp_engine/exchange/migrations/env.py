"""Alembic environment: runs the revisions on the connection :func:`..database.upgrade` hands in."""

from alembic import context

from cfp_engine.exchange.database import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()

"""Alembic's entry point, run by ivr.records.db.migrate on a connection it already holds.

The app upgrades its own database at start-up (see ivr.records.db.migrate), so this file
never opens a connection itself: it takes the one in config.attributes. For
`alembic revision --autogenerate` while developing, run
`python -m ivr.records.db revision "message"` (see ivr/records/db.py).
"""
from alembic import context

from ivr.records.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()

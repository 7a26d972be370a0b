"""One index fewer to write per turn (issue 16): `ix_events_call_sid` goes.

The unique index on (call_sid, request_key) starts with call_sid, so it already
finds a call's turns (the console, reports, the cascade when a call is purged);
the second index only cost a page written into the WAL on every turn.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_events_call_sid", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_call_sid", "events", ["call_sid"])

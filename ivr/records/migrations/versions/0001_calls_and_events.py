"""Calls and their turns: the schema the recorder started with.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

A database made before migrations existed (by metadata.create_all) has exactly
these tables; ivr.records.db.migrate stamps it at this revision instead of recreating them.
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_sid", sa.String(64), primary_key=True),
        sa.Column("from_number", sa.String(64)),
        sa.Column("to_number", sa.String(64)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("language", sa.String(16)),
        sa.Column("connector", sa.String(16)),
        sa.Column("station_id", sa.String(32)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("last_node", sa.String(64)),
        sa.Column("status", sa.String(16)),
        sa.Column("status_seq", sa.Integer),
        sa.Column("duration_s", sa.Integer),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_sid", sa.String(64), sa.ForeignKey("calls.call_sid", ondelete="CASCADE"), nullable=False),
        sa.Column("request_key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("node", sa.String(64)),
        sa.Column("speech", sa.Text),
        sa.Column("digits", sa.String(32)),
        sa.Column("confidence", sa.Float),
        sa.Column("intent", sa.String(32)),
        sa.Column("action", sa.String(64)),
        sa.Column("next_node", sa.String(64)),
        sa.UniqueConstraint("call_sid", "request_key", name="uq_events_request"),
    )
    op.create_index("ix_events_call_sid", "events", ["call_sid"])


def downgrade() -> None:
    op.drop_index("ix_events_call_sid", table_name="events")
    op.drop_table("events")
    op.drop_table("calls")

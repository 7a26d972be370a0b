"""Hazard alerts to the operator, and what a dropped call needs to resume.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("hazard", sa.String(8)))
        batch.add_column(sa.Column("last_state", sa.String(1000)))
    op.create_index("ix_calls_from_started", "calls", ["from_number", "started_at"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_sid", sa.String(64), sa.ForeignKey("calls.call_sid", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("call_sid", "channel", "tier", name="uq_alerts_call_channel_tier"),
    )
    op.create_index("ix_alerts_call_sid", "alerts", ["call_sid"])
    op.create_index("ix_alerts_due", "alerts", ["status", "next_try_at"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_index("ix_calls_from_started", "calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("last_state")
        batch.drop_column("hazard")

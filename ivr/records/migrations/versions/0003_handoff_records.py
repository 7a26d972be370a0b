"""The hand-off's records: voicemails, call-back requests and text messages.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _call_sid() -> sa.Column:
    return sa.Column("call_sid", sa.String(64), sa.ForeignKey("calls.call_sid", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "voicemails",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _call_sid(),
        sa.Column("recording_sid", sa.String(64), nullable=False, unique=True),
        sa.Column("recording_url", sa.String(500)),
        sa.Column("duration_s", sa.Integer),
        sa.Column("transcription", sa.Text),
        sa.Column("transcription_status", sa.String(16)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_voicemails_call_sid", "voicemails", ["call_sid"])
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _call_sid(),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("station_id", sa.String(32)),
        sa.Column("connector", sa.String(16)),
        sa.Column("steps", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("call_sid", "number", name="uq_callbacks_number"),
    )
    op.create_index("ix_callbacks_call_sid", "callbacks", ["call_sid"])
    op.create_table(
        "text_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _call_sid(),
        sa.Column("to_number", sa.String(32), nullable=False),
        sa.Column("message_sid", sa.String(64)),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("error_code", sa.Integer),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_text_messages_call_sid", "text_messages", ["call_sid"])


def downgrade() -> None:
    for table in ("text_messages", "callbacks", "voicemails"):
        op.drop_index(f"ix_{table}_call_sid", table_name=table)
        op.drop_table(table)

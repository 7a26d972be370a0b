"""The station back end (issue 14): shared OCPI state, the EVSE index, commands and
what each call asked of the station.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

# The tables live in ivr/records/stations.py, on the records' metadata: importing it here
# puts them in the metadata whenever the migrations run, so the schema check sees them too.
import ivr.records.stations  # noqa: F401

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ocpi_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "station_evses",
        sa.Column("location_id", sa.String(36), primary_key=True),
        sa.Column("evse_uid", sa.String(36), primary_key=True),
        sa.Column("evse_id", sa.String(48)),
        sa.Column("physical_reference", sa.String(16)),
        sa.Column("evse_key", sa.String(48)),
        sa.Column("reference_key", sa.String(16)),
        sa.Column("outlet_key", sa.String(48)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("connectors", sa.Text, nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True)),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_station_evses_evse_key", "station_evses", ["evse_key"])
    op.create_index("ix_station_evses_reference_key", "station_evses", ["reference_key"])
    op.create_index("ix_station_evses_outlet_key", "station_evses", ["outlet_key"])
    op.create_table(
        "station_commands",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("call_sid", sa.String(64)),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("location_id", sa.String(36)),
        sa.Column("evse_uid", sa.String(36)),
        sa.Column("connector_id", sa.String(36)),
        sa.Column("session_id", sa.String(36)),
        sa.Column("response", sa.String(32)),
        sa.Column("timeout_s", sa.Integer),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.Float),
        sa.Column("result", sa.String(32)),
        sa.Column("result_message", sa.String(500)),
        sa.Column("result_at", sa.DateTime(timezone=True)),
        sa.Column("results_received", sa.Integer, nullable=False),
    )
    op.create_index("ix_station_commands_call_sid", "station_commands", ["call_sid"])
    op.create_table(
        "station_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_sid", sa.String(64)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("target", sa.String(64)),
        sa.Column("session_id", sa.String(36)),
        sa.Column("command_id", sa.String(64)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(200)),
        sa.Column("duration_ms", sa.Integer),
    )
    op.create_index("ix_station_actions_call_sid", "station_actions", ["call_sid"])
    op.create_index("ix_station_actions_at", "station_actions", ["at"])


def downgrade() -> None:
    op.drop_table("station_actions")
    op.drop_table("station_commands")
    op.drop_table("station_evses")
    op.drop_table("ocpi_state")

"""The console (issue 17): each call's path of steps on its row, and indexes for its filters.

`calls.path` ("connector.ccs_button.session_screen...") lets the funnel count calls per
step from the calls table alone, grouped by path (a few thousand distinct paths for
100,000 calls), instead of joining every turn; existing calls get theirs from their
turns. Indexes: one holding every column the console counts by (outcome, start, connector,
language, station, hazard), so the figures and the stations table read the index
alone, never the wide rows; the station with the start (a station's calls, newest
first); the turn's action (what was not understood).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PATH_CHARS = 1000


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("path", sa.String(PATH_CHARS)))
    op.create_index("ix_calls_console", "calls", ["outcome", "started_at", "connector", "language", "station_id", "hazard"])
    op.create_index("ix_calls_station_started", "calls", ["station_id", "started_at"])
    op.create_index("ix_events_action", "events", ["action"])
    _backfill_paths()


def _backfill_paths() -> None:
    """Each call's path from its turns, in order, a step repeated in a row once."""
    conn = op.get_bind()
    calls = sa.table("calls", sa.column("call_sid"), sa.column("path"))
    turns = conn.execute(sa.text("SELECT call_sid, next_node FROM events WHERE next_node IS NOT NULL "
                                 "ORDER BY call_sid, at, id")).yield_per(10_000) \
        if conn.dialect.name == "postgresql" else conn.execute(sa.text(
            "SELECT call_sid, next_node FROM events WHERE next_node IS NOT NULL ORDER BY call_sid, at, id"))
    update = sa.update(calls).where(calls.c.call_sid == sa.bindparam("sid")).values(path=sa.bindparam("p"))
    batch: list[dict] = []
    current: str | None = None
    path: list[str] = []
    for sid, node in [*turns, (None, None)]:
        if sid != current:
            if current is not None and path:
                batch.append({"sid": current, "p": _joined(path)})
            current, path = sid, []
            if len(batch) >= 5000 or sid is None:
                if batch:
                    conn.execute(update, batch)
                batch = []
        if node is not None and (not path or path[-1] != node):
            path.append(node)


def _joined(path: list[str]) -> str:
    text = ""
    for node in path:
        longer = f"{text}.{node}" if text else node
        if len(longer) > PATH_CHARS:
            break
        text = longer
    return text


def downgrade() -> None:
    op.drop_index("ix_events_action", "events")
    op.drop_index("ix_calls_station_started", "calls")
    op.drop_index("ix_calls_console", "calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("path")

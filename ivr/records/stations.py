"""The station back end's tables (migration 0005), kept with the other records so the
schema is whole without importing the back end. Queries live in ivr/ocpi/store.py.

- `ocpi_state`: small named values every worker shares: the CPO's module
  endpoints (discovered from its version details), the sync cursor, the tokens
  of the credentials handshake.
- `station_evses`: the local index of the CPO's EVSEs, keyed for a label lookup,
  so a webhook never pages through Locations.
- `station_commands`: each command sent, under its unguessable id (the last
  segment of its `response_url`); the CommandResult is written here by whichever
  worker receives it, and read by whichever worker the caller's wait lands on.
- `station_actions`: every lookup and command of a call (keyed by CallSid):
  what, when, the result, how long, and the session stopped, for refunds.
"""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, Integer, String, Table, Text

from ivr.records.db import metadata

ocpi_state = Table(
    "ocpi_state", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

station_evses = Table(
    "station_evses", metadata,
    Column("location_id", String(36), primary_key=True),
    Column("evse_uid", String(36), primary_key=True),
    Column("evse_id", String(48)),
    Column("physical_reference", String(16)),
    Column("evse_key", String(48)),          # label_key(evse_id)
    Column("reference_key", String(16)),     # label_key(physical_reference)
    Column("outlet_key", String(48)),        # the eMI3 ID's last part: "E12345" of "US*CPO*E12345"
    Column("status", String(16), nullable=False),
    Column("connectors", Text, nullable=False),  # JSON: [{id, standard, format, power_type}]
    Column("last_updated", DateTime(timezone=True)),
    Column("synced_at", DateTime(timezone=True), nullable=False),
    Index("ix_station_evses_evse_key", "evse_key"),
    Index("ix_station_evses_reference_key", "reference_key"),
    Index("ix_station_evses_outlet_key", "outlet_key"),
)

station_commands = Table(
    "station_commands", metadata,
    Column("id", String(64), primary_key=True),          # the response_url's secret segment
    Column("call_sid", String(64), index=True),
    Column("command", String(32), nullable=False),
    Column("location_id", String(36)),
    Column("evse_uid", String(36)),
    Column("connector_id", String(36)),
    Column("session_id", String(36)),
    Column("response", String(32)),      # the synchronous CommandResponse result
    Column("timeout_s", Integer),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("deadline", Float),           # epoch seconds: no result by then is TIMEOUT
    Column("result", String(32)),        # the asynchronous CommandResult, first one wins
    Column("result_message", String(500)),
    Column("result_at", DateTime(timezone=True)),
    Column("results_received", Integer, nullable=False, default=0),
)

station_actions = Table(
    "station_actions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_sid", String(64)),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", String(24), nullable=False),   # lookup, status, stop_session, unlock_connector, result
    Column("target", String(64)),                   # the label heard, or location/evse
    Column("session_id", String(36)),
    Column("command_id", String(64)),
    Column("outcome", String(16), nullable=False),  # an Outcome value
    Column("detail", String(200)),
    Column("duration_ms", Integer),
    Index("ix_station_actions_call_sid", "call_sid"),
    Index("ix_station_actions_at", "at"),
)

"""The station back end's queries: shared named values, the EVSE index, commands and
their results, and each call's lookups and commands. The tables are defined with the
other records, in ivr/records/stations.py (migration 0005).
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine

from ivr.records import db
from ivr.records.stations import ocpi_state, station_actions, station_commands, station_evses

log = logging.getLogger("ivr.ocpi")

def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# -- shared named values ---------------------------------------------------------------

def get_state(engine: Engine, name: str):
    with engine.connect() as conn:
        value = conn.execute(select(ocpi_state.c.value).where(ocpi_state.c.name == name)).scalar()
    return None if value is None else json.loads(value)


def set_state(engine: Engine, name: str, value) -> None:
    encoded = json.dumps(value, sort_keys=True)
    with engine.begin() as conn:
        done = conn.execute(update(ocpi_state).where(ocpi_state.c.name == name)
                            .values(value=encoded, updated_at=db.now())).rowcount
        if not done:
            conn.execute(db._insert(conn, ocpi_state).values(name=name, value=encoded, updated_at=db.now()))


def drop_state(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(ocpi_state).where(ocpi_state.c.name == name))


# -- the EVSE index --------------------------------------------------------------------

def upsert_evses(engine: Engine, rows: list[dict]) -> int:
    """Insert or replace EVSEs by (location_id, evse_uid); returns how many."""
    if not rows:
        return 0
    synced = db.now()
    with engine.begin() as conn:
        for row in rows:
            values = {**row, "synced_at": synced}
            key = (station_evses.c.location_id == row["location_id"]) & (station_evses.c.evse_uid == row["evse_uid"])
            changed = conn.execute(update(station_evses).where(key).values(**values)).rowcount
            if not changed:
                conn.execute(db._insert(conn, station_evses).values(**values))
    return len(rows)


def evses_by_key(engine: Engine, key: str) -> list[dict]:
    """EVSEs whose evse_id, physical_reference, or the last part of an eMI3 evse_id
    ("E12345" of "US*CPO*E12345") has this label key (REMOVED ones left out)."""
    if not key:
        return []
    c = station_evses.c
    with engine.connect() as conn:
        rows = conn.execute(select(station_evses).where((c.evse_key == key) | (c.reference_key == key) | (c.outlet_key == key))
                            .where(c.status != "REMOVED")
                            .order_by(c.location_id, c.evse_uid)).mappings().all()
    return [dict(r) for r in rows]


def evses_at_location(engine: Engine, key: str) -> list[dict]:
    """Every EVSE of the location whose id has this label key: a called number may name
    a whole site, and the caller is then asked which charger (REMOVED ones left out)."""
    if not key:
        return []
    c = station_evses.c
    with engine.connect() as conn:
        rows = conn.execute(select(station_evses).where(c.status != "REMOVED")
                            .where(func.upper(c.location_id) == key).order_by(c.evse_uid)).mappings().all()
    return [dict(r) for r in rows]


def evse_row(engine: Engine, location_id: str, evse_uid: str) -> dict | None:
    c = station_evses.c
    with engine.connect() as conn:
        row = conn.execute(select(station_evses).where(c.location_id == location_id, c.evse_uid == evse_uid)
                           ).mappings().first()
    return None if row is None else dict(row)


def count_evses(engine: Engine) -> int:
    from sqlalchemy import func
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(station_evses)).scalar() or 0


def some_evses(engine: Engine, limit: int = 5) -> list[dict]:
    c = station_evses.c
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(station_evses).order_by(c.location_id, c.evse_uid)
                                              .limit(limit)).mappings()]


# -- commands --------------------------------------------------------------------------

def add_command(engine: Engine, **values) -> None:
    with engine.begin() as conn:
        conn.execute(station_commands.insert().values(sent_at=db.now(), results_received=0, **values))


def command_answered(engine: Engine, command_id: str, response: str, timeout_s: int | None,
                     deadline: float | None) -> None:
    with engine.begin() as conn:
        conn.execute(update(station_commands).where(station_commands.c.id == command_id)
                     .values(response=response, timeout_s=timeout_s, deadline=deadline))


def command_row(engine: Engine, command_id: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(station_commands).where(station_commands.c.id == command_id)).mappings().first()
    return None if row is None else dict(row)


def record_result(engine: Engine, command_id: str, result: str, message: str | None) -> str:
    """Store a CommandResult: 'stored' (the first), 'repeated' (again: kept as it
    was, counted), or 'unknown' (no such command). One conditional UPDATE, so two
    workers receiving two posts at once cannot both win."""
    c = station_commands.c
    with engine.begin() as conn:
        first = conn.execute(update(station_commands).where(c.id == command_id, c.result.is_(None))
                             .values(result=result[:32], result_message=(message or None) and message[:500],
                                     result_at=db.now(), results_received=c.results_received + 1)).rowcount
        if first:
            return "stored"
        again = conn.execute(update(station_commands).where(c.id == command_id)
                             .values(results_received=c.results_received + 1)).rowcount
    return "repeated" if again else "unknown"


# -- what a call did --------------------------------------------------------------------

def record_action(engine: Engine, call_sid: str | None, action: str, outcome: str, *, target: str | None = None,
                  session_id: str | None = None, command_id: str | None = None, detail: str = "",
                  duration_ms: int | None = None) -> None:
    """Best effort, like every record of a call: a failure is logged, never raised."""
    try:
        with engine.begin() as conn:
            conn.execute(station_actions.insert().values(
                call_sid=call_sid, at=db.now(), action=action[:24], outcome=str(outcome)[:16],
                target=(target or None) and target[:64], session_id=session_id and session_id[:36],
                command_id=command_id, detail=(detail or None) and detail[:200], duration_ms=duration_ms))
    except Exception as exc:
        log.error("call %s: station action not recorded (%s)", call_sid, db.describe(exc))


def actions_of(engine: Engine, call_sid: str) -> list[dict]:
    c = station_actions.c
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(station_actions).where(c.call_sid == call_sid)
                                              .order_by(c.id)).mappings()]


# -- figures for `ivr report` and the dashboard ------------------------------------------

def figures(engine: Engine, since: datetime | None = None) -> dict:
    """What the station back end did, for the reports: per command, how many were sent,
    succeeded, failed (rejected, unknown, down) or timed out, and how many calls a
    successful one freed (the call ended `released`); and the stations (labels looked up)
    that get the most calls, a maintenance signal."""
    import time as _time

    from sqlalchemy import func
    c, a = station_commands.c, station_actions.c
    query = select(c.command, c.call_sid, c.response, c.result, c.deadline)
    if since is not None:
        query = query.where(c.sent_at >= since)
    released = select(db.calls.c.call_sid).where(db.calls.c.outcome == "released")
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        freed_calls = set(conn.execute(released.where(db.calls.c.call_sid.in_(
            {r.call_sid for r in rows if r.result == "ACCEPTED" and r.call_sid}))).scalars()) if rows else set()
        lookups = select(a.target, func.count(func.distinct(a.call_sid)).label("calls")) \
            .where(a.action == "lookup", a.outcome == "ok")
        if since is not None:
            lookups = lookups.where(a.at >= since)
        top = conn.execute(lookups.group_by(a.target).order_by(func.count(func.distinct(a.call_sid)).desc(), a.target)
                           .limit(10)).all()
    now = _time.time()
    per: dict[str, dict] = {}
    for row in rows:
        entry = per.setdefault(row.command, {"sent": 0, "succeeded": 0, "failed": 0, "timed_out": 0,
                                             "pending": 0, "calls_freed": 0})
        entry["sent"] += 1
        if row.result == "ACCEPTED":
            entry["succeeded"] += 1
        elif row.result == "TIMEOUT" or (row.response == "ACCEPTED" and row.result is None
                                         and row.deadline is not None and now >= row.deadline):
            entry["timed_out"] += 1
        elif row.response == "ACCEPTED" and row.result is None:
            entry["pending"] += 1
        else:
            entry["failed"] += 1
    for command, entry in per.items():
        entry["calls_freed"] = len({r.call_sid for r in rows if r.command == command and r.result == "ACCEPTED"
                                    and r.call_sid in freed_calls})
    return {"commands": per, "stations": [{"label": t.target, "calls": t.calls} for t in top]}

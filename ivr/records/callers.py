"""How often a caller has called and rung the agents lately: the counts behind
IVR_RATE_LIMIT and IVR_AGENT_CAP (the limits themselves: ivr.config.ratelimit).

The count comes from the calls table, not from process memory, so it holds
across gunicorn workers, hosts and restarts.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import exists, func, or_, select
from sqlalchemy.engine import Engine

from ivr.config.ratelimit import LIMITED_ACTION, RateLimit, is_hidden
from ivr.records import db
from ivr.records.db import calls, events


def over_limit(engine: Engine, limit: RateLimit | None, caller: str | None, call_sid: str,
               at: datetime | None = None) -> bool:
    """Has `caller` already made `limit.calls` other calls within the window?

    The call itself is left out of the count, so Twilio retrying the first
    webhook gets the same answer as the first time.
    """
    if limit is None or is_hidden(caller):
        return False
    since = (at or datetime.now(timezone.utc)) - limit.window
    # A refused call never counts: a driver who keeps trying is not locked out for it.
    # Plain SQL through the driver: this runs on every incoming call (issue 16).
    sql = db.plain(engine)
    with sql.transaction() as cursor:
        sql.execute(cursor, "calls_lately", {"from_number": caller, "since": sql.stamp(since), "call_sid": call_sid,
                                             "refused": LIMITED_ACTION})
        return cursor.fetchone()[0] >= limit.calls


def agents_rung(engine: Engine, cap: RateLimit | None, caller: str | None, call_sid: str,
                at: datetime | None = None) -> bool:
    """Has `caller` already rung the agents `cap.calls` times within the window (IVR_AGENT_CAP)?

    Counts the caller's other calls that reached a dial or a queue."""
    if cap is None or is_hidden(caller):
        return False
    since = (at or datetime.now(timezone.utc)) - cap.window
    rang = exists().where(events.c.call_sid == calls.c.call_sid,
                          or_(events.c.action.like("dial:%"), events.c.action.like("queue:%")))
    query = select(func.count()).select_from(calls).where(
        calls.c.from_number == caller, calls.c.started_at >= since, calls.c.call_sid != call_sid, rang)
    with engine.connect() as conn:
        return conn.execute(query).scalar_one() >= cap.calls

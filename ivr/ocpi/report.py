"""What the station back end did, for `ivr report`: how many calls a remote stop or
unlock freed and how many it failed, the stops an operator may refund idle fees for
(the session, when it stopped), and the stations that get the most calls (a
maintenance signal). Read from the records; kept apart from ivr/records/reports.py
so the call report stays the call report.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ivr.records.stations import station_commands

from . import store

NAMES = {"STOP_SESSION": "remote stop", "UNLOCK_CONNECTOR": "remote unlock"}


def station_report(engine: Engine, since: datetime | None = None) -> dict:
    """{"commands": {command: {sent, succeeded, failed, timed_out, pending, calls_freed,
    calls_failed}}, "stations": [{label, calls}], "stops": [{call_sid, session_id,
    stopped_at, location_id, evse_uid}]}."""
    figures = store.figures(engine, since)
    c = station_commands.c
    query = select(c.command, c.call_sid, c.result, c.response, c.session_id, c.result_at, c.location_id,
                   c.evse_uid).order_by(c.sent_at)
    if since is not None:
        query = query.where(c.sent_at >= since)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    for command, entry in figures["commands"].items():
        worked = {r.call_sid for r in rows if r.command == command and r.result == "ACCEPTED" and r.call_sid}
        tried = {r.call_sid for r in rows if r.command == command and r.call_sid}
        entry["calls_failed"] = len(tried - worked)
    figures["stops"] = [{"call_sid": r.call_sid, "session_id": r.session_id, "location_id": r.location_id,
                         "evse_uid": r.evse_uid,
                         "stopped_at": r.result_at.isoformat(timespec="seconds") if r.result_at else None}
                        for r in rows if r.command == "STOP_SESSION" and r.result == "ACCEPTED"]
    return figures


def report_text(report: dict) -> str:
    """The station part of `ivr report`; empty when the line never used a back end."""
    if not report["commands"] and not report["stations"]:
        return ""
    lines = ["", "Station back end"]
    for command, entry in sorted(report["commands"].items()):
        lines.append(f"  {NAMES.get(command, command)}: sent {entry['sent']}, worked {entry['succeeded']}, "
                     f"failed {entry['failed']}, no result in time {entry['timed_out']}; "
                     f"calls it freed {entry['calls_freed']}, calls it failed {entry.get('calls_failed', 0)}")
    if report.get("stops"):
        lines.append(f"  sessions stopped remotely (for idle-fee refunds): {len(report['stops'])}")
        for stop in report["stops"][-10:]:
            lines.append(f"    {stop['session_id']} at {stop['location_id']}/{stop['evse_uid']}, "
                         f"stopped {stop['stopped_at']} (call {stop['call_sid']})")
    if report["stations"]:
        lines.append("  stations with the most calls (a maintenance signal):")
        lines += [f"    {s['label']}: {s['calls']} calls" for s in report["stations"]]
    return "\n".join(lines) + "\n"

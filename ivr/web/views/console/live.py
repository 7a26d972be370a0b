"""/dashboard/live.json: the calls in progress, for the "now" panel to poll.

Polling, not server-sent events: an open stream would hold a worker per open
console and starve the webhooks. The answer comes from the database, so every
worker gives the same one.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, jsonify, url_for

from ivr.records import console as records
from ivr.web.views.console import common, gate, words

bp = gate.protect(Blueprint("console_live", __name__, url_prefix="/dashboard"))
POLL_SECONDS = 5


@bp.get("/live.json")
def live():
    at = datetime.now(timezone.utc)
    try:
        rows = records.live_calls(common.engine(), at)
    except Exception as exc:
        common.log.error("dashboard: the live calls could not be read (%s)", type(exc).__name__)
        return jsonify({"error": "The call records cannot be read right now.", "calls": []}), 503
    flow, catalog = common.flow(), common.operator()
    return jsonify({
        "at": at.isoformat(), "poll_seconds": POLL_SECONDS,
        "calls": [{"call_sid": r["call_sid"], "url": url_for("console_calls.call", call_sid=r["call_sid"]),
                   "caller": r["caller"], "station": r["station_id"] or "-", "language": r["language"] or "-",
                   "connector": words.connector_words(r["connector"]),
                   "step": words.node_label(flow, catalog, r["last_node"]) if r["last_node"] else "Welcome",
                   "seconds": max(0, int((at - r["started_at"]).total_seconds()))} for r in rows],
    })

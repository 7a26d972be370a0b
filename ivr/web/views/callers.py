"""Who is calling, looked up in the records for the conversation's Arrived event: the
rate limit and the agent cap, and a call of theirs that dropped a moment ago
(the conversation decides whether to carry on)."""
from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qsl

from flask import current_app

from ivr.basics import phone
from ivr.call import events as ev
from ivr.call.station_model import Lookup
from ivr.records import callers, db
from ivr.web.services import services
from ivr.web.views.web import call_sid

log = logging.getLogger("ivr.voice")


def over_rate_limit(caller: str | None) -> bool:
    """IVR_RATE_LIMIT, counted in the database; if the count fails, the call gets in."""
    settings = services().settings
    return _over(callers.over_limit, settings.rate_limit, caller, "the rate limit let it in",
                 f"over the rate limit ({settings.rate_limit})")


def over_agent_cap(caller: str | None) -> bool:
    """IVR_AGENT_CAP: this number has rung the agents often enough; if the count fails, it has not."""
    return _over(callers.agents_rung, services().settings.agent_cap, caller, "IVR_AGENT_CAP let it through",
                 "over IVR_AGENT_CAP; offering the fallback")


def _over(count, limit, caller: str | None, if_failed: str, if_over: str) -> bool:
    """One of the caller's counts against its limit. The count reads the database the
    records are in: a failure is one line with the records' loss, and lets the call on."""
    svc = services()
    try:
        over = count(svc.recorder.engine, limit, caller, call_sid())
    except Exception as exc:
        svc.recorder.health.failed(call_sid(), f"{db.describe(exc)}; {if_failed}")
        return False
    if over:
        log.warning("call %s from %s: %s", call_sid(), phone.masked(caller), if_over)
    return bool(over)


def earlier_call(caller: str | None) -> ev.EarlierCall | None:
    """This caller's call that ended within IVR_RESUME_MINUTES, if any, as recorded
    (the conversation decides whether to carry on: ivr.call.resume)."""
    svc = services()
    if not svc.settings.resume_minutes or not phone.e164(caller):
        return None
    earlier = svc.recorder.earlier_call(caller, call_sid(), timedelta(minutes=svc.settings.resume_minutes))
    if earlier is None or not earlier.get("last_state"):
        return None
    return ev.EarlierCall(dict(parse_qsl(earlier["last_state"])), earlier.get("hazard"), earlier.get("outcome"))


def station_lookup(station_id: str | None) -> Lookup | None:
    """The station back end's EVSE for the called number's station (issue 14); None without
    a back end (or one that fails: the call goes on as without one)."""
    backend = current_app.extensions.get("ivr.station")
    if not station_id or backend is None or getattr(backend, "name", "none") == "none":
        return None
    try:
        return backend.find_evse(station_id, call_sid=call_sid())
    except Exception:
        log.exception("call %s: the station lookup failed; going on without it", call_sid())
        return None

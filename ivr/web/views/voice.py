"""The webhooks Twilio calls during a call. Thin: read the request, ask the
conversation (ivr.call.conversation), render its reply, carry out its effects
(ivr.web.views.converse).

Every answer is TwiML with Content-Type text/xml. Whatever fails, the caller
hears a short apology and is put through to a person: Twilio never sees a 500.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from ivr.basics import phone
from ivr.call import events as ev
from ivr.web.services import services
from ivr.web.views import callers as callers_views
from ivr.web.views import guards, readers
from ivr.web.views.converse import respond
from ivr.web.views.web import call_sid, station_id, xml

log = logging.getLogger("ivr.voice")
bp = Blueprint("voice", __name__, url_prefix="/voice")
guards.guard(bp)


@bp.post("")
@bp.post("/")
def incoming():
    """A call comes in: greet (or welcome back), and ask the first question."""
    svc = services()
    caller = (request.form.get("From") or "")[:64] or None
    limited = callers_views.over_rate_limit(caller)
    known_station = station_id()
    svc.recorder.call_started(call_sid(), caller, request.form.get("To"),
                              svc.content.default_language, station_id=known_station)
    log.info("call %s from %s", call_sid(), phone.masked(caller))
    arrived = ev.Arrived(earlier=callers_views.earlier_call(caller), lang=readers.line_language(),
                         station=known_station, over_rate_limit=limited,
                         over_agent_cap=limited and callers_views.over_agent_cap(caller),
                         lookup=callers_views.station_lookup(known_station))
    return respond(None, arrived)


@bp.post("/turn")
def turn():
    """The caller answered (or stayed silent): take the next step."""
    return respond(readers.place(questions_only=True), readers.answered("step"))


@bp.post("/whisper")
def whisper():
    """The agent's leg, before the bridge: the call's context, then press 1."""
    return respond(readers.place(), ev.WhisperAsked())


@bp.post("/whisper/accept")
def whisper_accept():
    """1 takes the call; anything else hangs up the agent's leg."""
    return respond(readers.place(), ev.WhisperAnswered(request.form.get("Digits")))


@bp.post("/status")
def status():
    """Twilio's status callback: the body is ignored, so answer 204."""
    form = request.form
    duration = form.get("CallDuration", "")
    sequence = form.get("SequenceNumber", "")
    services().recorder.status(
        call_sid(), (form.get("CallStatus") or "")[:16],
        int(duration) if duration.isdigit() and len(duration) < 9 else None,
        int(sequence) if sequence.isdigit() and len(sequence) < 9 else None)
    return Response(status=204)


@bp.post("/fallback")
def fallback():
    """Twilio's fallback URL: our primary answer failed; apologise and transfer."""
    log.error("fallback for call %s: ErrorCode=%s ErrorUrl=%s", call_sid(),
              request.form.get("ErrorCode"), request.form.get("ErrorUrl"))
    services().recorder.outcome(call_sid(), "transferred")
    return xml(guards.apology_transfer(request.args.get("lang")))

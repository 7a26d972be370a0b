"""The webhooks Twilio calls during a call. Thin: parse, ask the engine, render.

Every answer is TwiML with Content-Type text/xml. Whatever fails, the caller
hears a short apology and is put through to a person: Twilio never sees a 500.
"""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from ivr.basics import phone
from ivr.call import greeting, handoff
from ivr.call.engine import BadState, CallState, Heard, Reply
from ivr.call.understanding import understand
from ivr.call.vehicles import record_of
from ivr.web import twiml
from ivr.web.services import services
from ivr.web.views import callers as callers_views
from ivr.web.views import guards, render, web
from ivr.web.views.web import absolute, call_sid, confidence, request_key, station_id, vocabulary_for, voice_for, xml

log = logging.getLogger("ivr.voice")
bp = Blueprint("voice", __name__, url_prefix="/voice")
guards.guard(bp)

# -- rendering an engine reply ----------------------------------------------------

OUTCOME_RECORDS = {"released": "released", "hazard": "hazard", "agent": "transferred", "goodbye": "goodbye"}


def record(reply: Reply, heard: Heard | None, node: str | None) -> None:
    svc = services()
    form = request.form
    outcome = OUTCOME_RECORDS.get(reply.outcome or "")
    if reply.state.hazard and reply.outcome != "agent":
        outcome = "hazard"
    svc.recorder.turn(
        call_sid(), request_key(), node=node,
        speech=form.get("SpeechResult"), digits=form.get("Digits"), confidence=confidence(),
        intent=heard.intent if heard else None, action=reply.action,
        next_node=reply.node, language=reply.state.lang, connector=reply.state.connector,
        outcome=outcome, hazard=reply.state.hazard,
        car=record_of(svc.content.vehicles, reply.state.car),
        state=urlencode(reply.state.to_params()) if reply.outcome is None else None)


# -- webhooks -----------------------------------------------------------------------

@bp.post("")
@bp.post("/")
def incoming():
    """A call comes in: greet (or welcome back), and ask the first question."""
    svc = services()
    content = svc.content
    caller = (request.form.get("From") or "")[:64] or None
    limited = callers_views.over_rate_limit(caller)
    known_station = station_id()
    svc.recorder.call_started(call_sid(), caller, request.form.get("To"),
                              content.default_language, station_id=known_station)
    log.info("call %s from %s", call_sid(), phone.masked(caller))
    to = phone.compact(request.form.get("To"))
    lang = svc.settings.number_languages.get(to)
    earlier = callers_views.earlier_state(caller)
    if limited:
        state = CallState(node=content.flow.start, lang=lang or content.default_language, station=known_station,
                          hazard=earlier.hazard if earlier else None)
        return xml(callers_views.rate_limited(caller, lang, state))
    welcome = greeting.greet(content.engine, content.flow.settings, lang, earlier, known_station)
    reply = welcome.reply
    record(reply, None, None)
    if welcome.ask_station:
        return xml(render.ask_station(reply))
    if reply.outcome == "agent":
        return xml(render.transfer(reply.lines, reply.state, voice_for(reply.state.lang)))
    return xml(render.render_reply(reply))


@bp.post("/turn")
def turn():
    """The caller answered (or stayed silent): take the next step."""
    content = services().content
    try:
        state = CallState.from_params(request.args, content.flow, content.catalogs)
    except BadState as exc:
        log.warning("call %s: %s; transferring", call_sid(), exc)
        return xml(guards.apology_transfer(request.args.get("lang")))
    engine = content.engine
    form = request.form
    understood = understand(form.get("SpeechResult"), confidence(), form.get("Digits"),
                            engine.expecting(state), state.lang, vocabulary_for(state.lang))
    by = "keys" if (form.get("Digits") or "").strip() else "speech" if (form.get("SpeechResult") or "").strip() else ""
    heard = Heard.of(understood, by)
    reply = engine.answer(state, heard)
    record(reply, heard, state.node)
    web.alert_new_hazard(state.hazard, reply.state)
    if greeting.station_after_answer(content.flow.settings, state, reply):
        return xml(render.ask_station(reply))   # after the caller's first try (station_id_before)
    return xml(render.render_reply(reply))


@bp.post("/whisper")
def whisper():
    """The agent's leg, before the bridge: the call's context, then press 1."""
    content = services().content
    agent_catalog = content.catalogs[services().settings.agent_language]
    try:
        state = CallState.from_params(request.args, content.flow, content.catalogs, questions_only=False)
    except BadState:
        state = None
    if state is None:
        lines = [agent_catalog.text("whisper_steps_none"), agent_catalog.text("whisper_accept")]
    else:
        lines = handoff.whisper_lines(agent_catalog, content.flow, state,
                                      caller_language=content.catalogs[state.lang])
    accept = absolute("voice.whisper_accept", **request.args.to_dict())
    return xml(twiml.whisper(lines, accept=accept, voice=voice_for(agent_catalog.language)))


@bp.post("/whisper/accept")
def whisper_accept():
    """1 takes the call; anything else hangs up the agent's leg."""
    if request.form.get("Digits") == "1":
        return xml(twiml.accepted())
    return xml(twiml.hangup())


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

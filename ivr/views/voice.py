"""The webhooks Twilio calls during a call. Thin: parse, ask the engine, render.

Every answer is TwiML with Content-Type text/xml. Whatever fails, the caller
hears a short apology and is put through to a person: Twilio never sees a 500.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, request

from .. import db, handoff, ratelimit, twiml
from ..app import services
from ..engine import BadState, CallState, Heard, Reply
from ..understanding import hints, understand
from . import handoff as handoff_views, web
from .web import (absolute, apology_transfer as _apology_transfer, call_sid, confidence, request_key,
                  station_id, vocabulary_for, voice_for, xml)

log = logging.getLogger("ivr.voice")
bp = Blueprint("voice", __name__, url_prefix="/voice")
web.guard(bp)

# -- rendering an engine reply ----------------------------------------------------

OUTCOME_RECORDS = {"released": "released", "hazard": "hazard", "agent": "transferred", "goodbye": "goodbye"}


def render_reply(reply: Reply):
    voice = voice_for(reply.state.lang)
    if reply.question is not None:
        return twiml.question(
            reply.lines, action=absolute("voice.turn", **reply.question.state.to_params()),
            voice=voice, timeout=reply.question.timeout,
            hints=hints(reply.question.expecting, reply.state.lang, vocabulary_for(reply.state.lang)))
    if reply.outcome == "agent":
        return handoff_views.transfer(reply.lines, reply.state, voice)
    if reply.outcome == "released":
        return handoff_views.released(reply.lines, reply.state, voice)
    return twiml.goodbye(reply.lines, voice)


def over_rate_limit(caller: str | None) -> bool:
    """IVR_RATE_LIMIT, counted in the database; if the count fails, the call gets in."""
    svc = services()
    try:
        limited = ratelimit.over_limit(svc.recorder.engine, svc.settings.rate_limit, caller, call_sid())
    except Exception as exc:  # noqa: BLE001 - a broken count must not turn a driver away
        # The same database the records are in: one line per call, with the records' loss.
        svc.recorder.health.failed(call_sid(), f"{db.describe(exc)}; the rate limit let it in")
        return False
    if limited:
        log.warning("call %s from %s: over the rate limit (%s)", call_sid(), handoff.masked(caller),
                    svc.settings.rate_limit)
    return limited


def _rate_limited(lang: str | None):
    """Too many calls from one number: say so, give the support number, hang up."""
    svc = services()
    voice = voice_for(lang)
    catalog = svc.content.catalogs[voice.language]
    number = svc.settings.support_number
    lines = [catalog.text("rate_limited"), catalog.text("rate_limited_danger")]
    if number:  # read digit by digit
        lines.append(catalog.text("rate_limited_support", number=" ".join(ch for ch in number if ch.isdigit())))
    else:
        lines.append(catalog.text("transfer_no_agent"))
    svc.recorder.turn(call_sid(), request_key(), node=None, speech=None, digits=None, confidence=None,
                      intent=None, action="rate_limited", next_node=None, outcome="limited")
    return twiml.goodbye(lines, voice)


def record(reply: Reply, heard: Heard | None, node: str | None) -> None:
    svc = services()
    form = request.form
    outcome = OUTCOME_RECORDS.get(reply.outcome or "")
    if reply.action == "hazard" or (reply.outcome and node in svc.content.engine.safety_nodes):
        outcome = "hazard"
    svc.recorder.turn(
        call_sid(), request_key(), node=node,
        speech=form.get("SpeechResult"), digits=form.get("Digits"), confidence=confidence(),
        intent=heard.intent if heard else None, action=reply.action,
        next_node=reply.node, language=reply.state.lang, connector=reply.state.connector,
        outcome=outcome)


# -- webhooks -----------------------------------------------------------------------

@bp.post("")
@bp.post("/")
def incoming():
    """A call comes in: greet, and ask the first question."""
    svc = services()
    content = svc.content
    caller = (request.form.get("From") or "")[:64] or None
    limited = over_rate_limit(caller)
    known_station = station_id()
    svc.recorder.call_started(call_sid(), caller, request.form.get("To"),
                              content.default_language, station_id=known_station)
    log.info("call %s from %s", call_sid(), handoff.masked(caller))
    to = re.sub(r"[\s().-]", "", request.form.get("To") or "")
    if limited:
        return xml(_rate_limited(svc.settings.number_languages.get(to)))
    reply = content.engine.start(svc.settings.number_languages.get(to))
    if known_station:  # the number stands for one station: carry it to the whisper
        reply = handoff_views.with_station(reply, known_station)
    record(reply, None, None)
    if reply.question is not None and handoff_views.wants_station_id(reply.state):
        return xml(handoff_views.ask_station(reply))
    return xml(render_reply(reply))


@bp.post("/turn")
def turn():
    """The caller answered (or stayed silent): take the next step."""
    content = services().content
    try:
        state = CallState.from_params(request.args, content.flow, content.catalogs)
    except BadState as exc:
        log.warning("call %s: %s; transferring", call_sid(), exc)
        return xml(_apology_transfer(request.args.get("lang")))
    engine = content.engine
    heard = understand(request.form.get("SpeechResult"), confidence(), request.form.get("Digits"),
                       engine.expecting(state), state.lang, vocabulary_for(state.lang))
    reply = engine.answer(state, heard)
    record(reply, heard, state.node)
    if reply.outcome == "agent":
        hazard = reply.action == "hazard" or state.node in engine.safety_nodes
        return xml(handoff_views.transfer(reply.lines, reply.state, voice_for(reply.state.lang), hazard=hazard))
    return xml(render_reply(reply))


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
        caller = "+" + request.args["c4"] if request.args.get("c4", "").isdigit() else None
        lines = handoff.whisper_lines(agent_catalog, content.flow, state, caller,
                                      hazard=request.args.get("hz") == "1",
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
    return xml(_apology_transfer(request.args.get("lang")))

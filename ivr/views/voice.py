"""The webhooks Twilio calls during a call. Thin: parse, ask the engine, render.

Every answer is TwiML with Content-Type text/xml. Whatever fails, the caller
hears a short apology and is put through to a person: Twilio never sees a 500.
"""
from __future__ import annotations

import hashlib
import logging
import math
import re

from flask import Blueprint, Response, request, url_for
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .. import deadline, handoff, ratelimit, twiml
from ..app import services
from ..engine import BadState, CallState, Heard, Reply
from ..security import is_from_twilio, public_url, raw_path
from ..understanding import hints, understand
from . import handoff as handoff_views

log = logging.getLogger("ivr.voice")
bp = Blueprint("voice", __name__, url_prefix="/voice")

FALLBACK_APOLOGY = "Sorry, something went wrong on our side. I'm connecting you to a person now."
FALLBACK_NO_AGENT = "Please call the support number printed on the charging station. Goodbye."


# -- request plumbing ------------------------------------------------------------

@bp.before_request
def check_signature():
    deadline.start()
    settings = services().settings
    if not settings.check_signatures:
        return None
    url = public_url(request.environ, request.host_url, settings.public_url)
    try:
        form = request.form
    except RequestEntityTooLarge:  # unread, so unverifiable; Twilio never sends this much
        form = None
    if form is None or not is_from_twilio(settings.auth_token, url, form, request.headers.get("X-Twilio-Signature")):
        log.warning("refused an unsigned or forged webhook to %s", request.path)
        return Response("Forbidden: not signed by Twilio for this URL.\n", status=403, mimetype="text/plain")
    return None


@bp.teardown_request
def stop_the_clock(_exc=None):
    deadline.stop()


@bp.errorhandler(Exception)
def fail_safe(exc: Exception):
    """Any failure: apologise and put the caller through to a person.

    A body over MAX_CONTENT_LENGTH (only without signature checks: with them it
    is refused unread) gets the same answer rather than a 413 page. On the
    agent's leg (the whisper) the safe answer is the bridge, not another Dial;
    a status callback's answer is ignored, so it gets 204.
    """
    if isinstance(exc, HTTPException) and exc.code < 500 and not isinstance(exc, RequestEntityTooLarge):
        return exc
    log.error("webhook %s failed for call %s; %s", request.path, _field("CallSid") or "?",
              "answering 204" if request.endpoint == "voice.status" else "transferring to an agent",
              exc_info=not isinstance(exc, RequestEntityTooLarge))
    if request.endpoint == "voice.status":
        return Response(status=204)
    if request.endpoint in ("voice.whisper", "voice.whisper_accept"):
        return xml(twiml.accepted())
    return xml(_apology_transfer(request.args.get("lang")))


def _field(name: str) -> str | None:
    """A form field, or None when the body itself is what failed."""
    try:
        return request.form.get(name)
    except Exception:  # noqa: BLE001 - called while handling another failure
        return None


def xml(response) -> Response:
    return Response(twiml.render(response), status=200, mimetype="text/xml")


def absolute(endpoint: str, **params) -> str:
    base = services().settings.public_url
    if base:
        return base + url_for(endpoint, **params)
    return url_for(endpoint, _external=True, **params)


def request_key() -> str:
    """Same webhook, same key: Twilio's retries are recorded once."""
    digest = hashlib.sha256(raw_path(request.environ).encode())
    for name in sorted(request.form):
        for value in request.form.getlist(name):
            digest.update(f"\0{name}={value}".encode("utf-8", "replace"))
    return digest.hexdigest()[:40]


def confidence() -> float | None:
    try:
        value = float(request.form.get("Confidence", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None


def call_sid() -> str:
    return (request.form.get("CallSid") or "unknown")[:64]


def station_id() -> str | None:
    """The station a number stands for: ?station=ID on its voice URL (ivr configure-number --station)."""
    raw = request.args.get("station", "")
    return raw if re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", raw) else None


def voice_for(lang: str | None) -> twiml.Voice:
    content = services().content
    catalog = content.catalogs.get(lang or "") or content.catalogs[content.default_language]
    return twiml.Voice(catalog.voice, catalog.language)


def vocabulary_for(lang: str | None):
    """How callers answer in that language (None: the built-in English reading)."""
    catalog = services().content.catalogs.get(lang or "")
    return catalog.vocabulary if catalog is not None else None


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
        return _transfer(reply.lines, reply.state, voice)
    if reply.outcome == "released":
        return handoff_views.released(reply.lines, reply.state, voice)
    return twiml.goodbye(reply.lines, voice)


def _transfer(lines, state: CallState, voice: twiml.Voice, hazard: bool = False):
    """The hand-off (views/handoff.py): business hours, the queue or the agent line, the fallback chain."""
    return handoff_views.transfer(lines, state, voice, hazard=hazard)


def _apology_transfer(lang: str | None):
    """The last resort; must work even when the flow or the prompts do not."""
    settings = services().settings
    try:
        voice = voice_for(lang)
        catalog = services().content.catalogs[voice.language]
        apology, no_agent = catalog.text("apology_transfer"), catalog.text("transfer_no_agent")
    except Exception:  # noqa: BLE001 - the fail-safe of the fail-safe
        voice, apology, no_agent = twiml.Voice("Polly.Joanna-Neural", "en-US"), FALLBACK_APOLOGY, FALLBACK_NO_AGENT
    if not settings.agent_number:
        return twiml.goodbye([apology, no_agent], voice)
    response = twiml.VoiceResponse()
    twiml.speak(response, [apology], voice)
    dial = response.dial(timeout=settings.dial_timeout, answer_on_bridge=True, caller_id=settings.caller_id)
    dial.number(settings.agent_number)
    return response


def over_rate_limit(caller: str | None) -> bool:
    """IVR_RATE_LIMIT, counted in the database; if the count fails, the call gets in."""
    svc = services()
    try:
        limited = ratelimit.over_limit(svc.recorder.engine, svc.settings.rate_limit, caller, call_sid())
    except Exception:  # noqa: BLE001 - a broken count must not turn a driver away
        log.exception("call %s: could not count recent calls; letting it in", call_sid())
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
    svc.recorder.call_started(call_sid(), caller, request.form.get("To"),
                              content.default_language, station_id=station_id())
    log.info("call %s from %s", call_sid(), handoff.masked(caller))
    to = re.sub(r"[\s().-]", "", request.form.get("To") or "")
    if limited:
        return xml(_rate_limited(svc.settings.number_languages.get(to)))
    reply = content.engine.start(svc.settings.number_languages.get(to))
    known_station = station_id()
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
        return xml(_transfer(reply.lines, reply.state, voice_for(reply.state.lang), hazard=hazard))
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

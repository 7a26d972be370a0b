"""The hand-off webhooks: ringing a person, and what happens when nobody answers.

Thin like the rest of the web layer: ivr.escalation decides which link comes
next, ivr.handoff writes what is said and texted, ivr.twiml builds the answer.
Where the call is in the hand-off travels in the signed action URL: the call's
state (CallState.to_params) plus `ch` (which chain: f = fallback, a = after
hours, r = after a release), `at` (the link being run), `done` (codes of links
already run) and `ot` (tries at the current question). A hazard travels in the
call's state (`hz`), so every link after one keeps the caller safe.
"""
from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime, timezone

from flask import Blueprint, Response, request

from ivr.basics import phone
from ivr.call import chain, handoff, station, station_dialogue
from ivr.call.chain import Place
from ivr.call.engine import BadState, CallState, Heard, Line, Reply
from ivr.call.understanding import hints, understand
from ivr.outbound import sms
from ivr.web import twiml
from ivr.web.services import services
from ivr.web.views import web

log = logging.getLogger("ivr.handoff")
bp = Blueprint("handoff", __name__, url_prefix="/voice")

OFFER_SECONDS = 8
CALLBACKS = ("handoff.voicemail_recording", "handoff.voicemail_transcription")
SMS_REPLIES = {"sent": "sms_sent", "invalid_number": "sms_invalid_number",
               "unsubscribed": "sms_unsubscribed", "unavailable": "sms_unavailable"}


def fail_safe(exc: Exception):
    """Callbacks whose answer Twilio ignores get 204; a caller gets the usual apology.

    A queue's waitUrl may not answer <Dial>: there the safe answer is <Leave>, and
    the Enqueue's action URL runs the fallback chain (QueueResult=leave).
    """
    if request.endpoint in CALLBACKS:
        log.exception("callback %s failed for call %s", request.path, web.call_sid())
        return Response(status=204)
    if request.endpoint == "handoff.queue_wait":
        log.error("webhook %s failed for call %s; leaving the queue", request.path, web.call_sid(),
                  exc_info=exc)
        return web.xml(twiml.leave_queue())
    return web.fail_safe(exc)


web.guard(bp, fail_safe)


# -- where the call is -------------------------------------------------------------------

def _place() -> Place:
    """Read the hand-off's place from the action URL; a damaged URL still gets a goodbye, not a 500."""
    content = services().content
    place, problem = Place.from_params(request.args, content.flow, content.catalogs, content.default_language)
    if problem:
        log.warning("call %s: %s; the hand-off goes on without the call's state", web.call_sid(), problem)
    return place


def _catalog(place_or_lang):
    lang = place_or_lang if isinstance(place_or_lang, str) else place_or_lang.state.lang
    return services().content.catalogs[web.voice_for(lang).language]


def _say(place: Place, key: str, **params) -> str:
    return _catalog(place).text(key, **params)


def _sender() -> sms.Sender | None:
    settings = services().settings
    return sms.sender(settings.account_sid, settings.auth_token, settings.sms_from)


def _support_number() -> str | None:
    return services().content.escalation.support_number or services().settings.support_number


def _caller_id() -> str | None:
    """IVR_CALLER_ID; else the caller's own number (the agent can call back), or our number
    when the caller's cannot be shown (anonymous, SIP)."""
    settings = services().settings
    if settings.caller_id:
        return settings.caller_id
    if phone.e164(request.form.get("From")):
        return None  # Twilio shows the caller's number by default
    return phone.e164(request.form.get("To"))


def _record(action: str, node: str = "handoff", speech: str | None = None) -> None:
    form = request.form
    services().recorder.turn(web.call_sid(), web.request_key(), node=node, speech=speech or form.get("SpeechResult"),
                             digits=form.get("Digits"), confidence=web.confidence(), intent=None,
                             action=action, next_node=None)


def _heard(place: Place):
    return understand(request.form.get("SpeechResult"), web.confidence(), request.form.get("Digits"),
                      "yes_no", place.state.lang, web.vocabulary_for(place.state.lang))


def _yes_no(place: Place, lines, endpoint: str, **more):
    voice = web.voice_for(place.state.lang)
    return twiml.question([*lines, _say(place, "keys_yes_no")], action=web.absolute(endpoint, **place.params(**more)),
                          voice=voice, timeout=OFFER_SECONDS, hints=hints("yes_no", place.state.lang, web.vocabulary_for(place.state.lang)))


# -- ringing a person ----------------------------------------------------------------------

def transfer(lines, state: CallState, voice: twiml.Voice, safety_said: bool = False):
    """Put the caller through: ring the agent line (or the queue), unless the line is closed.

    The connector may still be in the car: everyone put through hears not to
    drive off with it, unless there is a hazard (then: stay clear)."""
    svc = services()
    esc, settings = svc.content.escalation, svc.settings
    place = Place(state)
    catalog = _catalog(state.lang)
    hazard = bool(state.hazard)
    if not esc.is_open(datetime.now(timezone.utc)):
        lead = handoff.drop_end_lines(tuple(lines), svc.content.flow, state.node, catalog)
        back = _back_to_flow(place, [*lead, catalog.text("after_hours")])
        if back is not None:
            return back
        after = [catalog.text("after_hours"), catalog.text("after_hours_hazard" if hazard else "after_hours_safety")]
        svc.recorder.turn(web.call_sid(), web.request_key() + ":ah", node="agent", speech=None,
                          digits=None, confidence=None, intent=None, action="after_hours", next_node=None)
        return run_next(replace(place, chain="a"), [*lead, *after])
    if not hazard and not safety_said and not chain.says(lines, catalog.text("dont_drive_off")):
        lines = [*lines, catalog.text("dont_drive_off")]
    if esc.queue:
        return twiml.enqueue(lines, queue=esc.queue, voice=voice,
                             action=web.absolute("handoff.queue_result", **place.params()),
                             wait_url=web.absolute("handoff.queue_wait", lang=state.lang,
                                                   **({"hz": state.hazard[0]} if state.hazard else {})))
    if not settings.agent_number:
        return _back_to_flow(place, [*lines, _say(place, "dial_failed")]) or run_next(place, [*lines, _say(place, "dial_failed")])
    return twiml.transfer(lines, number=settings.agent_number, voice=voice,
                          action=web.absolute("handoff.dial_result", **place.params(leg="1")),
                          whisper=web.absolute("voice.whisper", **place.state.to_params()),
                          timeout=esc.agent_timeout or settings.dial_timeout, caller_id=_caller_id())


@bp.post("/dial-result")
def dial_result():
    """How a Dial ended, from DialCallStatus (CallStatus is the caller's leg: in-progress).

    The whisper hangs up the agent's leg when nobody presses 1 (a voicemail box
    answered). That leg was answered, so Twilio reports DialCallStatus=completed
    with DialBridged=false: the caller never spoke to anyone, and goes on to the
    fallback chain like busy, no-answer, failed and canceled.
    """
    status = request.form.get("DialCallStatus", "")
    bridged = request.form.get("DialBridged", "true").lower() != "false"
    place = _place()
    leg = request.args.get("leg", "1")
    _record(f"dial:{status or 'unknown'}" + ("" if bridged else ":not-bridged") + (":second" if leg == "2" else ""),
            node="agent")
    if chain.dial_connected(status, bridged):
        services().recorder.outcome(web.call_sid(), "transferred")
        return web.xml(twiml.goodbye([_say(place, chain.connected_goodbye(place.state))], web.voice_for(place.state.lang)))
    if leg != "2":
        back = _back_to_flow(place, [_say(place, "dial_failed")])
        if back is not None:
            return web.xml(back)
        place = chain.from_the_start(place)
    return web.xml(run_next(place, [_say(place, "dial_failed")]))


def _back_to_flow(place: Place, lead):
    """An end node with `unanswered:` (a person offered first, e.g. for a rigid CCS
    button) goes back to the steps when nobody answers, instead of the fallback chain."""
    reply = services().content.engine.unanswered(place.state, tuple(Line(text) if isinstance(text, str) else text
                                                                      for text in lead))
    return render_reply(reply) if reply is not None else None


@bp.post("/queue/wait")
def queue_wait():
    """Played to a caller waiting in the queue, again and again: reassure, keep safe, say where they are."""
    esc = services().content.escalation
    lang = request.args.get("lang")
    catalog = _catalog(lang)
    waited = request.form.get("QueueTime", "")
    if waited.isdigit() and int(waited) >= esc.queue_max_wait:
        return web.xml(twiml.leave_queue())
    lines = [catalog.text("queue_wait")]
    position = request.form.get("QueuePosition", "")
    if position.isdigit() and 0 < int(position) < 1000:
        lines.append(catalog.text("queue_position", position=position))
    lines.append(catalog.text("after_hours_hazard" if request.args.get("hz") in ("f", "d") else "queue_safety"))
    return web.xml(twiml.queue_wait(lines, voice=web.voice_for(lang)))


@bp.post("/queue/result")
def queue_result():
    """How the wait in the queue ended (QueueResult): bridged is done; anything else falls back."""
    result = request.form.get("QueueResult", "")
    place = _place()
    _record(f"queue:{result or 'unknown'}", node="agent")
    if result == "bridged":
        services().recorder.outcome(web.call_sid(), "transferred")
        return web.xml(twiml.goodbye([_say(place, chain.connected_goodbye(place.state))], web.voice_for(place.state.lang)))
    if result == "hangup":
        return web.xml(twiml.hangup())
    back = _back_to_flow(place, [_say(place, "dial_failed")])
    if back is not None:
        return web.xml(back)
    return web.xml(run_next(chain.from_the_start(place), [_say(place, "dial_failed")]))


# -- the fallback chain ----------------------------------------------------------------------

def _unavailable(place: Place) -> set[str]:
    missing = set()
    if _sender() is None or phone.e164(request.form.get("From")) is None:
        missing.add("sms")
    if not services().content.escalation.second_agent:
        missing.add("second_agent")
    return missing


def run_next(place: Place, lead):
    """Run the next link of the chain after `place.at`, or say goodbye with the support number."""
    voice = web.voice_for(place.state.lang)
    step = chain.next_step(place, lead, services().content.escalation, _catalog(place), _unavailable(place),
                           _support_number())
    if isinstance(step, chain.Goodbye):
        return twiml.goodbye(list(step.lines), voice)
    if isinstance(step, chain.RingSecondAgent):
        return twiml.transfer(list(step.lines), number=step.number, voice=voice,
                              action=web.absolute("handoff.dial_result", **step.place.params(leg="2")),
                              whisper=web.absolute("voice.whisper", **place.state.to_params()),
                              timeout=step.timeout, caller_id=_caller_id())
    return _yes_no(step.place, list(step.lines), "handoff.offer")


def released(lines, state: CallState, voice: twiml.Voice):
    """The connector is out: offer the steps by text, then say goodbye."""
    return run_next(Place(state, chain="r"), list(lines))


@bp.post("/offer")
def offer():
    """The caller's yes or no to a link of the chain (a message, a call back, a text)."""
    place = _place()
    link = place.link(services().content.escalation)
    if link not in ("voicemail", "callback", "sms"):
        return web.xml(run_next(place, []))
    heard = _heard(place)
    _record(f"offer:{link}:{heard.intent}")
    answer = chain.answer_offer(place, link, heard.intent, _catalog(place))
    if isinstance(answer, chain.Start):
        return web.xml({"voicemail": _start_voicemail, "callback": _start_callback, "sms": _send_text}[link](place))
    if isinstance(answer, chain.AskAgain):
        if answer.alert:
            web.alert_new_hazard(place.state.hazard, answer.place.state)
        return web.xml(_yes_no(answer.place, list(answer.lines), "handoff.offer"))
    return web.xml(run_next(answer.place, []))


# -- voicemail ----------------------------------------------------------------------------------

def _start_voicemail(place: Place):
    esc = services().content.escalation
    return twiml.voicemail(
        [_say(place, "voicemail_prompt")], voice=web.voice_for(place.state.lang),
        action=web.absolute("handoff.voicemail", **place.params()),
        empty=web.absolute("handoff.voicemail", **place.params(empty="1")),
        max_length=esc.voicemail_max_length,
        recording_callback=web.absolute("handoff.voicemail_recording"),
        transcribe_callback=web.absolute("handoff.voicemail_transcription") if esc.transcribe else None)


def _duration() -> int | None:
    raw = request.form.get("RecordingDuration", "")
    return int(raw) if raw.isdigit() and len(raw) < 7 else None


def _recording_sid() -> str | None:
    sid = request.form.get("RecordingSid", "")
    return sid if re.fullmatch(r"RE[0-9a-fA-F]{32}", sid) else None


@bp.post("/voicemail")
def voicemail():
    """The Record verb ended: keep the message (or note there was none) and go on."""
    place = _place()
    sid = _recording_sid()
    if request.args.get("empty") == "1" or sid is None:
        _record("voicemail:empty", node="voicemail")
        return web.xml(run_next(place, [_say(place, "voicemail_empty")]))
    services().recorder.voicemail(web.call_sid(), sid, request.form.get("RecordingUrl"), _duration())
    _record("voicemail", node="voicemail", speech=request.form.get("RecordingUrl"))
    done = place.did("voicemail")
    return web.xml(run_next(done, [_say(place, "voicemail_thanks")]))


@bp.post("/voicemail/recording")
def voicemail_recording():
    """recordingStatusCallback: the recording's final URL and length. Answer ignored: 204."""
    sid = _recording_sid()
    if sid and request.form.get("RecordingStatus", "completed") == "completed":
        services().recorder.voicemail(web.call_sid(), sid, request.form.get("RecordingUrl"), _duration())
    return Response(status=204)


@bp.post("/voicemail/transcription")
def voicemail_transcription():
    """transcribeCallback: the message as text, for agents to read first. Answer ignored: 204."""
    sid = _recording_sid()
    if sid:
        services().recorder.voicemail(
            web.call_sid(), sid, request.form.get("RecordingUrl"),
            transcription=request.form.get("TranscriptionText") or None,
            transcription_status=(request.form.get("TranscriptionStatus") or "")[:16] or None)
    return Response(status=204)


# -- call-back request ------------------------------------------------------------------------

def _start_callback(place: Place):
    own = phone.e164(request.form.get("From"))
    if own:
        return _confirm_number(place, own)
    return _enter_number(place, [])


def _confirm_number(place: Place, number: str, lead=()):
    question = _say(place, "callback_confirm", number=phone.spoken(number))
    return _yes_no(place, [*lead, question], "handoff.callback", step="confirm", cb=number.lstrip("+"))


def _enter_number(place: Place, lead):
    return twiml.keyed_entry([*lead, _say(place, "callback_enter")], voice=web.voice_for(place.state.lang),
                             action=web.absolute("handoff.callback", **place.params(step="enter")), timeout=10)


@bp.post("/callback")
def callback():
    """Confirm the number to call back (the caller's own, or one keyed in), then keep the request."""
    place = _place()
    if request.args.get("step") == "confirm":
        number = phone.e164("+" + request.args.get("cb", ""))
        heard = _heard(place)
        _record(f"callback:confirm:{heard.intent}")
        step = chain.confirm_answer(number, heard.intent, place.tries)
    else:
        keys = request.form.get("Digits") or station.from_speech(request.form.get("SpeechResult"))
        number = phone.callback_number(keys, request.form.get("From"), request.form.get("To"),
                                       international=services().settings.callback_international)
        _record("callback:entered" if number else "callback:invalid")
        step = chain.number_entered(number, place.tries, station.MAX_TRIES)
    lead_key = None if isinstance(step, chain.Save) else step.lead
    lead = [_say(place, lead_key)] if lead_key else []
    if isinstance(step, chain.Save):
        svc = services()
        steps = handoff.steps_record(svc.content.flow, place.state)
        svc.recorder.callback(web.call_sid(), step.number, station_id=place.state.station,
                              connector=place.state.connector, steps=steps or None)
        return web.xml(run_next(place.did("callback"), [_say(place, "callback_saved")]))
    if isinstance(step, chain.ConfirmNumber):
        return web.xml(_confirm_number(replace(place, tries=step.tries), step.number, lead))
    if isinstance(step, chain.EnterNumber):
        return web.xml(_enter_number(replace(place, tries=step.tries), lead))
    return web.xml(run_next(place, lead))


# -- text message -------------------------------------------------------------------------------

def _send_text(place: Place):
    svc = services()
    sender, to = _sender(), phone.e164(request.form.get("From"))
    done = place.did("sms")
    if sender is None or to is None:  # offered only when both exist; a stale URL lands here
        return run_next(done, [_say(place, "sms_unavailable")])
    if svc.recorder.text_sent(web.call_sid()):  # a repeated webhook: one text per call
        return run_next(done, [_say(place, SMS_REPLIES["sent"])])
    body = handoff.text_message(_catalog(place), svc.content.flow, place.state, _support_number(),
                                released=place.chain == "r")
    result = sms.send(sender, to, body)
    svc.recorder.text_message(web.call_sid(), to, result.reason, result.sid, result.error_code)
    return run_next(done, [_say(place, SMS_REPLIES[result.reason])])


# -- the station ID ------------------------------------------------------------------------------

def wants_station_id(state: CallState, arriving_at: str | None = None) -> bool:
    return station_dialogue.wanted(services().content.flow.settings, state, arriving_at)


def ask_station(reply):
    """Before the first step: the welcome, then 'key in the station ID'. `reply` is engine.start()'s."""
    engine = services().content.engine
    first = engine.ask(reply.state)
    welcome = reply.lines[:len(reply.lines) - len(first.lines)]
    place = Place(reply.state)
    return _station_entry(place, [*welcome, _say(place, "station_ask")])


def _station_entry(place: Place, lines):
    return twiml.keyed_entry(lines, voice=web.voice_for(place.state.lang), timeout=8,
                             action=web.absolute("handoff.station_id", **place.state.to_params(),
                                                 **({"ot": str(place.tries)} if place.tries else {})))


def _go_on(place: Place, lead_key: str):
    """Back to the release steps: the first question in full."""
    reply = services().content.engine.ask(place.state, (Line(_say(place, lead_key)),), action="station")
    return render_reply(reply)


def render_reply(reply: Reply):
    """An engine reply as TwiML: the next question, the hand-off, the release's goodbye, or a goodbye."""
    voice = web.voice_for(reply.state.lang)
    if reply.question is not None:
        return twiml.question(
            reply.lines, action=web.absolute("voice.turn", **reply.question.state.to_params()),
            voice=voice, timeout=reply.question.timeout,
            hints=hints(reply.question.expecting, reply.state.lang, web.vocabulary_for(reply.state.lang)))
    if reply.outcome == "agent":
        return transfer(reply.lines, reply.state, voice)
    if reply.outcome == "released":
        return released(reply.lines, reply.state, voice)
    return twiml.goodbye(reply.lines, voice)


@bp.post("/station")
def station_id():
    """The station ID, keyed or spoken; confirmed by reading it back. Never blocks the steps:
    after two failed tries, or "skip", the call goes on without it."""
    content = services().content
    try:
        state = CallState.from_params(request.args, content.flow, content.catalogs)
    except BadState as exc:
        log.warning("call %s: %s; transferring", web.call_sid(), exc)
        return web.xml(web.apology_transfer(request.args.get("lang")))
    tries = chain.tries_of(request.args)
    place = Place(state, tries=tries)
    speech, digits, candidate = request.form.get("SpeechResult"), request.form.get("Digits"), request.args.get("sc")
    heard = understand(speech, web.confidence(), station_dialogue.keys_to_understand(digits, candidate), "yes_no",
                       state.lang, web.vocabulary_for(state.lang))
    decision = station_dialogue.answer(content.flow.settings, heard.intent, speech, digits, candidate, tries)
    _record(decision.record, node="station")
    if isinstance(decision, station_dialogue.Command):
        reply = content.engine.answer(state, Heard.of(heard))
        web.alert_new_hazard(state.hazard, reply.state)
        return web.xml(render_reply(reply))
    if isinstance(decision, station_dialogue.Confirmed):
        services().recorder.station(web.call_sid(), decision.station_id)
        return web.xml(_go_on(Place(replace(state, station=decision.station_id)), "station_thanks"))
    if isinstance(decision, station_dialogue.GoOn):
        return web.xml(_go_on(place, decision.lead))
    if isinstance(decision, station_dialogue.ReadBack):
        confirm = [_say(place, decision.prompt, station=station.read_back(decision.station_id)), _say(place, "keys_yes_no")]
        return web.xml(twiml.question(confirm, voice=web.voice_for(state.lang), timeout=OFFER_SECONDS,
                                      action=web.absolute("handoff.station_id", **state.to_params(), sc=decision.station_id,
                                                          **({"ot": str(tries)} if tries else {})),
                                      hints=hints("yes_no", state.lang, web.vocabulary_for(state.lang))))
    why = [_say(place, decision.why, **decision.params)] if decision.why else []
    return web.xml(_station_entry(replace(place, tries=decision.tries), [*why, _say(place, "station_ask_short")]))


def with_station(reply, station_id: str):
    """The first reply of a call whose number stands for one station (?station= on its voice URL)."""
    state = replace(reply.state, station=station_id)
    question = replace(reply.question, state=replace(reply.question.state, station=station_id)) \
        if reply.question is not None else None
    return replace(reply, state=state, question=question)

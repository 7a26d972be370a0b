"""The hand-off's messages: a voicemail, a call-back request, a text with the steps."""
from __future__ import annotations

import re
from dataclasses import replace

from flask import Response, request

from ivr.basics import phone
from ivr.call import chain, handoff, station
from ivr.call.chain import Place
from ivr.outbound import sms
from ivr.web import twiml
from ivr.web.services import services
from ivr.web.views import web
from ivr.web.views.place import SMS_REPLIES, _catalog, _heard, _place, _record, _say, _sender, _support_number, _yes_no, bp
from ivr.web.views.render import run_next

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
        keys = request.form.get("Digits") or station.from_speech(request.form.get("SpeechResult"), web.vocabulary_for(place.state.lang))
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

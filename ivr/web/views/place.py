"""The hand-off's webhooks share this: their blueprint, their fail-safe, and reading
where the call is (ivr.call.chain.Place) and what the caller said from Twilio's request.

The webhooks themselves: handoff.py (dial and queue results, offers),
messages.py (voicemail, call back, text), station.py (the station ID); what
they answer with: render.py.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from ivr.basics import phone
from ivr.call.chain import Place
from ivr.call.understanding import hints, understand
from ivr.outbound import sms
from ivr.web import twiml
from ivr.web.services import services
from ivr.web.views import guards, web

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
    return guards.fail_safe(exc)


guards.guard(bp, fail_safe)


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

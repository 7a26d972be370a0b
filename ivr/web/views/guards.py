"""Every webhook's guards: Twilio's signature checked before the view runs, the
fields capped, the deadline's clock stopped after, and the fail-safe for any
error: the caller is put through to a person, never left with Twilio's error."""
from __future__ import annotations

import contextlib
import logging

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ivr.basics import phone
from ivr.records import deadline
from ivr.web import twiml
from ivr.web.security import is_from_twilio, public_url
from ivr.web.services import services
from ivr.web.views.web import _field, cap_fields, host_url, voice_for, xml

log = logging.getLogger("ivr.voice")

FALLBACK_APOLOGY = "Sorry, something went wrong on our side. I'm connecting you to a person now."
FALLBACK_NO_AGENT = "Please call the support number printed on the charging station. Goodbye."



def guard(bp: Blueprint, fail_safe_handler=None) -> None:
    """Signature check before, clock stopped after, and the fail-safe for any error."""
    bp.before_request(check_signature)
    bp.teardown_request(stop_the_clock)
    bp.register_error_handler(Exception, fail_safe_handler or fail_safe)


def check_signature():
    """Every webhook must be signed by Twilio for the URL it was sent to (403 otherwise)."""
    deadline.start()
    with contextlib.suppress(RequestEntityTooLarge):   # refused below, or by the view's fail-safe
        # The body, read once and kept: request_key hashes it as it arrived, and the
        # form is parsed from this copy.
        request.get_data(cache=True)
    settings = services().settings
    if not settings.check_signatures:
        with contextlib.suppress(RequestEntityTooLarge):   # the view's fail-safe answers it
            cap_fields()
        services().alerts.kick()
        return None
    url = public_url(request.environ, settings.public_url or host_url())
    try:
        form = request.form
    except RequestEntityTooLarge:  # unread, so unverifiable; Twilio never sends this much
        form = None
    if form is None or not is_from_twilio(settings.auth_token or "", url, form, request.headers.get("X-Twilio-Signature")):
        log.warning("refused an unsigned or forged webhook to %s", request.path)
        return Response("Forbidden: not signed by Twilio for this URL.\n", status=403, mimetype="text/plain")
    cap_fields()
    services().alerts.kick()   # a pending hazard alert from a crash goes out now (time-gated)
    return None


def stop_the_clock(_exc=None):
    deadline.stop()


def fail_safe(exc: Exception):
    """Any failure: apologise and put the caller through to a person.

    A body over MAX_CONTENT_LENGTH (only without signature checks: with them it
    is refused unread) gets the same answer rather than a 413 page. On the
    agent's leg (the whisper) the safe answer is the bridge, not another Dial;
    a status callback's answer is ignored, so it gets 204.
    """
    if isinstance(exc, HTTPException) and (exc.code or 500) < 500 and not isinstance(exc, RequestEntityTooLarge):
        return exc
    log.error("webhook %s failed for call %s; %s", request.path, _field("CallSid") or "?",
              "answering 204" if request.endpoint == "voice.status" else "transferring to an agent",
              exc_info=not isinstance(exc, RequestEntityTooLarge))
    if request.endpoint == "voice.status":
        return Response(status=204)
    if request.endpoint in ("voice.whisper", "voice.whisper_accept"):
        return xml(twiml.accepted())
    return xml(apology_transfer(request.args.get("lang")))


def apology_transfer(lang: str | None):
    """The last resort; must work even when the flow or the prompts do not."""
    settings = services().settings
    try:
        voice = voice_for(lang)
        catalog = services().content.catalogs[voice.language]
        apology, no_agent = catalog.text("apology_transfer"), catalog.text("transfer_no_agent")
        after = _still_stuck(catalog)
    except Exception:
        voice, apology, no_agent = twiml.Voice("Polly.Joanna-Neural", "en-US"), FALLBACK_APOLOGY, FALLBACK_NO_AGENT
        after = FALLBACK_NO_AGENT
    if not settings.agent_number:
        return twiml.goodbye([apology, no_agent], voice)
    response = twiml.VoiceResponse()
    twiml.speak(response, [apology], voice)
    dial = response.dial(timeout=settings.dial_timeout, answer_on_bridge=True, caller_id=settings.caller_id)
    dial.number(settings.agent_number)
    # A Dial with no action goes on to the next verb when it ends: if nobody answered,
    # the caller is not left with silence and a hang-up, but hears where help is.
    twiml.speak(response, [after], voice)
    return response


def _still_stuck(catalog) -> str:
    """The support number read aloud (or 'on the station'), as the hand-off chain ends."""
    number = services().content.escalation.support_number or services().settings.support_number
    if number:
        return catalog.text("goodbye_support", number=phone.spoken(number))
    return catalog.text("goodbye_support_station")

"""Twilio's request, read: the call's state from the URL (ivr.call.codec), the event
from the form (ivr.call.events), and the context the decisions need. Reads only."""
from __future__ import annotations

import logging
import re

from flask import current_app, request

from ivr.basics import phone
from ivr.call import codec
from ivr.call import events as ev
from ivr.call.codec import Place
from ivr.call.engine import BadState
from ivr.outbound import sms
from ivr.web.services import services
from ivr.web.views.web import call_sid, confidence

log = logging.getLogger("ivr.voice")


def place(questions_only: bool = False) -> Place | None:
    """The state the action URL carries; None (logged) when it is damaged: the conversation
    then gives the safe answer (an apology and a person)."""
    content = services().content
    try:
        # A plain dict: a MultiDict's get() raises and catches an HTTP error per missing key.
        return codec.decode(request.args.to_dict(), content.flow, content.catalogs, questions_only=questions_only)
    except BadState as exc:
        log.warning("call %s: %s; the safe answer instead", call_sid(), exc)
        return None


def answered(asked: ev.Asked) -> ev.Answered:
    form = request.form
    return ev.Answered(asked, form.get("SpeechResult"), form.get("Digits"), confidence())


def dial_ended() -> ev.DialEnded:
    """DialCallStatus (not CallStatus: that is the caller's leg, in-progress)."""
    return ev.DialEnded(request.form.get("DialCallStatus", ""),
                        request.form.get("DialBridged", "true").lower() != "false")


def queue_ended() -> ev.QueueEnded:
    return ev.QueueEnded(request.form.get("QueueResult", ""))


def queue_tick() -> ev.QueueTick:
    return ev.QueueTick(request.form.get("QueueTime", ""), request.form.get("QueuePosition", ""))


def recording_sid() -> str | None:
    sid = request.form.get("RecordingSid", "")
    return sid if re.fullmatch(r"RE[0-9a-fA-F]{32}", sid) else None


def recording_duration() -> int | None:
    raw = request.form.get("RecordingDuration", "")
    return int(raw) if raw.isdigit() and len(raw) < 7 else None


def recording_ended() -> ev.RecordingEnded:
    return ev.RecordingEnded(recording_sid(), request.form.get("RecordingUrl"), recording_duration())


def sender() -> sms.Sender | None:
    settings = services().settings
    return sms.sender(settings.account_sid, settings.auth_token, settings.sms_from)


def context() -> ev.Context:
    """The time and the settings the decisions need, with the caller's From and To."""
    settings = services().settings
    return ev.Context(
        now=services().clock(), caller=request.form.get("From"), line=request.form.get("To"),
        agent_number=settings.agent_number, dial_timeout=settings.dial_timeout,
        support_number=settings.support_number, caller_id=settings.caller_id, can_text=sender() is not None,
        callback_international=settings.callback_international, agent_language=settings.agent_language,
        station_backend=getattr(current_app.extensions.get("ivr.station"), "name", "none") != "none")


def line_language() -> str | None:
    """The language the dialled number stands for (IVR_NUMBER_LANGUAGES)."""
    return services().settings.number_languages.get(phone.compact(request.form.get("To")))

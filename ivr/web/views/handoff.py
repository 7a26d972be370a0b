"""The hand-off's webhooks: how a dial or the queue ended, the queue's wait, and the
caller's yes or no to an offer. Thin: ivr.call.conversation decides.

The blueprint and its fail-safe are here; messages.py (voicemail, call back) and
station.py (the station ID) add their webhooks to it.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from ivr.web import twiml
from ivr.web.services import services
from ivr.web.views import guards, readers, web
from ivr.web.views.converse import respond

log = logging.getLogger("ivr.handoff")
bp = Blueprint("handoff", __name__, url_prefix="/voice")

CALLBACKS = ("handoff.voicemail_recording", "handoff.voicemail_transcription")


def fail_safe(exc: Exception):
    """Callbacks whose answer Twilio ignores get 204; a caller gets the usual apology.

    A queue's waitUrl may not answer <Dial>: there the safe answer is <Leave>, and
    the Enqueue's action URL runs the fallback chain (QueueResult=leave).
    """
    if request.endpoint in CALLBACKS:
        log.exception("callback %s failed for call %s", request.path, web.call_sid())
        return Response(status=204)
    if request.endpoint == "handoff.queue_bridging":   # the caller's end before the bridge: never a Dial
        log.error("webhook %s failed for call %s; bridging anyway", request.path, web.call_sid(), exc_info=exc)
        return web.xml(twiml.VoiceResponse())
    if request.endpoint == "handoff.queue_wait":
        log.error("webhook %s failed for call %s; leaving the queue", request.path, web.call_sid(),
                  exc_info=exc)
        return web.xml(twiml.leave_queue())
    return guards.fail_safe(exc)


guards.guard(bp, fail_safe)


@bp.post("/dial-result")
def dial_result():
    """How a Dial ended (DialCallStatus, DialBridged): connected, or on to the fallback chain."""
    return respond(readers.place(), readers.dial_ended())


@bp.post("/queue/wait")
def queue_wait():
    """Played to a caller waiting in the queue, again and again: reassure, keep safe, say where they are."""
    return respond(readers.place(), readers.queue_tick())


@bp.post("/queue/result")
def queue_result():
    """How the wait in the queue ended (QueueResult): bridged is done; anything else falls back."""
    return respond(readers.place(), readers.queue_ended())


@bp.post("/offer")
def offer():
    """The caller's yes or no to a link of the chain (a message, a call back, a text)."""
    return respond(readers.place(), readers.answered("offer"))


@bp.post("/queue/agent")
def queue_agent():
    """For the agents' own phones (their TwiML App's voice URL): take the next caller from
    the line's queue (escalation.yaml's agent.queue)."""
    queue = services().content.escalation.queue
    if not queue:
        return web.xml(twiml.hangup())
    return web.xml(twiml.take_from_queue(queue, url=web.absolute("handoff.queue_bridging")))


@bp.post("/queue/bridging")
def queue_bridging():
    """The <Queue> noun's url: Twilio runs it on the queued caller's end just before the
    bridge (it allows no Gather, so no whisper or key for the agent can live here). The
    line notes which agent's call took the caller, with the link to the call's console
    page, where the agent reads the context (station, steps, a station command's result)."""
    sid = web.call_sid()
    agent_leg = (request.form.get("DequeingCallSid") or "")[:64] or None
    console = web.absolute("dashboard.page").rstrip("/") + f"/calls/{sid}" if "dashboard" in current_app.blueprints \
        else f"/dashboard/calls/{sid}"
    services().recorder.turn(sid, web.request_key(), node="agent", speech=None, digits=None, confidence=None,
                             intent=None, action=f"queue:taken:{agent_leg or 'unknown'}", next_node=None)
    log.info("call %s taken from the queue by %s; its console page: %s", sid, agent_leg or "an agent", console)
    return web.xml(twiml.VoiceResponse())

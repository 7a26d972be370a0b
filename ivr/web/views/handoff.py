"""The hand-off webhooks: how a dial or the queue ended, and the caller's yes or no to an offer.

Thin: ivr.call.chain decides, ivr.web.views.render answers. The blueprint and the
helpers they share are in ivr.web.views.place.
"""
from __future__ import annotations

from flask import request

from ivr.call import chain
from ivr.web import twiml
from ivr.web.services import services
from ivr.web.views import web
from ivr.web.views.messages import _send_text, _start_callback, _start_voicemail
from ivr.web.views.place import _catalog, _heard, _place, _record, _say, _yes_no, bp
from ivr.web.views.render import _back_to_flow, run_next


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


@bp.post("/queue/wait")
def queue_wait():
    """Played to a caller waiting in the queue, again and again: reassure, keep safe, say where they are."""
    lang = request.args.get("lang")
    lines = chain.queue_wait(request.form.get("QueueTime", ""), request.form.get("QueuePosition", ""), request.args.get("hz"),
                             services().content.escalation.queue_max_wait, _catalog(lang))
    if lines is None:
        return web.xml(twiml.leave_queue())
    return web.xml(twiml.queue_wait(list(lines), voice=web.voice_for(lang)))


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

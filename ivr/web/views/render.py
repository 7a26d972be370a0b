"""A conversation's reply as TwiML: each kind of ivr.call.outcomes reply maps to one
ivr.web.twiml builder and the webhook URLs its state travels in. Knows no flow."""
from __future__ import annotations

from flask import request

from ivr.call import outcomes as out
from ivr.call.codec import Place, encode
from ivr.web import twiml, twiml_cache
from ivr.web.views import guards
from ivr.web.views.web import absolute, voice_for

ANSWERS_TO = {"step": "voice.turn", "station": "handoff.station_id", "offer": "handoff.offer",
              "callback": "handoff.callback", "station_wait": "handoff.station_wait", "hold": "handoff.station_hold",
              "pulled": "handoff.station_pulled", "which": "handoff.station_which"}


def url(endpoint: str, place: Place | None) -> str:
    return absolute(endpoint, **(encode(place) if place is not None else {}))


def render(reply: out.Reply) -> twiml.VoiceResponse:
    if isinstance(reply, out.Ask):
        return _ask(reply)
    if isinstance(reply, out.Dial):
        return twiml.transfer(list(reply.lines), number=reply.number, voice=voice_for(reply.lang),
                              action=url("handoff.dial_result", reply.place), whisper=url("voice.whisper", reply.whisper),
                              timeout=reply.timeout, caller_id=reply.caller_id)
    if isinstance(reply, out.Enqueue):
        return twiml.enqueue(list(reply.lines), queue=reply.queue, voice=voice_for(reply.lang),
                             action=url("handoff.queue_result", reply.place), wait_url=url("handoff.queue_wait", reply.wait))
    if isinstance(reply, out.RecordVoicemail):
        return twiml.voicemail(
            list(reply.lines), voice=voice_for(reply.lang), action=url("handoff.voicemail", reply.place),
            empty=url("handoff.voicemail", reply.empty), max_length=reply.max_length,
            recording_callback=absolute("handoff.voicemail_recording"),
            transcribe_callback=absolute("handoff.voicemail_transcription") if reply.transcribe else None)
    if isinstance(reply, out.Goodbye):
        return twiml.goodbye(list(reply.lines), voice_for(reply.lang))
    if isinstance(reply, out.Whisper):
        return twiml.whisper(list(reply.lines), accept=_whisper_action(reply), voice=voice_for(reply.lang))
    if isinstance(reply, out.QueueWait):
        return twiml.queue_wait(list(reply.lines), voice=voice_for(reply.lang))
    if isinstance(reply, out.LeaveQueue):
        return twiml.leave_queue()
    if isinstance(reply, out.Accepted):
        return twiml.accepted()
    if isinstance(reply, out.Hangup):
        return twiml.hangup()
    if isinstance(reply, out.Apology):
        return guards.apology_transfer(reply.lang or request.args.get("lang"))
    raise TypeError(f"no TwiML for {reply!r}")   # Pending never leaves ivr.web.views.converse


def _whisper_action(reply: out.Whisper) -> str:
    """The whisper's Gather: 1 takes the call; with an unlock offered (issue 14), the
    line's unlock key (ivr/ocpi/views.py), where 2 sends UNLOCK_CONNECTOR. Signed by Twilio as written."""
    if reply.unlock is None:
        return url("voice.whisper_accept", reply.accept)
    unlock = reply.unlock
    named = {"loc": unlock.location_id, "evse": unlock.evse_uid, "conn": unlock.connector_id}
    if unlock.label:
        named["label"] = unlock.label
    # The unlock key reads loc, evse and conn (the connector's id, over the call state's conn).
    return absolute("station_agent.agent_unlock", **{**(encode(reply.accept) if reply.accept else {}), **named})


def _ask(ask: out.Ask) -> twiml.VoiceResponse:
    action = url(ANSWERS_TO[ask.asked], ask.place)
    if ask.keyed:
        return twiml_cache.keyed_entry(ask.lines, action=action, voice=voice_for(ask.lang), timeout=ask.timeout,
                                       hints=ask.hints)
    return twiml_cache.question(ask.lines, action=action, voice=voice_for(ask.lang), timeout=ask.timeout,
                                hints=ask.hints)

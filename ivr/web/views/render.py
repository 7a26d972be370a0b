"""Engine replies and hand-off decisions as TwiML: the next question, ringing a person,
the next link of the chain, the station-ID question, the goodbye."""
from __future__ import annotations

from flask import request

from ivr.basics import phone
from ivr.call import chain
from ivr.call.chain import Place
from ivr.call.engine import CallState, Line, Reply
from ivr.call.understanding import hints
from ivr.web import twiml
from ivr.web.services import services
from ivr.web.views import web
from ivr.web.views.place import _caller_id, _catalog, _say, _sender, _support_number, _yes_no


def transfer(lines, state: CallState, voice: twiml.Voice, safety_said: bool = False):
    """Put the caller through (ivr.call.chain.put_through decides: the agent line, the
    queue, back to the steps, or the chain when the line is closed or has no number)."""
    svc = services()
    esc, settings = svc.content.escalation, svc.settings
    step = chain.put_through(lines, state, is_open=esc.is_open(svc.clock()), engine=svc.content.engine,
                             catalog=_catalog(state.lang), esc=esc, agent_number=settings.agent_number,
                             dial_timeout=settings.dial_timeout, safety_said=safety_said)
    if isinstance(step, chain.BackToFlow):
        return render_reply(step.reply)
    if isinstance(step, chain.RunChain):
        if step.after_hours:
            svc.recorder.turn(web.call_sid(), web.request_key() + ":ah", node="agent", speech=None,
                              digits=None, confidence=None, intent=None, action="after_hours", next_node=None)
        return run_next(step.place, list(step.lines))
    place = Place(state)
    if isinstance(step, chain.Enqueue):
        return twiml.enqueue(list(step.lines), queue=step.queue, voice=voice,
                             action=web.absolute("handoff.queue_result", **place.params()),
                             wait_url=web.absolute("handoff.queue_wait", lang=state.lang,
                                                   **({"hz": state.hazard[0]} if state.hazard else {})))
    return twiml.transfer(list(step.lines), number=step.number, voice=voice,
                          action=web.absolute("handoff.dial_result", **place.params(leg="1")),
                          whisper=web.absolute("voice.whisper", **place.state.to_params()),
                          timeout=step.timeout, caller_id=_caller_id())


def _back_to_flow(place: Place, lead):
    """An end node with `unanswered:` (a person offered first, e.g. for a rigid CCS
    button) goes back to the steps when nobody answers, instead of the fallback chain."""
    reply = services().content.engine.unanswered(place.state, tuple(Line(text) if isinstance(text, str) else text
                                                                      for text in lead))
    return render_reply(reply) if reply is not None else None


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

"""The station-ID webhook: keyed or spoken, read back, confirmed (ivr.call.station_dialogue decides)."""
from __future__ import annotations

from dataclasses import replace

from flask import request

from ivr.call import chain, station, station_dialogue
from ivr.call.chain import Place
from ivr.call.engine import BadState, CallState, Heard
from ivr.call.understanding import hints, understand
from ivr.web import twiml
from ivr.web.services import services
from ivr.web.views import guards, web
from ivr.web.views.place import OFFER_SECONDS, _record, _say, bp, log
from ivr.web.views.render import _go_on, _station_entry, render_reply


@bp.post("/station")
def station_id():
    """The station ID, keyed or spoken; confirmed by reading it back. Never blocks the steps:
    after two failed tries, or "skip", the call goes on without it."""
    content = services().content
    try:
        state = CallState.from_params(request.args, content.flow, content.catalogs)
    except BadState as exc:
        log.warning("call %s: %s; transferring", web.call_sid(), exc)
        return web.xml(guards.apology_transfer(request.args.get("lang")))
    tries = chain.tries_of(request.args)
    place = Place(state, tries=tries)
    speech, digits, candidate = request.form.get("SpeechResult"), request.form.get("Digits"), request.args.get("sc")
    heard = understand(speech, web.confidence(), station_dialogue.keys_to_understand(digits, candidate), "yes_no",
                       state.lang, web.vocabulary_for(state.lang))
    decision = station_dialogue.answer(content.flow.settings, heard.intent, speech, digits, candidate, tries, web.vocabulary_for(state.lang))
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

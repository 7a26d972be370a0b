"""The station ID's dialogue: "key in the station ID", read back, confirm, or go on
without it (ivr.call.station_dialogue decides). Never blocks the release steps.

A mixin of the Conversation (ivr.call.conversation); a confirmed ID is looked up for
its charger (out.FindStation), whose answer ivr.call.which_turns takes.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ivr.call import events as ev
from ivr.call import outcomes as out
from ivr.call import station, station_dialogue
from ivr.call.codec import Place
from ivr.call.engine import Heard, Line, Reply
from ivr.call.outcomes import Spoken
from ivr.call.turns import STATION_SECONDS, Turns, has_place, pending


class StationIdTurns(Turns):
    """The station ID, asked before the steps (or after the caller's first try)."""

    def _station_answered(self, place: Place, event: ev.Answered, ctx: ev.Context) -> out.Outcome:
        """The station ID, keyed or spoken, confirmed by reading it back. Never blocks the
        steps: after two failed tries, or "skip", the call goes on without it."""
        state, candidate = place.state, place.candidate
        heard = self._understand(event, "yes_no", state.lang, station_dialogue.keys_to_understand(event.digits, candidate))
        decision = station_dialogue.answer(self.flow.settings, heard.intent, event.speech, event.digits, candidate,
                                           place.tries, self._catalog(state.lang).vocabulary)
        record = self._record(decision.record, node="station")
        settled = Place(state, tries=place.tries)
        if isinstance(decision, station_dialogue.Command):
            reply = self.engine.answer(state, Heard.of(heard))
            return self._reply(reply, ctx).after(record, *self._alert(state.hazard, reply.state))
        if isinstance(decision, station_dialogue.Confirmed):
            thanked = self._go_on(Place(replace(state, station=decision.station_id)), "station_thanks", ctx)
            thanked = thanked.after(record, out.SaveStation(decision.station_id))
            if ctx.station_backend and not place.station.identified and has_place(thanked.reply):
                return pending(thanked, out.FindStation(decision.station_id, "label", then=thanked.reply))
            return thanked
        if isinstance(decision, station_dialogue.GoOn):
            return self._go_on(settled, decision.lead, ctx).after(record)
        say = self._catalog(state.lang).text
        if isinstance(decision, station_dialogue.ReadBack):
            lines = (say(decision.prompt, station=station.read_back(decision.station_id)), say("keys_yes_no"))
            asking = replace(settled, candidate=decision.station_id)
            return out.Outcome(self._ask(asking, lines, "station", "yes_no", STATION_SECONDS), (record,))
        why = (say(decision.why, **decision.params),) if decision.why else ()
        return out.Outcome(self._station_entry(replace(settled, tries=decision.tries), (*why, say("station_ask_short"))),
                           (record,))

    def _ask_station(self, reply: Reply) -> out.Outcome:
        """Before the first step: the welcome, then 'key in the station ID'."""
        first = self.engine.ask(reply.state)
        welcome = reply.lines[:len(reply.lines) - len(first.lines)]
        ask = self._catalog(reply.state.lang).text("station_ask")
        return out.Outcome(self._station_entry(Place(reply.state), (*welcome, ask)))

    def _station_entry(self, place: Place, lines: Iterable[Spoken]) -> out.Ask:
        return self._ask(place, tuple(lines), "station", None, STATION_SECONDS, keyed=True)

    def _go_on(self, place: Place, lead_key: str, ctx: ev.Context) -> out.Outcome:
        """Back to the release steps: the first question in full."""
        lead = (Line(self._catalog(place.state.lang).text(lead_key)),)
        return self._reply(self.engine.ask(place.state, lead, action="station"), ctx)

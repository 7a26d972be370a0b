"""Which charger of a site: the called number or the station ID names a whole site, so
the caller says the charger's own label, read back and confirmed (ivr.call.station_actions
decides). Without one the call goes on as without a station; never acts on a guess.

A mixin of the Conversation (ivr.call.conversation); a charger identified goes on to
the station in the loop (ivr.call.station_turns, through `_station_hooks`).
"""
from __future__ import annotations

import re
from typing import Any

from ivr.call import events as ev
from ivr.call import outcomes as out
from ivr.call import station_actions, station_whisper
from ivr.call.codec import Place, StationPlace
from ivr.call.engine import Heard, Line
from ivr.call.outcomes import Spoken
from ivr.call.station_model import Evse
from ivr.call.turns import STATION_SECONDS, Turns, carry


class WhichTurns(Turns):
    """The charger the call is about: named by the number called, or asked of the caller."""

    @staticmethod
    def _identified(lookup: Any) -> StationPlace:
        """The EVSE the called number names, if it names exactly one (several: a whole
        site; the call goes on without one rather than act on a charger not identified)."""
        if lookup is None:
            return StationPlace()
        decision = station_actions.start_which(lookup.candidates or ((lookup.evse,) if lookup.evse else ()))
        if isinstance(decision, station_actions.Identified):
            evse = decision.evse
            return StationPlace(evse.location_id, evse.uid, _label(evse))
        return StationPlace()

    def _ask_which(self, outcome: out.Outcome, prompt: str = "station_which", tries: int = 0,
                   lead: tuple[Spoken, ...] | None = None) -> out.Outcome:
        """Which charger of the site (its own label): asked instead of the question `outcome` asks."""
        ask = outcome.reply
        if not isinstance(ask, out.Ask) or ask.asked != "step":
            return outcome
        before = self._lead(ask) if lead is None else lead
        lines = (*before, self._catalog(ask.place.state.lang).text(prompt))
        place = Place(ask.place.state, tries=tries)
        return out.Outcome(self._ask(place, lines, "which", None, STATION_SECONDS, keyed=True), outcome.effects)

    def _which_answered(self, place: Place, event: ev.Answered, ctx: ev.Context) -> out.Outcome:
        """The caller's label for "which charger", or their yes or no to its read-back."""
        state, here = place.state, place.station
        heard = self._understand(event, "yes_no", state.lang, event.digits if here.candidate else None)
        record = self._record(f"station:which:{heard.intent}", node="station")
        if heard.intent in ("hazard", "damage", "agent", "emergency_stop"):
            reply = self.engine.answer(state, Heard.of(heard))
            return self._reply(reply, ctx).after(record, *self._alert(state.hazard, reply.state))
        if here.candidate:
            loc, uid = here.candidate.split("~", 1)
            evse = Evse(loc, uid, None, here.label, "UNKNOWN")
            return self._which_decided(place, station_actions.confirm_which(evse, heard.intent, place.tries), ctx
                                       ).after(record)
        if not state.station:
            return self._which_decided(place, station_actions.NotIdentified("no site"), ctx).after(record)
        return out.Outcome(out.Pending(place), (record, out.FindStation(state.station, "which", speech=event.speech,
                                                                        digits=event.digits)))

    def _station_found(self, place: Place, event: ev.StationFound, ctx: ev.Context) -> out.Outcome:
        lookup = event.lookup
        if event.purpose == "which":
            site = lookup.candidates or ((lookup.evse,) if lookup.evse else ())
            decision = station_actions.answer_which(site, event.speech, event.digits, place.tries)
            return self._which_decided(place, decision, ctx)
        then = out.Outcome(event.then)     # the station ID confirmed mid-call: its charger, if one
        if len(lookup.candidates) > 1:
            return self._ask_which(then, lead=())
        known = self._identified(lookup)
        if not known.identified:
            return then
        return self._station_hooks(known, carry(then, known, force=True), ctx)

    def _which_decided(self, place: Place, decision: station_actions.WhichDecision, ctx: ev.Context) -> out.Outcome:
        state = place.state
        say = self._catalog(state.lang).text
        if isinstance(decision, station_actions.Identified):
            evse = decision.evse
            here = StationPlace(evse.location_id, evse.uid, _label(evse) or place.station.label)
            lead = (Line(say(decision.said)),) if decision.said else ()
            outcome = carry(self._reply(self.engine.ask(state, lead, action="station"), ctx), here, force=True)
            return self._station_hooks(here, outcome, ctx)
        if isinstance(decision, station_actions.ReadBackEvse):
            evse = decision.evse
            asking = Place(state, tries=decision.tries,
                           station=StationPlace(label=_label(evse), candidate=f"{evse.location_id}~{evse.uid}"))
            label = station_whisper.spoken_label(evse.label)
            return out.Outcome(self._yes_no(asking, (say(decision.prompt, label=label),), "which"))
        if isinstance(decision, station_actions.AskWhich):
            asking = Place(state, tries=decision.tries)
            return out.Outcome(self._ask(asking, (say(decision.prompt),), "which", None, STATION_SECONDS, keyed=True))
        lead = (Line(say(decision.lead)),) if decision.lead else ()
        return self._reply(self.engine.ask(state, lead, action="station"), ctx)


def _label(evse: Evse) -> str | None:
    label = evse.physical_reference or evse.evse_id
    return label if label and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 *._:-]{0,47}", label) else None

"""What every dialogue of the call shares: the way to ask, to read an answer, to record.

The conversation (ivr.call.conversation) is composed of one mixin per dialogue, each
a subclass of `Turns`: the hand-off's (ivr.call.handoff_turns), the station ID's
(ivr.call.station_id_turns), which charger of a site (ivr.call.which_turns) and the
station in the loop (ivr.call.station_turns). The few calls one dialogue makes into
another (the engine's reply, putting the caller through, the chain's next link, the
station's hooks, the whole `handle`) are declared here once and made in the
Conversation, so a new dialogue is one more small module. Pure, as the rest of ivr.call.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ivr.call import events as ev
from ivr.call import outcomes as out
from ivr.call.codec import Place, StationPlace
from ivr.call.engine import CallState, Engine, Reply
from ivr.call.escalation import Escalation
from ivr.call.flow import Flow
from ivr.call.outcomes import Spoken
from ivr.call.understanding import Understanding, hints
from ivr.language.prompts import Catalog

OFFER_SECONDS = 8
STATION_SECONDS = 8


class Turns(ABC):
    """The shared helpers of every dialogue, and the calls between dialogues."""

    engine: Engine
    flow: Flow
    esc: Escalation

    # -- made by the Conversation, used by every dialogue --------------------------------------

    @abstractmethod
    def handle(self, place: Place | None, event: ev.Event, ctx: ev.Context) -> out.Outcome:
        """The whole call's answer to `event` (a station command's result replays the event it held)."""

    @abstractmethod
    def _meaning(self, speech: str | None, confidence: float | None, digits: str | None, expecting: str,
                 lang: str) -> Understanding:
        """The caller's words read with the language's own words (the one reader: ivr.call.understanding)."""

    @abstractmethod
    def _reply(self, reply: Reply, ctx: ev.Context) -> out.Outcome:
        """An engine reply: the next question, the hand-off, the release's offer, or a goodbye."""

    @abstractmethod
    def _put_through(self, lines: Iterable[Spoken], state: CallState, ctx: ev.Context,
                     safety_said: bool = False) -> out.Outcome:
        """The agent line, the queue, back to the steps, or the chain."""

    @abstractmethod
    def _run_next(self, place: Place, lead: Iterable[Spoken], ctx: ev.Context) -> out.Outcome:
        """The next link of the chain after `place.at`, or the goodbye with the support number."""

    @abstractmethod
    def _station_hooks(self, here: StationPlace, outcome: out.Outcome, ctx: ev.Context,
                       event: ev.Event | None = None) -> out.Outcome:
        """Where the identified station changes what comes next (ivr.call.station_turns)."""

    # -- small helpers ------------------------------------------------------------------------

    def _understand(self, event: ev.Answered, expecting: str, lang: str, digits: str | None) -> Understanding:
        """The caller's answer read with the language's own words (its catalog's vocabulary)."""
        return self._meaning(event.speech, event.confidence, digits, expecting, lang)

    def _ask(self, place: Place, lines: Iterable[Spoken], asked: ev.Asked, expecting: str | None, timeout: int,
             keyed: bool = False) -> out.Ask:
        lang = place.state.lang
        words = hints(expecting, self._catalog(lang).vocabulary) if expecting else ()
        return out.Ask(tuple(lines), place, asked, timeout, self._language(lang), words, keyed)

    def _yes_no(self, place: Place, lines: Iterable[Spoken], asked: ev.Asked) -> out.Ask:
        keys = self._catalog(place.state.lang).text("keys_yes_no")
        return self._ask(place, (*lines, keys), asked, "yes_no", OFFER_SECONDS)

    def _catalog(self, lang: str | None) -> Catalog:
        catalogs = self.engine.catalogs
        return catalogs.get(lang or "") or catalogs[self.engine.default_language]

    def _language(self, lang: str | None) -> str:
        return self._catalog(lang).language

    def _support_number(self, ctx: ev.Context) -> str | None:
        return self.esc.support_number or ctx.support_number

    def _alert(self, before: str | None, state: CallState) -> tuple[out.RaiseAlert, ...]:
        """The operator hears of every hazard at once: a new or higher tier raises an alert."""
        if not state.hazard or state.hazard == before:
            return ()
        return (out.RaiseAlert(state.hazard, state.station, state.connector),)

    @staticmethod
    def _record(action: str, node: str = "handoff", speech: str | None = None, answer: bool = True,
                suffix: str = "") -> out.RecordTurn:
        return out.RecordTurn(action, node=node, speech=speech, answer=answer, suffix=suffix)

    def _lead(self, ask: out.Ask) -> tuple[Spoken, ...]:
        """What an Ask says before its question (a welcome, a lead-in)."""
        first = self.engine.ask(ask.place.state)
        return ask.lines[:max(0, len(ask.lines) - len(first.lines))]


# -- the station's place, carried through every reply ----------------------------------------

def has_place(reply: Any) -> bool:
    return any(isinstance(getattr(reply, name, None), Place) for name in ("place", "accept"))


def place_of(reply: Any) -> Place:
    for name in ("place", "accept"):
        found = getattr(reply, name, None)
        if isinstance(found, Place):
            return found
    raise TypeError(f"no place in {reply!r}")


def carry_reply(reply: Any, here: StationPlace, force: bool = False) -> Any:
    """`reply` with the station on each of its places (unless a place has its own, or `force`)."""
    changes = {}
    for name in ("place", "whisper", "wait", "empty", "accept"):
        found = getattr(reply, name, None)
        if isinstance(found, Place) and (force or found.station == StationPlace()):
            changes[name] = replace(found, station=here)
    return replace(reply, **changes) if changes else reply


def carry(outcome: out.Outcome, here: StationPlace, force: bool = False) -> out.Outcome:
    if here == StationPlace():
        return outcome
    return replace(outcome, reply=carry_reply(outcome.reply, here, force))


def pending(outcome: out.Outcome, effect: out.Effect) -> out.Outcome:
    """Hold the reply: its effects first, then `effect`, whose result decides it."""
    return out.Outcome(out.Pending(place_of(outcome.reply)), (*outcome.effects, effect))

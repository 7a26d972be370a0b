"""The station-ID dialogue, decided: ask for it, read it back, confirm, or go on without it.

Pure: the web layer understands the caller's answer, asks `answer` what it means
here, renders the decision and records its turn. The ID never blocks the steps:
after MAX_TRIES, or "skip", the call goes on without it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ivr.call import station
from ivr.call.engine import CallState
from ivr.language.vocabulary import Vocabulary

COMMANDS = ("hazard", "damage", "agent")   # the global commands work here too


def wanted(settings: Mapping[str, Any], state: CallState, arriving_at: str | None = None) -> bool:
    """Ask the station ID now? After the welcome (`arriving_at` None), or, with
    settings.station_id_before, when the call first reaches one of those questions."""
    if settings.get("ask_station_id") is not True or state.station:
        return False
    before = station.asked_before(settings)
    return arriving_at in before if before else arriving_at is None


def keys_to_understand(digits: str | None, candidate: str | None) -> str | None:
    """Keys mean yes/no when confirming; while keying the ID only 0 (a person) is a command."""
    return digits if candidate is not None or digits == "0" else None


@dataclass(frozen=True)
class Command:
    """A hazard, damage or a person asked for: the engine answers, as on any question."""

    record: str


@dataclass(frozen=True)
class Confirmed:
    """The ID read back and confirmed: keep it, thank the caller, on to the steps."""

    record: str
    station_id: str


@dataclass(frozen=True)
class GoOn:
    """On to the steps without an ID, saying `lead` first."""

    record: str
    lead: str = "station_skipped"


@dataclass(frozen=True)
class ReadBack:
    """'I heard station 4 5 0 7 7. Is that right?' (`prompt`: keyed digits or a known ID in full)."""

    record: str
    station_id: str
    prompt: str
    tries: int


@dataclass(frozen=True)
class AskAgain:
    """Ask for the ID again after `why` (a prompt key with its parameters)."""

    record: str
    why: str
    params: Mapping[str, str]
    tries: int


Decision = Command | Confirmed | GoOn | ReadBack | AskAgain


def answer(settings: Mapping[str, Any], intent: str, speech: str | None, digits: str | None,
           candidate: str | None, tries: int, vocabulary: Vocabulary | None = None) -> Decision:
    """What the caller's answer means; `candidate`: the ID read back (the answer is yes or no).
    A spoken ID is read with the call's language's words (`vocabulary`), backed by English's."""
    fewest, most = station.digit_range(settings)
    if intent in COMMANDS:
        return Command(f"station:{intent}")
    if candidate is not None:
        checked = station.check(candidate, fewest, most)
        record = f"station:confirm:{intent}"
        if checked and intent == "yes":
            return Confirmed(record, checked)
        if tries + 1 >= station.MAX_TRIES:
            return GoOn(record)
        return AskAgain(record, "", {}, tries + 1)
    if station.wants_skip(speech, vocabulary):
        return GoOn("station:skip")
    keyed = station.from_keypad(digits)
    matched = station.match_keyed(keyed, station.known_ids(settings))
    checked = station.check(matched or keyed or station.from_speech(speech, vocabulary), fewest, most)
    record = "station:heard" if checked else "station:invalid"
    if checked:
        # Keys carry no letters: a known station's ID is read back in full, else the digits as keyed.
        return ReadBack(record, checked, "station_confirm_keyed" if keyed and not matched else "station_confirm", tries)
    if tries + 1 >= station.MAX_TRIES:
        return GoOn(record)
    if speech or digits:
        return AskAgain(record, "station_invalid", {"fewest": str(fewest), "most": str(most)}, tries + 1)
    return AskAgain(record, "silence", {}, tries + 1)

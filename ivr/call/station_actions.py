"""The station in the call's dialogue (issue 14), decided: which charger, which plug,
is it still charging, the wait for a command's result, the unlock, the hazard stop.

Pure: each function takes what the call knows (the EVSE, its status, a command's
state, what the caller said, the time as a number) and returns a small frozen
value. The engine turns those into lines and effects ("read the station's status",
"run a station command") and feeds their results back as events; the back end
(ivr/ocpi) carries the effects out. Nothing here reads a clock or a network.

How the engine plays them (effects out, events in; the back end's methods in brackets):

1. The called number's station (`?station=`): effect "look up station" [find_evse] ->
   event with the Lookup -> `start_which(lookup.candidates or (lookup.evse,))`;
   AskWhich -> `answer_which` -> ReadBackEvse -> `confirm_which` -> Identified.
2. At the connector question with an Identified EVSE: `connector_question(evse)`;
   ConnectorKnown: set the connector and take the flow's `on[key]` without asking.
3. On reaching a question where `reads_status(node)` (or a "no" to it): effect "read
   station status" [status] -> event -> `on_status(...)`; StopNow: say its lines,
   effect "run a station command" STOP_SESSION [stop_session] -> event with the
   CommandState -> the wait.
4. The wait: each Gather turn posts back (with or without speech); effect "read the
   command" [command(id)] -> `wait_turn(state, sent_at=, now=, turn=, heard=, hazard=)`:
   Listen (another Gather), Interrupted (answer the intent as anywhere), Finished
   (say its lines; `answer` "yes": take the question's on.yes; None: ask it as today).
   Carry `result.to_param()` in the URL state for the whisper.
5. Before putting the caller through on a station-lock connector: `unlock_step(...)`:
   OfferToAgent -> the whisper's accept line (station_whisper.whisper_extra) and the
   Gather action `ivr.ocpi.views.agent_unlock_url(...)`; AskHold -> ask
   station_hold_handle (yes/no) -> `on_hold_answer`; UnlockNow -> UNLOCK_CONNECTOR and
   the wait.
6. A hazard: effect "read station status" -> `on_hazard(evse, status)`; HazardStop:
   STOP_SESSION at once (the first alert as always), the wait with hazard=True, then a
   second alert with `alert_note(result, label)`; `out_of_service_after(tier, evse)`:
   effect "take out of service" [ivr.ocpi.backend.take_out_of_service].

Rules kept here, whatever the engine does with them:
- never act on an EVSE that was not identified (read back and confirmed, or the
  only EVSE the called number names);
- "no active session seen" is unknown, never "stopped": the steps go on as today;
- after a hazard stop, no release step is offered;
- UNLOCK_CONNECTOR follows ivr/call/station_policy.py.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ivr.call.station import from_speech  # the one reader of spoken IDs
from ivr.call.station_model import (
    MAX_COMMAND_WAIT,
    CommandState,
    Connector,
    Evse,
    Outcome,
    StationStatus,
    label_key,
)
from ivr.call.station_policy import UnlockPolicy, hazard_stop, may_unlock

MAX_TRIES = 2          # asking which charger, then the call goes on without the station
# One listening Gather of the wait: short, so a result is heard soon after it comes
# (most stations stop within a few seconds: bench/station_stop.py), and never over 10 s.
FIRST_TURN_S = 3
WAIT_TURN_S = 5
# The flow's answers to the connector question, with their keys (ivr/call/understanding.py).
CONNECTOR_DIGITS = {"ccs": "1", "chademo": "2", "j1772": "3", "tesla": "4", "unsure": "5"}
# The questions that ask whether the session is still running; "yes" means it has ended.
SESSION_QUESTIONS = ("session_screen", "stop_session", "confirm_stopped")
# Of those, the ones that only ask the caller to read the charger's screen (not to act):
# after a failed remote stop, the line answers them itself from the station's status.
SCREEN_QUESTIONS = ("session_screen", "confirm_stopped")
# The stop's results that mean the session was not ended (it still runs).
STOP_NOT_DONE = ("rejected", "not_supported", "failed")
# What the caller may say during the wait that ends it (the global commands, and "it came out").
WAIT_INTERRUPTS = ("hazard", "damage", "emergency_stop", "agent", "released")


# -- what a station command came to, carried to the whisper and the records -------------

@dataclass(frozen=True)
class StationResult:
    """A command's end, in one word each: `command` stop|unlock, `result` ok, pending,
    rejected, unknown_session, not_supported, failed, timeout, down."""

    command: str
    result: str

    def to_param(self) -> str:
        """For the call's URL state: 'stop-ok'."""
        return f"{self.command}-{self.result}"

    @classmethod
    def from_param(cls, raw: str | None) -> StationResult | None:
        match = re.fullmatch(r"(stop|unlock)-([a-z_]{2,16})", raw or "")
        if match is None or match.group(2) not in RESULT_WORDS:
            return None
        return cls(match.group(1), match.group(2))

    @property
    def succeeded(self) -> bool:
        return self.result == "ok"


RESULT_WORDS = ("ok", "pending", "rejected", "unknown_session", "not_supported", "failed", "timeout", "down")
_REJECTED_WORDS = {"REJECTED", "EVSE_OCCUPIED", "EVSE_INOPERATIVE", "CANCELED_RESERVATION", "UNKNOWN_RESERVATION"}


def command_word(command: str | None) -> str:
    return "unlock" if command == "UNLOCK_CONNECTOR" else "stop"


def result_of(state: CommandState) -> StationResult:
    """What a command's state means, in one word (OCPI's CommandResponse and CommandResult words)."""
    word = (state.result or "").upper()
    command = command_word(state.command)
    if state.outcome is Outcome.OK:
        return StationResult(command, "ok")
    if state.outcome is Outcome.PENDING:
        return StationResult(command, "pending")
    if state.outcome is Outcome.TIMEOUT or word == "TIMEOUT":
        return StationResult(command, "timeout")
    if word == "UNKNOWN_SESSION":
        return StationResult(command, "unknown_session")
    if word == "NOT_SUPPORTED":
        return StationResult(command, "not_supported")
    if word == "FAILED":
        return StationResult(command, "failed")
    if state.outcome is Outcome.REJECTED or word in _REJECTED_WORDS:
        return StationResult(command, "rejected")
    return StationResult(command, "down")   # DOWN, or UNKNOWN (no back end): it cannot act


# -- which charger ---------------------------------------------------------------------

@dataclass(frozen=True)
class Identified:
    """The EVSE the line may act on. `said` the line to say first (None: nothing)."""

    evse: Evse
    said: str | None = None


@dataclass(frozen=True)
class AskWhich:
    """Ask which charger: `prompt` (station_which, or station_which_again after a miss)."""

    prompt: str
    tries: int


@dataclass(frozen=True)
class ReadBackEvse:
    """'You're at charger {label}. Is that right?' (station_evse_confirm); a yes identifies it."""

    evse: Evse
    tries: int
    prompt: str = "station_evse_confirm"


@dataclass(frozen=True)
class NotIdentified:
    """On without the station: the steps as today. `lead` is said first (None: nothing)."""

    reason: str
    lead: str | None = "station_go_on"


WhichDecision = Identified | AskWhich | ReadBackEvse | NotIdentified


def start_which(site: Sequence[Evse]) -> WhichDecision:
    """The called number (or the label) names these EVSEs: one is identified as it is;
    several: ask which; none: on without the station."""
    if len(site) == 1:
        return Identified(site[0])
    if not site:
        return NotIdentified("the station is not known to the back end", lead=None)
    return AskWhich("station_which", 0)


def matching(site: Sequence[Evse], speech: str | None, digits: str | None) -> list[Evse]:
    """The site's EVSEs whose label the caller said or keyed: by physical_reference or
    evse_id (or the last part of an eMI3 evse_id), ignoring case, spaces and `*`.
    Keys carry no letters, so keyed digits match a label's digits."""
    keys = (digits or "").strip().rstrip("#")
    found: list[Evse] = []
    for evse in site:
        labels = [evse.physical_reference, evse.evse_id]
        if evse.evse_id and "*" in evse.evse_id:
            labels.append(evse.evse_id.rsplit("*", 1)[1])
        wanted = [label_key(text) for text in labels if text]
        if keys:
            hit = any(re.sub(r"\D", "", w) == keys for w in wanted)
        else:
            said = _spoken_label(speech)
            hit = bool(said) and said in wanted
        if hit:
            found.append(evse)
    return found


def _spoken_label(speech: str | None) -> str:
    """A spoken label as a key ("E 1 2", "echo one two" -> "E12"): the station-ID reader's."""
    return label_key(from_speech(speech) or speech or "")


def answer_which(site: Sequence[Evse], speech: str | None, digits: str | None, tries: int) -> WhichDecision:
    """The caller's answer to "which charger": read back the one it names; a miss is
    asked once more, then the call goes on without the station."""
    if not (speech or "").strip() and not (digits or "").strip("#"):
        return AskWhich("station_which", tries + 1) if tries + 1 < MAX_TRIES else NotIdentified("silence")
    found = matching(site, speech, digits)
    if len(found) == 1:
        return ReadBackEvse(found[0], tries)
    if tries + 1 >= MAX_TRIES:
        return NotIdentified("no single charger matched the label")
    return AskWhich("station_which_again", tries + 1)


def confirm_which(evse: Evse, intent: str, tries: int) -> WhichDecision:
    """A yes to the read-back identifies the EVSE; a no asks again (once)."""
    if intent == "yes":
        return Identified(evse, said="station_thanks")
    if tries + 1 >= MAX_TRIES:
        return NotIdentified("the caller did not confirm the charger")
    return AskWhich("station_which", tries + 1)


# -- which plug ------------------------------------------------------------------------

@dataclass(frozen=True)
class ConnectorKnown:
    """The EVSE answers the connector question: `key` is the flow's answer (ccs, chademo, ...)."""

    key: str


@dataclass(frozen=True)
class AskAmong:
    """Ask among the EVSE's own plugs: (key, digit) pairs, digits as the flow's question has them."""

    choices: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AskAsToday:
    """The EVSE cannot tell: the flow's connector question, as today."""


ConnectorDecision = ConnectorKnown | AskAmong | AskAsToday


def connector_question(evse: Evse | None) -> ConnectorDecision:
    """Skip the connector question when the EVSE has one standard; ask among its own
    standards when it has several; as today without an EVSE."""
    if evse is None or not evse.connectors:
        return AskAsToday()
    keys = list(dict.fromkeys(flow_key(c) for c in evse.connectors))
    if len(keys) == 1:
        return ConnectorKnown(keys[0])
    return AskAmong(tuple((k, CONNECTOR_DIGITS[k]) for k in keys))


def flow_key(connector: Connector) -> str:
    """The flow's name for a connector's standard; "unsure" when the flow has none for it
    (a Type 2 socket goes the J1772/unsure way: unlock the car and pull)."""
    kind = connector.kind
    return kind if kind in CONNECTOR_DIGITS else "unsure"


def connector_of(evse: Evse | None, key: str | None) -> Connector | None:
    """The EVSE's connector the caller is using: the only one, or the only one of that kind."""
    if evse is None or not evse.connectors:
        return None
    if len(evse.connectors) == 1:
        return evse.connectors[0]
    same = [c for c in evse.connectors if flow_key(c) == key]
    return same[0] if len(same) == 1 else None


# -- is it still charging? -------------------------------------------------------------

@dataclass(frozen=True)
class StopNow:
    """The station shows the session running: say `lines`, then send STOP_SESSION."""

    session_id: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class AsToday:
    """Nothing the line can do: go on with the steps as today (`reason` for the records)."""

    reason: str


def reads_status(node_id: str) -> bool:
    """Read the station's status on reaching this question (about the running session):
    the line reads the screen itself rather than asking the caller to. When the caller
    answers "no" (it's still charging), `on_status` with caller_said_running=True."""
    return node_id in SESSION_QUESTIONS


def on_status(evse: Evse | None, status: StationStatus | None, *, caller_said_running: bool) -> StopNow | AsToday:
    """The status read for an identified EVSE: an ACTIVE session seen is stopped at once;
    anything else (none seen, the back end down) is unknown: the steps as today."""
    if evse is None:
        return AsToday("no charger identified")
    if status is None or status.outcome is not Outcome.OK:
        return AsToday("the station's state cannot be read")
    session = status.session
    if session is None or session.status != "ACTIVE":
        return AsToday("no active session seen (unknown, not stopped)")
    first = "station_still_running" if caller_said_running else "station_shows_running"
    return StopNow(session.id, (first, "station_wait"))


# -- the wait for a command's result ---------------------------------------------------

@dataclass(frozen=True)
class Listen:
    """Another listening turn: a Gather of `seconds` (speech and keys), saying `line` first."""

    seconds: int
    line: str | None


@dataclass(frozen=True)
class Interrupted:
    """The caller spoke over the wait: the engine answers `intent` as anywhere
    (a hazard, a person, "it came out"), carrying `result` to the whisper."""

    intent: str
    result: StationResult


@dataclass(frozen=True)
class Finished:
    """The wait is over. Say `lines`; then `answer` the question the wait began at
    ("yes": the session has ended, on with the release steps), or None: ask it as
    today (the steps, and a person after them). `result` goes to the whisper."""

    lines: tuple[str, ...]
    answer: str | None
    result: StationResult


WaitDecision = Listen | Interrupted | Finished


def wait_until(command: CommandState, sent_at: float) -> float:
    """When the wait ends whatever happens: the command's own deadline (the CPO's
    timeout, capped), and never later than MAX_COMMAND_WAIT after it was sent."""
    cap = sent_at + MAX_COMMAND_WAIT
    return min(cap, command.deadline) if command.deadline is not None else cap


def wait_turn(command: CommandState, *, sent_at: float, now: float, turn: int,
              heard: str | None = None, hazard: bool = False) -> WaitDecision:
    """One turn of the listening wait. `command` as read from the database now (any
    worker), `turn` how many turns came before, `heard` the caller's intent if they
    spoke, `hazard` whether the call carries one (then no release step follows)."""
    result = result_of(command)
    if heard in WAIT_INTERRUPTS:
        return Interrupted(heard, result)
    if result.result == "pending":
        left = wait_until(command, sent_at) - now
        if left > 0.5:
            seconds = FIRST_TURN_S if turn == 0 else WAIT_TURN_S
            return Listen(min(seconds, math.ceil(left)), "station_still_waiting" if turn in (2, 4) else None)
        result = StationResult(result.command, "timeout")
    return finish(result, hazard=hazard)


def finish(result: StationResult, *, hazard: bool = False) -> Finished:
    """What the caller hears at the end of a command, and where the call goes."""
    if hazard:   # never "now pull the plug": the hazard path goes on as it is
        line = "station_hazard_stopped" if result.succeeded else "station_hazard_not_stopped"
        return Finished((line,), None, result)
    if result.succeeded:
        if result.command == "stop":
            return Finished(("station_stopped",), "yes", result)
        return Finished(("station_unlocked",), None, result)
    return Finished((f"station_fail_{result.result}", "station_go_on"), None, result)


# -- the unlock ------------------------------------------------------------------------

@dataclass(frozen=True)
class OfferToAgent:
    """The whisper offers the agent the unlock: "press 2 to unlock connector N at LABEL"."""

    connector_id: str
    label: str


@dataclass(frozen=True)
class AskHold:
    """Automatic unlock, once the caller holds the handle with the weight off (station_hold_handle, yes/no)."""


@dataclass(frozen=True)
class UnlockNow:
    """Automatic unlock: say `lines`, send UNLOCK_CONNECTOR, then the listening wait."""

    connector_id: str
    lines: tuple[str, ...] = ("station_unlocking", "station_wait")


@dataclass(frozen=True)
class NoUnlock:
    reason: str


UnlockDecision = OfferToAgent | AskHold | UnlockNow | NoUnlock


def unlock_step(policy: UnlockPolicy, evse: Evse | None, connector_key: str | None,
                status: StationStatus | None, *, holding_handle: bool) -> UnlockDecision:
    """Where a station-side lock still holds the plug (the flow is about to put the
    caller through): with `automatic`, ask the caller to hold the handle, then unlock;
    with `agent`, offer it to the agent in the whisper; otherwise nothing."""
    if evse is None:
        return NoUnlock("no charger identified")
    connector = connector_of(evse, connector_key)
    if connector is None:
        return NoUnlock("the connector is not identified")
    if policy is UnlockPolicy.AUTOMATIC:
        decision = may_unlock(policy, connector, status, holding_handle=True, by_agent=False)
        if not decision.allowed:
            return NoUnlock(decision.reason)
        return UnlockNow(connector.id) if holding_handle else AskHold()
    decision = may_unlock(policy, connector, status, holding_handle=True, by_agent=True)
    if not decision.allowed:
        return NoUnlock(decision.reason)
    return OfferToAgent(connector.id, evse.label)


def on_hold_answer(intent: str, connector_id: str) -> UnlockNow | NoUnlock:
    """The caller's answer to station_hold_handle."""
    if intent == "yes":
        return UnlockNow(connector_id)
    return NoUnlock("the caller is not holding the handle")


# -- a hazard while current flows ------------------------------------------------------

@dataclass(frozen=True)
class HazardStop:
    """STOP_SESSION at once, no question: say `lines`, send it, raise the first alert as
    always; the command's result makes a second alert (`alert_note`)."""

    session_id: str
    lines: tuple[str, ...] = ("station_hazard_stopping",)


def on_hazard(evse: Evse | None, status: StationStatus | None) -> HazardStop | None:
    """A hazard with an ACTIVE session seen on an identified EVSE: stop it now."""
    session_id = hazard_stop(evse, status)
    return HazardStop(session_id) if session_id else None


def alert_note(result: StationResult, label: str | None) -> str:
    """The second alert's note for the operator (English, like the first alert's text):
    `Alert(call_sid, tier="stop", ..., note=alert_note(result, label))` (ivr/outbound/alerts.py)."""
    where = f" at {label}" if label else ""
    said = {"ok": "the station confirmed the stop", "pending": "no result yet",
            "timeout": "no result in time"}.get(result.result, f"it failed ({result.result.replace('_', ' ')})")
    return f"Remote stop{where} after the hazard: {said}."


def out_of_service_after(hazard: str | None, evse: Evse | None) -> bool:
    """Take the charger out of service after a damage or fire hazard on an identified
    EVSE, where the operator's own back end can (OCPI 2.2.1 has no command for it):
    the engine then emits "take out of service" [ivr.ocpi.backend.take_out_of_service]."""
    return hazard in ("fire", "damage") and evse is not None

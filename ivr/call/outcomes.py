"""What the conversation decides: what the caller hears next, and the effects for the
outer layer to carry out. Pure values, TwiML-agnostic: ivr.web.views.render turns a
reply into TwiML, ivr.web.views.effects carries the effects out.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ivr.call.codec import Place
from ivr.call.engine import Line
from ivr.call.events import Asked

Spoken = str | Line


# -- what the caller (or the agent) hears next ------------------------------------------------

@dataclass(frozen=True)
class Ask:
    """Speak, then listen; the answer comes back to the `asked` question's webhook with `place`.
    `keyed`: several keys ended by # (a station ID, a phone number)."""

    lines: tuple[Spoken, ...]
    place: Place
    asked: Asked
    timeout: int
    lang: str
    hints: tuple[str, ...] = ()
    keyed: bool = False


@dataclass(frozen=True)
class Dial:
    """Ring a person; the dial's result comes back with `place`, the agent hears the whisper for `whisper`."""

    lines: tuple[Spoken, ...]
    number: str
    timeout: int
    place: Place
    whisper: Place
    lang: str
    caller_id: str | None = None


@dataclass(frozen=True)
class Enqueue:
    """Wait in the agents' queue; its result comes back with `place`, its wait lines with `wait`."""

    lines: tuple[Spoken, ...]
    queue: str
    place: Place
    wait: Place
    lang: str


@dataclass(frozen=True)
class RecordVoicemail:
    """Take a message after the tone; `empty`: where the call goes on if nothing was recorded."""

    lines: tuple[Spoken, ...]
    place: Place
    empty: Place
    max_length: int
    transcribe: bool
    lang: str


@dataclass(frozen=True)
class Goodbye:
    """Say these lines and hang up."""

    lines: tuple[Spoken, ...]
    lang: str


@dataclass(frozen=True)
class Hangup:
    """Hang up without a word (the caller has gone)."""


@dataclass(frozen=True)
class Apology:
    """The state could not be read: say sorry and put the caller through to a person."""

    lang: str | None


@dataclass(frozen=True)
class Whisper:
    """The agent's leg: the call's context, then press 1 (the key comes back with `accept`)."""

    lines: tuple[Spoken, ...]
    accept: Place | None
    lang: str
    unlock: UnlockOffer | None = None     # the agent's 2 unlocks (issue 14): the Gather posts to the unlock key


@dataclass(frozen=True)
class UnlockOffer:
    """What the agent's 2 unlocks: the line's /station/agent-unlock URL names it."""

    location_id: str
    evse_uid: str
    connector_id: str
    label: str | None = None


@dataclass(frozen=True)
class Accepted:
    """The agent took the call: the bridge."""


@dataclass(frozen=True)
class QueueWait:
    """What a caller in the queue hears, again and again."""

    lines: tuple[Spoken, ...]
    lang: str


@dataclass(frozen=True)
class LeaveQueue:
    """Out of the queue: the queue's result webhook takes over."""


@dataclass(frozen=True)
class Pending:
    """No answer yet: the effects' results come back as events for `place`, in the same request."""

    place: Place


Reply = (Ask | Dial | Enqueue | RecordVoicemail | Goodbye | Hangup | Apology | Whisper | Accepted
         | QueueWait | LeaveQueue | Pending)


# -- effects --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordTurn:
    """One turn for the records. `answer`: with the request's speech, digits and confidence
    (`speech` replaces the speech); `suffix` keeps a second turn of one request apart."""

    action: str
    node: str | None = None
    intent: str | None = None
    next_node: str | None = None
    language: str | None = None
    connector: str | None = None
    outcome: str | None = None
    hazard: str | None = None
    state: Mapping[str, str] | None = None
    answer: bool = True
    speech: str | None = None
    suffix: str = ""
    car: tuple[str, str | None] | None = None     # (make, model) once named: ivr.call.vehicles.record_of


@dataclass(frozen=True)
class RecordRateLimited:
    """The call was over the rate limit (the turn the limit counts)."""


@dataclass(frozen=True)
class SetOutcome:
    outcome: str


@dataclass(frozen=True)
class SaveStation:
    station_id: str


@dataclass(frozen=True)
class SaveCallback:
    number: str
    station_id: str | None
    connector: str | None
    steps: str | None


@dataclass(frozen=True)
class SaveVoicemail:
    sid: str
    url: str | None
    duration: int | None


@dataclass(frozen=True)
class SendText:
    """Send the steps by text; its result comes back as an events.TextResult."""

    to: str
    body: str


@dataclass(frozen=True)
class RaiseAlert:
    """A new or higher hazard: the operator hears of it at once."""

    tier: str
    station: str | None
    connector: str | None
    note: str | None = None     # tier "stop": what the station did after the hazard (issue 14)


@dataclass(frozen=True)
class FindStation:
    """Look a label (a station ID, a site) up in the line's EVSE index; comes back as an
    events.StationFound with `purpose`, `then` and the caller's words it was for."""

    label: str
    purpose: str
    then: object = None
    speech: str | None = None
    digits: str | None = None


@dataclass(frozen=True)
class ReadStation:
    """Read the identified EVSE from the line's index, and its status from the back end
    when `status`; comes back as an events.StationRead with `purpose` and `then`."""

    location_id: str
    evse_uid: str
    status: bool
    purpose: str
    then: object = None
    said: str | None = None      # what the caller said just before (speech), for the line after the read


@dataclass(frozen=True)
class RunStationCommand:
    """Ask the station to act (issue 14); comes back at once as an events.StationCommandSent
    (its final result is read later with ReadCommand, by any worker)."""

    command: Literal["STOP_SESSION", "UNLOCK_CONNECTOR"]
    location_id: str
    evse_uid: str
    purpose: str
    session_id: str | None = None
    connector_id: str | None = None
    lead: tuple[str, ...] = ()
    then: object = None


@dataclass(frozen=True)
class ReadCommand:
    """A command's state now, from the database; comes back as an events.StationCommandResult."""

    command_id: str
    then: object = None


@dataclass(frozen=True)
class TakeOutOfService:
    """After a fire or damage hazard: the back end's own out-of-service, where it has one."""

    location_id: str
    evse_uid: str


Effect = (RecordTurn | RecordRateLimited | SetOutcome | SaveStation | SaveCallback | SaveVoicemail | SendText
          | RaiseAlert | FindStation | ReadStation | RunStationCommand | ReadCommand | TakeOutOfService)


@dataclass(frozen=True)
class Outcome:
    reply: Reply
    effects: tuple[Effect, ...] = field(default_factory=tuple)

    def after(self, *effects: Effect) -> Outcome:
        """The same reply, with `effects` carried out first."""
        return Outcome(self.reply, (*effects, *self.effects))

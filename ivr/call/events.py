"""What can happen to a call, as the conversation sees it (ivr.call.conversation.handle).

Pure values: the web layer reads each from Twilio's request (ivr.web.views.readers),
or from carrying out an effect (a text's result), and hands it to the conversation.
A silence is an Answered with neither speech nor digits: Twilio posts it to the
same action URL (actionOnEmptyResult).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ivr.call.station_model import CommandState, Evse, Lookup, StationStatus

# which question the answer is to; station_wait, hold and pulled: the station's (issue 14)
Asked = Literal["step", "station", "offer", "callback", "station_wait", "hold", "pulled", "which"]


@dataclass(frozen=True)
class EarlierCall:
    """The caller's call that ended a moment ago, as recorded: its last state's URL
    parameters, its hazard and its outcome (ivr.call.resume decides whether to carry on)."""

    last_state: Mapping[str, str]
    hazard: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class Arrived:
    """The call arrives. Looked up by the web layer: the caller's call that ended a moment ago,
    the language and station the dialled number stands for, the caller's limits."""

    earlier: EarlierCall | None = None
    lang: str | None = None
    station: str | None = None
    over_rate_limit: bool = False
    over_agent_cap: bool = False     # looked up only when over the rate limit
    lookup: Lookup | None = None     # the station back end's EVSE for `station` (None: no back end)


@dataclass(frozen=True)
class Answered:
    """The caller answered `asked` (or stayed silent): Twilio's SpeechResult, Digits, Confidence."""

    asked: Asked
    speech: str | None = None
    digits: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class DialEnded:
    """A Dial ended: DialCallStatus and DialBridged (the leg is in the place)."""

    status: str
    bridged: bool = True


@dataclass(frozen=True)
class QueueEnded:
    """The wait in the queue ended: QueueResult."""

    result: str


@dataclass(frozen=True)
class QueueTick:
    """The queue's waitUrl, again and again: QueueTime and QueuePosition as sent."""

    waited: str = ""
    position: str = ""


@dataclass(frozen=True)
class RecordingEnded:
    """The voicemail's Record ended: the RecordingSid (None: nothing kept), its URL and length."""

    sid: str | None
    url: str | None = None
    duration: int | None = None


@dataclass(frozen=True)
class TextResult:
    """What became of a SendText effect."""

    reason: str    # sent, invalid_number, unsubscribed, unavailable (ivr.outbound.sms)


@dataclass(frozen=True)
class StationFound:
    """What a FindStation effect found, with what it was for."""

    lookup: Lookup
    purpose: str
    then: Any = None
    speech: str | None = None
    digits: str | None = None


@dataclass(frozen=True)
class StationRead:
    """What a ReadStation effect found: the EVSE from the line's index (None: not known),
    and its status when asked for. `purpose` and `then` come back as the effect had them."""

    evse: Evse | None
    status: StationStatus | None
    purpose: str
    then: Any = None
    said: str | None = None


@dataclass(frozen=True)
class StationCommandSent:
    """What a RunStationCommand effect came to at once (PENDING: the result is to come)."""

    state: CommandState
    purpose: str                     # s: a stop at a session question, u: an unlock, h: a hazard stop
    lead: tuple[str, ...] = ()
    then: Any = None


@dataclass(frozen=True)
class StationCommandResult:
    """A command as the database has it now (ReadCommand), any worker. `then`: the
    event to handle after it (a hazard stop's result is read on the next webhook)."""

    state: CommandState
    then: Any = None


@dataclass(frozen=True)
class WhisperAsked:
    """The agent picked up: the whisper before the bridge."""


@dataclass(frozen=True)
class WhisperAnswered:
    """The agent's key after the whisper (1 takes the call)."""

    digits: str | None


Event = (Arrived | Answered | DialEnded | QueueEnded | QueueTick | RecordingEnded | TextResult
         | StationFound | StationRead | StationCommandSent | StationCommandResult | WhisperAsked | WhisperAnswered)


@dataclass(frozen=True)
class Context:
    """What the decisions need besides the state and the event, read by the web layer:
    the time (business hours), the caller's From and To, and the settings."""

    now: datetime
    caller: str | None = None             # From
    line: str | None = None               # To
    agent_number: str | None = None
    dial_timeout: int = 25
    support_number: str | None = None     # IVR_SUPPORT_NUMBER (escalation.yaml's wins)
    caller_id: str | None = None          # IVR_CALLER_ID
    can_text: bool = False                # an SMS sender is configured
    callback_international: bool = False
    agent_language: str = "en-US"
    station_backend: bool = False         # a station back end is configured (issue 14): look labels up

"""The station back end: what the call engine may ask of the operator's CSMS.

A small interface, `StationBackend`, with one module per back end:

- `none` (`NoBackend`, the default): knows no station; every answer is
  `UNKNOWN`, so the line behaves as it does without a back end (it asks the caller).
- `ocpi` (`ivr.ocpi.service.OcpiBackend`): an OCPI 2.2.1 CPO's Locations, Sessions
  and Commands modules.
- An operator's own CSMS API: write a class with these five methods (see
  `ivr/ocpi/custom.py` for the skeleton) and name it in `IVR_STATION_BACKEND` as
  `module:Class`.

Every method returns a value and never raises: a back end that is down, slow or
wrong answers `DOWN`, `TIMEOUT` or `UNKNOWN`, and the call goes on by asking the
caller. Every call is bounded (`IVR_STATION_TIMEOUT`, default 6 s, at most 10 s) so
a webhook stays inside Twilio's 15 seconds. Pure: no Flask, no HTTP, no database.
"""
from __future__ import annotations

import enum
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

# Twilio waits 15 s for a webhook; the engine and the records need the rest.
DEFAULT_TIMEOUT = 6.0
MAX_TIMEOUT = 10.0
# A command's wait for its CommandResult is capped here whatever the CPO's timeout says
# (issue 14: "capped at about 30 s"); the caller is listened to all along.
MAX_COMMAND_WAIT = 30


class Outcome(str, enum.Enum):
    """What a back-end call came to. A closed set: the engine branches on it."""

    OK = "ok"                # done / found / known
    PENDING = "pending"      # a command the CPO accepted: its result is still to come
    REJECTED = "rejected"    # the CPO or the charger said no (the detail says why)
    UNKNOWN = "unknown"      # nobody can tell: not found, not visible, no back end
    TIMEOUT = "timeout"      # no answer in time (the HTTP call, or the command's result)
    DOWN = "down"            # unreachable, refused our token, or answered nonsense

    def __str__(self) -> str:
        return self.value


class Command(str, enum.Enum):
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


@dataclass(frozen=True)
class Connector:
    id: str
    standard: str               # OCPI ConnectorType: CHADEMO, IEC_62196_T2_COMBO, ...
    format: str | None = None   # SOCKET or CABLE

    @property
    def station_lock(self) -> bool:
        """Does the station, not the car, hold this plug? CHAdeMO handles and
        socketed AC (a cable plugged into the station); CCS, J1772 and NACS
        are locked by the car (station-notes.md)."""
        if self.standard == "CHADEMO":
            return True
        return self.format == "SOCKET" and self.standard in SOCKETED_AC

    @property
    def kind(self) -> str | None:
        """The flow's connector name (ccs, chademo, j1772, tesla), or None."""
        return CONNECTOR_KINDS.get(self.standard)


SOCKETED_AC = {"IEC_62196_T1", "IEC_62196_T2", "IEC_62196_T3A", "IEC_62196_T3C",
               "DOMESTIC_E", "DOMESTIC_F", "DOMESTIC_G", "DOMESTIC_J"}
CONNECTOR_KINDS = {"CHADEMO": "chademo", "IEC_62196_T1": "j1772", "IEC_62196_T1_COMBO": "ccs",
                   "IEC_62196_T2_COMBO": "ccs", "TESLA_S": "tesla", "TESLA_R": "tesla",
                   "IEC_62196_T2": "type2"}


@dataclass(frozen=True)
class Evse:
    """One charger as the caller sees it: the label on it, and its connectors."""

    location_id: str
    uid: str
    evse_id: str | None
    physical_reference: str | None
    status: str                  # OCPI EVSE status: AVAILABLE, CHARGING, ...
    connectors: tuple[Connector, ...] = ()

    @property
    def label(self) -> str:
        return self.physical_reference or self.evse_id or self.uid

    @property
    def standards(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.standard for c in self.connectors))


@dataclass(frozen=True)
class Lookup:
    outcome: Outcome
    evse: Evse | None = None
    candidates: tuple[Evse, ...] = ()   # more than one matched: ask which
    detail: str = ""


@dataclass(frozen=True)
class Session:
    id: str
    status: str                  # ACTIVE, PENDING, COMPLETED, ...
    connector_id: str | None
    start: datetime | None = None


@dataclass(frozen=True)
class StationStatus:
    """The EVSE's status now, and its ACTIVE session if the CPO shows us one.

    `session` None with `outcome` OK means no active session *seen*: a CPO need not
    show sessions of other parties, so that is unknown, never "stopped";
    `session_known` says whether the absence can be trusted (never, over OCPI 2.2.1).
    """

    outcome: Outcome
    evse_status: str | None = None
    session: Session | None = None
    session_known: bool = False
    detail: str = ""

    @property
    def charging(self) -> bool | None:
        """True: a session runs; None: can't tell. Never False over OCPI."""
        if self.session is not None and self.session.status == "ACTIVE":
            return True
        if self.evse_status == "CHARGING":
            return True
        return False if self.session_known else None


@dataclass(frozen=True)
class CommandState:
    """A command sent, as any worker reads it: `PENDING` until the result comes
    or `deadline` (epoch seconds) passes, then `OK`, `REJECTED` or `TIMEOUT`."""

    outcome: Outcome
    command_id: str | None = None
    command: str | None = None
    result: str | None = None        # the CPO's CommandResponse or CommandResult word
    deadline: float | None = None
    detail: str = ""

    @property
    def finished(self) -> bool:
        return self.outcome is not Outcome.PENDING

    def seconds_left(self, now: float | None = None) -> float:
        if self.deadline is None:
            return 0.0
        return max(0.0, self.deadline - (time.time() if now is None else now))


@runtime_checkable
class StationBackend(Protocol):
    """What the engine's effects call. Every method: bounded in time, never raises."""

    name: str

    def find_evse(self, label: str, *, call_sid: str | None = None) -> Lookup:
        """The EVSE whose label (physical_reference or evse_id) matches what was said or keyed."""

    def status(self, evse: Evse, *, call_sid: str | None = None) -> StationStatus:
        """The EVSE's status and its ACTIVE session, if visible."""

    def stop_session(self, evse: Evse, session_id: str, *, call_sid: str | None = None) -> CommandState:
        """Ask the CPO to stop the session: PENDING (then poll `command`), or why not."""

    def unlock_connector(self, evse: Evse, connector_id: str, *, call_sid: str | None = None) -> CommandState:
        """Ask the CPO to unlock a station-side lock. Policy (who may trigger it, with
        no active session, holding the handle) is the caller's job, not the back end's."""

    def command(self, command_id: str) -> CommandState:
        """Where a command is now: read from the database, so any worker can ask."""


class NoBackend:
    """The default: no station back end. The line asks the caller, as it always has."""

    name = "none"

    def find_evse(self, label: str, *, call_sid: str | None = None) -> Lookup:
        return Lookup(Outcome.UNKNOWN, detail="no station back end")

    def status(self, evse: Evse, *, call_sid: str | None = None) -> StationStatus:
        return StationStatus(Outcome.UNKNOWN, detail="no station back end")

    def stop_session(self, evse: Evse, session_id: str, *, call_sid: str | None = None) -> CommandState:
        return CommandState(Outcome.UNKNOWN, command=Command.STOP_SESSION.value, detail="no station back end")

    def unlock_connector(self, evse: Evse, connector_id: str, *, call_sid: str | None = None) -> CommandState:
        return CommandState(Outcome.UNKNOWN, command=Command.UNLOCK_CONNECTOR.value, detail="no station back end")

    def command(self, command_id: str) -> CommandState:
        return CommandState(Outcome.UNKNOWN, command_id=command_id, detail="no station back end")


_NOT_LABEL = re.compile(r"[\s*\-_.:/]+")


def label_key(text: str | None) -> str:
    """One spelling of a station label: case, spaces and `*` (and - _ . : /) ignored.

    "DE*ABC*E12345", "de abc e12345" and "DEABCE12345" are one key.
    """
    return _NOT_LABEL.sub("", text or "").upper()


@dataclass
class Timer:
    """Seconds measured for the records."""

    started: float = field(default_factory=time.monotonic)

    @property
    def ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

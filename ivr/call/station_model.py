"""The station as the call sees it: pure data types of the station back end.

The dialogue (ivr/call/station_actions.py) decides on these; the back ends
(ivr/ocpi) fill them. Here, below both, so the call layer needs no back end:
no Flask, no HTTP, no database. `ivr.ocpi.backend` re-exports every name.
"""
from __future__ import annotations

import enum
import re
import time
from dataclasses import dataclass
from datetime import datetime

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


_NOT_LABEL = re.compile(r"[\s*\-_.:/]+")


def label_key(text: str | None) -> str:
    """One spelling of a station label: case, spaces and `*` (and - _ . : /) ignored.

    "DE*ABC*E12345", "de abc e12345" and "DEABCE12345" are one key.
    """
    return _NOT_LABEL.sub("", text or "").upper()

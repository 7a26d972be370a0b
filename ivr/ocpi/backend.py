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

import time
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

# The pure types live in the call layer, which decides on them; re-exported here.
from ivr.call.station_model import (
    CONNECTOR_KINDS,
    DEFAULT_TIMEOUT,
    MAX_COMMAND_WAIT,
    MAX_TIMEOUT,
    SOCKETED_AC,
    Command,
    CommandState,
    Connector,
    Evse,
    Lookup,
    Outcome,
    Session,
    StationStatus,
    label_key,
)

__all__ = ["CONNECTOR_KINDS", "DEFAULT_TIMEOUT", "MAX_COMMAND_WAIT", "MAX_TIMEOUT", "SOCKETED_AC", "Command",
           "CommandState", "Connector", "Evse", "Lookup", "NoBackend", "Outcome", "Session", "StationBackend",
           "StationStatus", "Timer", "label_key"]


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


@dataclass
class Timer:
    """Seconds measured for the records."""

    started: float = field(default_factory=time.monotonic)

    @property
    def ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


def take_out_of_service(backend: object, evse: Evse, *, call_sid: str | None = None) -> CommandState:
    """After a damage or fire hazard: the back end's own `out_of_service(evse, call_sid=)`
    when it has one (an operator's CSMS API, ivr/ocpi/custom.py); OCPI 2.2.1 has no such
    command, so otherwise UNKNOWN. Never raises."""
    method = getattr(backend, "out_of_service", None)
    if method is None:
        return CommandState(Outcome.UNKNOWN, command="OUT_OF_SERVICE", detail="this back end cannot take a charger out of service")
    try:
        state = method(evse, call_sid=call_sid)
    except Exception as exc:   # a custom back end broke the rule: the call goes on
        return CommandState(Outcome.DOWN, command="OUT_OF_SERVICE", detail=type(exc).__name__)
    return state if isinstance(state, CommandState) else CommandState(Outcome.UNKNOWN, command="OUT_OF_SERVICE")

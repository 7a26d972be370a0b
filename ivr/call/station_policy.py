"""When the line may act on the station: the rules of issue 14, as pure functions
(no back end, no clock, no Flask). `ivr.ocpi.policy` re-exports them.

UNLOCK_CONNECTOR: OCPI 2.2.1 (mod_commands, CommandType) says it is for help-desk
operators and must never be triggered by a driver directly, and that cable tension
can keep a lock stuck. So `stations.unlock` (per flow, or per station) is:

- `agent` (the default; `manual` means the same): only an agent's key sends it
  (the whisper offers it);
- `automatic`: the line may send it itself; the operator must set this explicitly;
- `off`: never.

In every case only for a station-side lock, with no session seen active, and once
the caller holds the handle with the cable's weight off.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ivr.call.station_model import Connector, Evse, Outcome, StationStatus, label_key


class UnlockPolicy(str, enum.Enum):
    AGENT = "agent"
    AUTOMATIC = "automatic"
    OFF = "off"

    @classmethod
    def parse(cls, value: object) -> UnlockPolicy:
        """`stations.unlock` as written in a flow or per station; unset is `agent`."""
        if value is False:   # YAML reads a bare `off` as false
            return cls.OFF
        if value is None or not str(value).strip():
            return cls.AGENT
        word = str(value).strip().lower()
        if word == "manual":
            return cls.AGENT
        try:
            return cls(word)
        except ValueError:
            raise ValueError(f"stations.unlock: {value!r}: expected agent, automatic or off (manual means agent)") from None


def unlock_policy(settings: Mapping[str, Any], evse: Evse | None = None) -> UnlockPolicy:
    """The policy for this EVSE: `stations.by_station.<label>.unlock` when the operator
    set one for it, else `stations.unlock`, else `agent`. A bad value is `agent` here
    (the safe side); `settings_problems` reports it for lint."""
    stations = settings.get("stations")
    if not isinstance(stations, Mapping):
        return UnlockPolicy.AGENT
    value = stations.get("unlock")
    by_station = stations.get("by_station")
    if evse is not None and isinstance(by_station, Mapping):
        keys = {label_key(evse.physical_reference), label_key(evse.evse_id), label_key(evse.uid)} - {""}
        for label, own in by_station.items():
            if label_key(str(label)) in keys and isinstance(own, Mapping) and "unlock" in own:
                value = own["unlock"]
    try:
        return UnlockPolicy.parse(value)
    except ValueError:
        return UnlockPolicy.AGENT


def settings_problems(settings: Mapping[str, Any]) -> list[str]:
    """What is wrong with the flow's `stations` settings, for lint."""
    stations = settings.get("stations")
    if stations is None:
        return []
    if not isinstance(stations, Mapping):
        return ["settings.stations must be a mapping, e.g. {unlock: agent}"]
    values = [("settings.stations.unlock", stations.get("unlock"))]
    by_station = stations.get("by_station") or {}
    if not isinstance(by_station, Mapping):
        return ["settings.stations.by_station must map station labels to {unlock: ...}"]
    values += [(f"settings.stations.by_station.{label}.unlock", own.get("unlock") if isinstance(own, Mapping) else own)
               for label, own in by_station.items()]
    problems = []
    for where, value in values:
        try:
            UnlockPolicy.parse(value)
        except ValueError:
            problems.append(f"{where}: {value!r}: expected agent, automatic or off (manual means agent)")
    return problems


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def may_unlock(policy: UnlockPolicy, connector: Connector | None, status: StationStatus | None, *,
               holding_handle: bool, by_agent: bool) -> Decision:
    """May UNLOCK_CONNECTOR be sent now, and if not, why not (for the records)."""
    if policy is UnlockPolicy.OFF:
        return Decision(False, "unlock is off for this station")
    if not by_agent and policy is not UnlockPolicy.AUTOMATIC:
        return Decision(False, "only an agent may send an unlock (OCPI: never triggered by a driver)")
    if connector is None:
        return Decision(False, "the connector is not identified")
    if not connector.station_lock:
        return Decision(False, "the car holds this plug, not the station")
    if status is None or status.outcome is not Outcome.OK:
        return Decision(False, "the station's state cannot be read")
    if status.charging:
        return Decision(False, "a session is active: stop it first")
    if not holding_handle:
        return Decision(False, "the caller must hold the handle with the cable's weight off first")
    return Decision(True, "agent's key" if by_agent else "automatic unlock, as the operator set")


def hazard_stop(evse: Evse | None, status: StationStatus | None) -> str | None:
    """The session to stop at once on a hazard: an ACTIVE session seen on an identified
    EVSE. None otherwise (nothing identified, nothing seen: the line cannot act)."""
    if evse is None or status is None or status.session is None:
        return None
    return status.session.id if status.session.status == "ACTIVE" else None

"""When the line may act on the station: the rules of issue 14, as pure functions
for the engine (no back end, no clock, no Flask).

UNLOCK_CONNECTOR: OCPI 2.2.1 (mod_commands, CommandType) says it is for help-desk
operators and must never be triggered by a driver directly, and that cable tension
can keep a lock stuck. So:

- `agent` (the default): only an agent's key sends it (the whisper offers it);
- `automatic`: the line may send it itself; the operator must set this explicitly;
- `off`: never.

In every case only for a station-side lock, with no session seen active, and once
the caller holds the handle with the cable's weight off.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from .backend import Connector, Evse, StationStatus


class UnlockPolicy(str, enum.Enum):
    AGENT = "agent"
    AUTOMATIC = "automatic"
    OFF = "off"

    @classmethod
    def parse(cls, value: str | None) -> UnlockPolicy:
        """`stations.unlock` as written in a flow or per station; unset is `agent`."""
        if value is None or not str(value).strip():
            return cls.AGENT
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise ValueError(f"stations.unlock: {value!r}: expected agent, automatic or off") from None


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
    if status is None or status.outcome.value != "ok":
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

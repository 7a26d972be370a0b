"""Where an operator's own CSMS API plugs in: a skeleton to copy.

A back end is any class with the five methods of `StationBackend`
(`ivr/ocpi/backend.py`), built as `Class(env, engine)`. Name it in the
environment and the line uses it instead of OCPI:

    IVR_STATION_BACKEND=mycompany.csms:CsmsBackend

The rules every back end keeps (the engine relies on them):

- Never raise. Return `Outcome.DOWN` (unreachable, refused), `TIMEOUT` (no answer
  in time) or `UNKNOWN` (can't tell) with a short `detail`; the call then asks
  the caller, as it does without a back end.
- Finish within `IVR_STATION_TIMEOUT` (default 6 s): Twilio waits 15 s for the
  whole webhook. Give your HTTP client a timeout, and no retries inside a call.
- "No session seen" is not "stopped": set `session_known=True` only when your
  API shows every session on that charger, whoever started it.
- A command the CSMS accepted but has not finished is `PENDING` with a
  `deadline` (epoch seconds, at most 30 s away); `command(id)` must then answer
  from shared storage (the database), because the caller's next webhook may land
  on another worker. `ivr.ocpi.store` has the tables (`station_commands`,
  `station_actions`) to reuse.
- Record each lookup and command with `store.record_action(...)`, so the reports
  count them like OCPI's.
- A CSMS that can take a charger out of service (OCPI 2.2.1 cannot) can offer it
  as an extra method, `out_of_service(evse, *, call_sid=None) -> CommandState`;
  after a damage or fire hazard the line calls it (`backend.take_out_of_service`).
"""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import Engine

from .backend import CommandState, Evse, Lookup, Outcome, StationStatus


class CsmsBackend:
    """Copy, rename and fill in. Every method below answers UNKNOWN until then."""

    name = "csms"

    def __init__(self, env: Mapping[str, str], engine: Engine):
        self.engine = engine
        self.base_url = env.get("MY_CSMS_URL", "")

    def find_evse(self, label: str, *, call_sid: str | None = None) -> Lookup:
        return Lookup(Outcome.UNKNOWN, detail="not implemented")

    def status(self, evse: Evse, *, call_sid: str | None = None) -> StationStatus:
        return StationStatus(Outcome.UNKNOWN, detail="not implemented")

    def stop_session(self, evse: Evse, session_id: str, *, call_sid: str | None = None) -> CommandState:
        return CommandState(Outcome.UNKNOWN, command="STOP_SESSION", detail="not implemented")

    def unlock_connector(self, evse: Evse, connector_id: str, *, call_sid: str | None = None) -> CommandState:
        return CommandState(Outcome.UNKNOWN, command="UNLOCK_CONNECTOR", detail="not implemented")

    def command(self, command_id: str) -> CommandState:
        return CommandState(Outcome.UNKNOWN, command_id=command_id, detail="not implemented")

"""The `ocpi` station back end: the OCPI client, the local EVSE index and the records.

Built once per process (`from_env`), used by any worker: everything that must be
shared (the discovered endpoints, the sync cursor, each command and its result)
lives in the database (`store.py`), so a CommandResult received by one gunicorn
worker is read by the worker the caller's next webhook lands on.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
import weakref
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import Engine

from ivr.records import deadline

from . import store
from .backend import (
    DEFAULT_TIMEOUT,
    MAX_COMMAND_WAIT,
    MAX_TIMEOUT,
    Command,
    CommandState,
    Connector,
    Evse,
    Lookup,
    NoBackend,
    Outcome,
    Session,
    StationBackend,
    StationStatus,
    Timer,
    label_key,
)
from .client import Budget, OcpiClient, OcpiError

log = logging.getLogger("ivr.ocpi")

# Inside a webhook a miss refreshes the index with date_from: a page or two of recent
# changes, never the whole CPO; and at most once a minute per process.
# However much IVR_STATION_TIMEOUT allows, a back-end call inside a webhook ends by
# this many seconds after the webhook arrived (Twilio gives up at 15).
WEBHOOK_CAP_S = 12.0
REFRESH_PAGES = 2
REFRESH_EVERY_S = 60.0
SESSION_PAGES = 5
ENDPOINTS_KEY = "endpoints"
CURSOR_KEY = "locations_cursor"
TOKEN_C_KEY = "token_c"        # {"versions_url": ..., "token": ...}: from `ivr ocpi register`
TOKEN_B_KEY = "token_b"        # the token we gave the CPO: it calls us with it


from ivr.config import ConfigError  # noqa: E402 - the app's own: start-up refuses with one line


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def ocpi_time(moment: datetime) -> str:
    """OCPI's DateTime: UTC, `Z`, no fraction."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def evse_rows(location: dict) -> list[dict]:
    """A Location's EVSEs as index rows."""
    rows = []
    location_id = str(location.get("id") or "")[:36]
    for evse in location.get("evses") or []:
        if not isinstance(evse, dict) or not evse.get("uid"):
            continue
        connectors = [{"id": str(c.get("id")), "standard": c.get("standard"), "format": c.get("format"),
                       "power_type": c.get("power_type")}
                      for c in evse.get("connectors") or [] if isinstance(c, dict) and c.get("id") is not None]
        evse_id, reference = evse.get("evse_id"), evse.get("physical_reference")
        rows.append({
            "location_id": location_id, "evse_uid": str(evse["uid"])[:36],
            "evse_id": evse_id and str(evse_id)[:48], "physical_reference": reference and str(reference)[:16],
            "evse_key": label_key(evse_id)[:48] or None, "reference_key": label_key(reference)[:16] or None,
            "outlet_key": label_key(str(evse_id).rsplit("*", 1)[1])[:48] or None
            if evse_id and "*" in str(evse_id) else None,
            "status": str(evse.get("status") or "UNKNOWN")[:16], "connectors": json.dumps(connectors),
            "last_updated": _parse_time(evse.get("last_updated")) or _parse_time(location.get("last_updated")),
        })
    return rows


def evse_of(row: dict) -> Evse:
    connectors = tuple(Connector(str(c["id"]), str(c.get("standard") or ""), c.get("format"))
                       for c in json.loads(row["connectors"] or "[]"))
    return Evse(row["location_id"], row["evse_uid"], row["evse_id"], row["physical_reference"],
                row["status"], connectors)


class OcpiBackend:
    """StationBackend over an OCPI 2.2.1 CPO."""

    name = "ocpi"

    def __init__(self, engine: Engine, versions_url: str, token: str | None, *, public_url: str | None,
                 timeout: float = DEFAULT_TIMEOUT, session_hours: float = 24.0):
        self.engine = engine
        self.versions_url = versions_url
        self._env_token = token
        self.public_url = (public_url or "").rstrip("/")
        self.timeout = min(max(timeout, 1.0), MAX_TIMEOUT)
        self.session_hours = session_hours
        self._endpoints: dict[str, str] | None = None
        self._last_refresh = 0.0
        self._lock = threading.Lock()
        self._client: OcpiClient | None = None
        # gunicorn forks the workers from a preloaded master: a worker opens its own
        # HTTP connections, never the master's pooled ones.
        ref = weakref.ref(self)

        def forget() -> None:
            backend = ref()
            if backend is not None:
                backend._forget_connections()
        os.register_at_fork(after_in_child=forget)

    def _forget_connections(self) -> None:
        self._client = None
        self._lock = threading.Lock()

    # -- plumbing --------------------------------------------------------------------

    def token(self) -> str | None:
        """TOKEN_C from `ivr ocpi register` for this CPO if there is one, else IVR_OCPI_TOKEN."""
        try:
            stored = store.get_state(self.engine, TOKEN_C_KEY)
        except Exception:
            stored = None
        if stored and stored.get("versions_url") == self.versions_url and stored.get("token"):
            return stored["token"]
        return self._env_token

    def client(self) -> OcpiClient:
        token = self.token()
        if not token:
            raise OcpiError(Outcome.DOWN, "no token: set IVR_OCPI_TOKEN or run `ivr ocpi register`")
        if self._client is None or self._client.token != token:
            self._client = OcpiClient(self.versions_url, token)
        return self._client

    def endpoints(self, budget: Budget, *, fresh: bool = False) -> dict[str, str]:
        """The CPO's module URLs: this process's copy, the database's, or discovered."""
        if self._endpoints and not fresh:
            return self._endpoints
        if not fresh:
            try:
                cached = store.get_state(self.engine, ENDPOINTS_KEY)
            except Exception:
                cached = None
            if cached and cached.get("versions_url") == self.versions_url:
                self._endpoints = cached["endpoints"]
                return self._endpoints
        found = self.client().endpoints(budget)
        self._endpoints = found
        try:
            store.set_state(self.engine, ENDPOINTS_KEY, {"versions_url": self.versions_url, "endpoints": found})
        except Exception as exc:
            log.warning("OCPI endpoints not cached in the database (%s)", exc)
        return found

    def module(self, name: str, budget: Budget) -> str:
        url = self.endpoints(budget).get(name)
        if not url:
            raise OcpiError(Outcome.DOWN, f"the CPO's OCPI {name} module is missing from its version details")
        return url

    def budget(self) -> Budget:
        """IVR_STATION_TIMEOUT, or what is left of the webhook's 12 s if that is less
        (two back-end calls in one webhook cannot add up past Twilio's 15 s)."""
        seconds = self.timeout
        started = deadline._started.get()   # the webhook's clock (ivr/deadline.py), None outside one
        if started is not None:
            seconds = min(seconds, WEBHOOK_CAP_S - (time.monotonic() - started))
        return Budget(max(seconds, 0.0))

    def response_url(self, command: str, command_id: str) -> str:
        return f"{self.public_url}/ocpi/2.2.1/commands/{command}/{command_id}"

    # -- the index ---------------------------------------------------------------------

    def sync(self, *, full: bool = False, budget: Budget | None = None, max_pages: int = 200) -> int:
        """Bring the EVSE index up to date: Locations changed since the cursor
        (`date_from`), or all of them. Returns how many EVSEs were written. Raises OcpiError."""
        budget = budget or Budget(120.0, per_request=15.0)
        started = datetime.now(timezone.utc)
        cursor = None if full else store.get_state(self.engine, CURSOR_KEY)
        params = {"date_from": cursor} if cursor else None
        written, walked_all = 0, False
        pages = self.client().pages(self.module("locations", budget), budget, params, max_pages=max_pages)
        for count, page in enumerate(pages, 1):
            rows = [row for location in page.items if isinstance(location, dict) for row in evse_rows(location)]
            written += store.upsert_evses(self.engine, rows)
            walked_all = not page.next_url or not page.items
            if count >= max_pages:
                break
        if walked_all:
            # Every change up to the start of this walk is in: the next sync starts there
            # (a little earlier, for clocks that differ).
            store.set_state(self.engine, CURSOR_KEY, ocpi_time(started - timedelta(minutes=2)))
        return written

    def find_evse(self, label: str, *, call_sid: str | None = None) -> Lookup:
        timer = Timer()
        key = label_key(label)
        lookup = self._find(key)
        store.record_action(self.engine, call_sid, "lookup", lookup.outcome, target=key or label[:64],
                            detail=lookup.detail or (lookup.evse and lookup.evse.label) or "",
                            duration_ms=timer.ms)
        return lookup

    def _find(self, key: str) -> Lookup:
        if not key:
            return Lookup(Outcome.UNKNOWN, detail="no label")
        try:
            rows = store.evses_by_key(self.engine, key)
        except Exception as exc:
            return Lookup(Outcome.DOWN, detail=f"the EVSE index cannot be read ({type(exc).__name__})")
        refreshed = ""
        if not rows and self._may_refresh():
            try:
                self.sync(budget=self.budget(), max_pages=REFRESH_PAGES)
                rows = store.evses_by_key(self.engine, key)
            except OcpiError as exc:
                refreshed = f"; the refresh failed: {exc.detail}"
                if not store.count_evses(self.engine):
                    return Lookup(exc.outcome, detail=exc.detail)
            except Exception as exc:
                refreshed = f"; the refresh failed: {type(exc).__name__}"
        if not rows:   # a whole site, named by its location id (a called number's station)
            try:
                rows = store.evses_at_location(self.engine, key)
            except Exception:
                rows = []
        if not rows:
            return Lookup(Outcome.UNKNOWN, detail="no EVSE has this label" + refreshed)
        evses = tuple(evse_of(r) for r in rows)
        if len(evses) > 1:
            return Lookup(Outcome.UNKNOWN, candidates=evses, detail=f"{len(evses)} EVSEs carry this label")
        return Lookup(Outcome.OK, evse=evses[0])

    def evse(self, location_id: str, evse_uid: str) -> Lookup:
        """The EVSE a call identified, from the local index (no CPO request): a call's URL
        names it by location id and uid."""
        try:
            row = store.evse_row(self.engine, location_id, evse_uid)
        except Exception as exc:
            return Lookup(Outcome.DOWN, detail=f"the EVSE index cannot be read ({type(exc).__name__})")
        return Lookup(Outcome.OK, evse=evse_of(row)) if row else Lookup(Outcome.UNKNOWN, detail="not in the index")

    def _may_refresh(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._last_refresh < REFRESH_EVERY_S and self._last_refresh:
                return False
            self._last_refresh = now
            return True

    # -- what the station is doing -----------------------------------------------------

    def status(self, evse: Evse, *, call_sid: str | None = None) -> StationStatus:
        timer = Timer()
        try:
            result = self._status(evse, self.budget())
        except OcpiError as exc:
            result = StationStatus(exc.outcome, detail=exc.detail)
        except Exception as exc:
            log.exception("station status failed")
            result = StationStatus(Outcome.DOWN, detail=type(exc).__name__)
        store.record_action(self.engine, call_sid, "status", result.outcome, target=f"{evse.location_id}/{evse.uid}",
                            session_id=result.session.id if result.session else None,
                            detail=result.detail or f"{result.evse_status}, session "
                                   f"{result.session.status if result.session else 'not seen'}",
                            duration_ms=timer.ms)
        return result

    def _status(self, evse: Evse, budget: Budget) -> StationStatus:
        client = self.client()
        fresh = client.evse(self.module("locations", budget), evse.location_id, evse.uid, budget)
        evse_status = str(fresh.get("status") or "UNKNOWN")
        since = ocpi_time(datetime.now(timezone.utc) - timedelta(hours=self.session_hours))
        found: Session | None = None
        for page in client.pages(self.module("sessions", budget), budget, {"date_from": since},
                                 max_pages=SESSION_PAGES):
            for item in page.items:
                if (isinstance(item, dict) and item.get("location_id") == evse.location_id
                        and item.get("evse_uid") == evse.uid and item.get("status") == "ACTIVE"):
                    found = Session(str(item.get("id")), "ACTIVE", item.get("connector_id"),
                                    _parse_time(item.get("start_date_time")))
            if found:
                break
        # Sessions of other parties need not be shown: no ACTIVE one seen is not "stopped".
        return StationStatus(Outcome.OK, evse_status=evse_status, session=found, session_known=False)

    # -- commands ------------------------------------------------------------------------

    def stop_session(self, evse: Evse, session_id: str, *, call_sid: str | None = None) -> CommandState:
        return self._send(Command.STOP_SESSION, call_sid, evse, session_id=session_id)

    def unlock_connector(self, evse: Evse, connector_id: str, *, call_sid: str | None = None) -> CommandState:
        return self._send(Command.UNLOCK_CONNECTOR, call_sid, evse, connector_id=connector_id)

    def _send(self, command: Command, call_sid: str | None, evse: Evse, *, session_id: str | None = None,
              connector_id: str | None = None) -> CommandState:
        timer = Timer()
        command_id = secrets.token_urlsafe(24)   # 192 bits: the response_url cannot be guessed
        target = f"{evse.location_id}/{evse.uid}" + (f"/{connector_id}" if connector_id else "")
        state = self._post(command, command_id, call_sid, evse, session_id, connector_id)
        store.record_action(self.engine, call_sid, command.value.lower(), state.outcome, target=target,
                            session_id=session_id, command_id=command_id,
                            detail=state.detail or (state.result or ""), duration_ms=timer.ms)
        return state

    def _post(self, command: Command, command_id: str, call_sid, evse: Evse, session_id, connector_id) -> CommandState:
        if not self.public_url:
            return CommandState(Outcome.DOWN, command=command.value,
                                detail="no public URL for the CommandResult (IVR_PUBLIC_URL)")
        response_url = self.response_url(command.value, command_id)
        if command is Command.STOP_SESSION:
            body = {"response_url": response_url, "session_id": session_id}
        else:
            body = {"response_url": response_url, "location_id": evse.location_id, "evse_uid": evse.uid,
                    "connector_id": connector_id}
        try:
            # Written before it is sent: a CommandResult may arrive before our POST returns.
            store.add_command(self.engine, id=command_id, call_sid=call_sid, command=command.value,
                              location_id=evse.location_id, evse_uid=evse.uid, connector_id=connector_id,
                              session_id=session_id)
        except Exception as exc:
            return CommandState(Outcome.DOWN, command=command.value,
                                detail=f"the command could not be recorded ({type(exc).__name__}); not sent")
        budget = self.budget()
        try:
            answer = self.client().command(self.module("commands", budget), command.value, body, budget)
        except OcpiError as exc:
            store.command_answered(self.engine, command_id, exc.outcome.value.upper(), None, None)
            return CommandState(exc.outcome, command_id, command.value, detail=exc.detail)
        result = str(answer.get("result"))[:32]
        timeout = answer.get("timeout")
        timeout = int(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else MAX_COMMAND_WAIT
        wait = min(timeout, MAX_COMMAND_WAIT)
        deadline = time.time() + wait if result == "ACCEPTED" else None
        store.command_answered(self.engine, command_id, result, timeout, deadline)
        return self._state(store.command_row(self.engine, command_id)) or CommandState(
            Outcome.DOWN, command_id, command.value, detail="the command's record is gone")

    def command(self, command_id: str) -> CommandState:
        try:
            row = store.command_row(self.engine, command_id)
        except Exception as exc:
            return CommandState(Outcome.DOWN, command_id, detail=f"the database cannot be read ({type(exc).__name__})")
        return self._state(row) or CommandState(Outcome.UNKNOWN, command_id, detail="no such command")

    @staticmethod
    def _state(row: dict | None) -> CommandState | None:
        return command_state(row)


# CommandResponse (synchronous) and CommandResult (asynchronous) words, as Outcomes.
RESPONSE_OUTCOMES = {"ACCEPTED": Outcome.PENDING, "REJECTED": Outcome.REJECTED,
                     "NOT_SUPPORTED": Outcome.REJECTED, "UNKNOWN_SESSION": Outcome.UNKNOWN}
RESULT_OUTCOMES = {"ACCEPTED": Outcome.OK, "TIMEOUT": Outcome.TIMEOUT}   # every other word: REJECTED


def command_state(row: dict | None) -> CommandState | None:
    """What a command's row means now (pure but for the clock)."""
    if row is None:
        return None
    common = {"command_id": row["id"], "command": row["command"], "deadline": row["deadline"]}
    if row["result"]:
        outcome = RESULT_OUTCOMES.get(row["result"], Outcome.REJECTED)
        return CommandState(outcome, result=row["result"], detail=row["result_message"] or "", **common)
    response = row["response"]
    if response is None:
        return CommandState(Outcome.PENDING, result=None, detail="sending", **common)
    if response != "ACCEPTED":
        outcome = RESPONSE_OUTCOMES.get(response) or _outcome_named(response)
        return CommandState(outcome, result=response, **common)
    if row["deadline"] is not None and time.time() >= row["deadline"]:
        return CommandState(Outcome.TIMEOUT, result="ACCEPTED", detail="no CommandResult in time", **common)
    return CommandState(Outcome.PENDING, result="ACCEPTED", **common)


def _outcome_named(word: str) -> Outcome:
    try:
        return Outcome(word.lower())
    except ValueError:
        return Outcome.REJECTED


# -- building the back end ------------------------------------------------------------

def _timeout(env: Mapping[str, str]) -> float:
    raw = (env.get("IVR_STATION_TIMEOUT") or "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"IVR_STATION_TIMEOUT={raw!r} is not a number of seconds") from None
    if not 1 <= value <= MAX_TIMEOUT:
        raise ConfigError(f"IVR_STATION_TIMEOUT must be 1 to {MAX_TIMEOUT:g} s (Twilio waits 15 s for a webhook)")
    return value


def from_env(env: Mapping[str, str], engine: Engine) -> StationBackend:
    """IVR_STATION_BACKEND: `none` (the default without IVR_OCPI_VERSIONS_URL), `ocpi`
    (the default with it), or `package.module:Class` for an operator's own CSMS API
    (built as Class(env, engine))."""
    versions_url = (env.get("IVR_OCPI_VERSIONS_URL") or "").strip()
    kind = (env.get("IVR_STATION_BACKEND") or ("ocpi" if versions_url else "none")).strip()
    if kind == "none":
        return NoBackend()
    if kind == "ocpi":
        if not versions_url:
            raise ConfigError("IVR_STATION_BACKEND=ocpi needs IVR_OCPI_VERSIONS_URL (the CPO's versions endpoint)")
        return OcpiBackend(engine, versions_url, (env.get("IVR_OCPI_TOKEN") or "").strip() or None,
                           public_url=(env.get("IVR_OCPI_PUBLIC_URL") or env.get("IVR_PUBLIC_URL") or "").strip(),
                           timeout=_timeout(env),
                           session_hours=float(env.get("IVR_OCPI_SESSION_HOURS") or 24))
    if ":" in kind:
        import importlib
        module_name, _, class_name = kind.partition(":")
        try:
            backend = getattr(importlib.import_module(module_name), class_name)(env, engine)
        except (ImportError, AttributeError, TypeError) as exc:
            raise ConfigError(f"IVR_STATION_BACKEND={kind!r} cannot be loaded ({exc})") from None
        if not isinstance(backend, StationBackend):
            raise ConfigError(f"IVR_STATION_BACKEND={kind!r} lacks the StationBackend methods")
        return backend
    raise ConfigError(f"IVR_STATION_BACKEND={kind!r}: expected none, ocpi, or package.module:Class")

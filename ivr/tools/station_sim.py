"""A simulated charging station behind a simulated operator back end (an OCPI 2.2.1
CPO), for trying the station in the loop without a CPO: `ivr stations simulate`, or
`ivr call --station-sim SCENARIO`.

Scenarios (one site, `SIM1`; labels on the chargers in brackets):

- `running` [S100]: a CCS session is running; STOP_SESSION is accepted and the
  station reports it stopped after `stop_delay` seconds (the RemoteStopTransaction
  -> StopTransaction of OCPP, as a real station does it).
- `wont-stop` [S200]: a CCS session is running; the station refuses to stop it
  (OCPP RemoteStopTransaction Rejected -> CommandResult REJECTED).
- `chademo-locked` [S300]: a CHAdeMO handle whose lock the station still holds, no
  session; UNLOCK_CONNECTOR frees it (OCPP UnlockConnector -> Unlocked).
- `all`: the three chargers at one site, so the line asks which one.
- `down`: the back end answers nothing useful (HTTP 503), so the line asks the caller.

It speaks the spec's shapes (envelopes, `Token <base64>` authorization, paginated
lists, a single CommandResponse, the CommandResult POSTed to the `response_url`)
with the line's token. Not for production: one process, state in memory.
"""
from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import requests
from flask import Flask, request
from werkzeug.serving import make_server

from ivr.ocpi.envelope import envelope

SCENARIOS = ("running", "wont-stop", "chademo-locked", "all", "down")
CPO_TOKEN = "simulated-cpo-token"        # what the line calls the simulated CPO with
LINE_TOKEN = "simulated-line-token"      # what the simulated CPO calls the line with
LOCATION = "SIM1"
PAGE = 10


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _connector(cid: str, standard: str, power: str = "DC") -> dict:
    return {"id": cid, "standard": standard, "format": "CABLE", "power_type": power, "max_voltage": 500,
            "max_amperage": 125, "last_updated": _iso(datetime.now(timezone.utc))}


# label -> (evse uid, connector standard, running session id or None, the command's answer)
CHARGERS = {
    "running": ("S100", "EVSE-RUN", "IEC_62196_T1_COMBO", "SIM-SESSION-RUN", "ACCEPTED"),
    "wont-stop": ("S200", "EVSE-STUCK", "IEC_62196_T1_COMBO", "SIM-SESSION-STUCK", "REJECTED"),
    "chademo-locked": ("S300", "EVSE-CHADEMO", "CHADEMO", None, "ACCEPTED"),
}


@dataclass
class Simulation:
    """The simulated CPO's state: its chargers, sessions, and what it was asked."""

    scenario: str
    stop_delay: float = 2.0
    unlock_delay: float = 1.0
    evses: list[dict] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)   # evse uid -> result of its command
    commands: list[dict] = field(default_factory=list)
    posted: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"scenario {self.scenario!r}: expected one of {', '.join(SCENARIOS)}")
        now = datetime.now(timezone.utc)
        chosen = CHARGERS if self.scenario in ("all", "down") else {self.scenario: CHARGERS[self.scenario]}
        for label, uid, standard, session_id, outcome in chosen.values():
            self.evses.append({"uid": uid, "evse_id": f"US*SIM*{label}", "physical_reference": label,
                               "status": "CHARGING" if session_id else "BLOCKED",
                               "connectors": [_connector("1", standard)], "last_updated": _iso(now)})
            self.outcomes[uid] = outcome
            if session_id:
                self.sessions.append({
                    "country_code": "US", "party_id": "SIM", "id": session_id,
                    "start_date_time": _iso(now - timedelta(minutes=40)), "kwh": 21.5,
                    "cdr_token": {"country_code": "US", "party_id": "IVR", "uid": "SIMTOKEN", "type": "APP_USER",
                                  "contract_id": "US-IVR-C00000001-X"},
                    "auth_method": "COMMAND", "location_id": LOCATION, "evse_uid": uid, "connector_id": "1",
                    "currency": "USD", "status": "ACTIVE", "last_updated": _iso(now)})

    def location(self) -> dict:
        return {"country_code": "US", "party_id": "SIM", "id": LOCATION, "publish": True, "name": "Simulated site",
                "address": "1 Test Way", "city": "Springfield", "country": "USA",
                "coordinates": {"latitude": "37.7749", "longitude": "-122.4194"},
                "time_zone": "America/Los_Angeles", "evses": self.evses,
                "last_updated": max(e["last_updated"] for e in self.evses)}


def make_app(sim: Simulation, line_token: str = LINE_TOKEN, cpo_token: str = CPO_TOKEN) -> Flask:
    """The simulated CPO as a Flask app (served by `serve`)."""
    app = Flask("ivr-station-sim")
    lock = threading.Lock()

    @app.before_request
    def authenticate():
        if sim.scenario == "down":
            return envelope(code=3000, message="Simulated outage", http=503)
        header = request.headers.get("Authorization", "")
        try:
            token = base64.b64decode(header.removeprefix("Token ").strip()).decode()
        except ValueError:
            token = ""
        if token != cpo_token:
            return envelope(code=2000, message="Unknown token", http=401)
        return None

    def base() -> str:
        return request.host_url.rstrip("/")

    @app.get("/ocpi/versions")
    def versions():
        return envelope([{"version": "2.2.1", "url": f"{base()}/ocpi/2.2.1"}])

    @app.get("/ocpi/2.2.1")
    def details():
        root = f"{base()}/ocpi/2.2.1"
        return envelope({"version": "2.2.1", "endpoints": [
            {"identifier": name, "role": "SENDER" if name != "commands" else "RECEIVER", "url": f"{root}/{name}"}
            for name in ("credentials", "locations", "sessions", "commands")]})

    def paged(items: list[dict], path: str):
        offset = int(request.args.get("offset", 0))
        limit = min(int(request.args.get("limit", PAGE)), PAGE)
        page = items[offset:offset + limit]
        headers = {"X-Total-Count": str(len(items)), "X-Limit": str(PAGE)}
        if offset + limit < len(items):
            headers["Link"] = f'<{base()}{path}?offset={offset + limit}&limit={limit}>; rel="next"'
        return envelope(page, headers=headers)

    @app.get("/ocpi/2.2.1/locations")
    def locations():
        with lock:
            return paged([sim.location()], "/ocpi/2.2.1/locations")

    @app.get("/ocpi/2.2.1/locations/<lid>/<uid>")
    def one_evse(lid: str, uid: str):
        with lock:
            found = next((e for e in sim.evses if lid == LOCATION and e["uid"] == uid), None)
        if found is None:
            return envelope(code=2003, message="Unknown location", http=404)
        return envelope(found)

    @app.get("/ocpi/2.2.1/sessions")
    def sessions():
        with lock:
            return paged(sorted(sim.sessions, key=lambda s: s["last_updated"]), "/ocpi/2.2.1/sessions")

    @app.post("/ocpi/2.2.1/commands/<command>")
    def commands(command: str):
        body = request.get_json(silent=True) or {}
        if command not in ("STOP_SESSION", "UNLOCK_CONNECTOR") or not body.get("response_url"):
            return envelope(code=2001, message="Unknown command or no response_url", http=400)
        with lock:
            sim.commands.append({"command": command, "body": body, "at": time.time()})
            if command == "STOP_SESSION":
                session = next((s for s in sim.sessions if s["id"] == body.get("session_id")), None)
                if session is None or session["status"] != "ACTIVE":
                    return envelope({"result": "UNKNOWN_SESSION", "timeout": 0})
                uid = session["evse_uid"]
            else:
                uid = str(body.get("evse_uid"))
                if uid not in sim.outcomes:
                    return envelope({"result": "REJECTED", "timeout": 0})
        threading.Thread(target=finish, args=(command, uid, body), daemon=True).start()
        return envelope({"result": "ACCEPTED", "timeout": 20})

    def finish(command: str, uid: str, body: dict) -> None:
        """What the station does, with a station's timing; then the CommandResult."""
        time.sleep(sim.stop_delay if command == "STOP_SESSION" else sim.unlock_delay)
        result = sim.outcomes.get(uid, "FAILED")
        now = _iso(datetime.now(timezone.utc))
        with lock:
            if result == "ACCEPTED":
                for evse in sim.evses:
                    if evse["uid"] == uid:
                        evse["status"], evse["last_updated"] = "AVAILABLE", now
                for session in sim.sessions:
                    if session["evse_uid"] == uid and session["status"] == "ACTIVE":
                        session.update(status="COMPLETED", end_date_time=now, last_updated=now)
        auth = {"Authorization": "Token " + base64.b64encode(line_token.encode()).decode()}
        try:
            answer = requests.post(body["response_url"], json={"result": result}, headers=auth, timeout=5)
            sim.posted.append({"command": command, "result": result, "status": answer.status_code, "at": time.time()})
        except requests.RequestException as exc:
            sim.posted.append({"command": command, "result": result, "status": None, "error": type(exc).__name__})

    return app


class Server:
    """A WSGI app served on 127.0.0.1 from a thread (port 0: any free one)."""

    def __init__(self, app, port: int = 0, host: str = "127.0.0.1"):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)   # no request lines in a terminal call
        self.server = make_server(host, port, app, threaded=True)
        self.url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


def line_env(cpo_url: str, line_url: str) -> dict[str, str]:
    """What points the line's OcpiBackend at the simulated CPO, and where the CPO posts
    CommandResults back (IVR_OCPI_PUBLIC_URL: not IVR_PUBLIC_URL, which Twilio signs)."""
    return {"IVR_STATION_BACKEND": "ocpi", "IVR_OCPI_VERSIONS_URL": f"{cpo_url}/ocpi/versions",
            "IVR_OCPI_TOKEN": CPO_TOKEN, "IVR_OCPI_INBOUND_TOKEN": LINE_TOKEN, "IVR_OCPI_PUBLIC_URL": line_url}


def station_label(scenario: str) -> str:
    """The station the simulated call's number names: the charger, or the whole site."""
    return CHARGERS[scenario][0] if scenario in CHARGERS else LOCATION


class Attached:
    """A simulated CPO beside an app in this process (`ivr call --station-sim`): the app
    is served over HTTP too, so the CPO can post its CommandResults to it."""

    def __init__(self, scenario: str, stop_delay: float = 2.0):
        self.sim = Simulation(scenario, stop_delay=stop_delay)
        self.cpo = Server(make_app(self.sim))
        self._app = None
        self.line = Server(self._serve)
        self.env = line_env(self.cpo.url, self.line.url)
        self.station = station_label(scenario)

    def _serve(self, environ, start_response):
        if self._app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"not ready"]
        return self._app(environ, start_response)

    def serve(self, app) -> int:
        """Serve `app` for the CPO's CommandResults and fill its EVSE index; how many EVSEs
        (0 when the scenario's back end is down: the line then asks the caller)."""
        self._app = app
        backend = app.extensions.get("ivr.station")
        try:
            return backend.sync(full=True) if hasattr(backend, "sync") else 0
        except Exception:   # `down`: the OcpiError is the point of the scenario
            return 0

    def stop(self) -> None:
        self.line.stop()
        self.cpo.stop()

"""A test CPO: an OCPI 2.2.1 peer that runs as its own process, for tests/test_ocpi_*.py.

    python tests/ocpi_cpo.py [--token TOKEN_C] [--token-a TOKEN_A]

prints `port N` once it listens on 127.0.0.1. It speaks the spec's shapes:
every answer in the envelope {data, status_code, status_message, timestamp};
`Authorization: Token <base64>` required (401 otherwise); X-Request-ID and
X-Correlation-ID echoed; Versions and version details; Locations and Sessions
paginated (`offset`, `limit`, `Link: <...>; rel="next"`, `X-Total-Count`,
`X-Limit`) and filtered by `date_from`/`date_to` on last_updated; sessions of
another party (an eMSP `OTHER`) never shown to us; Commands answered with a
single CommandResponse object and, when ACCEPTED, a CommandResult POSTed to
the `response_url` later, with the token the line gave this CPO.

Every request body the line sends is checked against the spec's objects; one
that is not answers 2001 and is listed at GET /_control/violations.

Why not `extrawest-ocpi`: it is a FastAPI framework that pins pydantic 1.10,
fastapi 0.101 and httpx 0.24 (a virtual environment of its own), answers a
command with `data` as a list where the spec has one object, and its command
router decides itself when to post the CommandResult; the faults these tests
need (a CPO that stalls, a result that never comes or comes twice, a result
posted with a stale token, a token refused) are a few lines here.

The test drives it through `/_control` (not OCPI): what the next commands answer,
how long the CommandResult takes, how many times it is posted.
"""
from __future__ import annotations

import argparse
import base64
import copy
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone

import requests
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

PAGE_LIMIT = 2           # small pages, so every list is paged
US = {"country_code": "US", "party_id": "IVR"}   # the party the line registers as
OTHER = {"country_code": "US", "party_id": "OTH"}


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


NOW = datetime.now(timezone.utc).replace(microsecond=0)
OLD = NOW - timedelta(days=30)


def connector(cid, standard, fmt, power="DC"):
    return {"id": cid, "standard": standard, "format": fmt, "power_type": power,
            "max_voltage": 500, "max_amperage": 125, "last_updated": iso(OLD)}


def evse(uid, evse_id, ref, status, connectors):
    e = {"uid": uid, "status": status, "connectors": connectors, "last_updated": iso(OLD)}
    if evse_id:
        e["evse_id"] = evse_id
    if ref:
        e["physical_reference"] = ref
    return e


def location(lid, evses):
    return {"country_code": "US", "party_id": "CPO", "id": lid, "publish": True, "name": f"Site {lid}",
            "address": "1 Main St", "city": "Springfield", "country": "USA",
            "coordinates": {"latitude": "37.7749", "longitude": "-122.4194"},
            "time_zone": "America/Los_Angeles", "evses": evses, "last_updated": iso(OLD)}


def initial_locations():
    return [
        location("LOC1", [
            evse("EVSE-1", "US*CPO*E12345", "E12345", "CHARGING",
                 [connector("1", "IEC_62196_T1_COMBO", "CABLE"), connector("2", "CHADEMO", "CABLE")]),
            evse("EVSE-2", "US*CPO*E12346", "E12346", "AVAILABLE", [connector("1", "IEC_62196_T1_COMBO", "CABLE")]),
        ]),
        location("LOC2", [
            evse("EVSE-3", "US*CPO*E22222", "EA 222", "CHARGING", [connector("1", "CHADEMO", "CABLE")]),
        ]),
        location("LOC3", [evse("EVSE-4", "US*CPO*E33333", None, "AVAILABLE",
                               [connector("1", "IEC_62196_T2", "SOCKET", "AC_3_PHASE")])]),
        location("LOC4", [evse("EVSE-5", "US*CPO*E44444", "E44444", "CHARGING",
                               [connector("1", "IEC_62196_T1_COMBO", "CABLE")])]),
        location("LOC5", [evse("EVSE-6", "US*CPO*E55555", "E55555", "AVAILABLE",
                               [connector("1", "IEC_62196_T1_COMBO", "CABLE")])]),
    ]


def session(sid, party, lid, uid, cid, status, updated):
    return {**party, "id": sid, "start_date_time": iso(NOW - timedelta(hours=1)), "kwh": 12.5,
            "cdr_token": {**party, "uid": "TOKEN1", "type": "APP_USER", "contract_id": "US-IVR-C12345678-X"},
            "auth_method": "COMMAND", "location_id": lid, "evse_uid": uid, "connector_id": cid,
            "currency": "USD", "status": status, "last_updated": iso(updated)}


def initial_sessions():
    sessions = [session(f"OLD-{i}", US, "LOC5", "EVSE-6", "1", "COMPLETED", NOW - timedelta(minutes=50 - i))
                for i in range(5)]                       # completed ones first: the active one is on a later page
    sessions.append(session("SES-1", US, "LOC1", "EVSE-1", "1", "ACTIVE", NOW - timedelta(minutes=1)))
    sessions.append(session("SES-OTHER", OTHER, "LOC4", "EVSE-5", "1", "ACTIVE", NOW))   # another party's
    sessions.append(session("SES-3", US, "LOC2", "EVSE-3", "1", "ACTIVE", NOW))
    sessions.append(session("SES-ANCIENT", US, "LOC1", "EVSE-2", "1", "ACTIVE", NOW - timedelta(days=5)))
    return sessions


# -- the spec's shapes, for what the line sends ------------------------------------------

def check_shape(kind: str, body) -> str | None:
    """None, or what is wrong with `body` as the spec's object `kind`."""
    def is_url(value):
        return isinstance(value, str) and value.startswith(("http://", "https://")) and len(value) <= 255

    def cistring(value, n):
        return isinstance(value, str) and 0 < len(value) <= n

    if not isinstance(body, dict):
        return f"{kind}: not an object"
    if kind == "StopSession":
        required = {"response_url": is_url, "session_id": lambda v: cistring(v, 36)}
    elif kind == "UnlockConnector":
        required = {"response_url": is_url, "location_id": lambda v: cistring(v, 36),
                    "evse_uid": lambda v: cistring(v, 36), "connector_id": lambda v: cistring(v, 36)}
    elif kind == "Credentials":
        required = {"token": lambda v: isinstance(v, str) and 0 < len(v) <= 64 and v.isascii(), "url": is_url,
                    "roles": lambda v: isinstance(v, list) and v and all(
                        isinstance(r, dict) and r.get("role") in {"CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP"}
                        and cistring(r.get("party_id"), 3) and cistring(r.get("country_code"), 2)
                        and isinstance(r.get("business_details"), dict) for r in v)}
    else:
        return f"unknown kind {kind}"
    for name, valid in required.items():
        if name not in body or not valid(body[name]):
            return f"{kind}.{name} missing or malformed"
    extra = set(body) - set(required)
    if extra:
        return f"{kind}: fields the spec does not have: {sorted(extra)}"
    return None


def make_app(token_c: str | None, token_a: str | None, line_token: str | None = None,
             ocpp: bool = False) -> Flask:
    app = Flask(__name__)
    lock = threading.Lock()
    state = {
        "tokens": {t for t in (token_c,) if t}, "token_a": token_a,
        "locations": initial_locations(), "sessions": initial_sessions(),
        "line_token": None, "line_versions": None,     # what the line gave us when it registered
        "line_token_oob": line_token,                  # or the line's token, agreed out of band
        "command": {"response": "ACCEPTED", "timeout": 5, "result": "ACCEPTED", "delay": 0.3, "posts": 1,
                    "stall": 0.0, "result_token": None},
        "commands": [], "posted": [], "violations": [], "seen": [],
    }

    def envelope(data=None, code=1000, message="Success", http=200, headers=None):
        body = {"status_code": code, "status_message": message, "timestamp": iso(datetime.now(timezone.utc))}
        if data is not None:
            body["data"] = data
        response = jsonify(body)
        response.status_code = http
        response.headers["X-Request-ID"] = request.headers.get("X-Request-ID", "")
        response.headers["X-Correlation-ID"] = request.headers.get("X-Correlation-ID", "")
        for k, v in (headers or {}).items():
            response.headers[k] = v
        return response

    def presented():
        header = request.headers.get("Authorization", "")
        if not header.startswith("Token "):
            return None
        try:
            return base64.b64decode(header[6:], validate=True).decode()
        except ValueError:
            return None

    @app.before_request
    def authenticate():
        if request.path.startswith("/_control"):
            return None
        state["seen"].append({"path": request.path, "method": request.method,
                              "authorization": request.headers.get("Authorization"),
                              "request_id": request.headers.get("X-Request-ID"),
                              "correlation_id": request.headers.get("X-Correlation-ID"),
                              "query": request.query_string.decode()})
        for name in ("X-Request-ID", "X-Correlation-ID"):
            if not request.headers.get(name):
                state["violations"].append(f"{request.method} {request.path}: no {name}")
        token = presented()
        allowed = set(state["tokens"])
        if request.path.startswith(("/ocpi/versions", "/ocpi/2.2.1/credentials")) or request.path == "/ocpi/2.2.1":
            allowed |= {state["token_a"]} if state["token_a"] else set()
        if token is None or token not in allowed:
            return envelope(code=2000, message="Unauthorized", http=401)
        return None

    base = lambda: request.host_url.rstrip("/")  # noqa: E731

    @app.get("/ocpi/versions")
    def versions():
        return envelope([{"version": "2.1.1", "url": f"{base()}/ocpi/2.1.1"},
                         {"version": "2.2.1", "url": f"{base()}/ocpi/2.2.1"}])

    @app.get("/ocpi/2.2.1")
    def details():
        endpoints = [{"identifier": "credentials", "role": "RECEIVER", "url": f"{base()}/ocpi/2.2.1/credentials"},
                     {"identifier": "locations", "role": "SENDER", "url": f"{base()}/ocpi/2.2.1/locations"},
                     {"identifier": "sessions", "role": "SENDER", "url": f"{base()}/ocpi/2.2.1/sessions"},
                     {"identifier": "commands", "role": "RECEIVER", "url": f"{base()}/ocpi/2.2.1/commands"}]
        hidden = state.get("hide_module")
        return envelope({"version": "2.2.1", "endpoints": [e for e in endpoints if e["identifier"] != hidden]})

    def paged(items, path):
        try:
            offset = int(request.args.get("offset", 0))
            limit = min(int(request.args.get("limit", PAGE_LIMIT)), PAGE_LIMIT)
        except ValueError:
            return envelope(code=2001, message="Bad offset or limit", http=400)
        date_from, date_to = request.args.get("date_from"), request.args.get("date_to")
        try:
            if date_from:
                items = [i for i in items if parse(i["last_updated"]) >= parse(date_from)]
            if date_to:
                items = [i for i in items if parse(i["last_updated"]) < parse(date_to)]
        except ValueError:
            return envelope(code=2001, message="Bad date", http=400)
        page = items[offset:offset + limit]
        headers = {"X-Total-Count": str(len(items)), "X-Limit": str(PAGE_LIMIT)}
        if offset + limit < len(items):
            query = f"offset={offset + limit}&limit={limit}"
            if date_from:
                query += f"&date_from={date_from}"
            if date_to:
                query += f"&date_to={date_to}"
            headers["Link"] = f'<{base()}{path}?{query}>; rel="next"'
        return envelope(page, headers=headers)

    @app.get("/ocpi/2.2.1/locations")
    def locations():
        with lock:
            items = copy.deepcopy(state["locations"])
        return paged(items, "/ocpi/2.2.1/locations")

    @app.get("/ocpi/2.2.1/locations/<lid>/<uid>")
    def one_evse(lid, uid):
        stall = state.get("stall_reads", 0.0)
        if stall:
            time.sleep(stall)
        for loc in state["locations"]:
            if loc["id"] == lid:
                for e in loc["evses"]:
                    if e["uid"] == uid:
                        return envelope(e)
        return envelope(code=2003, message="Unknown location", http=404)

    @app.get("/ocpi/2.2.1/sessions")
    def sessions():
        with lock:
            mine = [s for s in state["sessions"] if (s["country_code"], s["party_id"]) == ("US", "IVR")]
        mine.sort(key=lambda s: s["last_updated"])
        return paged(mine, "/ocpi/2.2.1/sessions")

    @app.post("/ocpi/2.2.1/commands/<command>")
    def commands(command):
        kinds = {"STOP_SESSION": "StopSession", "UNLOCK_CONNECTOR": "UnlockConnector"}
        if command not in kinds:
            return envelope(code=2001, message="Unknown command", http=404)
        body = request.get_json(silent=True)
        problem = check_shape(kinds[command], body)
        if problem:
            state["violations"].append(problem)
            return envelope(code=2001, message=problem, http=400)
        scenario = dict(state["command"])
        state["commands"].append({"command": command, "body": body, "at": time.time()})
        if scenario["stall"]:
            time.sleep(scenario["stall"])
        response = {"result": scenario["response"], "timeout": scenario["timeout"]}
        if scenario["response"] == "ACCEPTED":
            target = through_charger if site is not None else post_results
            threading.Thread(target=target, args=(body["response_url"], scenario, command, body),
                             daemon=True).start()
        return envelope(response)

    # -- with --ocpp: the charger behind the CPO decides, over OCPP 1.6J --------------------

    site = None
    stopping: dict = {}        # transaction id -> (response_url, scenario, body), until StopTransaction

    def transaction_of(session_id: str) -> int:
        return 1000 + sum(ord(ch) for ch in session_id)

    def through_charger(url, scenario, command, body):
        try:
            if command == "STOP_SESSION":
                tx = transaction_of(body["session_id"])
                stopping[tx] = (url, scenario, body)
                if site.remote_stop(tx) != "Accepted":
                    stopping.pop(tx, None)
                    post_results(url, {**scenario, "delay": 0, "result": "REJECTED"}, command, body)
                return             # the CommandResult goes when StopTransaction comes
            status = site.unlock(int(body["connector_id"]))
            post_results(url, {**scenario, "delay": 0, "result": UNLOCK_RESULTS[status]}, command, body)
        except Exception:          # the charger never answered: the CPO says so
            post_results(url, {**scenario, "delay": 0, "result": "TIMEOUT"}, command, body)

    def stopped(transaction_id: int) -> None:
        waiting = stopping.pop(transaction_id, None)
        if waiting:
            url, scenario, body = waiting
            post_results(url, {**scenario, "delay": 0, "result": "ACCEPTED"}, "STOP_SESSION", body)

    if ocpp:
        from ocpp_charger import UNLOCK_RESULTS, OcppSite
        site = OcppSite(stopped)

    def post_results(url, scenario, command, body):
        time.sleep(scenario["delay"])
        if command == "STOP_SESSION" and scenario["result"] == "ACCEPTED":
            with lock:
                for s in state["sessions"]:
                    if s["id"] == body["session_id"]:
                        s["status"], s["last_updated"] = "COMPLETED", iso(datetime.now(timezone.utc))
        token = scenario["result_token"] or state["line_token"] or state.get("line_token_oob")
        for _ in range(scenario["posts"]):
            headers = {"X-Request-ID": secrets.token_hex(8), "X-Correlation-ID": secrets.token_hex(8)}
            if token:
                headers["Authorization"] = "Token " + base64.b64encode(token.encode()).decode()
            try:
                answer = requests.post(url, json={"result": scenario["result"]}, headers=headers, timeout=5)
                state["posted"].append({"url": url, "status": answer.status_code, "at": time.time()})
            except requests.RequestException as exc:
                state["posted"].append({"url": url, "status": None, "error": type(exc).__name__})

    @app.post("/ocpi/2.2.1/credentials")
    def credentials():
        token = presented()
        if token != state["token_a"]:
            return envelope(code=2000, message="Registration needs TOKEN_A", http=405 if token else 401)
        body = request.get_json(silent=True)
        problem = check_shape("Credentials", body)
        if problem:
            state["violations"].append(problem)
            return envelope(code=2001, message=problem, http=400)
        # The spec: fetch the client's versions and details with TOKEN_B before answering.
        auth = {"Authorization": "Token " + base64.b64encode(body["token"].encode()).decode()}
        try:
            versions = requests.get(body["url"], headers=auth, timeout=5).json()["data"]
            url = next(v["url"] for v in versions if v["version"] == "2.2.1")
            details = requests.get(url, headers=auth, timeout=5).json()
            endpoints = details["data"]["endpoints"]
        except (requests.RequestException, KeyError, StopIteration, ValueError, TypeError):
            return envelope(code=3001, message="Cannot read the client's versions", http=200)
        if details.get("status_code") != 1000 or "timestamp" not in details or details["data"].get("version") != "2.2.1":
            state["violations"].append("the line's version details: not a 2.2.1 envelope")
        for endpoint in endpoints:
            if set(endpoint) != {"identifier", "role", "url"} or endpoint["role"] not in ("SENDER", "RECEIVER"):
                state["violations"].append(f"the line's endpoint {endpoint}: not an Endpoint object")
        token_c = secrets.token_urlsafe(24)
        with lock:
            state["tokens"].add(token_c)
            state["token_a"] = None                       # TOKEN_A may no longer be used
            state["line_token"], state["line_versions"] = body["token"], body["url"]
            state["line_endpoints"] = endpoints
        return envelope({"token": token_c, "url": f"{base()}/ocpi/versions",
                         "roles": [{"role": "CPO", "party_id": "CPO", "country_code": "US",
                                    "business_details": {"name": "Test CPO"}}]})

    # -- the test's controls ---------------------------------------------------------

    @app.post("/_control")
    def control():
        changes = request.get_json()
        with lock:
            for key, value in changes.items():
                if key == "command":
                    state["command"].update(value)
                elif key == "charger":
                    site.behaviour.update(value)
                elif key == "tokens":
                    state["tokens"] = set(value)
                else:
                    state[key] = value
        return jsonify(ok=True)

    @app.post("/_control/evse")
    def add_evse():
        """A new EVSE at a new location, updated now (for the refresh on a miss)."""
        spec = request.get_json()
        now = iso(datetime.now(timezone.utc))
        loc = location(spec["location_id"], [evse(spec["uid"], spec.get("evse_id"), spec.get("physical_reference"),
                                                  spec.get("status", "AVAILABLE"),
                                                  [connector("1", spec.get("standard", "CHADEMO"), "CABLE")])])
        loc["last_updated"] = now
        loc["evses"][0]["last_updated"] = now
        with lock:
            state["locations"].append(loc)
        return jsonify(ok=True)

    @app.get("/_control/ocpp")
    def ocpp_log():
        return jsonify([list(entry) for entry in site.log] if site else [])

    @app.get("/_control/<name>")
    def read(name):
        value = state.get(name)
        return jsonify(sorted(value) if isinstance(value, set) else value)

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--token", help="a token agreed out of band (as TOKEN_C)")
    parser.add_argument("--token-a", help="TOKEN_A for the credentials handshake")
    parser.add_argument("--line-token", help="the token the line accepts, agreed out of band")
    parser.add_argument("--ocpp", action="store_true", help="a charge point behind the CPO, over OCPP 1.6J")
    args = parser.parse_args()
    app = make_app(args.token, args.token_a, args.line_token, args.ocpp)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"port {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

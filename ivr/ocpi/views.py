"""The line's own OCPI 2.2.1 endpoints, for the CPO to call.

- `GET /ocpi/versions`, `GET /ocpi/2.2.1`: what we speak and where (the CPO reads
  them during the credentials handshake, with the token we gave it).
- `/ocpi/2.2.1/credentials`: GET our credentials; PUT (or POST) the CPO's new ones
  (a token update), answered with a new token for it; DELETE unregisters.
- `POST /ocpi/2.2.1/commands/<COMMAND>/<id>`: the CommandResult at the
  `response_url` of one command. The id is 192 random bits, and the CPO must
  also send the token we gave it; an unknown id is 404, a wrong token 401 (as
  OCPI's transport says), a repeated result 200 and kept as first received.

Not under Twilio's signature guard: the CPO is not Twilio. Each request's
X-Request-ID and X-Correlation-ID are echoed.
"""
from __future__ import annotations

import hmac
import logging
import secrets
import time
from datetime import datetime, timezone

from flask import Blueprint, current_app, request

from . import store
from .backend import Evse
from .client import token_of
from .envelope import envelope
from .service import TOKEN_B_KEY, TOKEN_C_KEY, OcpiBackend

log = logging.getLogger("ivr.ocpi")
bp = Blueprint("ocpi", __name__, url_prefix="/ocpi")

COMMANDS = {"STOP_SESSION", "UNLOCK_CONNECTOR"}
RESULTS = {"ACCEPTED", "CANCELED_RESERVATION", "EVSE_OCCUPIED", "EVSE_INOPERATIVE", "FAILED", "NOT_SUPPORTED",
           "REJECTED", "TIMEOUT", "UNKNOWN_RESERVATION"}


def _engine():
    return current_app.extensions["ivr"].recorder.engine


def _backend():
    return current_app.extensions.get("ivr.station")


def _base() -> str:
    backend = _backend()
    if isinstance(backend, OcpiBackend) and backend.public_url:
        return backend.public_url
    settings = current_app.extensions["ivr"].settings
    return (settings.public_url or request.host_url).rstrip("/")


def inbound_tokens() -> list[str]:
    """Tokens a CPO may call us with: the one `ivr ocpi register` gave it, and
    IVR_OCPI_INBOUND_TOKEN for a token agreed out of band."""
    tokens = []
    try:
        given = store.get_state(_engine(), TOKEN_B_KEY)
    except Exception:
        given = None
    if given and given.get("token"):
        tokens.append(given["token"])
    configured = current_app.config.get("IVR_OCPI_INBOUND_TOKEN")
    if configured:
        tokens.append(configured)
    return tokens


def authorized() -> bool:
    presented = token_of(request.headers.get("Authorization"))
    if not presented:
        return False
    return any(hmac.compare_digest(presented.encode(), token.encode()) for token in inbound_tokens())


def refused():
    log.warning("OCPI: refused a request to %s without a known token", request.path)
    return envelope(code=2000, message="Unknown or missing credentials token", http=401)


def our_credentials(token: str) -> dict:
    return {"token": token, "url": f"{_base()}/ocpi/versions",
            "roles": [{"role": "OTHER", "party_id": current_app.config.get("IVR_OCPI_PARTY_ID", "IVR"),
                       "country_code": current_app.config.get("IVR_OCPI_COUNTRY_CODE", "US"),
                       "business_details": {"name": "Stuck-connector phone line"}}]}


@bp.get("/versions")
def versions():
    if not authorized():
        return refused()
    return envelope([{"version": "2.2.1", "url": f"{_base()}/ocpi/2.2.1"}])


@bp.get("/2.2.1")
def version_details():
    if not authorized():
        return refused()
    base = f"{_base()}/ocpi/2.2.1"
    return envelope({"version": "2.2.1", "endpoints": [
        {"identifier": "credentials", "role": "SENDER", "url": f"{base}/credentials"},
        {"identifier": "credentials", "role": "RECEIVER", "url": f"{base}/credentials"},
        {"identifier": "commands", "role": "SENDER", "url": f"{base}/commands"},
    ]})


@bp.get("/2.2.1/credentials")
def credentials_get():
    if not authorized():
        return refused()
    return envelope(our_credentials(token_of(request.headers.get("Authorization")) or ""))


@bp.route("/2.2.1/credentials", methods=["POST", "PUT"])
def credentials_update():
    """The CPO gives us new credentials for it; we answer with a new token for us."""
    if not authorized():
        return refused()
    engine = _engine()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("token"), str) or not isinstance(body.get("url"), str):
        return envelope(code=2001, message="Expected a Credentials object", http=400)
    registered = store.get_state(engine, TOKEN_C_KEY)
    if request.method == "POST" and registered:
        return envelope(code=2000, message="Already registered: use PUT", http=405)
    if request.method == "PUT" and not registered:
        return envelope(code=2000, message="Not registered: use POST", http=405)
    store.set_state(engine, TOKEN_C_KEY, {"versions_url": body["url"], "token": body["token"][:64]})
    new_token = secrets.token_urlsafe(32)
    store.set_state(engine, TOKEN_B_KEY, {"token": new_token})
    store.drop_state(engine, "endpoints")
    return envelope(our_credentials(new_token))


@bp.delete("/2.2.1/credentials")
def credentials_delete():
    if not authorized():
        return refused()
    engine = _engine()
    if not store.get_state(engine, TOKEN_C_KEY):
        return envelope(code=2000, message="Not registered", http=405)
    store.drop_state(engine, TOKEN_C_KEY)
    store.drop_state(engine, TOKEN_B_KEY)
    return envelope()


@bp.post("/2.2.1/commands/<command>/<command_id>")
def command_result(command: str, command_id: str):
    if not authorized():
        return refused()
    engine = _engine()
    row = store.command_row(engine, command_id[:64]) if command in COMMANDS else None
    if row is None or row["command"] != command:
        log.warning("OCPI: a CommandResult for an unknown command was refused")
        return envelope(code=2000, message="Unknown command", http=404)
    body = request.get_json(silent=True)
    result = body.get("result") if isinstance(body, dict) else None
    if result not in RESULTS:
        return envelope(code=2001, message="Expected a CommandResult object", http=400)
    message = _display_text(body.get("message") if isinstance(body, dict) else None)
    stored = store.record_result(engine, row["id"], result, message)
    if stored == "stored":
        sent = row["sent_at"] if row["sent_at"].tzinfo else row["sent_at"].replace(tzinfo=timezone.utc)
        took = int((datetime.now(timezone.utc) - sent).total_seconds() * 1000)
        outcome = "ok" if result == "ACCEPTED" else ("timeout" if result == "TIMEOUT" else "rejected")
        store.record_action(engine, row["call_sid"], "result", outcome, command_id=row["id"],
                            session_id=row["session_id"], target=f"{row['location_id']}/{row['evse_uid']}",
                            detail=f"{command} {result}" + (f": {message}" if message else ""), duration_ms=took)
    else:
        log.info("OCPI: CommandResult for a command already answered; kept the first")
    return envelope()


def _display_text(value) -> str | None:
    """OCPI DisplayText is a list of {language, text}; the first text, or None."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                return item["text"][:500]
    return None


# -- the agent's unlock key ---------------------------------------------------------------
#
# The whisper offers "press 1 to take the call, or 2 to unlock connector N at LABEL
# first" (ivr/call/station_whisper.py); its Gather posts here. Twilio signs that
# request for this URL, query included, so the EVSE and connector it names are as
# the line wrote them: the app factory installs the webhooks' signature guard on
# this blueprint (ivr/app.py). OCPI: UNLOCK_CONNECTOR is for help-desk operators;
# this is one pressing a key.

agent_bp = Blueprint("station_agent", __name__, url_prefix="/station")

AGENT_WAIT_S = 6.0        # how long the agent's leg waits for the CommandResult before the bridge
POLL_S = 0.25


def agent_unlock_url(base: str, params: dict, *, location_id: str, evse_uid: str, connector_id: str,
                     call_sid: str | None, label: str | None) -> str:
    """The whisper Gather's action when the unlock is offered: the whisper's own
    params (the call's state) plus what to unlock; Twilio signs it as it is."""
    from urllib.parse import urlencode
    query = {**params, "loc": location_id, "evse": evse_uid, "conn": connector_id}
    if call_sid:
        query["call"] = call_sid
    if label:
        query["label"] = label
    return f"{base.rstrip('/')}/station/agent-unlock?{urlencode(query)}"


def _twiml(lines: list[str]):
    from twilio.twiml.voice_response import VoiceResponse
    services = current_app.extensions["ivr"]
    catalog = services.content.catalogs[services.settings.agent_language]
    response = VoiceResponse()
    for line in lines:
        response.say(line, voice=catalog.voice, language=catalog.language)
    return current_app.response_class(str(response), mimetype="text/xml")


def agent_fail_safe(exc: Exception):
    """Anything wrong on the agent's leg: bridge the call (the agent takes it as with 1)."""
    log.error("the agent's unlock key failed (%s): bridging", type(exc).__name__, exc_info=True)
    return _twiml([])


@agent_bp.post("/agent-unlock")
def agent_unlock():
    """1 takes the call; 2 sends UNLOCK_CONNECTOR for the EVSE and connector in the
    URL, tells the agent the result in one line, then bridges; anything else hangs
    up the agent's leg (as the whisper's own accept does)."""
    from twilio.twiml.voice_response import VoiceResponse

    from ivr.call.station_actions import result_of
    from ivr.call.station_whisper import agent_unlock_line

    from .service import evse_of

    digits = request.form.get("Digits", "")
    if digits == "1":
        return _twiml([])
    if digits != "2":
        hang_up = VoiceResponse()
        hang_up.hangup()
        return current_app.response_class(str(hang_up), mimetype="text/xml")
    services = current_app.extensions["ivr"]
    catalog = services.content.catalogs[services.settings.agent_language]
    location_id, evse_uid = request.args.get("loc", "")[:36], request.args.get("evse", "")[:36]
    connector_id = request.args.get("conn", "")[:36]
    call_sid = (request.args.get("call") or request.form.get("ParentCallSid") or request.form.get("CallSid") or "")[:64]
    backend = _backend()
    if backend is None or not (location_id and evse_uid and connector_id):
        return _twiml([catalog.text("station_agent_unlock_failed", why=catalog.text("station_whisper_down"))])
    engine = _engine()
    try:
        row = store.evse_row(engine, location_id, evse_uid)
    except Exception:
        row = None
    evse = evse_of(row) if row else Evse(location_id, evse_uid, None, request.args.get("label"), "UNKNOWN")
    state = backend.unlock_connector(evse, connector_id, call_sid=call_sid or None)
    store.record_action(engine, call_sid or None, "agent_key", "ok", target=f"{location_id}/{evse_uid}/{connector_id}",
                        command_id=state.command_id, detail="the agent pressed 2: unlock")
    waited_until = time.monotonic() + AGENT_WAIT_S
    while state.outcome.value == "pending" and state.command_id and time.monotonic() < waited_until:
        time.sleep(POLL_S)
        state = backend.command(state.command_id)
    return _twiml([agent_unlock_line(catalog, result_of(state))])

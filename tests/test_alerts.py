"""The operator hears about every hazard at once, and never loses an alert.

Twilio's REST API and the operator's webhook are mocked with `responses`.
"""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from helpers import fields, gather, said, twiml
from ivr.app import create_app
from ivr.outbound import alerts
from ivr.records import db

ACCOUNT = "AC" + "a" * 32
TOKEN = "1" * 32
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
HOOK = "https://ops.example.com/ivr-alerts"
ON_CALL = "+14155550177"
SECRET = "s3cret"


@pytest.fixture
def alert_env(env):
    return {**env, "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN,
            "IVR_SMS_FROM": "+18005550100", "IVR_ALERT_SMS_TO": ON_CALL,
            "IVR_ALERT_WEBHOOK_URL": HOOK, "IVR_ALERT_WEBHOOK_SECRET": SECRET}


def signed_post(client, path: str, **form):
    """A webhook as Twilio sends it: signed with the auth token for the URL."""
    data = fields(**form)
    signature = RequestValidator(TOKEN).compute_signature("http://localhost" + path, data)
    return client.post(path, data=data, headers={"X-Twilio-Signature": signature})


def smoky_call(client, sid="CA" + "5" * 32, station="EA12345"):
    """A CCS caller who reports smoke at the first release step."""
    root = twiml(signed_post(client, f"/voice?station={station}", CallSid=sid, CallStatus="ringing"))
    for answer in ({"Digits": "1"}, {"Digits": "1"}, {"SpeechResult": "there's smoke coming out", "Confidence": "0.9"}):
        g = gather(root)
        root = twiml(signed_post(client, g.get("action").split("localhost", 1)[-1], CallSid=sid, **answer))
    return root


def rows(app):
    with app.extensions["ivr"].recorder.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(db.alerts).order_by(db.alerts.c.channel)).mappings()]


@responses.activate
def test_a_hazard_alerts_the_operator_by_webhook_and_text(alert_env):
    hook = responses.post(HOOK, status=204)
    text = responses.post(MESSAGES, json={"sid": "SM" + "1" * 32, "status": "queued"}, status=201)
    app = create_app(alert_env)
    root = smoky_call(app.test_client())
    assert "9 1 1 now" in said(root)                    # the caller heard safety first
    app.extensions["ivr"].alerts.wait()

    sent = json.loads(hook.calls[0].request.body)
    assert sent["tier"] == "fire" and sent["station"] == "EA12345" and sent["connector"] == "ccs"
    assert sent["said"] == "there's smoke coming out" and sent["caller_last4"] == "0123"
    assert sent["call_sid"] == "CA" + "5" * 32 and sent["at"].endswith("+00:00")
    assert hook.calls[0].request.headers["X-IVR-Signature"] == alerts.signature(SECRET, hook.calls[0].request.body)

    body = parse_qs(text.calls[0].request.body)
    assert body["To"] == [ON_CALL]
    assert "EA12345" in body["Body"][0] and "smoke" in body["Body"][0] and "0123" in body["Body"][0]
    assert [(r["channel"], r["status"], r["attempts"]) for r in rows(app)] == [("sms", "sent", 1), ("webhook", "sent", 1)]


@responses.activate
def test_a_failed_alert_is_logged_kept_pending_and_retried(alert_env, caplog):
    responses.post(HOOK, status=503)
    responses.post(MESSAGES, json={"code": 20003, "message": "down", "status": 401}, status=401)
    app = create_app(alert_env)
    smoky_call(app.test_client())
    dispatcher = app.extensions["ivr"].alerts
    dispatcher.wait()
    for row in rows(app):
        assert row["status"] == "pending" and row["attempts"] == 1 and row["last_error"]
    assert "hazard alert by webhook failed (attempt 1 of 6): webhook HTTP 503" in caplog.text

    responses.replace(responses.POST, HOOK, status=200)
    with app.extensions["ivr"].recorder.engine.begin() as conn:     # the pause before a retry is over
        conn.execute(update(db.alerts).values(next_try_at=db.now() - timedelta(seconds=1)))
    assert dispatcher.sweep() == 1
    assert {r["channel"]: r["status"] for r in rows(app)} == {"sms": "pending", "webhook": "sent"}


@responses.activate
def test_an_alert_left_pending_by_a_crash_goes_out_after_a_restart(alert_env):
    hook = responses.post(HOOK, status=200)
    responses.post(MESSAGES, json={"sid": "SM" + "2" * 32, "status": "queued"}, status=201)
    first = create_app(alert_env)
    # The worker died after recording the alert and before sending it.
    first.extensions["ivr"].recorder.alert_pending("CA" + "6" * 32, "damage", {"tier": "damage", "call_sid": "CA" + "6" * 32},
                                                   ("webhook",))
    assert rows(first)[0]["status"] == "pending" and not hook.calls
    restarted = create_app(alert_env)
    assert signed_post(restarted.test_client(), "/voice/status", CallSid="CA" + "7" * 32,
                       CallStatus="ringing").status_code == 204
    restarted.extensions["ivr"].alerts.wait()                     # any later webhook sends it
    assert len(hook.calls) == 1 and rows(restarted)[0]["status"] == "sent"


@responses.activate
def test_a_hanging_alert_never_delays_the_caller(alert_env):
    import threading
    gate = threading.Event()

    def slow(_request):
        gate.wait(5)
        return (200, {}, "")
    responses.add_callback(responses.POST, HOOK, callback=slow)
    responses.post(MESSAGES, json={"sid": "SM" + "3" * 32, "status": "queued"}, status=201)
    app = create_app({**alert_env, "IVR_ALERT_SMS_TO": ""})
    root = smoky_call(app.test_client())                          # answered while the POST hangs
    assert "9 1 1 now" in said(root) and rows(app)[0]["status"] == "pending"
    gate.set()
    app.extensions["ivr"].alerts.wait()
    assert rows(app)[0]["status"] == "sent"


def test_the_alert_text_says_where_what_when_and_who():
    payload = alerts.Alert(call_sid="CA1", tier="damage", at=db.now(), station="EA 12345", connector="chademo",
                           said="the cable is cracked", caller_last4="9876").payload()
    text = alerts.text_of(payload)
    for part in ("DAMAGE", "EA 12345", "chademo", "the cable is cracked", "9876", "UTC"):
        assert part in text
    assert len(text) <= 320                                       # two SMS segments at most


@pytest.mark.parametrize("name, value, needs", [
    ("IVR_ALERT_WEBHOOK_URL", "http://ops.example.com/x", "https"),
    ("IVR_ALERT_SMS_TO", "555-0177", "E.164"),
])
def test_a_malformed_alert_setting_stops_start_up(env, name, value, needs):
    from ivr.config import ConfigError
    with pytest.raises(ConfigError) as info:
        create_app({**env, name: value})
    assert name in str(info.value) and needs in str(info.value)


def test_production_needs_a_support_number(signed_env):
    from ivr.config import ConfigError
    with pytest.raises(ConfigError) as info:
        create_app({**signed_env, "IVR_SUPPORT_NUMBER": ""})
    assert "IVR_SUPPORT_NUMBER" in str(info.value)


@responses.activate
def test_a_second_alert_carries_the_remote_stops_result(alert_env):
    """Issue 14: the hazard alert goes at once; the station's stop result follows as its own alert."""
    from ivr.call.station_actions import StationResult, alert_note
    hook = responses.post(HOOK, status=204)
    responses.post(MESSAGES, json={"sid": "SM" + "1" * 32, "status": "queued"}, status=201)
    app = create_app(alert_env)
    sid = "CA" + "6" * 32
    smoky_call(app.test_client(), sid=sid)
    dispatcher = app.extensions["ivr"].alerts
    dispatcher.raise_alert(alerts.Alert(call_sid=sid, tier="stop", at=db.now(), station="EA12345", connector="ccs",
                                        note=alert_note(StationResult("stop", "ok"), "EA12345")))
    dispatcher.wait()
    sent = [json.loads(c.request.body) for c in hook.calls]
    assert [s["event"] for s in sent] == ["hazard", "hazard_update"]
    assert "the station confirmed the stop" in sent[1]["note"]
    text = alerts.text_of(sent[1])
    assert text.startswith("HAZARD UPDATE") and "EA12345" in text and len(text) <= 320

"""Text messages: every REST call and every error, mocked with `responses`."""
from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import requests
import responses

from ivr.outbound import sms

ACCOUNT = "AC" + "a" * 32
TOKEN = "12345678901234567890123456789012"
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
SENDER = sms.Sender(ACCOUNT, TOKEN, "+18005550100")


def created(sid="SM" + "b" * 32) -> dict:
    return {"sid": sid, "status": "queued", "to": "+15555550123", "from": "+18005550100", "body": "x"}


def error(code: int, status: int) -> dict:
    return {"code": code, "message": "refused", "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


@responses.activate
def test_a_text_is_sent_with_to_from_and_body():
    responses.post(MESSAGES, json=created(), status=201)
    result = sms.send(SENDER, "+15555550123", "Your steps.")
    assert result.ok and result.sid == "SM" + "b" * 32
    sent = parse_qs(responses.calls[0].request.body)
    assert sent == {"To": ["+15555550123"], "From": ["+18005550100"], "Body": ["Your steps."]}
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")


@responses.activate
def test_a_messaging_service_sends_instead_of_a_number():
    responses.post(MESSAGES, json=created(), status=201)
    service = sms.Sender(ACCOUNT, TOKEN, "MG" + "c" * 32)
    assert sms.send(service, "+15555550123", "Hi").ok
    sent = parse_qs(responses.calls[0].request.body)
    assert sent["MessagingServiceSid"] == ["MG" + "c" * 32] and "From" not in sent


@responses.activate
def test_a_long_body_is_cut():
    responses.post(MESSAGES, json=created(), status=201)
    sms.send(SENDER, "+15555550123", "step. " * 300)
    assert len(parse_qs(responses.calls[0].request.body)["Body"][0]) == sms.MAX_BODY


@pytest.mark.parametrize("code, status, reason", [
    (21211, 400, "invalid_number"),   # 'To' number is not a valid phone number
    (21614, 400, "invalid_number"),   # not a mobile number
    (21610, 400, "unsubscribed"),     # the recipient replied STOP
    (20003, 401, "unavailable"),      # our credentials are wrong
    (20500, 500, "unavailable"),      # Twilio is down
])
@responses.activate
def test_rest_errors_become_a_reason(code, status, reason):
    responses.post(MESSAGES, json=error(code, status), status=status)
    result = sms.send(SENDER, "+15555550123", "Your steps.")
    assert not result.ok and result.reason == reason and result.error_code == code
    assert len(responses.calls) == 1  # no retries inside a webhook


@responses.activate
def test_a_server_error_without_a_json_body():
    responses.post(MESSAGES, body="<html>Bad gateway</html>", status=502)
    result = sms.send(SENDER, "+15555550123", "Your steps.")
    assert result.reason == "unavailable"


@pytest.mark.parametrize("failure", [requests.ConnectionError("down"), requests.Timeout("slow")])
@responses.activate
def test_network_failures_become_unavailable(failure):
    responses.post(MESSAGES, body=failure)
    assert sms.send(SENDER, "+15555550123", "Your steps.").reason == "unavailable"


@responses.activate
def test_the_rest_call_has_a_short_timeout(monkeypatch):
    seen = {}
    original = requests.Session.send

    def spy(self, request, **kwargs):
        seen["timeout"] = kwargs.get("timeout")
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    responses.post(MESSAGES, json=created(), status=201)
    sms.send(SENDER, "+15555550123", "Hi")
    assert seen["timeout"] == sms.REST_TIMEOUT < 15


def test_sender_needs_account_token_and_from():
    assert sms.sender(ACCOUNT, TOKEN, "+18005550100") is not None
    assert sms.sender(ACCOUNT, TOKEN, "MG" + "c" * 32).uses_messaging_service
    assert sms.sender(None, TOKEN, "+18005550100") is None
    assert sms.sender(ACCOUNT, TOKEN, "8005550100") is None
    assert sms.sender(ACCOUNT, None, "+18005550100") is None

"""The agent's unlock key (ivr/ocpi/views.py): the whisper offers "2 to unlock", the
agent presses it, the line sends UNLOCK_CONNECTOR to the test CPO, tells the agent the
result in one line, then bridges. A Twilio webhook: a forged one is refused."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import requests
from twilio.request_validator import RequestValidator

from ivr.ocpi import store
from ivr.ocpi.views import agent_unlock_url
from ocpi_peer import CPO_TOKEN, LINE_TOKEN, Line, backend_of, cpo, engine_of


@pytest.fixture
def signed_line(signed_env, cpo):
    env = {**signed_env, "IVR_OCPI_VERSIONS_URL": cpo.versions_url, "IVR_OCPI_TOKEN": CPO_TOKEN,
           "IVR_OCPI_INBOUND_TOKEN": LINE_TOKEN, "IVR_STATION_TIMEOUT": "3"}
    served = Line(env)
    assert backend_of(served.served).sync(full=True) == 6
    yield served
    served.stop()


def press(line, key: str, *, connector="2", forged=False, **extra):
    url = agent_unlock_url(line.url, {"node": "agent_chademo", "lang": "en-US"}, location_id="LOC1",
                           evse_uid="EVSE-1", connector_id=connector, call_sid="CA-caller", label="E12345")
    form = {"CallSid": "CA-agent-leg", "AccountSid": "AC" + "a" * 32, "Digits": key, **extra}
    token = line.env["TWILIO_AUTH_TOKEN"]
    signature = RequestValidator(token).compute_signature(url, form)
    if forged:
        form = {**form, "Digits": "2", "CallSid": "CA-someone-else"}
        url = url.replace("conn=2", "conn=1")
    answer = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=20)
    return answer


def said(answer) -> list[str]:
    return [s.text for s in ET.fromstring(answer.text).iter("Say")]


def test_two_unlocks_the_connector_tells_the_agent_and_bridges(signed_line, cpo):
    cpo.control(command={"result": "ACCEPTED", "delay": 0.2})
    answer = press(signed_line, "2")
    assert answer.status_code == 200
    root = ET.fromstring(answer.text)
    assert said(answer) == ["Unlocked. Connecting you now."]
    assert root.find("Hangup") is None and root.find("Dial") is None     # the TwiML ends: the bridge
    sent = cpo.read("commands")
    assert [c["command"] for c in sent] == ["UNLOCK_CONNECTOR"]
    assert {k: sent[0]["body"][k] for k in ("location_id", "evse_uid", "connector_id")} == \
        {"location_id": "LOC1", "evse_uid": "EVSE-1", "connector_id": "2"}
    actions = store.actions_of(engine_of(signed_line.served), "CA-caller")
    assert [a["action"] for a in actions][:2] == ["unlock_connector", "agent_key"]
    assert "result" in [a["action"] for a in actions]                       # recorded with the caller's call


def test_a_failed_unlock_is_said_then_the_call_is_bridged(signed_line, cpo):
    cpo.control(command={"result": "FAILED", "delay": 0.1})
    assert said(press(signed_line, "2")) == ["The unlock didn't work: failed. Connecting you now."]


def test_no_result_in_time_is_said_as_sent(signed_line, cpo, monkeypatch):
    from ivr.ocpi import views
    monkeypatch.setattr(views, "AGENT_WAIT_S", 0.5)
    cpo.control(command={"posts": 0})
    assert said(press(signed_line, "2")) == ["Unlock sent, no result yet. Connecting you now."]


def test_the_cpo_down_is_said_and_the_call_still_bridged(signed_line, cpo):
    cpo.control(tokens=[])          # the CPO refuses our token
    answer = press(signed_line, "2")
    assert answer.status_code == 200 and said(answer)[0].startswith("The unlock didn't work")


def test_one_takes_the_call_without_unlocking_and_anything_else_hangs_up(signed_line, cpo):
    assert said(press(signed_line, "1")) == []
    assert ET.fromstring(press(signed_line, "3").text).find("Hangup") is not None
    assert cpo.read("commands") == []


def test_a_forged_key_press_is_refused(signed_line, cpo):
    assert press(signed_line, "1", forged=True).status_code == 403
    assert cpo.read("commands") == []

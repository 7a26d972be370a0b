"""The webhooks, through the Flask test client, as Twilio calls them."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import AGENT, TOKEN
from twilio.request_validator import RequestValidator

from helpers import action_of, fields, gather, said, state_of, twiml
from ivr.app import create_app
from ivr.config import ConfigError


def start(client):
    return twiml(client.post("/voice", data=fields(CallStatus="ringing")))


def answer(client, root, **form):
    return twiml(client.post(action_of(root), data=fields(**form)))


def test_incoming_call_asks_with_speech_and_keypad(client):
    root = start(client)
    g = gather(root)
    assert g.get("input") == "dtmf speech"
    assert g.get("actionOnEmptyResult") == "true"
    assert g.get("language") == "en-US"
    assert g.get("speechModel") == "phone_call"
    assert g.get("speechTimeout").isdigit()  # Twilio refuses "auto" with an explicit model
    assert int(g.get("timeout")) >= 8
    assert g.get("numDigits") == "1" and g.get("finishOnKey") == ""
    assert "CCS" in g.get("hints") and "agent" in g.get("hints")   # the first question: which plug
    # The prompt is nested in the Gather, so the caller can cut in.
    assert g.find("Say") is not None and root.find("Say") is None
    assert "press 1" in said(root).lower()
    # A silent Twilio never hangs up: the Redirect comes back to us too.
    assert root.find("Redirect") is not None


def test_response_is_text_xml(client):
    response = client.post("/voice", data=fields())
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.data.startswith(b"<?xml")


def test_keypad_call_reaches_released(client):
    root = start(client)
    root = answer(client, root, Digits="1")        # CCS
    assert state_of(root)["conn"] == "ccs"
    root = answer(client, root, Digits="1")        # the button is soft
    root = answer(client, root, Digits="1")        # it came out
    assert gather(root) is None and root.find("Hangup") is not None
    assert "out" in said(root).lower() and "goodbye" in said(root).lower()


def test_speech_call_reaches_released_after_steps(client):
    root = start(client)
    root = answer(client, root, SpeechResult="it's a tesla", Confidence="0.88")
    root = answer(client, root, SpeechResult="no it's still stuck", Confidence="0.93")
    root = answer(client, root, SpeechResult="yes it has", Confidence="0.91")      # the session ended
    root = answer(client, root, SpeechResult="no adapter", Confidence="0.9")
    assert "five times" in said(root)
    root = answer(client, root, SpeechResult="yes it came out", Confidence="0.95")
    assert root.find("Hangup") is not None


def test_speech_hazard_ends_in_safety_advice(client):
    root = start(client)
    root = answer(client, root, SpeechResult="hang on there's smoke coming out", Confidence="0.8")
    text = said(root).lower()
    assert "step away" in text and "9 1 1" in text
    root = answer(client, root, SpeechResult="no thanks", Confidence="0.9")
    assert root.find("Hangup") is not None and root.find("Dial") is None
    assert "9 1 1" in said(root)


def test_keypad_agent_with_whisper(client):
    root = start(client)
    root = answer(client, root, Digits="3")      # J1772
    root = answer(client, root, Digits="2")      # still stuck
    root = answer(client, root, Digits="0")      # a person
    dial = root.find("Dial")
    assert dial is not None and dial.get("answerOnBridge") == "true"
    number = dial.find("Number")
    assert number.text == AGENT
    assert "dial-result" in dial.get("action")
    whisper = twiml(client.post(urlsplit(number.get("url")).path + "?" + urlsplit(number.get("url")).query,
                                data=fields(CallSid="CA" + "1" * 32, From="+15555550123", To=AGENT)))
    heard = said(whisper)
    assert "J seventeen seventy-two" in heard
    # The step the caller answered "still stuck" to is tried, with its result;
    # the one they pressed 0 at is where they stopped, not a step done.
    assert "unlocked the car and pulled, didn't release" in heard
    assert len(heard.split()) <= 40
    assert "press 1" in heard.lower()
    assert whisper.find("Gather").get("numDigits") == "1"
    assert whisper.find("Hangup") is not None  # no key: the agent's leg hangs up


def test_whisper_accept(client):
    ok = twiml(client.post("/voice/whisper/accept", data=fields(Digits="1")))
    assert ok.find("Hangup") is None
    refused = twiml(client.post("/voice/whisper/accept", data=fields(Digits="")))
    assert refused.find("Hangup") is not None


@pytest.mark.parametrize("status", ["completed", "answered"])
def test_dial_completed_ends_politely(client, status):
    root = twiml(client.post("/voice/dial-result?node=reseat&lang=en-US", data=fields(DialCallStatus=status, CallStatus="in-progress")))
    assert root.find("Hangup") is not None and "goodbye" in said(root).lower()


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed", "canceled"])
def test_dial_not_answered_offers_voicemail_and_support_number(client, status):
    # CallStatus says in-progress: branching must be on DialCallStatus.
    root = twiml(client.post("/voice/dial-result?node=reseat&lang=en-US",
                             data=fields(DialCallStatus=status, CallStatus="in-progress")))
    assert "leave a message" in said(root) and gather(root) is not None
    while gather(root) is not None:  # decline every offer: the goodbye gives the support number
        root = answer(client, root, Digits="2")
    # IVR_SUPPORT_NUMBER (+18005550199) read aloud, and the connector may still be in.
    assert "1, 8 0 0, 5 5 5, 0 1 9 9" in said(root) and "don't drive off" in said(root)
    assert root.find("Hangup") is not None


def test_every_question_offers_the_keypad(client, app):
    engine = app.extensions["ivr"].content.engine
    from ivr.call.engine import CallState
    for node in engine.flow.nodes.values():
        if node.kind != "ask":
            continue
        reply = engine.answer(CallState(node=node.id), engine_heard("repeat"))
        text = " ".join(line.text for line in reply.lines).lower()
        assert "press" in text, node.id


def engine_heard(intent):
    from ivr.call.engine import Heard
    return Heard(intent)


def test_mumble_then_silence_reprompts_then_agent(client):
    root = start(client)
    root = answer(client, root, SpeechResult="blargh fnord", Confidence="0.2")
    assert "didn't catch" in said(root)
    root = answer(client, root)  # silence: actionOnEmptyResult posts no input
    assert "didn't hear" in said(root)
    root = answer(client, root)
    assert root.find("Dial") is not None


def test_status_callback_answers_204(client):
    response = client.post("/voice/status", data=fields(CallStatus="completed", CallDuration="42", SequenceNumber="3"))
    assert response.status_code == 204


def test_fallback_apologises_and_dials(client):
    root = twiml(client.post("/voice/fallback", data=fields(ErrorCode="11200", ErrorUrl="https://x/voice")))
    assert "sorry" in said(root).lower()
    assert root.find("Dial/Number").text == AGENT


def test_healthz(client):
    assert client.get("/healthz").status_code == 200


def test_an_engine_failure_becomes_an_apology_and_a_person(client, app, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("engine exploded")
    monkeypatch.setattr(app.extensions["ivr"].content.engine, "answer", boom)
    root = start(client)
    response = client.post(action_of(root), data=fields(Digits="1"))
    assert response.status_code == 200
    root = twiml(response)
    assert "sorry" in said(root).lower() and root.find("Dial/Number").text == AGENT


def test_a_forged_state_is_not_a_crash(client):
    root = twiml(client.post("/voice/turn?node=%3Cscript%3E&lang=en-US", data=fields(Digits="1")))
    assert root.find("Dial") is not None


# -- signatures -------------------------------------------------------------------

def signed_post(client, url, data, token=TOKEN, base="http://localhost"):
    signature = RequestValidator(token).compute_signature(base + url, data)
    return client.post(url, data=data, headers={"X-Twilio-Signature": signature})


def test_signed_webhooks_are_accepted_and_forged_refused(signed_env):
    client = create_app(signed_env).test_client()
    data = fields(CallStatus="ringing")
    assert signed_post(client, "/voice", data).status_code == 200
    assert client.post("/voice", data=data).status_code == 403
    assert signed_post(client, "/voice", data, token="0" * 32).status_code == 403
    tampered = dict(data)
    signature = RequestValidator(TOKEN).compute_signature("http://localhost/voice", data)
    tampered["From"] = "+19999999999"
    assert client.post("/voice", data=tampered, headers={"X-Twilio-Signature": signature}).status_code == 403
    for path in ("/voice/status", "/voice/fallback", "/voice/turn?node=reseat&lang=en-US"):
        assert client.post(path, data=data).status_code == 403
    assert client.get("/healthz").status_code == 200


def test_signature_behind_a_tls_proxy(signed_env):
    client = create_app(signed_env).test_client()
    data = fields()
    signature = RequestValidator(TOKEN).compute_signature("https://ivr.example.com/voice", data)
    response = client.post("/voice", data=data, headers={
        "X-Twilio-Signature": signature, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "ivr.example.com"})
    assert response.status_code == 200
    # The TwiML then sends Twilio back to the public https URL.
    assert gather(twiml(response)).get("action").startswith("https://ivr.example.com/voice/turn?")


def test_signature_with_an_encoded_query(signed_env):
    client = create_app(signed_env).test_client()
    data = fields(Digits="1")
    url = "/voice/turn?node=reseat&lang=en-US&x=it%27s%40here"
    assert signed_post(client, url, data).status_code == 200


def test_a_signed_call_plays_through(signed_env):
    from ivr.tools.simulator import Call
    call = Call(create_app(signed_env).test_client(), auth_token=TOKEN)
    answers = iter(["ccs", "it's soft", "yes it came out"])
    ending = call.run(lambda event: call.fields_for(next(answers)) if event.kind == "listen" else None)
    assert ending == "hangup" and "Great, it's out" in " ".join(call.heard)


# -- configuration ------------------------------------------------------------------

def test_no_token_and_no_dev_refuses_to_start(env):
    with pytest.raises(ConfigError) as info:
        create_app({**env, "IVR_DEV": ""})
    assert "TWILIO_AUTH_TOKEN" in str(info.value) and "IVR_DEV=1" in str(info.value)


@pytest.mark.parametrize("number", ["4155550100", "+0123", "+1 415 ABC", "call me"])
def test_malformed_agent_number_refuses_to_start(env, number):
    with pytest.raises(ConfigError) as info:
        create_app({**env, "IVR_AGENT_NUMBER": number})
    assert "IVR_AGENT_NUMBER" in str(info.value) and "E.164" in str(info.value)


def test_dev_mode_warns_that_signatures_are_off(env, caplog):
    create_app(env)
    assert any("NOT checked" in r.message for r in caplog.records)

"""Issue 12: input longer than Twilio ever sends is cut before anything reads it.

Not timed here (bench/long_input.py measures the worst case): these check that
a long answer gets TwiML, not a 500, and that no reader sees more than the cap.
"""
from __future__ import annotations

import pytest
from conftest import TOKEN

from helpers import action_of, gather, said, twiml
from ivr.call import conversation
from ivr.tools.simulator import Call
from ivr.web.views import voice, web


@pytest.fixture
def signed_client(signed_env):
    from ivr.app import create_app
    app = create_app(signed_env)
    yield app.test_client()
    app.extensions["ivr"].recorder.engine.dispose()


def seen_by_the_reader(monkeypatch) -> list:
    seen = []
    real = conversation.understand

    def spy(speech, confidence, digits, *args, **kwargs):
        seen.append((speech, digits))
        return real(speech, confidence, digits, *args, **kwargs)

    monkeypatch.setattr(conversation, "understand", spy)
    return seen


@pytest.mark.parametrize("answer", [
    {"SpeechResult": "it " * 20000, "Confidence": "0.9"},            # 60 kB of one word
    {"SpeechResult": "still stuck " * 5000, "Confidence": "0.9"},
    {"SpeechResult": "x" * 60000, "Confidence": "0.9"},               # no spaces at all
    {"Digits": "1" * 60000},
    {"Digits": "12", "SpeechResult": "yes " * 10000, "UnstableSpeechResult": "y" * 10000},
])
def test_a_long_answer_under_a_valid_signature_gets_twiml_and_is_cut_before_reading(signed_client, monkeypatch, answer):
    seen = seen_by_the_reader(monkeypatch)
    call = Call(signed_client, auth_token=TOKEN)
    root = twiml(call.post("/voice", {"CallStatus": "ringing"}))
    root = twiml(call.post(action_of(root), answer))
    assert said(root)
    speech, digits = seen[-1]
    assert len(speech or "") <= web.FIELD_CAPS["SpeechResult"]
    assert len(digits or "") <= web.FIELD_CAPS["Digits"]


def test_a_cut_answer_still_reads_the_words_it_kept(signed_client):
    call = Call(signed_client, auth_token=TOKEN)
    root = twiml(call.post("/voice", {"CallStatus": "ringing"}))
    root = twiml(call.post(action_of(root), {"SpeechResult": "agent " * 3000, "Confidence": "0.9"}))
    assert gather(root) is None and root.find("Dial") is not None   # put through to a person


def test_every_other_field_is_capped_too(signed_client, monkeypatch):
    from flask import request

    seen = {}
    real = web.call_sid

    def spy():
        seen.update(request.form)
        return real()

    monkeypatch.setattr(voice, "call_sid", spy)
    call = Call(signed_client, auth_token=TOKEN)
    twiml(call.post("/voice", {"CallStatus": "ringing", "FromCity": "A" * 50000, "CallToken": "t" * 9000}))
    assert seen and max(len(v) for v in seen.values()) <= web.OTHER_FIELD_CAP

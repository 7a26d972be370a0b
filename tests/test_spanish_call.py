"""A caller who asks for Spanish is served in Spanish to the end.

By voice ("español") and by keypad (9); on the release, hazard and agent paths.
Every <Say> after the switch speaks es-US with the Spanish voice, every <Gather>
listens in es-US with Spanish hints, the agent's whisper stays in English and
says the caller speaks Spanish, and the records carry es-US.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from helpers import fields, said, twiml
from ivr.records import db

SPANISH_VOICE = "Polly.Lupe-Neural"
ENGLISH_VOICE = "Polly.Joanna-Neural"


def speech(text: str, confidence: str = "0.91") -> dict:
    return {"SpeechResult": text, "Confidence": confidence}


def keys(digits: str) -> dict:
    return {"Digits": digits}


class SpanishCall:
    """Plays Twilio's part, checking every answer it gets back is Spanish."""

    def __init__(self, client, sid: str):
        self.client, self.sid = client, sid
        self.roots = []

    def post(self, url: str, form: dict):
        parts = urlsplit(url)
        root = twiml(self.client.post(parts.path + ("?" + parts.query if parts.query else ""),
                                      data=fields(CallSid=self.sid, **form)))
        self.roots.append(root)
        return root

    def start(self):
        return self.post("/voice", {"CallStatus": "ringing"})

    def answer(self, root, form: dict):
        gather = root.find("Gather")
        assert gather is not None, said(root)
        return self.post(gather.get("action"), form)

    def node(self, root) -> str:
        query = parse_qs(urlsplit(root.find("Gather").get("action")).query)
        return query.get("node", [""])[0]


def assert_spanish(root):
    says = list(root.iter("Say"))
    assert says, "expected something said"
    for say in says:
        assert say.get("language") == "es-US", "".join(say.itertext())
        assert say.get("voice") == SPANISH_VOICE
    gather = root.find("Gather")
    if gather is not None:
        assert gather.get("language") == "es-US"
        hints = [h.strip() for h in gather.get("hints", "").split(",")]
        assert {"agente", "humo", "repita"} <= set(hints), hints
        assert "still stuck" not in hints and "agent" not in hints


def switch(call: SpanishCall, how: dict):
    """The start of the call, in English with the offer in Spanish, then the switch."""
    root = call.start()
    offer = [s for s in root.iter("Say") if s.get("language") == "es-US"]
    assert [s.text for s in offer] == ["Para español, oprima 9, o diga español."]
    assert offer[0].get("voice") == SPANISH_VOICE
    assert all(s.get("voice") == ENGLISH_VOICE for s in root.iter("Say") if s not in offer)
    root = call.answer(root, how)
    assert_spanish(root)
    assert said(root).startswith("Muy bien, seguimos en español.")
    assert "¿Qué conector es?" in said(root)
    return root


def recorded_language(app, sid: str) -> str:
    with app.extensions["ivr"].recorder.engine.connect() as conn:
        return conn.execute(select(db.calls.c.language).where(db.calls.c.call_sid == sid)).scalar_one()


@pytest.mark.parametrize("how,answers", [
    (speech("español"), [speech("es un tesla"), speech("no, sigue atascado"), speech("sí"), speech("no"),
                         speech("un momento"), speech("sigue atorado"), speech("¿qué?"), speech("ya salió", "0.93")]),
    (speech("Spanish please"), [speech("ccs"), speech("está suave"), speech("todavía no"), speech("sí"),
                                speech("sí, con adaptador"), speech("sí"), speech("sí")]),
    (keys("9"), [keys("1"), keys("2"), keys("2"), keys("*"), keys("1"), keys("2"), keys("1")]),
])
def test_a_spanish_call_to_the_release(client, app, how, answers):
    call = SpanishCall(client, "CA" + "5" * 32)
    root = switch(call, how)
    for form in answers:
        root = call.answer(root, form)
        assert_spanish(root)
    assert root.find("Gather") is None and root.find("Hangup") is not None
    assert "Excelente, ya salió." in said(root) and "Adiós" in said(root)
    assert recorded_language(app, call.sid) == "es-US"


@pytest.mark.parametrize("how,alarm", [(speech("español"), speech("se está quemando el cable")),
                                       (speech("español"), speech("no, pero huele a quemado")),
                                       (keys("9"), speech("me dio toque", "0.4"))])
def test_a_spanish_hazard_gets_safety_advice_in_spanish(client, app, how, alarm):
    call = SpanishCall(client, "CA" + "6" * 32)
    root = switch(call, how)
    root = call.answer(root, speech("ccs"))
    root = call.answer(root, alarm)
    assert_spanish(root)
    assert "aléjese" in said(root).lower() and "9 1 1" in said(root)
    assert call.node(root) == "hazard"
    root = call.answer(root, speech("no, gracias, estoy bien"))
    assert_spanish(root)
    assert root.find("Dial") is None and root.find("Hangup") is not None
    assert "Manténgase lejos del cargador" in said(root)
    assert recorded_language(app, call.sid) == "es-US"


@pytest.mark.parametrize("how,request_person", [(speech("español"), speech("quiero hablar con una persona")),
                                                (speech("español"), speech("operadora")),
                                                (keys("9"), keys("0"))])
def test_a_spanish_caller_reaches_a_person_who_hears_english(client, app, how, request_person):
    call = SpanishCall(client, "CA" + "7" * 32)
    root = switch(call, how)
    root = call.answer(root, speech("Tesla"))
    root = call.answer(root, speech("sigue atascado"))
    root = call.answer(root, request_person)
    assert_spanish(root)
    assert "Le comunico con una persona" in said(root)
    number = root.find("Dial").find("Number")
    whisper = call.post(number.get("url"), {"From": "+15555550123"})
    for say in whisper.iter("Say"):
        assert say.get("language") == "en-US" and say.get("voice") == ENGLISH_VOICE
    heard = said(whisper)
    assert "The caller speaks Spanish." in heard and "Tesla connector." in heard
    assert recorded_language(app, call.sid) == "es-US"


def test_english_switches_back(client):
    call = SpanishCall(client, "CA" + "8" * 32)
    root = switch(call, speech("español"))
    root = call.answer(root, speech("inglés por favor"))
    assert said(root).startswith("Okay, let's continue in English.")
    assert all(s.get("language") == "en-US" for s in root.iter("Say"))
    assert root.find("Gather").get("language") == "en-US"

"""'It's still charging' at a question about something else: the session comes first.

The plug stays locked while the session runs, so the flow's `still_charging` step
(globals) is next, whatever was asked: through the webhooks, in English and Spanish.
"""
from __future__ import annotations

from helpers import action_of, fields, said, state_of, twiml


def answer(client, root, speech: str):
    return twiml(client.post(action_of(root), data=fields(SpeechResult=speech, Confidence="0.9")))


def at_the_ccs_button(client, *more):
    root = twiml(client.post("/voice", data=fields()))
    root = twiml(client.post(action_of(root), data=fields(Digits="1")))    # CCS
    assert state_of(root)["node"] == "ccs_button"
    for speech in more:
        root = answer(client, root, speech)
    return root


def test_still_charging_at_the_button_question_goes_to_stopping_the_session(client):
    root = answer(client, at_the_ccs_button(client), "it's still charging")
    assert state_of(root)["node"] == "stop_session"
    assert "Tap Stop" in said(root) and "didn't catch" not in said(root)


def test_in_spanish_too(client):
    """Spanish reads "sigue" alone as still stuck, and a yes-or-no question reads that
    as no: "sigue cargando" still goes straight to stopping the session, as in English.
    Asked there whether it has stopped, the same answer is that question's own no."""
    root = twiml(client.post("/voice", data=fields()))
    root = twiml(client.post(action_of(root), data=fields(Digits="9")))    # español
    root = twiml(client.post(action_of(root), data=fields(Digits="1")))    # CCS
    root = answer(client, root, "sigue cargando")
    assert state_of(root)["node"] == "stop_session" and "Toque Detener" in said(root)
    root = answer(client, root, "la sesión sigue, está cargando")
    assert state_of(root)["node"] == "car_wont_stop"


def test_no_its_still_charging_at_a_yes_or_no_question_goes_to_stopping_the_session(client):
    root = answer(client, at_the_ccs_button(client), "no it's still charging")
    assert state_of(root)["node"] == "stop_session"


def test_a_plain_no_at_the_button_question_is_that_questions_no(client):
    root = answer(client, at_the_ccs_button(client), "no")
    assert state_of(root)["node"] == "session_screen"


def test_a_plain_mumble_is_still_asked_again(client):
    root = answer(client, at_the_ccs_button(client), "purple monkey dishwasher")
    assert state_of(root)["node"] == "ccs_button" and "didn't catch" in said(root)


def test_after_a_hazard_it_never_leaves_the_safety_advice(client):
    root = at_the_ccs_button(client, "there's smoke coming out of it")
    before = state_of(root)["node"]
    root = answer(client, root, "it's still charging")
    assert state_of(root)["node"] == before and state_of(root).get("hz") == "f"
    assert "Tap Stop" not in said(root)


def test_the_whisper_says_the_connector_is_not_known_when_nobody_said_it(client):
    """Straight to stopping the session from the plug question: no connector was named,
    and the agent hears it plainly ("Connector not known."), not "not known connector"."""
    from urllib.parse import urlsplit
    root = twiml(client.post("/voice", data=fields()))
    root = answer(client, root, "it's still charging")
    root = answer(client, root, "agent")
    number = root.find("Dial/Number")
    assert number is not None
    url = urlsplit(number.get("url"))
    whisper = said(twiml(client.post(url.path + "?" + url.query, data=fields(CallSid="CA" + "e" * 32))))
    assert "Connector not known." in whisper and "not known connector" not in whisper

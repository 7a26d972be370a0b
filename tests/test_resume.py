"""A driver whose call drops is welcomed back where they were; and the words that
change the call's course (damage, the emergency stop, traffic, heat, a car's name)."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import update

from helpers import fields, gather, said, twiml
from ivr.call.engine import CallState, Heard
from ivr.records import db

CALLER = "+15555550144"


def post(client, url, sid, **form):
    parts = urlsplit(url)
    return twiml(client.post(parts.path + "?" + parts.query, data=fields(CallSid=sid, From=CALLER, **form)))


def call(client, sid):
    return twiml(client.post("/voice", data=fields(CallSid=sid, From=CALLER, CallStatus="ringing")))


def drop(client, sid):
    """Twilio's status callback: the call is over (the line dropped)."""
    client.post("/voice/status", data=fields(CallSid=sid, From=CALLER, CallStatus="completed", SequenceNumber="5"))


def state(root) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(gather(root).get("action")).query).items()}


def to_lock_unlock(client, sid, lang_key=None):
    root = call(client, sid)
    if lang_key:
        root = post(client, gather(root).get("action"), sid, Digits=lang_key)
    for key in "32122":                   # J1772, stuck, session ended, no adapter, stuck
        root = post(client, gather(root).get("action"), sid, Digits=key)
    assert state(root)["node"] == "lock_unlock"
    return root


def test_a_dropped_call_is_welcomed_back_at_its_step(client):
    to_lock_unlock(client, "CA" + "1" * 32)
    drop(client, "CA" + "1" * 32)
    root = call(client, "CA" + "2" * 32)
    text = said(root)
    assert text.startswith("Welcome back.") and "locked and unlocked three times" in text
    assert "Shall we carry on from there?" in text
    root = post(client, gather(root).get("action"), "CA" + "2" * 32, SpeechResult="yes please", Confidence="0.9")
    assert "lock the car, then unlock it" in said(root)
    carried = state(root)
    assert carried["node"] == "lock_unlock" and carried["conn"] == "j1772"
    assert "unlock_fob-s" in carried["path"]           # what they already tried, with its result


def test_starting_again_is_the_callers_choice(client):
    to_lock_unlock(client, "CA" + "3" * 32)
    drop(client, "CA" + "3" * 32)
    root = call(client, "CA" + "4" * 32)
    root = post(client, gather(root).get("action"), "CA" + "4" * 32, Digits="2")
    assert "start again from the beginning" in said(root) and state(root)["node"] == "connector"


def test_the_language_comes_back_too(client):
    to_lock_unlock(client, "CA" + "5" * 32, lang_key="9")
    drop(client, "CA" + "5" * 32)
    root = call(client, "CA" + "6" * 32)
    assert said(root).startswith("Bienvenido de nuevo") and gather(root).get("language") == "es-US"


def test_no_welcome_back_after_the_window_or_a_finished_call(app, client):
    to_lock_unlock(client, "CA" + "7" * 32)
    drop(client, "CA" + "7" * 32)
    with app.extensions["ivr"].recorder.engine.begin() as conn:
        conn.execute(update(db.calls).values(started_at=db.now() - timedelta(minutes=16)))
    assert said(call(client, "CA" + "8" * 32)).startswith("Charging help line")

    root = to_lock_unlock(client, "CA" + "9" * 32)     # this one ends with the connector out
    root = post(client, gather(root).get("action"), "CA" + "9" * 32, Digits="1")
    drop(client, "CA" + "9" * 32)
    assert said(call(client, "CA" + "a" * 32)).startswith("Charging help line")


def test_a_call_still_in_progress_is_not_a_dropped_one(client):
    """Two calls at once from one number (a second phone): no welcome back."""
    to_lock_unlock(client, "CA" + "b" * 32)
    assert said(call(client, "CA" + "c" * 32)).startswith("Charging help line")


def test_after_two_keypad_answers_the_keys_are_not_read_out_again(client):
    root = call(client, "CA" + "d" * 32)
    root = post(client, gather(root).get("action"), "CA" + "d" * 32, Digits="3")     # J1772
    assert "Press 1 for yes" in said(root)
    root = post(client, gather(root).get("action"), "CA" + "d" * 32, Digits="2")     # still stuck
    assert "Press 1 for yes" not in said(root) and state(root)["node"] == "session_screen"
    root = post(client, gather(root).get("action"), "CA" + "d" * 32, SpeechResult="purple", Confidence="0.9")
    assert "Press 1 for yes" in said(root)             # struggling: the keys come back


# -- what the engine does with the words that change a call's course ----------------------------

def engine_at(app, node, **kw):
    content = app.extensions["ivr"].content
    return content.engine, CallState(node=node, connector="ccs", path=("session_screen", "connector"),
                                     results=("y", ""), **kw)


def test_damage_is_hands_off_and_a_person(app):
    engine, here = engine_at(app, "reseat")
    reply = engine.answer(here, Heard("damage", heard="the cable is cracked"))
    text = " ".join(line.text for line in reply.lines)
    assert reply.outcome == "agent" and reply.state.hazard == "damage"
    assert "don't use this charger" in text and "9 1 1" not in text
    fire = engine.answer(here, Heard("hazard"))
    assert fire.state.hazard == "fire" and "9 1 1 now" in " ".join(line.text for line in fire.lines)


def test_fire_outranks_damage_for_the_rest_of_the_call(app):
    engine, here = engine_at(app, "reseat")
    fire = engine.answer(here, Heard("hazard"))
    later = engine.answer(fire.state, Heard("damage"))
    assert later.state.hazard == "fire"


def test_the_emergency_stop_is_not_a_hazard_but_a_person(app):
    engine, here = engine_at(app, "reseat")
    reply = engine.answer(here, Heard("emergency_stop"))
    assert reply.outcome == "agent" and reply.state.hazard is None
    assert "reset" in " ".join(line.text for line in reply.lines)


def test_traffic_gets_safety_advice_then_the_same_step(app):
    engine, here = engine_at(app, "reseat")
    reply = engine.answer(here, Heard("roadside"))
    text = " ".join(line.text for line in reply.lines)
    assert text.startswith("First, move yourself somewhere safe") and "9 1 1" in text
    assert reply.state.node == "reseat" and reply.question is not None and reply.state.hazard is None


def test_hot_out_here_costs_one_question_not_the_help(app):
    engine, here = engine_at(app, "reseat")
    asked = engine.answer(here, Heard("hot_unsure"))
    assert "hot, smoking, or sparking?" in " ".join(line.text for line in asked.lines)
    calm = engine.answer(asked.state, Heard("no"))
    assert calm.state.node == "reseat" and calm.state.hazard is None and calm.question is not None
    smoking = engine.answer(asked.state, Heard("yes"))
    assert smoking.state.hazard == "fire"


def test_a_car_name_is_kept_and_never_taken_for_a_connector(app):
    engine = app.extensions["ivr"].content.engine
    at_connector = CallState(node="connector", path=("session_screen",), results=("y",))
    reply = engine.answer(at_connector, Heard("car", heard="it's a nissan leaf", car="Nissan Leaf"))
    assert reply.state.node == "connector" and reply.state.connector is None and reply.state.car == "Nissan Leaf"
    assert "Nissan Leaf" in " ".join(line.text for line in reply.lines)
    assert CallState.from_params(reply.state.to_params(), engine.flow, engine.catalogs).car == "Nissan Leaf"

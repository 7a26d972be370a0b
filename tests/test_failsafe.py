"""Whatever fails, the caller hears a person's number or a person, in time.

Faults are injected one at a time: the engine raises, a prompt is missing, the
database is down or locked, a REST call hangs (mocked with `responses`). Every answer must be valid
TwiML (text/xml) well inside Twilio's 15 seconds. Twilio's retries are
recorded once and answered the same.
"""
from __future__ import annotations

import sqlite3
import time
from types import MappingProxyType

import pytest
import requests
import responses
from conftest import AGENT
from sqlalchemy import func, select

from helpers import CALL_SID, action_of, fields, gather, said, twiml
from ivr.app import create_app
from ivr.records import db, deadline

TWILIO_BUDGET_S = 15
SID = "AC" + "a" * 32
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"


def apologised_and_dialled(response) -> bool:
    root = twiml(response)
    return "sorry" in said(root).lower() and root.find("Dial/Number") is not None \
        and root.find("Dial/Number").text == AGENT


def start(client):
    return twiml(client.post("/voice", data=fields(CallStatus="ringing")))


def fail(*args, **kwargs):
    raise RuntimeError("injected fault")


# -- the engine and the content ----------------------------------------------------------

def test_the_engine_failing_at_the_first_webhook(app, client, monkeypatch):
    monkeypatch.setattr(app.extensions["ivr"].content.engine, "start", fail)
    assert apologised_and_dialled(client.post("/voice", data=fields(CallStatus="ringing")))


def test_the_engine_failing_on_an_answer(app, client, monkeypatch):
    root = start(client)
    monkeypatch.setattr(app.extensions["ivr"].content.engine, "answer", fail)
    assert apologised_and_dialled(client.post(action_of(root), data=fields(Digits="1")))


def test_understanding_failing_on_an_answer(client, monkeypatch):
    from ivr.call import conversation
    root = start(client)
    monkeypatch.setattr(conversation, "understand", fail)
    assert apologised_and_dialled(client.post(action_of(root), data=fields(SpeechResult="yes", Confidence="0.9")))


@pytest.fixture
def without(app):
    """Take sentences out of a language's catalog for one test; put back afterwards (the
    catalogs are the session's, shared by every test)."""
    taken = []

    def take(catalog, *keys):
        taken.append((catalog, catalog.texts))
        texts = {k: v for k, v in catalog.texts.items() if k not in keys}
        object.__setattr__(catalog, "texts", MappingProxyType(texts))
    yield take
    for catalog, texts in reversed(taken):
        object.__setattr__(catalog, "texts", texts)


def test_a_missing_prompt(app, client, without):
    catalog = app.extensions["ivr"].content.catalogs["en-US"]
    root = start(client)
    without(catalog, *(k for k in catalog.texts if k.startswith("keys_")))
    assert apologised_and_dialled(client.post(action_of(root), data=fields(Digits="1")))


def test_the_apology_itself_missing_falls_back_to_a_built_in_sentence(app, client, without):
    catalog = app.extensions["ivr"].content.catalogs["en-US"]
    root = start(client)
    without(catalog, "apology_transfer", *(k for k in catalog.texts if k.startswith("keys_")))
    assert apologised_and_dialled(client.post(action_of(root), data=fields(Digits="1")))


def test_the_fallback_url_apologises_and_dials(client):
    response = client.post("/voice/fallback", data=fields(ErrorCode="11205", ErrorUrl="https://ivr.example.com/voice"))
    assert apologised_and_dialled(response)


def test_after_the_apologys_dial_the_caller_hears_where_help_is(client):
    """The last-resort Dial has no action URL: when nobody answers, Twilio goes on to
    the next verb, so the caller hears the support number, not silence and a hang-up."""
    root = twiml(client.post("/voice/fallback", data=fields(ErrorCode="11205")))
    verbs = [child.tag for child in root]
    assert "Dial" in verbs and verbs.index("Dial") < len(verbs) - 1
    after = " ".join(say.text or "" for say in root[verbs.index("Dial") + 1:])
    assert "8 0 0" in after and "drive off" in after


def test_a_failing_whisper_bridges_the_agent_instead_of_dialling_again(app, client, monkeypatch):
    from ivr.call import handoff
    monkeypatch.setattr(handoff, "whisper_lines", fail)
    root = twiml(client.post("/voice/whisper?node=agent&lang=en-US&path=session_screen", data=fields()))
    assert root.find("Dial") is None and len(root) == 0   # empty TwiML: the bridge


def test_a_failing_status_callback_still_answers_204(app, client, monkeypatch):
    monkeypatch.setattr(app.extensions["ivr"].recorder, "status", fail)
    response = client.post("/voice/status", data=fields(CallStatus="completed", SequenceNumber="3"))
    assert response.status_code == 204


# -- the database ----------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "sqlite:////nonexistent-folder/ivr.db",        # a path that cannot exist
    "postgresql://ivr:secret@127.0.0.1:1/ivr",     # nothing listens there
])
def test_with_the_database_down_the_call_goes_on(env, url):
    client = create_app({**env, "DATABASE_URL": url, "IVR_RATE_LIMIT": "5/10m"}).test_client()
    began = time.monotonic()
    root = start(client)
    assert gather(root) is not None and "sorry" not in said(root).lower()
    response = client.post(action_of(root), data=fields(Digits="1"))
    root = twiml(response)
    assert "something went wrong" not in said(root).lower()
    assert apologised_and_dialled(client.post("/voice/fallback", data=fields(ErrorCode="11200")))
    assert client.post("/voice/status", data=fields(CallStatus="completed")).status_code == 204
    assert time.monotonic() - began < TWILIO_BUDGET_S


@pytest.mark.slow
def test_with_the_database_locked_the_answer_comes_in_time(env, tmp_path):
    url = f"sqlite:///{tmp_path}/locked.db"
    client = create_app({**env, "DATABASE_URL": url, "IVR_RATE_LIMIT": "5/10m"}).test_client()
    start(client)
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")     # another process holds the write lock
    try:
        began = time.monotonic()
        root = twiml(client.post("/voice", data=fields(CallSid="CA" + "1" * 32, CallStatus="ringing")))
        took = time.monotonic() - began
    finally:
        holder.rollback()
        holder.close()
    assert gather(root) is not None
    # One busy timeout at most, not one per write: well inside Twilio's budget.
    assert took < deadline.RECORDING_BUDGET_S + 6 < TWILIO_BUDGET_S


def test_the_recording_budget_only_applies_inside_a_webhook(app):
    """The CLI and reports record and read without a clock."""
    deadline.stop()
    assert not deadline.spent()
    deadline.start()
    assert not deadline.spent(budget=60)
    assert deadline.spent(budget=-1)
    deadline.stop()
    assert not deadline.spent(budget=-1)


# -- a REST call that hangs -------------------------------------------------------------------

@responses.activate
def test_a_hanging_rest_call_inside_a_webhook(signed_env):
    """The text with the steps, offered after "it came out": api.twilio.com never answers."""
    from ivr.outbound import sms
    from ivr.tools.simulator import Call
    seen = {}

    def hang(request):
        # What a hang becomes once the client's timeout runs out.
        seen["timeout"] = request.req_kwargs.get("timeout")
        raise requests.exceptions.ReadTimeout("no answer from api.twilio.com")

    responses.add_callback(responses.POST, MESSAGES, callback=hang)
    app = create_app({**signed_env, "TWILIO_ACCOUNT_SID": SID, "IVR_SMS_FROM": "+18005550100"})
    call = Call(app.test_client(), auth_token=signed_env["TWILIO_AUTH_TOKEN"])
    root = twiml(call.post("/voice", {"CallStatus": "ringing"}))
    for _ in range(3):                                  # session ended, CCS, it came out
        root = twiml(call.post(gather(root).get("action"), {"Digits": "1"}))
    assert "text" in said(root).lower()                 # offered the steps by text
    root = twiml(call.post(gather(root).get("action"), {"Digits": "1"}))
    assert seen["timeout"] is not None and seen["timeout"] == sms.REST_TIMEOUT <= TWILIO_BUDGET_S / 3
    # The caller is told, and the call goes on to a proper end rather than silence.
    assert said(root) and (root.find("Hangup") is not None or gather(root) is not None or root.find("Dial") is not None)


# -- Twilio's retries -----------------------------------------------------------------------------

def _counts(app) -> tuple[int, int]:
    with app.extensions["ivr"].recorder.engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(db.calls)).scalar_one(),
                conn.execute(select(func.count()).select_from(db.events)).scalar_one())


def test_a_repeated_webhook_is_recorded_once_and_answered_the_same(app, client):
    first = client.post("/voice", data=fields(CallStatus="ringing"))
    again = client.post("/voice", data=fields(CallStatus="ringing"))
    assert first.data == again.data and _counts(app) == (1, 1)
    url = action_of(twiml(first))
    turn_first = client.post(url, data=fields(Digits="1"))
    turn_again = client.post(url, data=fields(Digits="1"))
    assert turn_first.data == turn_again.data and _counts(app) == (1, 2)
    # The duplicate did not move the call: its next step is the same as after one answer.
    with app.extensions["ivr"].recorder.engine.connect() as conn:
        nodes = conn.execute(select(db.events.c.next_node).where(db.events.c.call_sid == CALL_SID)
                             .order_by(db.events.c.id)).scalars().all()
    assert len(nodes) == 2


def test_a_repeated_dial_result_is_recorded_once(app, client):
    url = "/voice/dial-result?node=agent&lang=en-US"
    first = client.post(url, data=fields(DialCallStatus="no-answer", DialCallSid="CA" + "2" * 32))
    again = client.post(url, data=fields(DialCallStatus="no-answer", DialCallSid="CA" + "2" * 32))
    assert first.data == again.data and _counts(app) == (1, 1)


def test_the_same_answer_at_a_later_question_is_a_new_turn(app, client):
    root = start(client)
    root = twiml(client.post(action_of(root), data=fields(Digits="1")))
    if gather(root) is not None:
        client.post(action_of(root), data=fields(Digits="1"))
        assert _counts(app) == (1, 3)

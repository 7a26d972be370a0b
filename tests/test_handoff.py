"""The hand-off through the real webhooks: whisper, DialCallStatus, business hours,
the queue, every fallback link on and off, texts (REST mocked with `responses`),
and the station ID."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from conftest import AGENT, ROOT, TOKEN
from sqlalchemy import select

from helpers import gather, said, twiml
from ivr.app import create_app
from ivr.content import ContentError
from ivr.records import db
from ivr.tools.simulator import Call

ACCOUNT = "AC" + "a" * 32
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
SECOND = "+14155550111"
SMS_FROM = "+18005550100"
CALLER = "+15555550123"
ALWAYS_OPEN = "hours:\n  timezone: UTC\n  daily: '00:00-24:00'\n"


WEEKDAYS = "hours:\n  timezone: UTC\n  weekdays: '08:00-20:00'\n"
SATURDAY_NIGHT = datetime(2026, 7, 11, 3, 0, tzinfo=timezone.utc)    # the office is closed
TUESDAY_MORNING = datetime(2026, 7, 7, 10, 0, tzinfo=timezone.utc)   # the office is open


@pytest.fixture
def make(tmp_path, env):
    """An app whose flows/ holds escalation.yaml = `escalation`; `sms=True` configures texts."""
    def build(escalation: str | None = None, *, sms: bool = False, station: bool = False,
              station_settings: str = "", asked_first: bool = False, clock=None, **extra_env):
        flows = tmp_path / f"flows{len(list(tmp_path.iterdir()))}"
        flows.mkdir()
        flow_text = (ROOT / "flows" / "stuck_connector.yaml").read_text()
        if station:
            flow_text = flow_text.replace("settings:\n", "settings:\n  ask_station_id: true\n" + station_settings, 1)
        if asked_first:  # no station_id_before: the station ID right after the welcome
            flow_text = re.sub(r"(?m)^  station_id_before: .*\n", "", flow_text)
        (flows / "stuck_connector.yaml").write_text(flow_text)
        if escalation is not None:
            (flows / "escalation.yaml").write_text(escalation)
        app_env = {**env, "IVR_FLOWS_DIR": str(flows), **extra_env}
        if sms:
            app_env.update(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN, IVR_SMS_FROM=SMS_FROM, IVR_DEV="")
        app = create_app(app_env, clock=clock)
        return app, Call(app.test_client(), auth_token=TOKEN if sms else None, caller=CALLER)
    return build


def post(call: Call, url: str, **form):
    return twiml(call.post(url, form))


def url_of(element, attribute: str = "action") -> str:
    return element.get(attribute)


def params(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def to_agent(call: Call):
    """Start a call, try the first step (J1772: unlock and pull), and ask for a person."""
    root = post(call, "/voice", CallStatus="ringing")
    root = post(call, url_of(gather(root)), Digits="3")
    return post(call, url_of(gather(root)), Digits="0")


def dial_fails(call: Call, status: str = "no-answer", **form):
    root = to_agent(call)
    dial = root.find("Dial")
    assert dial is not None, said(root)
    return post(call, url_of(dial), DialCallStatus=status, DialCallSid="CA" + "1" * 32, **form)


def decline_all(call: Call, root):
    while gather(root) is not None:
        root = post(call, url_of(gather(root)), Digits="2")
    return root


def rows(app, table):
    with app.extensions["ivr"].recorder.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table)).mappings()]


# -- the agent's leg -----------------------------------------------------------------------

def test_dial_rings_the_agent_with_whisper_timeout_and_ringing(make):
    _app, call = make(ALWAYS_OPEN + "agent: {timeout: 18}\n")
    dial = to_agent(call).find("Dial")
    assert dial.get("answerOnBridge") == "true" and dial.get("timeout") == "18"
    assert dial.get("callerId") is None  # the agent sees the caller's own number
    number = dial.find("Number")
    assert number.text == AGENT and "/voice/whisper" in number.get("url")
    assert params(url_of(dial))["leg"] == "1"


@pytest.mark.parametrize("caller, expected", [("anonymous", "+18005550199"), ("client:kiosk", "+18005550199")])
def test_caller_id_when_the_callers_number_cannot_be_shown(make, caller, expected):
    app, _ = make()
    call = Call(app.test_client(), caller=caller)
    assert to_agent(call).find("Dial").get("callerId") == expected


def test_caller_id_setting_wins(make):
    _, call = make(IVR_CALLER_ID="+18005550142")
    assert to_agent(call).find("Dial").get("callerId") == "+18005550142"


def test_whisper_tells_the_agent_and_waits_for_a_key(make):
    _, call = make()
    whisper_url = to_agent(call).find("Dial").find("Number").get("url")
    whisper = post(call, whisper_url, CallSid="CA" + "1" * 32, To=AGENT)
    heard = said(whisper)
    assert "unlocked the car and pulled" in heard and "Press 1" in heard and len(heard.split()) <= 40
    g = gather(whisper)
    assert g.get("numDigits") == "1" and g.find("Say") is not None
    assert whisper.find("Hangup") is not None  # no key (a voicemail box): hang up the agent's leg
    assert {child.tag for child in whisper.iter()} <= {"Response", "Say", "Play", "Gather", "Hangup"}
    taken = post(call, url_of(g), CallSid="CA" + "1" * 32, Digits="1")
    assert taken.find("Hangup") is None and len(taken) == 0
    refused = post(call, url_of(g), CallSid="CA" + "1" * 32, Digits="9")
    assert refused.find("Hangup") is not None


# -- DialCallStatus --------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["completed", "answered"])
def test_a_bridged_call_ends_politely(make, status):
    _, call = make()
    root = dial_fails(call, status, DialBridged="true", DialCallDuration="95")
    assert gather(root) is None and root.find("Hangup") is not None and "Goodbye" in said(root)


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed", "canceled"])
def test_nobody_answered_goes_to_the_fallback_chain(make, status):
    _, call = make()
    root = dial_fails(call, status, CallStatus="in-progress")
    assert "nobody could take your call" in said(root)
    assert "leave a message" in said(root) and gather(root) is not None


def test_the_whisper_hanging_up_is_completed_but_not_bridged(make):
    """An agent's voicemail answered; the whisper hung up: Twilio says completed, DialBridged=false."""
    _, call = make()
    root = dial_fails(call, "completed", DialBridged="false", DialCallDuration="9")
    assert "leave a message" in said(root) and gather(root) is not None


# -- the fallback links, each on and off -------------------------------------------------------

def test_voicemail_with_recording_and_transcription_callbacks(make):
    app, call = make("fallback:\n  - voicemail: {max_length: 90}\n  - callback\nsupport_number: '+18005550199'\n")
    root = dial_fails(call)
    record = post(call, url_of(gather(root)), Digits="1").find("Record")
    assert record.get("maxLength") == "90" and record.get("transcribe") == "true"
    assert "/voice/voicemail/transcription" in record.get("transcribeCallback")
    assert "/voice/voicemail/recording" in record.get("recordingStatusCallback")
    sid = "RE" + "2" * 32
    done = post(call, url_of(record), RecordingUrl=f"https://api.twilio.com/x/Recordings/{sid}",
                RecordingSid=sid, RecordingDuration="14", Digits="#")
    # A message left: no call-back question; the goodbye reads the support number.
    assert "message is saved" in said(done) and gather(done) is None
    assert "1, 8 0 0, 5 5 5, 0 1 9 9" in said(done)
    response = call.post(record.get("transcribeCallback"), {
        "RecordingSid": sid, "TranscriptionText": "I'm at the mall, bay 4", "TranscriptionStatus": "completed",
        "TranscriptionSid": "TR" + "3" * 32})
    assert response.status_code == 204
    assert call.post(record.get("recordingStatusCallback"), {
        "RecordingSid": sid, "RecordingUrl": "https://api.twilio.com/final", "RecordingStatus": "completed",
        "RecordingDuration": "15"}).status_code == 204
    [saved] = rows(app, db.voicemails)
    assert saved["call_sid"] == call.sid and saved["recording_url"] == "https://api.twilio.com/final"
    assert saved["duration_s"] == 15 and saved["transcription"] == "I'm at the mall, bay 4"


def test_an_empty_recording_moves_on_instead_of_hanging_up(make):
    _, call = make("fallback: [voicemail, callback]\n")
    record_root = post(call, url_of(gather(dial_fails(call))), Digits="1")
    redirect = record_root.find("Redirect")
    assert redirect is not None  # Twilio posts nothing for an empty recording
    root = post(call, redirect.text)
    assert "didn't get a message" in said(root) and "call you back" in said(root)


def test_call_back_on_the_callers_own_number(make):
    app, call = make("fallback: [callback]\n")
    root = dial_fails(call)
    assert "call you back" in said(root)
    root = post(call, url_of(gather(root)), SpeechResult="yes please", Confidence="0.9")
    assert "5 5 5, 5 5 5, 0 1 2 3" in said(root)  # read back to be confirmed
    root = post(call, url_of(gather(root)), Digits="1")
    assert "call you back as soon as we can" in said(root) and root.find("Hangup") is not None
    [request] = rows(app, db.callbacks)
    assert request["number"] == CALLER and request["status"] == "open" and "unlocked the car and pulled" in request["steps"]


def test_call_back_on_another_number_keyed_in(make):
    app, call = make("fallback: [callback]\n")
    root = post(call, url_of(gather(dial_fails(call))), Digits="1")
    root = post(call, url_of(gather(root)), Digits="2")          # not this number
    g = gather(root)
    assert g.get("finishOnKey") == "#" and "key in the number" in said(root)
    root = post(call, url_of(g), Digits="12")                     # impossible
    assert "doesn't look like a phone number" in said(root)
    root = post(call, url_of(gather(root)), Digits="4155550188")
    assert "4 1 5, 5 5 5, 0 1 8 8" in said(root)
    root = post(call, url_of(gather(root)), Digits="1")
    assert [r["number"] for r in rows(app, db.callbacks)] == ["+14155550188"]


def test_call_back_gives_up_after_two_bad_numbers(make):
    app, call = make("fallback: [callback]\n")
    root = post(call, url_of(gather(dial_fails(call))), Digits="1")
    root = post(call, url_of(gather(root)), Digits="2")
    root = post(call, url_of(gather(root)), Digits="99")
    root = post(call, url_of(gather(root)), Digits="0")
    assert "couldn't get that number" in said(root) and root.find("Hangup") is not None
    assert rows(app, db.callbacks) == []


def test_second_agent_then_voicemail(make):
    _, call = make(f"fallback:\n  - second_agent: {{number: '{SECOND}', timeout: 15}}\n  - voicemail\n")
    root = dial_fails(call, "busy")
    dial = root.find("Dial")
    assert dial.find("Number").text == SECOND and dial.get("timeout") == "15"
    assert "/voice/whisper" in dial.find("Number").get("url") and dial.get("answerOnBridge") == "true"
    root = post(call, url_of(dial), DialCallStatus="no-answer")
    assert root.find("Dial") is None and "leave a message" in said(root)


def test_no_links_means_the_goodbye_with_the_support_number(make):
    _, call = make("fallback: []\nsupport_number: '+18005550199'\n")
    root = dial_fails(call)
    assert gather(root) is None and "call 1, 8 0 0, 5 5 5, 0 1 9 9" in said(root)


@pytest.mark.parametrize("left_out", ["voicemail", "callback", "sms"])
def test_each_link_can_be_left_out(make, left_out):
    chain = [link for link in ("voicemail", "callback", "sms") if link != left_out]
    _, call = make(f"fallback: [{', '.join(chain)}]\n", sms=True)
    root = dial_fails(call)
    offers = []
    while gather(root) is not None:
        offers.append(said(root))
        root = post(call, url_of(gather(root)), Digits="2")
    phrase = {"voicemail": "leave a message", "callback": "call you back", "sms": "text message"}
    assert len(offers) == 2 and not any(phrase[left_out] in o for o in offers)


def test_silence_at_an_offer_asks_once_more_then_moves_on(make):
    _, call = make("fallback: [voicemail]\n")
    root = dial_fails(call)
    root = post(call, url_of(gather(root)))
    assert "didn't hear anything" in said(root) and "leave a message" in said(root)
    root = post(call, url_of(gather(root)))
    assert gather(root) is None and root.find("Hangup") is not None


@pytest.mark.parametrize(("lang_key", "asked", "why", "offer"), [
    (None, "can I just talk to a person", "nobody could take your call", "leave a message"),
    ("9", "quiero hablar con una persona", "nadie pudo atender", "mensaje"),
])
def test_asking_for_a_person_at_the_message_offer_hears_why_not_and_is_offered_again(make, lang_key, asked, why, offer):
    _, call = make("fallback: [voicemail]\n")
    root = post(call, "/voice", CallStatus="ringing")
    if lang_key:
        root = post(call, url_of(gather(root)), Digits=lang_key)
    root = post(call, url_of(gather(root)), Digits="3")
    root = post(call, url_of(gather(root)), Digits="0")
    dial = root.find("Dial")
    root = post(call, url_of(dial), DialCallStatus="no-answer", DialCallSid="CA" + "1" * 32)
    root = post(call, url_of(gather(root)), SpeechResult=asked, Confidence="0.9")
    text = said(root)
    assert why in text and offer in text and "catch that" not in text and "entend" not in text
    root = post(call, url_of(gather(root)), Digits="1")             # yes: the message
    assert root.find("Record") is not None


# -- business hours and the queue ----------------------------------------------------------------

def test_after_hours_skips_the_agent_line(make):
    _, call = make(WEEKDAYS + "after_hours: [voicemail]\n", clock=lambda: SATURDAY_NIGHT)
    root = to_agent(call)
    assert root.find("Dial") is None
    text = said(root)
    assert "away right now" in text and "putting you through" not in text
    assert "leave a message" in text and gather(root) is not None


def test_within_hours_rings_the_agent(make):
    _, call = make(ALWAYS_OPEN)
    assert to_agent(call).find("Dial") is not None
    _, call = make(WEEKDAYS + "after_hours: [voicemail]\n", clock=lambda: TUESDAY_MORNING)
    assert to_agent(call).find("Dial") is not None


def test_queue_instead_of_a_number(make):
    _, call = make("agent: {queue: stuck-connector, queue_max_wait: 120}\n")
    root = to_agent(call)
    enqueue = root.find("Enqueue")
    assert enqueue is not None and enqueue.text == "stuck-connector" and root.find("Dial") is None
    wait = post(call, enqueue.get("waitUrl"), QueuePosition="3", QueueTime="40", QueueSid="QU" + "4" * 32,
                AvgQueueTime="60", CurrentQueueSize="3")
    assert "number 3 in line" in said(wait) and "step away" in said(wait)
    assert wait.find("Pause") is not None
    assert post(call, enqueue.get("waitUrl"), QueuePosition="1", QueueTime="121").find("Leave") is not None
    left = post(call, url_of(enqueue), QueueResult="leave", QueueTime="121")
    assert "leave a message" in said(left)
    bridged = post(call, url_of(enqueue), QueueResult="bridged", QueueTime="50")
    assert gather(bridged) is None and "Goodbye" in said(bridged)
    assert post(call, url_of(enqueue), QueueResult="hangup").find("Hangup") is not None


# -- text messages ---------------------------------------------------------------------------------

def released(call: Call):
    root = post(call, "/voice", CallStatus="ringing")
    root = post(call, url_of(gather(root)), Digits="1")   # CCS
    root = post(call, url_of(gather(root)), Digits="1")   # the button is soft
    return post(call, url_of(gather(root)), Digits="1")   # it came out


def test_without_texts_a_released_call_just_says_goodbye(make):
    _, call = make()
    root = released(call)
    assert gather(root) is None and "Drive safely. Goodbye." in said(root)


@responses.activate
def test_a_released_call_is_offered_the_steps_by_text(make):
    app, call = make(sms=True)
    responses.post(MESSAGES, json={"sid": "SM" + "5" * 32, "status": "queued"}, status=201)
    root = released(call)
    assert "steps by text message" in said(root)
    root = post(call, url_of(gather(root)), SpeechResult="yes", Confidence="0.93")
    assert "on its way" in said(root) and "Goodbye" in said(root) and root.find("Hangup") is not None
    sent = parse_qs(responses.calls[0].request.body)
    assert sent["To"] == [CALLER] and sent["From"] == [SMS_FROM]
    assert "pulled with the button soft" in sent["Body"][0]
    [text] = rows(app, db.text_messages)
    assert text["result"] == "sent" and text["message_sid"] == "SM" + "5" * 32


@responses.activate
def test_a_repeated_webhook_sends_one_text(make):
    app, call = make(sms=True)
    responses.post(MESSAGES, json={"sid": "SM" + "6" * 32, "status": "queued"}, status=201)
    offer = url_of(gather(released(call)))
    first = post(call, offer, Digits="1")
    again = post(call, offer, Digits="1")  # Twilio retries the same request
    assert said(again) == said(first) and "on its way" in said(again)
    assert len(responses.calls) == 1
    assert len(rows(app, db.text_messages)) == 1


@pytest.mark.parametrize("reply, words", [
    ({"json": {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}, "status": 400}, "can't send a text to this number"),
    ({"json": {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}, "status": 400}, "turned off our texts"),
    ({"json": {"code": 20500, "message": "Internal Server Error", "status": 500}, "status": 500}, "couldn't send the text"),
    ({"body": requests.ConnectionError("unreachable")}, "couldn't send the text"),
])
@responses.activate
def test_a_rest_error_is_told_and_the_call_goes_on(make, reply, words):
    app, call = make("fallback: [sms, callback]\n", sms=True)
    responses.post(MESSAGES, **reply)
    root = dial_fails(call)
    assert "steps by text message" in said(root)
    root = post(call, url_of(gather(root)), Digits="1")
    assert words in said(root) and "call you back" in said(root)  # the chain goes on
    assert rows(app, db.text_messages)[0]["result"] != "sent"


def test_no_text_offer_to_an_anonymous_caller(make):
    app, _ = make("fallback: [sms]\n", sms=True)
    call = Call(app.test_client(), auth_token=TOKEN, caller="anonymous")
    root = dial_fails(call)
    assert gather(root) is None and "text" not in said(root)


# -- the station ID ---------------------------------------------------------------------------------

def to_station(call: Call):
    """The station ID is asked after the caller's first try (settings.station_id_before)."""
    root = post(call, "/voice", CallStatus="ringing")
    assert "station ID" not in said(root)                  # not before the first thing to do
    root = post(call, url_of(gather(root)), Digits="3")    # J1772: unlock and pull
    return post(call, url_of(gather(root)), Digits="2")    # still stuck


def test_station_id_keyed_confirmed_and_whispered(make):
    app, call = make(station=True)
    root = to_station(call)
    g = gather(root)
    assert g.get("finishOnKey") == "#" and g.get("numDigits") is None and "station ID" in said(root)
    root = post(call, url_of(g), Digits="45077")
    assert "numbers 4 5 0, 7 7, without any letters" in said(root)   # keyed: digits only, and said so
    root = post(call, url_of(gather(root)), Digits="1")
    assert "charger's screen" in said(root) and params(url_of(gather(root)))["st"] == "45077"
    assert params(url_of(gather(root)))["node"] == "session_screen"
    root = post(call, url_of(gather(root)), Digits="0")
    whisper = post(call, root.find("Dial").find("Number").get("url"), CallSid="CA" + "1" * 32)
    assert "Station 4 5 0, 7 7" in said(whisper)
    calls = {c.call_sid: c for c in db.load_calls(app.extensions["ivr"].recorder.engine)}
    assert calls[call.sid].station_id == "45077"


def test_keyed_digits_find_a_known_station_with_its_letters(make):
    _, call = make(station=True, station_settings="  station_ids: [EA45077, EB12345]\n")
    root = post(call, url_of(gather(to_station(call))), Digits="45077")
    assert "station E A, 4 5 0, 7 7" in said(root) and "without any letters" not in said(root)
    root = post(call, url_of(gather(root)), Digits="1")
    assert params(url_of(gather(root)))["st"] == "EA45077"


@pytest.mark.parametrize("speech", ["E A four five oh double seven", "EA45077", "echo alpha 4 5 0 7 7"])
def test_station_id_spoken_with_letters(make, speech):
    _, call = make(station=True)
    root = post(call, url_of(gather(to_station(call))), SpeechResult=speech, Confidence="0.8")
    assert "station E A, 4 5 0, 7 7" in said(root)
    root = post(call, url_of(gather(root)), SpeechResult="yes", Confidence="0.9")
    assert params(url_of(gather(root)))["st"] == "EA45077"


def test_station_id_spoken(make):
    _, call = make(station=True)
    root = post(call, url_of(gather(to_station(call))), SpeechResult="four five oh double seven", Confidence="0.8")
    assert "4 5 0, 7 7" in said(root)


def test_without_station_id_before_it_is_asked_after_the_welcome(make):
    app, _ = make(station=True)
    assert app.extensions["ivr"].content.flow.settings["station_id_before"]
    _, call = make(station=True, asked_first=True)
    root = post(call, "/voice", CallStatus="ringing")
    assert "station ID" in said(root) and gather(root).get("finishOnKey") == "#"


def test_impossible_station_ids_are_asked_again_then_skipped(make):
    _, call = make(station=True)
    root = to_station(call)
    root = post(call, url_of(gather(root)), Digits="12")
    assert "4 to 10 digits" in said(root) and gather(root).get("finishOnKey") == "#"
    root = post(call, url_of(gather(root)), Digits="0000")
    assert "go on without it" in said(root) and "charger's screen" in said(root)
    assert "st" not in params(url_of(gather(root)))


def test_skip_and_hazard_at_the_station_id(make):
    _, call = make(station=True)
    root = to_station(call)
    skipped = post(call, url_of(gather(root)), SpeechResult="I can't find it", Confidence="0.9")
    assert "go on without it" in said(skipped)
    danger = post(call, url_of(gather(root)), SpeechResult="there's smoke", Confidence="0.9")
    assert "step away" in said(danger).lower()


def test_station_id_not_asked_unless_the_flow_says_so(make):
    _, call = make()
    root = post(call, "/voice", CallStatus="ringing")
    assert gather(root).get("finishOnKey") == "" and "station ID" not in said(root)


def test_a_number_that_stands_for_a_station_is_not_asked(make):
    _app, call = make(station=True)
    root = post(call, "/voice?station=45077", CallStatus="ringing")
    assert "station ID" not in said(root) and params(url_of(gather(root)))["st"] == "45077"


# -- the escalation file -------------------------------------------------------------------------------

def test_a_broken_escalation_file_stops_start_up_with_file_and_line(make):
    with pytest.raises(ContentError) as caught:
        make("fallback:\n  - voicemail\n  - pigeon\n")
    assert "escalation.yaml:1: fallback: 'pigeon' is not a link" in str(caught.value)


def test_a_long_path_whispers_the_last_step_its_result_and_the_count(app):
    from ivr.call import handoff
    from ivr.call.engine import CallState
    content = app.extensions["ivr"].content
    path = ("session_screen", "connector", "unlock_fob", "unlock_cycle", "lock_unlock", "reseat", "charge_lock")
    results = ("y", "", "s", "s", "s", "s", "s")
    state = CallState(node="out_of_steps", path=path, results=results, connector="ccs", station="45077",
                      hazard="fire")
    lines = handoff.whisper_lines(content.catalogs["en-US"], content.flow, state)
    text = " ".join(lines)
    assert lines[1].startswith("Hazard: fire")                  # first, before anything else
    assert "Last step: checked the charge port lock, didn't release" in text
    assert "Station 4 5 0, 7 7" in text and "Steps tried: 6" in text
    assert len(text.split()) <= handoff.WHISPER_WORDS


@responses.activate
def test_a_failed_check_for_an_earlier_text_still_sends(make, monkeypatch):
    app, call = make(sms=True)
    responses.post(MESSAGES, json={"sid": "SM" + "7" * 32, "status": "queued"}, status=201)
    offer = url_of(gather(released(call)))
    recorder = app.extensions["ivr"].recorder

    def broken_connect():
        raise RuntimeError("database down")
    monkeypatch.setattr(recorder.engine, "connect", broken_connect)
    root = post(call, offer, Digits="1")
    assert "on its way" in said(root) and len(responses.calls) == 1


# -- the station ID: the read-back said wrong, and another language's words ---------------------------

def test_a_wrong_read_back_asks_again_and_the_second_try_is_kept(make):
    _, call = make(station=True)
    root = post(call, url_of(gather(to_station(call))), SpeechResult="four five oh double seven", Confidence="0.8")
    assert "I heard station 4 5 0, 7 7" in said(root)
    root = post(call, url_of(gather(root)), SpeechResult="no", Confidence="0.9")          # not that one
    assert "station ID" in said(root) and gather(root).get("finishOnKey") == "#"
    root = post(call, url_of(gather(root)), SpeechResult="four five oh double eight", Confidence="0.8")
    assert "I heard station 4 5 0, 8 8" in said(root)
    root = post(call, url_of(gather(root)), Digits="1")
    assert params(url_of(gather(root)))["st"] == "45088" and "charger's screen" in said(root)


def test_a_read_back_said_wrong_twice_goes_on_without_it(make):
    _, call = make(station=True)
    root = post(call, url_of(gather(to_station(call))), Digits="45077")
    root = post(call, url_of(gather(root)), Digits="2")
    root = post(call, url_of(gather(root)), Digits="45078")
    assert "4 5 0, 7 8" in said(root)
    root = post(call, url_of(gather(root)), Digits="2")
    assert "go on without it" in said(root) and "charger's screen" in said(root)
    assert "st" not in params(url_of(gather(root)))


def test_a_spanish_caller_reads_the_station_id_in_spanish(make):
    _, call = make(station=True)
    root = post(call, "/voice", CallStatus="ringing")
    root = post(call, url_of(gather(root)), Digits="9")                     # the key es-US.yaml names
    assert "seguimos en español" in said(root)
    root = post(call, url_of(gather(root)), Digits="3")
    root = post(call, url_of(gather(root)), Digits="2")
    assert "número de la estación" in said(root)
    root = post(call, url_of(gather(root)), SpeechResult="estación cuatro cinco cero doble siete", Confidence="0.8")
    assert "Entendí la estación 4 5 0, 7 7" in said(root)
    root = post(call, url_of(gather(root)), SpeechResult="sí", Confidence="0.9")
    assert params(url_of(gather(root)))["st"] == "45077"


def test_a_spanish_caller_can_skip_the_station_id_in_spanish(make):
    _, call = make(station=True)
    root = post(call, "/voice", CallStatus="ringing")
    root = post(call, url_of(gather(root)), Digits="9")
    root = post(call, url_of(gather(post(call, url_of(gather(root)), Digits="3"))), Digits="2")
    root = post(call, url_of(gather(root)), SpeechResult="no lo encuentro", Confidence="0.8")
    assert "Sigamos sin él" in said(root) and "st" not in params(url_of(gather(root)))

"""Who may call the webhooks (X-Twilio-Signature), and how often (IVR_RATE_LIMIT)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from conftest import AGENT, TOKEN
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, update
from twilio.request_validator import RequestValidator

from helpers import fields, gather, said, twiml
from ivr.app import create_app
from ivr.config import ConfigError, ratelimit
from ivr.records import callers, db
from ivr.web.security import is_from_twilio, public_url, raw_path

# Twilio's own example, from its "Secure webhooks" documentation page.
EXAMPLE_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
EXAMPLE_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
                  "From": "+12349013030", "To": "+18005551212"}
EXAMPLE_TOKEN = "12345"
EXAMPLE_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="

TURN = "/voice/turn?node=session_ended&lang=en-US"
HANDOFF = "node=agent&lang=en-US"
# Every URL Twilio may call, with fields it would send there.
WEBHOOKS = [
    ("/voice", {"CallStatus": "ringing"}),
    (TURN, {"Digits": "1"}),
    (f"/voice/whisper?{HANDOFF}", {}),
    (f"/voice/whisper/accept?{HANDOFF}", {"Digits": "1"}),
    ("/voice/dial-result?lang=en-US", {"DialCallStatus": "no-answer"}),
    ("/voice/voicemail?lang=en-US", {"RecordingUrl": "https://api.twilio.com/rec/RE1", "RecordingDuration": "12"}),
    ("/voice/status", {"CallStatus": "completed", "CallDuration": "40", "SequenceNumber": "4"}),
    ("/voice/fallback", {"ErrorCode": "11200", "ErrorUrl": "https://ivr.example.com/voice"}),
    # the hand-off's webhooks
    (f"/voice/offer?{HANDOFF}&ch=f&at=0", {"Digits": "1"}),
    (f"/voice/queue/wait?{HANDOFF}", {"QueuePosition": "1", "QueueTime": "30"}),
    (f"/voice/queue/result?{HANDOFF}", {"QueueResult": "hangup", "QueueTime": "30"}),
    ("/voice/voicemail/recording", {"RecordingUrl": "https://api.twilio.com/rec/RE1", "RecordingStatus": "completed"}),
    ("/voice/voicemail/transcription", {"TranscriptionText": "stuck at bay 4", "TranscriptionStatus": "completed"}),
    (f"/voice/callback?{HANDOFF}&ch=f&at=0", {"Digits": "14155550123"}),
    ("/voice/station?lang=en-US", {"Digits": "1234"}),
]


def sign(url: str, data: dict, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, data)


def gunicorn_environ(target: str, **extra) -> dict:
    """What gunicorn puts in the WSGI environ for the request line `POST target`."""
    path, _, query = target.partition("?")
    return {"RAW_URI": target, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "", **extra}


@pytest.fixture
def signed_client(signed_env):
    return create_app(signed_env).test_client()


# -- the validator and the URL it is given ---------------------------------------------

def test_twilios_published_example_passes_with_the_url_rebuilt_from_the_request():
    url = public_url(gunicorn_environ("/myapp.php?foo=1&bar=2"), "https://mycompany.com")
    assert url == EXAMPLE_URL
    assert is_from_twilio(EXAMPLE_TOKEN, url, EXAMPLE_PARAMS, EXAMPLE_SIGNATURE)


@pytest.mark.parametrize("change", [
    {"Digits": "1235"},                      # a tampered parameter
    {"From": "+19999999999"},
    {"Extra": "added"},                      # a parameter added
])
def test_the_example_fails_when_a_parameter_changes(change):
    assert not is_from_twilio(EXAMPLE_TOKEN, EXAMPLE_URL, {**EXAMPLE_PARAMS, **change}, EXAMPLE_SIGNATURE)


@pytest.mark.parametrize("url", [
    "http://mycompany.com/myapp.php?foo=1&bar=2",      # http, when Twilio used https
    "https://mycompany.com/myapp.php?foo=1&bar=3",     # another query
    "https://mycompany.com/myapp.php?bar=2&foo=1",     # the same query, reordered
    "https://evil.example/myapp.php?foo=1&bar=2",      # another host
])
def test_the_example_fails_for_any_other_url(url):
    assert not is_from_twilio(EXAMPLE_TOKEN, url, EXAMPLE_PARAMS, EXAMPLE_SIGNATURE)


def test_the_example_fails_with_another_accounts_token_or_no_signature():
    assert not is_from_twilio("54321", EXAMPLE_URL, EXAMPLE_PARAMS, EXAMPLE_SIGNATURE)
    assert not is_from_twilio(EXAMPLE_TOKEN, EXAMPLE_URL, EXAMPLE_PARAMS, None)
    assert not is_from_twilio(EXAMPLE_TOKEN, EXAMPLE_URL, EXAMPLE_PARAMS, "")


def test_the_example_passes_with_the_default_port_written_out():
    assert is_from_twilio(EXAMPLE_TOKEN, "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                          EXAMPLE_PARAMS, EXAMPLE_SIGNATURE)


@settings(max_examples=300, deadline=None)
@given(scheme=st.sampled_from(["http", "https"]), port=st.sampled_from(["", ":80", ":443", ":8443"]),
       path=st.sampled_from(["/voice", "/voice/turn?node=unlock_fob&lang=en-US", "/myapp.php?foo=1&bar=2"]),
       fields=st.dictionaries(st.sampled_from(["CallSid", "Digits", "SpeechResult", "From"]),
                              st.text(max_size=12), max_size=4),
       signed_for=st.sampled_from(["without port", "with port", "as sent", "nothing"]),
       token=st.sampled_from([EXAMPLE_TOKEN, "54321"]))
def test_one_hmac_or_two_the_answer_is_validates(scheme, port, path, fields, signed_for, token):
    """is_from_twilio tries the URL form that arrived first, and agrees with
    RequestValidator.validate on every URL, port, field set and signature."""
    from urllib.parse import urlparse

    from twilio.request_validator import add_port, remove_port
    url = f"{scheme}://ivr.example.com{port}{path}"
    parsed = urlparse(url)
    signer = RequestValidator(EXAMPLE_TOKEN)
    signature = {"without port": lambda: signer.compute_signature(remove_port(parsed), fields),
                 "with port": lambda: signer.compute_signature(add_port(parsed), fields),
                 "as sent": lambda: signer.compute_signature(url, fields),
                 "nothing": lambda: EXAMPLE_SIGNATURE}[signed_for]()
    expected = RequestValidator(token).validate(url, fields, signature)
    assert is_from_twilio(token, url, fields, signature) == expected


@pytest.mark.parametrize("environ, expected", [
    # gunicorn: the request line as sent, %27 and %40 kept
    (gunicorn_environ("/voice/turn?x=it%27s%40here&lang=en-US"), "/voice/turn?x=it%27s%40here&lang=en-US"),
    # a server that fills REQUEST_URI only
    ({"REQUEST_URI": "/voice?a=%2F", "QUERY_STRING": "a=%2F"}, "/voice?a=%2F"),
    # a server that puts only the path in RAW_URI
    ({"RAW_URI": "/voice/turn", "PATH_INFO": "/voice/turn", "QUERY_STRING": "x=%27"}, "/voice/turn?x=%27"),
    # an absolute-form request line (a forward proxy)
    (gunicorn_environ("http://ivr.example.com/voice?x=%40"), "/voice?x=%40"),
    # a URL inside the query is not a request line
    (gunicorn_environ("/voice/turn?next=http://a/b"), "/voice/turn?next=http://a/b"),
    # no raw URI at all: rebuilt from the WSGI path and the raw QUERY_STRING
    ({"PATH_INFO": "/voice/turn", "QUERY_STRING": "x=it%27s", "SCRIPT_NAME": ""}, "/voice/turn?x=it%27s"),
])
def test_raw_path_is_the_path_as_requested(environ, expected):
    assert raw_path(environ) == expected


# -- every webhook, through the app ----------------------------------------------------------

@pytest.mark.parametrize("url, extra", WEBHOOKS, ids=[u.split("?")[0] for u, _ in WEBHOOKS])
def test_every_webhook_refuses_unsigned_forged_and_foreign_requests(signed_client, url, extra):
    data = fields(**extra)
    good = sign("http://localhost" + url, data)
    assert signed_client.post(url, data=data, headers={"X-Twilio-Signature": good}).status_code in (200, 204)
    refused = [
        signed_client.post(url, data=data),                                                   # unsigned
        signed_client.post(url, data={**data, "From": "+19999999999"},                        # tampered
                           headers={"X-Twilio-Signature": good}),
        signed_client.post(url, data=data,                                                    # other account
                           headers={"X-Twilio-Signature": sign("http://localhost" + url, data, "f" * 32)}),
        signed_client.post(url + ("&" if "?" in url else "?") + "node=released", data=data,  # other URL
                           headers={"X-Twilio-Signature": good}),
    ]
    for response in refused:
        assert response.status_code == 403
        assert b"Response" not in response.data and AGENT.encode() not in response.data


def test_health_check_needs_no_signature(signed_client):
    assert signed_client.get("/healthz").status_code == 200


def test_an_encoded_query_is_checked_as_sent_not_as_decoded(signed_client):
    url = "/voice/turn?node=session_ended&lang=en-US&note=it%27s%40here"
    data = fields(Digits="1")
    response = signed_client.post(url, data=data, headers={"X-Twilio-Signature": sign("http://localhost" + url, data)})
    assert response.status_code == 200
    decoded = sign("http://localhost/voice/turn?node=session_ended&lang=en-US&note=it's@here", data)
    assert signed_client.post(url, data=data, headers={"X-Twilio-Signature": decoded}).status_code == 403


# -- behind a TLS proxy ----------------------------------------------------------------------

PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "ivr.example.com"}


@pytest.mark.parametrize("signed_url, headers, expected", [
    ("https://ivr.example.com/voice", PROXY, 200),
    ("https://ivr.example.com:443/voice", PROXY, 200),                  # Twilio may sign with the port
    ("http://ivr.example.com/voice", PROXY, 403),                       # http, but Twilio called https
    ("http://localhost/voice", PROXY, 403),                             # the inside URL
    ("https://ivr.example.com:8443/voice", {**PROXY, "X-Forwarded-Host": "ivr.example.com:8443"}, 200),
    ("https://ivr.example.com/voice", {}, 403),                         # no proxy headers: not the public URL
])
def test_signature_behind_one_proxy_hop(signed_client, signed_url, headers, expected):
    data = fields(CallStatus="ringing")
    response = signed_client.post("/voice", data=data, headers={"X-Twilio-Signature": sign(signed_url, data), **headers})
    assert response.status_code == expected


def test_a_configured_public_url_wins_over_forwarded_headers(signed_env):
    client = create_app({**signed_env, "IVR_PUBLIC_URL": "https://ivr.example.com"}).test_client()
    data = fields(CallStatus="ringing")
    response = client.post("/voice", data=data, headers={"X-Twilio-Signature": sign("https://ivr.example.com/voice", data)})
    assert response.status_code == 200
    assert gather(twiml(response)).get("action").startswith("https://ivr.example.com/voice/turn?")
    # Forwarded headers cannot move the URL the signature is checked against.
    forged = sign("https://evil.example/voice", data)
    assert client.post("/voice", data=data, headers={
        "X-Twilio-Signature": forged, "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}).status_code == 403


# -- bodies, secrets and debug -----------------------------------------------------------------

def test_a_body_over_the_limit_is_refused_unread_when_signatures_are_checked(signed_client):
    data = fields(SpeechResult="x" * 70_000)
    response = signed_client.post("/voice", data=data, headers={"X-Twilio-Signature": sign("http://localhost/voice", data)})
    assert response.status_code == 403 and response.mimetype == "text/plain"


def test_a_body_over_the_limit_gets_the_apology_in_development(client):
    root = twiml(client.post("/voice", data=fields(SpeechResult="x" * 70_000)))
    assert "sorry" in said(root).lower() and root.find("Dial/Number").text == AGENT


def test_the_auth_token_never_reaches_logs_or_answers(signed_env, caplog, monkeypatch):
    app = create_app(signed_env)
    monkeypatch.setattr(app.extensions["ivr"].content.engine, "start",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("engine down")))
    client = app.test_client()
    caplog.set_level(logging.DEBUG)
    data = fields(CallStatus="ringing")
    answers = [client.post("/voice", data=data),
               client.post("/voice", data=data, headers={"X-Twilio-Signature": sign("http://localhost/voice", data)})]
    assert answers[0].status_code == 403 and answers[1].status_code == 200
    for text in [caplog.text, *(a.get_data(as_text=True) for a in answers)]:
        assert TOKEN not in text


def test_no_debug_mode_even_with_flask_debug_set(signed_env, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app(signed_env)
    assert app.debug is False and not app.config["PROPAGATE_EXCEPTIONS"]


# -- the rate limit ----------------------------------------------------------------------------

@pytest.mark.parametrize("raw, calls, seconds", [("5/10m", 5, 600), ("3/h", 3, 3600), (" 20 / 30s ", 20, 30),
                                                 ("", 30, 600), ("100/1d", 100, 86400)])
def test_rate_limit_spec(raw, calls, seconds):
    limit = ratelimit.parse(raw)
    assert (limit.calls, limit.window.total_seconds()) == (calls, seconds)


@pytest.mark.parametrize("raw", ["off", "0", "OFF"])
def test_rate_limit_can_be_turned_off(raw):
    assert ratelimit.parse(raw) is None


@pytest.mark.parametrize("raw", ["5", "five/10m", "5/10x", "0/10m", "5/0m", "-1/10m"])
def test_a_bad_rate_limit_stops_start_up_with_its_name(env, raw):
    with pytest.raises(ConfigError) as info:
        create_app({**env, "IVR_RATE_LIMIT": raw})
    assert "IVR_RATE_LIMIT" in str(info.value) and "5/10m" in str(info.value)


@pytest.fixture
def limited_env(env):
    return {**env, "IVR_RATE_LIMIT": "2/10m", "IVR_SUPPORT_NUMBER": "+18005550111"}


def call_in(client, sid: str, caller: str):
    return twiml(client.post("/voice", data=fields(CallSid=sid, From=caller, CallStatus="ringing")))


def sid(n: int) -> str:
    return f"CA{n:032x}"


def test_a_caller_over_the_limit_still_hears_the_safety_line_and_reaches_a_person(limited_env):
    app = create_app(limited_env)
    client = app.test_client()
    assert gather(call_in(client, sid(1), "+15555550123")) is not None
    assert gather(call_in(client, sid(2), "+15555550123")) is not None
    root = call_in(client, sid(3), "+15555550123")
    # No bot, but never "I can't take this call": the safety line, then a person.
    assert gather(root) is None and root.find("Dial/Number").text == AGENT
    text = said(root)
    assert "9 1 1" in text and "don't drive off with the cable attached" in text
    # Other callers are not affected.
    assert gather(call_in(client, sid(4), "+15555550999")) is not None


def test_a_driver_redialling_eight_times_in_a_minute_is_never_turned_away(env):
    """A garage with no signal: the call keeps dropping, the driver keeps calling."""
    client = create_app({**env, "IVR_RATE_LIMIT": ""}).test_client()   # the default limit
    for n in range(1, 9):
        root = call_in(client, sid(n), "+15555550123")
        assert gather(root) is not None, f"call {n} did not reach the bot"


def test_refused_calls_do_not_count_toward_the_limit(limited_env):
    app = create_app(limited_env)
    client = app.test_client()
    call_in(client, sid(1), "+15555550123")
    call_in(client, sid(2), "+15555550123")
    for n in (3, 4, 5):
        assert gather(call_in(client, sid(n), "+15555550123")) is None  # over the limit: put through
    with app.extensions["ivr"].recorder.engine.begin() as conn:          # the first two age out
        conn.execute(update(db.calls).where(db.calls.c.call_sid.in_([sid(1), sid(2)]))
                     .values(started_at=datetime.now(timezone.utc) - timedelta(minutes=11)))
    # Three refused calls in the window do not keep the driver locked out.
    assert gather(call_in(client, sid(6), "+15555550123")) is not None


def test_an_agent_cap_sends_a_flood_to_the_fallback_with_the_support_number(limited_env):
    app = create_app({**limited_env, "IVR_AGENT_CAP": "1/h"})
    client = app.test_client()
    for n in (1, 2):
        call_in(client, sid(n), "+15555550123")
    root = call_in(client, sid(3), "+15555550123")                       # over the limit: a person
    assert root.find("Dial") is not None
    client.post("/voice/dial-result?node=session_screen&lang=en-US&ch=f&at=-1&leg=1",
                data=fields(CallSid=sid(3), From="+15555550123", DialCallStatus="no-answer"))
    root = call_in(client, sid(4), "+15555550123")                       # capped: no more ringing
    assert root.find("Dial") is None
    while gather(root) is not None:                                      # decline every offer
        root = twiml(client.post(urlsplit(gather(root).get("action")).path + "?"
                                 + urlsplit(gather(root).get("action")).query,
                                 data=fields(CallSid=sid(4), From="+15555550123", Digits="2")))
    assert "1, 8 0 0, 5 5 5, 0 1 1 1" in said(root) and root.find("Hangup") is not None


def test_the_count_lives_in_the_database_shared_by_every_worker(limited_env):
    worker_a = create_app(limited_env).test_client()
    worker_b = create_app(limited_env).test_client()   # another process or host, same DATABASE_URL
    call_in(worker_a, sid(1), "+15555550123")
    call_in(worker_b, sid(2), "+15555550123")
    assert gather(call_in(worker_a, sid(3), "+15555550123")) is None
    assert gather(call_in(create_app(limited_env).test_client(), sid(4), "+15555550123")) is None  # after a restart


def test_calls_older_than_the_window_do_not_count(limited_env):
    app = create_app(limited_env)
    long_ago = datetime.now(timezone.utc) - timedelta(minutes=11)
    with app.extensions["ivr"].recorder.engine.begin() as conn:
        for n in (1, 2, 3):
            conn.execute(insert(db.calls).values(call_sid=sid(n), from_number="+15555550123",
                                                 started_at=long_ago, outcome="released"))
    assert gather(call_in(app.test_client(), sid(9), "+15555550123")) is not None


def test_a_retried_first_webhook_gets_the_same_answer(limited_env):
    client = create_app(limited_env).test_client()
    call_in(client, sid(1), "+15555550123")
    first = client.post("/voice", data=fields(CallSid=sid(2), From="+15555550123", CallStatus="ringing"))
    retry = client.post("/voice", data=fields(CallSid=sid(2), From="+15555550123", CallStatus="ringing"))
    assert gather(twiml(first)) is not None and first.data == retry.data


@pytest.mark.parametrize("caller", ["anonymous", "Anonymous", "+266696687", "+7378742833", "", "restricted"])
def test_hidden_numbers_are_never_limited(env, caller):
    client = create_app({**env, "IVR_RATE_LIMIT": "1/10m"}).test_client()
    for n in range(3):
        assert gather(call_in(client, sid(n), caller)) is not None


@pytest.mark.parametrize("caller", ["client:alice", "sip:driver@example.com"])
def test_client_and_sip_callers_are_limited_by_identity(env, caller):
    client = create_app({**env, "IVR_RATE_LIMIT": "1/10m"}).test_client()
    assert gather(call_in(client, sid(1), caller)) is not None
    assert gather(call_in(client, sid(2), caller)) is None


def test_when_the_count_fails_the_call_gets_in(limited_env, monkeypatch):
    client = create_app(limited_env).test_client()
    for n in (1, 2):
        call_in(client, sid(n), "+15555550123")

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")
    monkeypatch.setattr(callers, "over_limit", broken)
    assert gather(call_in(client, sid(3), "+15555550123")) is not None


def test_the_limit_is_off_when_asked(env):
    client = create_app({**env, "IVR_RATE_LIMIT": "off"}).test_client()
    for n in range(8):
        assert gather(call_in(client, sid(n), "+15555550123")) is not None


def test_the_limit_is_on_by_default(env):
    from ivr import config
    without = {k: v for k, v in env.items() if k != "IVR_RATE_LIMIT"}
    assert config.load(without).rate_limit == ratelimit.parse(ratelimit.DEFAULT)

"""Bad input never becomes a 5xx and never leaks into the TwiML (hypothesis).

Arbitrary form fields go to every webhook: huge, empty, unicode, control
characters, markup, wrong types, a missing CallSid, unknown calls, odd caller
IDs. Whatever comes in, the answer is a 2xx/4xx; a 200 is TwiML that parses,
uses only the verbs we write, dials only our agent, sends Twilio only to our
own URLs, and says nothing the request brought.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from conftest import AGENT, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.app import create_app

MARK = "INJ"  # every generated text carries it, so an echo is easy to find
TWIML_TAGS = {"Response", "Say", "prosody", "Gather", "Redirect", "Dial", "Number", "Hangup",
              "Record", "Pause", "Play", "Enqueue", "Leave", "Queue", "break"}
WEBHOOKS = [
    "/voice", "/voice/", "/voice?station=ST-1", "/voice/turn?node=session_screen&lang=en-US",
    "/voice/turn?node=session_screen&lang=en-US&mode=wait&tries=2&path=welcome",
    "/voice/turn", "/voice/turn?node=%3CDial%3E&lang=xx", "/voice/whisper?node=agent&lang=en-US",
    "/voice/whisper", "/voice/whisper/accept?node=agent&lang=en-US", "/voice/dial-result?lang=en-US",
    "/voice/dial-result", "/voice/voicemail?lang=en-US", "/voice/status", "/voice/fallback",
    # the hand-off's webhooks
    "/voice/offer?node=agent&lang=en-US&ch=f&at=0", "/voice/offer", "/voice/queue/wait?lang=en-US",
    "/voice/queue/result?node=agent&lang=en-US", "/voice/voicemail/recording", "/voice/voicemail/transcription",
    "/voice/callback?node=agent&lang=en-US&ch=f&at=0", "/voice/callback", "/voice/station?lang=en-US",
]
TWILIO_FIELDS = ["QueueResult", "QueueTime", "TranscriptionText", "TranscriptionStatus", "CallSid", "AccountSid", "From", "To",
                 "Caller", "Called", "CallStatus", "Direction",
                 "ApiVersion", "Digits", "SpeechResult", "Confidence", "DialCallStatus", "DialCallSid",
                 "DialCallDuration", "RecordingUrl", "RecordingSid", "RecordingDuration", "CallDuration",
                 "SequenceNumber", "Timestamp", "CallbackSource", "ErrorCode", "ErrorUrl", "StirVerstat"]

markup = st.sampled_from([
    "<Dial>+19005550000</Dial>", "</Say><Hangup/>", "]]><Redirect>http://evil.example/</Redirect>",
    "&amp;&lt;&#0;", "<?xml version='1.0'?>", "'\"><script>alert(1)</script>", "{whisper}", "%s%n",
    "{0.__class__}", "${jndi:ldap://x}",
])
awkward = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),          # control characters
    st.text(alphabet=st.characters(min_codepoint=0x80, exclude_categories=("Cs",)), max_size=20),  # unicode, emoji
    markup,
    st.sampled_from(["", " ", "NaN", "inf", "-1", "1e309", "0x10", "1" * 40, "0.95", "yes", "#*0"]),
    st.builds(lambda n: "9" * n, st.integers(1000, 20_000)),                   # long, under the body limit
)
value = st.builds(lambda text: MARK + text, awkward) | st.sampled_from(["", "1", "2", "0", "*", "#"])
callers = st.sampled_from(["anonymous", "client:alice", "sip:driver@example.com;transport=tls", "",
                           "+266696687", "+15555550123", "Restricted", "+1 (555) 555-0123", MARK + "<b>"])
sids = st.sampled_from([None, "", "CA" + "f" * 32, "CA" + "0" * 32, "not-a-sid", MARK + "\x00", "CA" * 40])


@st.composite
def forms(draw):
    form = draw(st.dictionaries(st.sampled_from(TWILIO_FIELDS) | st.text(min_size=1, max_size=12), value,
                                max_size=8))
    sid = draw(sids)
    if sid is None:
        form.pop("CallSid", None)
    else:
        form["CallSid"] = sid
    form["From"] = draw(callers)
    return form


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    database = tmp_path_factory.mktemp("properties") / "ivr.db"
    app = create_app({"IVR_DEV": "1", "IVR_AGENT_NUMBER": AGENT, "DATABASE_URL": f"sqlite:///{database}",
                      "IVR_FLOWS_DIR": str(ROOT / "flows"), "IVR_PROMPTS_DIR": str(ROOT / "prompts"),
                      "IVR_RATE_LIMIT": "3/10m", "IVR_SUPPORT_NUMBER": "+18005550111"},
                     log_errors=False)
    return app.test_client()


def check(response) -> None:
    assert response.status_code < 500, response.data[:300]
    if response.status_code != 200:
        return
    assert response.mimetype == "text/xml"
    assert response.data.startswith(b"<?xml")
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    for element in root.iter():
        assert element.tag in TWIML_TAGS, element.tag
        if element.tag == "Number":
            assert element.text == AGENT
        for name, attribute in element.attrib.items():
            if name in ("action", "url"):
                assert urlsplit(attribute).netloc == "localhost" and urlsplit(attribute).path.startswith("/voice")
            assert "<" not in attribute
        if element.tag == "Redirect":
            assert urlsplit(element.text).netloc == "localhost"
    spoken = " ".join("".join(say.itertext()) for say in root.iter("Say"))
    assert MARK not in spoken


SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


@pytest.mark.parametrize("url", WEBHOOKS)
@SETTINGS
@given(form=forms())
def test_any_form_to_any_webhook(client, url, form):
    check(client.post(url, data=form))


@SETTINGS
@given(query=st.dictionaries(st.sampled_from(["node", "lang", "tries", "rep", "mode", "path", "conn", "hz",
                                              "c4", "station"]), value, max_size=6),
       form=forms())
def test_any_query_to_the_turn_webhook(client, query, form):
    check(client.post("/voice/turn", query_string=query, data=form))
    check(client.post("/voice/whisper", query_string=query, data=form))


@SETTINGS
@given(body=st.binary(max_size=2000),
       content_type=st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data",
                                     "multipart/form-data; boundary=zz", "application/json", "text/plain", ""]))
def test_any_body_bytes(client, body, content_type):
    for url in ("/voice", "/voice/turn?node=session_screen&lang=en-US", "/voice/status"):
        check(client.post(url, data=body, content_type=content_type))


def test_a_body_over_the_limit(client):
    check(client.post("/voice", data={"CallSid": "CA" + "1" * 32, "SpeechResult": MARK * 30_000}))

"""A phone call without a phone: plays Twilio's part against the real webhooks.

It posts what Twilio would post (CallSid, From, To, SpeechResult, Confidence,
Digits, DialCallStatus...), signs it when an auth token is set, follows the
TwiML it gets back, and shows what the caller would hear.
"""
from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

BASE = "http://localhost"


@dataclass
class Event:
    kind: str  # "say" | "listen" | "dial" | "whisper" | "record" | "queue" | "hangup"
    text: str = ""
    detail: dict = field(default_factory=dict)


class Call:
    """One simulated call through a Flask test client."""

    def __init__(self, client, auth_token: str | None = None, caller: str = "+15555550123",
                 called: str = "+18005550199", confidence: float = 0.92, station: str | None = None):
        self.client = client
        self.station = station   # as `configure-number --station` puts it on the voice URL
        self.validator = RequestValidator(auth_token) if auth_token else None
        self.sid = "CA" + secrets.token_hex(16)
        self.caller, self.called, self.confidence = caller, called, confidence
        self.heard: list[str] = []
        self.ended = False
        self.sequence = 0

    # -- talking to the server ----------------------------------------------------

    def post(self, url: str, fields: dict | None = None):
        params = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.caller,
                  "To": self.called, "Direction": "inbound", "ApiVersion": "2010-04-01",
                  "CallStatus": "in-progress", **(fields or {})}
        absolute = url if "://" in url else BASE + url
        headers = {}
        if self.validator:
            headers["X-Twilio-Signature"] = self.validator.compute_signature(absolute, params)
        parts = urlsplit(absolute)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.client.post(path, data=params, headers=headers, base_url=f"{parts.scheme}://{parts.netloc}")

    def status(self, status: str = "completed", duration: int = 60) -> None:
        self.sequence += 1
        self.post("/voice/status", {"CallStatus": status, "CallDuration": str(duration),
                                    "SequenceNumber": str(self.sequence),
                                    "CallbackSource": "call-progress-events"})

    # -- following TwiML ------------------------------------------------------------

    def run(self, answer: Callable[[Event], dict | None], on_event: Callable[[Event], None] = lambda e: None,
            max_turns: int = 200) -> str:
        """Play the call to its end; `answer` gives the caller's fields for each listen.

        Returns how the call ended: "hangup", "dial:<status>" or "stopped".
        """
        start = "/voice" + (f"?{urlencode({'station': self.station})}" if self.station else "")
        response = self.post(start, {"CallStatus": "ringing"})
        for _ in range(max_turns):
            root = ET.fromstring(response.data)
            next_request = None
            for verb in root:
                if verb.tag == "Say":
                    event = Event("say", _text(verb))
                    self.heard.append(event.text)
                    on_event(event)
                elif verb.tag == "Gather":
                    for say in verb.iter("Say"):
                        event = Event("say", _text(say))
                        self.heard.append(event.text)
                        on_event(event)
                    listen = Event("listen", detail=dict(verb.attrib))
                    on_event(listen)
                    fields = answer(listen)
                    if fields is None:
                        self.ended = True
                        self.status("completed")
                        return "caller hung up"
                    next_request = (verb.attrib["action"], fields)
                    break
                elif verb.tag == "Dial":
                    number = verb.find("Number")
                    event = Event("dial", (number.text or "") if number is not None else "", dict(verb.attrib))
                    if number is not None and (whisper_url := number.get("url")):
                        whisper = self.post(whisper_url)
                        event.detail["whisper"] = [_text(s) for s in ET.fromstring(whisper.data).iter("Say")]
                    on_event(event)
                    fields = answer(event) or {"DialCallStatus": "no-answer"}
                    if "action" not in verb.attrib:
                        return f"dial:{fields.get('DialCallStatus')}"
                    next_request = (verb.attrib["action"], fields)
                    break
                elif verb.tag == "Record":
                    event = Event("record", detail=dict(verb.attrib))
                    on_event(event)
                    fields = answer(event)
                    if fields is None:  # an empty recording sends no request: on to the next verb
                        continue
                    next_request = (verb.attrib["action"], fields)
                    break
                elif verb.tag == "Enqueue":
                    wait = self.post(verb.attrib["waitUrl"], {"QueuePosition": "1", "QueueTime": "0",
                                                           "QueueSid": "QU" + "0" * 32})
                    event = Event("queue", verb.text or "", dict(verb.attrib))
                    event.detail["wait"] = [_text(s) for s in ET.fromstring(wait.data).iter("Say")]
                    on_event(event)
                    fields = answer(event) or {"QueueResult": "leave"}
                    next_request = (verb.attrib["action"], fields)
                    break
                elif verb.tag == "Redirect":
                    next_request = (verb.text or "", {})
                    break
                elif verb.tag == "Hangup":
                    on_event(Event("hangup"))
                    self.ended = True
                    self.status("completed")
                    return "hangup"
            if next_request is None:
                on_event(Event("hangup"))
                self.ended = True
                self.status("completed")
                return "hangup"
            response = self.post(*next_request)
        return "stopped"

    def fields_for(self, typed: str) -> dict:
        """What Twilio posts for a typed answer: keys as Digits, words as speech."""
        typed = typed.strip()
        if typed and all(ch in "0123456789*#" for ch in typed) and len(typed) <= 12:
            return {"Digits": typed}
        if not typed:
            return {}
        return {"SpeechResult": typed, "Confidence": f"{self.confidence:.2f}"}


def _text(say: ET.Element) -> str:
    return " ".join("".join(say.itertext()).split())

"""Reading TwiML as XML, for assertions on meaning rather than bytes."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CALL_SID = "CA" + "f" * 32


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return root


def said(root: ET.Element) -> str:
    """Everything spoken, in order, as one string."""
    return " ".join(" ".join("".join(s.itertext()).split()) for s in root.iter("Say"))


def gather(root: ET.Element) -> ET.Element | None:
    return root.find("Gather")


def action_of(root: ET.Element) -> str:
    """The Gather's action as a path with query, ready to post to."""
    g = gather(root)
    assert g is not None, "expected a question"
    parts = urlsplit(g.get("action"))
    return parts.path + "?" + parts.query


def state_of(root: ET.Element) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(gather(root).get("action")).query).items()}


def fields(**extra) -> dict:
    base = {"CallSid": CALL_SID, "AccountSid": "AC" + "0" * 32, "From": "+15555550123",
            "To": "+18005550199", "CallStatus": "in-progress", "Direction": "inbound",
            "ApiVersion": "2010-04-01"}
    base.update(extra)
    return base


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a file, which must be there."""
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def keypad(*keys):
    """A caller for ivr.tools.simulator: presses `keys` in turn, then hangs up; the agent answers."""
    pending = list(keys)

    def answer(event):
        if event.kind == "listen":
            return {"Digits": pending.pop(0)} if pending else None
        if event.kind == "dial":
            return {"DialCallStatus": "completed", "DialCallSid": "CA" + "1" * 32}
        return None
    return answer

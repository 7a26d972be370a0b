"""The station in the call (issue 14), through the webhooks, against the test CPO with
its OCPP charger (tests/ocpi_cpo.py): a running session stopped then released, a stop
that fails then a person with the result in the whisper, a CHAdeMO unlock with the
automatic policy and with the agent's key, a hazard with current flowing, the back end
down, a result that never comes, and the result read by another worker.

Server tests (the `cpo` and `line` fixtures): `pytest -m server`."""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from ivr.ocpi import store
from ocpi_peer import CPO_TOKEN, LINE_TOKEN, Line, backend_of, cpo, engine_of, ocpi_env

CALLER = "+14155550123"
LINE_NUMBER = "+14155550100"


class Call:
    """One caller's call through the line's webhooks over HTTP (the CPO posts to the same server)."""

    def __init__(self, line, sid: str = "CA" + "1" * 32):
        self.line, self.sid = line, sid
        self.root: ET.Element | None = None

    def post(self, url: str, **form) -> ET.Element:
        data = {"CallSid": self.sid, "From": CALLER, "To": LINE_NUMBER, "AccountSid": "AC" + "a" * 32,
                "CallStatus": "in-progress", **form}
        answer = requests.post(url if url.startswith("http") else self.line.url + url, data=data, timeout=20)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/xml")
        self.root = ET.fromstring(answer.text)
        return self.root

    def start(self, station: str) -> ET.Element:
        return self.post(f"/voice?station={station}", CallStatus="ringing")

    @property
    def said(self) -> list[str]:
        return [s.text or "" for s in self.root.iter("Say")]

    @property
    def words(self) -> str:
        return " ".join(self.said)

    @property
    def action(self) -> str:
        gather = self.root.find("Gather")
        assert gather is not None, self.words
        return gather.get("action")

    @property
    def state(self) -> dict:
        return dict(parse_qsl(urlsplit(self.action).query))

    def answer(self, speech: str | None = None, digits: str | None = None) -> ET.Element:
        form = {}
        if speech is not None:
            form.update(SpeechResult=speech, Confidence="0.92")
        if digits is not None:
            form["Digits"] = digits
        return self.post(self.action, **form)

    def wait_out(self, turns: int = 12) -> ET.Element:
        """Silent turns of the listening wait until it ends."""
        for _ in range(turns):
            if "/voice/station/wait" not in self.action:
                return self.root
            gather = self.root.find("Gather")
            assert int(gather.get("timeout")) <= 5
            time.sleep(0.3)
            self.answer()
        raise AssertionError("the wait did not end")


@pytest.fixture
def station_line(ocpi_env, cpo):
    served = Line({**ocpi_env, "IVR_AGENT_NUMBER": "+14155550199"})
    assert backend_of(served.served).sync(full=True) == 6
    yield served
    served.stop()


def to_session_question(call: Call) -> None:
    """E12345 has CCS and CHAdeMO: the line asks among its own; CCS, still stuck: the session question."""
    call.start("E12345")
    assert "This charger has" in call.words and "Press 1 for" in call.words
    call.answer(digits="1")
    assert call.state["node"] == "ccs_button"
    call.answer("it's still stuck")


def test_a_running_session_is_stopped_remotely_then_the_release_steps(station_line, cpo):
    cpo.control(command={"result": "ACCEPTED", "delay": 0.5})
    call = Call(station_line)
    to_session_question(call)
    assert "The station shows your session is still running. I'll stop it now." in call.said
    assert "/voice/station/wait" in call.action and call.root.find("Gather").get("timeout") == "3"
    sent = cpo.read("commands")
    assert [c["command"] for c in sent] == ["STOP_SESSION"] and sent[0]["body"]["session_id"] == "SES-1"
    call.wait_out()
    assert call.said[0] == "It's stopped. Now let's free the plug."
    assert call.state["node"] != "session_screen" and call.state["sr"] == "stop-ok"
    actions = [a["action"] for a in store.actions_of(engine_of(station_line.served), call.sid)]
    assert "stop_session" in actions and "result" in actions


def test_a_stop_that_fails_says_so_then_a_person_hears_the_result_in_the_whisper(station_line, cpo):
    cpo.control(command={"result": "REJECTED", "delay": 0.2})
    call = Call(station_line)
    to_session_question(call)
    call.wait_out()
    assert call.said[0] == "The station didn't accept the command." and "Let's go on with the steps." in call.said
    call.answer("agent")
    dial = call.root.find("Dial")
    assert dial is not None
    whisper = dial.find("Number").get("url")
    agent = Call(station_line, sid="CA" + "2" * 32)
    agent.post(whisper)
    assert "Remote stop: refused." in agent.said

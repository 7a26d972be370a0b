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
from ocpi_peer import CPO_TOKEN, LINE_TOKEN, Cpo, Line, backend_of, engine_of, wait_for

pytest.importorskip("ocpp")
ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent

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
def site():
    """The test CPO with its OCPP 1.6J charger behind it (tests/ocpp_charger.py)."""
    peer = Cpo("--token", CPO_TOKEN, "--line-token", LINE_TOKEN, "--ocpp")
    yield peer
    peer.stop()


def line_env(env, site, **extra) -> dict:
    return {**env, "IVR_OCPI_VERSIONS_URL": site.versions_url, "IVR_OCPI_TOKEN": CPO_TOKEN,
            "IVR_OCPI_INBOUND_TOKEN": LINE_TOKEN, "IVR_STATION_TIMEOUT": "3", **extra}


@pytest.fixture
def station_line(env, site):
    served = Line(line_env(env, site))
    assert backend_of(served.served).sync(full=True) == 6
    yield served
    served.stop()


def flows_with(tmp_path, settings_line: str) -> str:
    """The shipped flows, with one more line under `settings:` (the operator's choice)."""
    folder = tmp_path / "flows"
    folder.mkdir()
    for path in (ROOT / "flows").iterdir():
        text = path.read_text()
        if path.name == "stuck_connector.yaml":
            text = text.replace("settings:\n", f"settings:\n  {settings_line}\n", 1)
        (folder / path.name).write_text(text)
    return str(folder)


def chademo_line(env, site, tmp_path, policy: str):
    """A CHAdeMO charger whose handle the station holds, no session (E99999); `policy` for it."""
    site.add_evse(location_id="LOC9", uid="EVSE-9", physical_reference="E99999", standard="CHADEMO", status="BLOCKED")
    flows = flows_with(tmp_path, f"stations: {{unlock: agent, by_station: {{E99999: {{unlock: {policy}}}}}}}")
    served = Line(line_env(env, site, IVR_FLOWS_DIR=flows))
    backend_of(served.served).sync(full=True)
    return served


def to_the_station_hand_off(call: Call) -> None:
    """CHAdeMO (the charger has no other plug: not asked), the light stays on: the station's lock."""
    call.start("E99999")
    assert "This charger has" not in call.words and call.state["node"] == "chademo_light"
    call.answer("yes")
    assert call.state["node"] == "chademo_lit"
    call.answer("no")


def to_session_question(call: Call) -> None:
    """E12345 has CCS and CHAdeMO: the line asks among its own; CCS, still stuck: the session question."""
    call.start("E12345")
    assert "This charger has" in call.words and "Press 1 for" in call.words
    call.answer(digits="1")
    assert call.state["node"] == "ccs_button"
    call.answer("it's still stuck")


def test_a_running_session_is_stopped_remotely_then_the_release_steps(station_line, site):
    site.control(charger={"stop": "Accepted", "stop_delay": 0.5}, command={"timeout": 30})
    call = Call(station_line)
    to_session_question(call)
    assert "The station shows your session is still running. I'll stop it now." in call.said
    assert "/voice/station/wait" in call.action and call.root.find("Gather").get("timeout") == "3"
    sent = site.read("commands")
    assert [c["command"] for c in sent] == ["STOP_SESSION"] and sent[0]["body"]["session_id"] == "SES-1"
    call.wait_out()
    assert call.said[0] == "It's stopped. Now let's free the plug."
    assert call.state["node"] != "session_screen" and call.state["sr"] == "stop-ok"
    actions = [a["action"] for a in store.actions_of(engine_of(station_line.served), call.sid)]
    assert "stop_session" in actions and "result" in actions
    assert [entry[0] for entry in site.read("ocpp")] == ["RemoteStopTransaction", "StopTransaction"]


def test_a_stop_that_fails_says_so_then_a_person_hears_the_result_in_the_whisper(station_line, site):
    site.control(charger={"stop": "Rejected"})
    call = Call(station_line)
    to_session_question(call)
    call.wait_out()     # (a refusal may come back before the first listening turn: then it is said at once)
    assert "The station didn't accept the request." in call.said and "Let's go on with the steps." in call.said
    call.answer("agent")
    dial = call.root.find("Dial")
    assert dial is not None
    whisper = dial.find("Number").get("url")
    agent = Call(station_line, sid="CA" + "2" * 32)
    agent.post(whisper)
    assert "Remote stop: refused." in agent.said


def test_a_chademo_unlock_with_the_policy_on_the_caller_holds_the_handle_then_the_line_unlocks(env, site, tmp_path):
    site.control(charger={"unlock": "Unlocked", "unlock_delay": 0.3})
    line = chademo_line(env, site, tmp_path, "automatic")
    try:
        call = Call(line)
        to_the_station_hand_off(call)
        assert call.root.find("Dial") is None and "/voice/station/hold" in call.action
        assert "Hold the handle, and lift it so the cable's weight is off." in call.words
        assert site.read("commands") == []                   # nothing before the caller holds it
        call.answer("I am holding it")
        assert "/voice/station/hold" in call.action          # asked once more
        call.answer("yes")
        assert "I'll ask the station to unlock it now." in call.said
        call.wait_out()
        assert "The station has released the lock. Pull the plug straight out now." in call.said
        assert "/voice/station/pulled" in call.action
        sent = site.read("commands")
        assert [c["command"] for c in sent] == ["UNLOCK_CONNECTOR"]
        assert {k: sent[0]["body"][k] for k in ("location_id", "evse_uid", "connector_id")} == \
            {"location_id": "LOC9", "evse_uid": "EVSE-9", "connector_id": "1"}
        assert [entry[0] for entry in site.read("ocpp")] == ["UnlockConnector"]
        call.answer("yes")
        assert "Great, it's out." in call.words
    finally:
        line.stop()


def test_a_chademo_unlock_with_the_policy_off_is_the_agents_key_two_in_the_whisper(env, site, tmp_path):
    line = chademo_line(env, site, tmp_path, "agent")
    try:
        call = Call(line)
        to_the_station_hand_off(call)
        dial = call.root.find("Dial")
        assert dial is not None and site.read("commands") == []     # the caller is never asked to hold
        agent = Call(line, sid="CA" + "3" * 32)
        agent.post(dial.find("Number").get("url"), ParentCallSid=call.sid)
        assert "Press 1 to take the call, or 2 to unlock connector 1 at E, 9 9 9, 9 9 first." in agent.said
        assert "/station/agent-unlock" in agent.action
        agent.answer(digits="2")
        assert agent.said == ["Unlocked. Connecting you now."]
        assert [c["command"] for c in site.read("commands")] == ["UNLOCK_CONNECTOR"]
    finally:
        line.stop()


def test_a_hazard_with_current_flowing_stops_the_session_at_once_and_never_a_release_step(station_line, site):
    site.control(charger={"stop": "Accepted", "stop_delay": 0.2}, command={"timeout": 30})
    call = Call(station_line)
    call.start("E12345")
    call.answer(digits="1")
    call.answer("there's smoke coming from the plug")
    assert call.said[0] == "I'm stopping the charger's power now."
    assert [c["command"] for c in site.read("commands")] == ["STOP_SESSION"]     # no question first
    assert call.state["node"] == "hazard" and call.state["wf"] == "h"
    assert not any("pull" in line.lower() for line in call.said)
    assert wait_for(lambda: len(site.read("posted")) == 1)
    call.answer("no")                                     # the next webhook: the stop's result is read
    assert not any("pull" in line.lower() for line in call.said)
    actions = store.actions_of(engine_of(station_line.served), call.sid)
    assert [a["outcome"] for a in actions if a["action"] == "result"] == ["ok"]


def test_the_back_end_down_falls_back_to_asking_the_caller(station_line, site):
    site.control(tokens=[])                              # the CPO refuses the line's token now
    call = Call(station_line)
    to_session_question(call)
    assert call.state["node"] == "session_screen" and "/voice/turn" in call.action
    assert "Is charging finished" in call.words or "session" in call.words.lower()
    assert site.read("commands") == []


def test_a_result_that_never_comes_ends_the_wait_at_its_cap_then_the_steps(station_line, site, monkeypatch):
    site.control(command={"timeout": 2, "posts": 0}, charger={"stop": "Accepted", "stop_delay": 0.2})
    call = Call(station_line)
    to_session_question(call)
    call.wait_out()
    assert call.said[0] == "The station didn't answer in time." and call.state["sr"] == "stop-timeout"


def test_the_result_posted_to_one_worker_is_read_by_another(station_line, site):
    """Worker A sends the stop and serves the wait; the CPO posts its result to worker B
    (the served app): A reads it from the database."""
    site.control(charger={"stop": "Accepted", "stop_delay": 0.3}, command={"timeout": 30})
    worker_a = station_line.app()
    client = worker_a.test_client()
    form = {"CallSid": "CA" + "4" * 32, "From": CALLER, "To": LINE_NUMBER}
    root = ET.fromstring(client.post("/voice?station=E12345", data=form).data)
    gather = root.find("Gather")
    root = ET.fromstring(client.post(gather.get("action"), data={**form, "Digits": "1"}).data)
    root = ET.fromstring(client.post(root.find("Gather").get("action"),
                                     data={**form, "SpeechResult": "still stuck", "Confidence": "0.9"}).data)
    assert "/voice/station/wait" in root.find("Gather").get("action")
    assert wait_for(lambda: len(site.read("posted")) == 1)
    assert site.read("posted")[0]["url"].startswith(station_line.url)        # posted to worker B
    root = ET.fromstring(client.post(root.find("Gather").get("action"), data=form).data)
    assert next(s.text for s in root.iter("Say")) == "It's stopped. Now let's free the plug."


def test_a_queue_agent_takes_the_next_caller_and_the_log_has_the_calls_console_page(env, tmp_path, caplog):
    """In queue mode the agents' own phones ask the line for their TwiML: <Dial><Queue url>; the
    url runs on the queued caller's end (no Gather there), so the agent's context is the
    call's console page, logged and recorded with the agent's leg."""
    import logging

    from ivr.app import create_app
    folder = tmp_path / "flows"
    folder.mkdir()
    for path in (ROOT / "flows").iterdir():
        text = path.read_text()
        if path.name == "escalation.yaml":
            text = text.replace("agent:\n", "agent:\n  queue: stuck-connector\n", 1)
        (folder / path.name).write_text(text)
    app = create_app({**env, "IVR_FLOWS_DIR": str(folder)})
    client = app.test_client()
    root = ET.fromstring(client.post("/voice/queue/agent", data={"CallSid": "CA" + "5" * 32}).data)
    queue = root.find("Dial/Queue")
    assert queue is not None and queue.text == "stuck-connector" and queue.get("url").endswith("/voice/queue/bridging")
    caller = "CA" + "6" * 32
    with caplog.at_level(logging.INFO, logger="ivr.handoff"):
        answer = client.post("/voice/queue/bridging", data={"CallSid": caller, "DequeingCallSid": "CA" + "5" * 32,
                                                            "QueueSid": "QU" + "0" * 32})
    assert answer.status_code == 200 and list(ET.fromstring(answer.data)) == []
    assert f"/dashboard/calls/{caller}" in caplog.text

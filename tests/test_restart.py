"""A call survives its server: a restart between two questions, a worker killed mid-call.

The server is the Procfile's gunicorn (bench/procfile.py). A call's place is
in the action URL Twilio sends back, so whichever process answers next must
take the same next step as an uninterrupted call would.
"""
from __future__ import annotations

import os
import signal
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import ROOT, TOKEN
from sqlalchemy import func, select

from ivr.app import create_app
from ivr.records import db
from ivr.tools.simulator import Call

sys.path.insert(0, str(ROOT))
from bench.load import HttpTwilio
from bench.procfile import free_port, procfile_server

ANSWERS = [{"Digits": "1"}, {"Digits": "1"}, {"Digits": "2"}, {"Digits": "2"}]


@pytest.fixture
def server_env(signed_env):
    return {**signed_env, "WEB_CONCURRENCY": "2"}


def step(call: Call, url: str, answer: dict) -> tuple[dict, str]:
    """Post one webhook; return the next question's state and what was said."""
    root = ET.fromstring(call.post(url, answer).data)
    gather = root.find("Gather")
    assert gather is not None, ET.tostring(root)
    said = " ".join("".join(s.itertext()) for s in root.iter("Say"))
    return gather.get("action"), said


def params(action: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(action).query).items()}


def uninterrupted(env: dict, folder: Path) -> list[tuple[dict, str]]:
    """The same call, start to last answer, in one process: what must happen."""
    call = Call(create_app({**env, "DATABASE_URL": f"sqlite:///{folder}/reference.db"}).test_client(),
                auth_token=TOKEN)
    action, said = step(call, "/voice", {"CallStatus": "ringing"})
    steps = [(params(action), said)]
    for answer in ANSWERS:
        action, said = step(call, action, answer)
        steps.append((params(action), said))
    return steps


def turns_recorded(database_url: str, sid: str) -> int:
    engine = db.connect(database_url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(db.events).where(db.events.c.call_sid == sid)).scalar_one()
    engine.dispose()
    return count


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def wait_for_workers(master: int, count: int, timeout: float = 20.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = workers_of(master)
        if len(pids) >= count:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not bring back {count} workers")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_restart_between_two_questions(server_env, tmp_path):
    expected = uninterrupted(server_env, tmp_path)
    port = free_port()
    with procfile_server(server_env, port=port) as (base, _process):
        call = Call(HttpTwilio(base), auth_token=TOKEN)
        action, said = step(call, "/voice", {"CallStatus": "ringing"})
        assert (params(action), said) == expected[0]
        action, said = step(call, action, ANSWERS[0])
        assert (params(action), said) == expected[1]
    # The server is gone; the caller is still listening to the question.
    with procfile_server(server_env, port=port) as (base, _process):
        for n, answer in enumerate(ANSWERS[1:], start=2):
            action, said = step(call, action, answer)
            assert (params(action), said) == expected[n]
    assert turns_recorded(server_env["DATABASE_URL"], call.sid) == 1 + len(ANSWERS)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_worker_killed_mid_call(server_env, tmp_path):
    expected = uninterrupted(server_env, tmp_path)
    with procfile_server(server_env) as (base, process):
        call = Call(HttpTwilio(base), auth_token=TOKEN)
        action, said = step(call, "/voice", {"CallStatus": "ringing"})
        assert (params(action), said) == expected[0]
        for n, answer in enumerate(ANSWERS, start=1):
            if n <= 2:  # one worker, then the other: whichever held the call is gone
                workers = wait_for_workers(process.pid, 2)
                os.kill(min(workers), signal.SIGKILL)  # the oldest: an original worker
            action, said = step(call, action, answer)
            assert (params(action), said) == expected[n]
    assert turns_recorded(server_env["DATABASE_URL"], call.sid) == 1 + len(ANSWERS)

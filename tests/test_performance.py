"""What issue 7's speed-ups must not break, and the caller-time targets (not timed)."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ROOT
from sqlalchemy import func, select

from helpers import action_of, fields, twiml
from ivr.call.understanding import hints
from ivr.records import db

sys.path.insert(0, str(ROOT))
from bench import caller_time


@pytest.mark.server
def test_a_forked_worker_does_not_reuse_the_masters_connections(tmp_path: Path):
    """gunicorn's preload forks workers from a master that already ran the migrations."""
    engine = db.connect(f"sqlite:///{tmp_path}/fork.db")
    db.migrate(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("select 1")
    assert engine.pool.checkedin() == 1
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: nothing inherited, and it can still record
        try:
            inherited = engine.pool.checkedin()
            db.Recorder(engine).call_started("CA" + "c" * 32, "+15555550123", "+18005550199", "en-US")
            with engine.connect() as conn:
                count = conn.execute(select(func.count()).select_from(db.calls)).scalar()
            os.write(write, f"{inherited} {count}".encode())
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 100).decode() == "0 1"
    assert engine.pool.checkedin() == 1  # the master's own connection is left alone


def test_the_same_question_gets_the_same_hints_without_rebuilding_them():
    assert hints("released") is hints("released")
    assert "still stuck" in hints("released")


def test_turns_are_recorded_with_their_answer_and_the_call_moves_on(client, app):
    """The recorder's statements are built once; each turn's own values still land."""
    root = twiml(client.post("/voice", data=fields(CallStatus="ringing")))
    root = twiml(client.post(action_of(root), data=fields(SpeechResult="it's a CCS", Confidence="0.9")))
    twiml(client.post(action_of(root), data=fields(Digits="1")))                  # the button is soft
    engine = app.extensions["ivr"].recorder.engine
    with engine.connect() as conn:
        call = conn.execute(select(db.calls)).mappings().one()
        turns = conn.execute(select(db.events).order_by(db.events.c.id)).mappings().all()
    assert call["connector"] == "ccs" and call["last_node"] == "ccs_soft" and call["language"] == "en-US"
    assert [t["digits"] for t in turns[1:]] == [None, "1"]
    assert turns[1]["speech"] == "it's a CCS" and turns[1]["intent"] == "connector_ccs"


def test_a_duplicate_turn_does_not_move_the_call_back(client, app):
    root = twiml(client.post("/voice", data=fields(CallStatus="ringing")))
    first = fields(Digits="1")
    url = action_of(root)
    client.post(url, data=first)
    client.post(url, data=first)  # Twilio's retry of the same webhook
    engine = app.extensions["ivr"].recorder.engine
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.events)).scalar() == 2


@pytest.mark.parametrize("station_on", [False, True])
def test_the_first_physical_action_within_30_seconds_for_every_connector(station_on):
    content = caller_time.load()
    if station_on:
        flow = caller_time.with_station(content.flow)
        content = replace(content, flow=flow, engine=type(content.engine)(flow, content.catalogs, "en-US"))
    for connector in ("ccs", "chademo", "j1772", "tesla", "unsure"):
        marks = caller_time.walk(connector, content, station_on=station_on)
        first = caller_time.first_action(marks)
        assert first is not None and first.seconds <= caller_time.FIRST_ACTION_SECONDS, (connector, first)
        labels = [m.label for m in marks]
        assert marks[-1].label == "end: agent", connector
        if station_on:
            assert labels.index("first physical action") < labels.index("station ID confirmed"), connector


def test_a_failed_ccs_call_reaches_a_person_within_180_seconds():
    marks = caller_time.walk("ccs", caller_time.load())
    labels = [m.label for m in marks]
    assert marks[-1].label == "end: agent" and marks[-1].seconds <= caller_time.PERSON_SECONDS
    # every step is still there, in order: diagnose, the session, the unlock steps, the last checks
    order = ["felt the CCS release button", "checked the charger screen", "unlocked the car and pulled",
             "pressed unlock five times", "locked and unlocked three times", "reseated the connector",
             "checked the charge port lock", "turned off the charging schedule", "checked whether charging had stopped",
             "felt the CCS button again"]
    assert [label for label in labels if label in order] == order


@pytest.mark.server
def test_caller_time_bench_runs_and_reports_the_targets_met():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "caller_time.py")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "first physical action" in result.stdout and "station ID on" in result.stdout
    assert "MISS" not in result.stdout

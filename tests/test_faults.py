"""Faults injected from outside into the server production runs (issue 12).

Each test starts the Procfile's gunicorn with signatures on, breaks one thing
(another reader, read-only or deleted storage, a restarted PostgreSQL, slow
clients, a long answer, a killed worker), plays calls as Twilio does, and checks
that every webhook got valid TwiML, what reached the records and what reached
the log.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import ROOT, TOKEN
from test_restart import wait_for_workers, workers_of

from bench.procfile import free_port
from faults import NOTES, PrivateCluster, kill, new_call, note, play, postgres_bin, records, server, sqlite_path, valid_twiml

IS_SQLITE = not os.environ.get("TEST_DATABASE_URL")
sqlite_only = pytest.mark.skipif(not IS_SQLITE, reason="a SQLite file fault")


@pytest.fixture
def server_env(signed_env):
    return {**signed_env, "WEB_CONCURRENCY": "2"}


def ivr(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / ".venv/bin/ivr") if (ROOT / ".venv/bin/ivr").exists() else "ivr", *args],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60, cwd=ROOT)


@sqlite_only
@pytest.mark.skipif(not shutil.which("sqlite3"), reason="needs the sqlite3 shell")
def test_readers_while_serving_lose_nothing(server_env, tmp_path):
    """A call, then `ivr calls`, `sqlite3 .backup` and `ivr backup`, then two more calls, then SIGKILL."""
    played = {}
    with server(server_env, tmp_path / "server.log") as (twilio, process):
        first = new_call(twilio)
        played[first.sid] = play(first)
        listing = ivr("calls", env={"DATABASE_URL": server_env["DATABASE_URL"]})
        assert listing.returncode == 0, listing.stderr
        assert first.sid in listing.stdout
        backup = tmp_path / "backup.db"
        subprocess.run(["sqlite3", str(sqlite_path(server_env["DATABASE_URL"])), f".backup {backup}"],
                       check=True, timeout=30)
        online = ivr("backup", str(tmp_path / "online.db"), env={"DATABASE_URL": server_env["DATABASE_URL"]})
        assert online.returncode == 0, online.stderr
        for _ in range(2):
            call = new_call(twilio)
            played[call.sid] = play(call)
        kill(process)
    note("another reader while serving (ivr calls, sqlite3 .backup, ivr backup)", webhooks=9,
         answered=sum(played.values()), database_url=server_env["DATABASE_URL"], log_path=tmp_path / "server.log")
    assert records(server_env["DATABASE_URL"]) == played
    assert first.sid in records(f"sqlite:///{backup}")
    assert first.sid in records(f"sqlite:///{tmp_path / 'online.db'}")


def test_the_master_keeps_no_connection_for_the_workers(app):
    """What gunicorn forks from (preload_app): an app with no open database connection."""
    assert app.extensions["ivr"].recorder.engine.pool.checkedin() == 0


def readiness(twilio) -> tuple[int, dict]:
    response = twilio._session().get(twilio.server + "/readyz", timeout=10)
    return response.status_code, response.json()


def log_lines(path, *needles) -> list[str]:
    return [line for line in path.read_text(errors="replace").splitlines() if all(n in line for n in needles)]


@contextlib.contextmanager
def immutable(paths):
    """Read-only even for root (the suite runs as root in CI): chattr +i."""
    present = [str(p) for p in paths if p.exists()]
    done = subprocess.run(["chattr", "+i", *present], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i not possible here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *present], check=True)


@sqlite_only
@pytest.mark.skipif(not shutil.which("chattr"), reason="needs chattr")
def test_read_only_storage_answers_every_webhook_logs_each_call_once_and_is_not_ready(server_env, tmp_path):
    path = sqlite_path(server_env["DATABASE_URL"])
    log = tmp_path / "server.log"
    with server(server_env, log) as (twilio, process):
        first = new_call(twilio)
        assert play(first) == 3
        assert readiness(twilio)[0] == 200
        with immutable([path, Path(f"{path}-wal"), Path(f"{path}-shm")]):
            # New connections too: a worker restarted while the files are read-only.
            for pid in workers_of(process.pid):
                os.kill(pid, signal.SIGKILL)
            wait_for_workers(process.pid, 2)
            lost = [new_call(twilio) for _ in range(3)]
            answered = [play(call) for call in lost]
            assert answered == [3, 3, 3]   # 9 webhooks, valid TwiML each
            status, body = readiness(twilio)
            assert status == 503 and body["recording"] == "failing"
        kill(process)
    note("read-only storage (chattr +i on the file, -wal, -shm; workers restarted)", webhooks=12,
         answered=3 + sum(answered), database_url=server_env["DATABASE_URL"], log_path=log)
    assert records(server_env["DATABASE_URL"]) == {first.sid: 3}
    for call in lost:
        assert len(log_lines(log, call.sid, "not recorded")) == 1
    assert not log_lines(log, "Traceback") and not log_lines(log, "SIGBUS")


@sqlite_only
def test_a_deleted_database_file_is_noticed_logged_and_not_ready(server_env, tmp_path):
    path = sqlite_path(server_env["DATABASE_URL"])
    log = tmp_path / "server.log"
    with server(server_env, log) as (twilio, process):
        first = new_call(twilio)
        assert play(first) == 3
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            name.unlink(missing_ok=True)
        lost = [new_call(twilio) for _ in range(2)]
        answered = [play(call) for call in lost]
        assert answered == [3, 3]
        status, body = readiness(twilio)
        assert status == 503 and "gone" in body["reason"]
        assert not path.exists()          # no empty file quietly made in its place
        kill(process)
    note("a deleted database file (then a restart)", webhooks=12, answered=3 + sum(answered) + 3,
         database_url=None, log_path=log)
    for call in lost:
        assert len(log_lines(log, call.sid, "not recorded", "is gone")) == 1
    assert not log_lines(log, "Traceback")
    # The next start makes a new file, and recording goes on.
    with server(server_env, log) as (twilio, process):
        after = new_call(twilio)
        assert play(after) == 3
        assert readiness(twilio)[0] == 200
        kill(process)
    assert records(server_env["DATABASE_URL"]) == {after.sid: 3}
    NOTES[-1].update(calls=1, turns=3)  # the file deleted held the first call; the new one holds the last


@pytest.fixture
def private_postgres():
    bin_dir = postgres_bin()
    if bin_dir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the PostgreSQL restart test: no /usr/lib/postgresql/*/bin/initdb")
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
    cluster = PrivateCluster(bin_dir, free_port())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def test_a_postgresql_restart_mid_call_loses_only_the_gap_and_says_so(server_env, private_postgres, tmp_path):
    env = {**server_env, "DATABASE_URL": private_postgres.url}
    log = tmp_path / "server.log"
    with server(env, log) as (twilio, process):
        call = new_call(twilio)
        root = valid_twiml(call.post("/voice", {"CallStatus": "ringing"}))
        root = valid_twiml(call.post(root.find("Gather").get("action"), {"Digits": "1"}))
        private_postgres.stop()
        # The database is down: the caller goes on, twice (one worker each, likely).
        for _ in range(2):                # "repeat that": the call stays on its question
            root = valid_twiml(call.post(root.find("Gather").get("action"), {"Digits": "*"}))
        private_postgres.start()
        after = new_call(twilio)
        assert play(after) == 3
        root = valid_twiml(call.post(root.find("Gather").get("action"), {"Digits": "*"}))
        assert root.find("Gather") is not None
        status, _body = readiness(twilio)
        assert status == 200
        kill(process)
    note("PostgreSQL restarted mid-call (private cluster)", webhooks=8, answered=8,
         database_url=env["DATABASE_URL"], log_path=log)
    assert records(env["DATABASE_URL"]) == {call.sid: 3, after.sid: 3}
    assert len(log_lines(log, call.sid, "not recorded")) == 1
    assert log_lines(log, "recording resumed")
    assert not log_lines(log, "Traceback")


def test_slow_clients_do_not_hold_the_line(server_env, tmp_path):
    """Issue 12: ten connections dripping a body a byte every 2 s held every sync worker."""
    import threading

    from bench.load import percentile
    from bench.slowclients import TimedTwilio, one_call, slow_client

    stop = threading.Event()
    log = tmp_path / "server.log"
    with server(server_env, log) as (twilio, process):
        opened: list = []
        slow = [threading.Thread(target=slow_client, args=(twilio.server, stop, 2.0, opened), daemon=True)
                for _ in range(30)]
        for thread in slow:
            thread.start()
        try:
            deadline = time.monotonic() + 10
            while len(opened) < len(slow) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
            timed = TimedTwilio(twilio.server, timeout=10)
            answered = [one_call(timed, TOKEN) for _ in range(5)]
            note(f"slow clients (30 dripping a byte every 2 s; p99 {percentile(timed.latencies, 0.99) * 1000:.0f} ms)",
                 webhooks=20, answered=sum(answered), database_url=server_env["DATABASE_URL"], log_path=log)
            assert answered == [4] * 5 and not timed.errors, timed.errors
        finally:
            stop.set()
            for thread in slow:
                thread.join(timeout=5)
        kill(process)
    assert "WORKER TIMEOUT" not in log.read_text()


def test_long_input_gets_twiml_from_the_real_server_and_is_recorded(server_env, tmp_path):
    """A signed 60 kB SpeechResult took 21 s to read: the worker was killed, Twilio got a 500."""
    log = tmp_path / "server.log"
    with server(server_env, log) as (twilio, process):
        call = new_call(twilio)
        long_answers = ({"SpeechResult": "it " * 20000, "Confidence": "0.9"},
                        {"SpeechResult": "yes no " * 8000, "Digits": "1" * 2000})
        answered = play(call, long_answers)
        kill(process)
    note("long input (60 kB SpeechResult, 2000 Digits, signed)", webhooks=3, answered=answered,
         database_url=server_env["DATABASE_URL"], log_path=log)
    assert answered == 3
    assert records(server_env["DATABASE_URL"]) == {call.sid: 3}
    assert not log_lines(log, "WORKER TIMEOUT")


def test_a_worker_sigkilled_mid_call_loses_nothing(server_env, tmp_path):
    """Each worker in turn killed between two webhooks of one call, then the whole server."""
    log = tmp_path / "server.log"
    with server(server_env, log) as (twilio, process):
        call = new_call(twilio)
        root = valid_twiml(call.post("/voice", {"CallStatus": "ringing"}))
        answered = 1
        for _ in range(2):
            os.kill(min(wait_for_workers(process.pid, 2)), signal.SIGKILL)
            root = valid_twiml(call.post(root.find("Gather").get("action"), {"Digits": "*"}))
            answered += 1
        kill(process)
    note("a worker SIGKILLed between webhooks, twice, then the server", webhooks=3, answered=answered,
         database_url=server_env["DATABASE_URL"], log_path=log)
    assert records(server_env["DATABASE_URL"]) == {call.sid: 3}

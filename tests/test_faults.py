"""Faults injected from outside into the server production runs (issue 12).

Each test starts the Procfile's gunicorn with signatures on, breaks one thing
(another reader, read-only or deleted storage, a restarted PostgreSQL, slow
clients, a long answer, a killed worker), plays calls as Twilio does, and checks
that every webhook got valid TwiML, what reached the records and what reached
the log.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT
from faults import kill, new_call, play, records, server, sqlite_path

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
    """A call, then `ivr calls` and `sqlite3 .backup`, then two more calls, then SIGKILL."""
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
        for _ in range(2):
            call = new_call(twilio)
            played[call.sid] = play(call)
        kill(process)
    assert records(server_env["DATABASE_URL"]) == played
    assert first.sid in records(f"sqlite:///{backup}")

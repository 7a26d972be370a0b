"""Issue 12: the operators' tools fail clearly, stay quiet, and keep callers'
words from acting on the terminal; `ivr backup` copies the records online."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import responses
from click.testing import CliRunner
from conftest import ROOT
from sqlalchemy import insert

from ivr.records import db
from ivr.tools.cli import main

ACCOUNT = "AC" + "a" * 32
TOKEN = "12345678901234567890123456789012"
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}"
NASTY = "\x1b[2J\x1b]0;owned\x07\rrm -rf\n\x9b31m"


def run(args, database_url=None, **env):
    base = {"IVR_FLOWS_DIR": str(ROOT / "flows"), "IVR_PROMPTS_DIR": str(ROOT / "prompts")}
    if database_url:
        base["DATABASE_URL"] = database_url
    return CliRunner().invoke(main, args, env={**base, **env}, catch_exceptions=False)


@pytest.fixture
def nasty_call(app, new_call, database_url):
    """A call whose caller 'said' terminal escape sequences, and a tampered row."""
    call = new_call()
    call.run(lambda event: {"SpeechResult": f"hello {NASTY}", "Confidence": "0.9"} if event.kind == "listen" else None,
             max_turns=2)
    engine = db.connect(database_url)
    with engine.begin() as conn:
        conn.execute(insert(db.calls).values(call_sid="CA" + "e" * 32, started_at=db.now(), outcome="goodbye",
                                             connector="\x1b[31mccs\x07", last_node=NASTY))
    engine.dispose()
    return call


@pytest.mark.parametrize("command", [["calls"], ["report"]])
def test_callers_words_cannot_drive_the_operators_terminal(nasty_call, database_url, command):
    result = run(command, database_url)
    assert result.exit_code == 0, result.output
    assert not any(ch in result.output for ch in "\x1b\x07\r\x9b"), repr(result.output)
    if command == ["report"]:
        assert "\\x1b[2j" in result.output.lower()      # shown, escaped, for the operator to read


@responses.activate
def test_configure_number_with_twilio_unreachable_is_one_line():
    responses.get(f"{API}/IncomingPhoneNumbers.json",
                  body=requests.ConnectionError("Failed to resolve 'api.twilio.com'"))
    result = CliRunner().invoke(main, ["configure-number", "+14155550123", "--url", "https://ivr.example.com"],
                                env={"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN})
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Twilio could not be reached" in lines[0], result.output
    assert "Traceback" not in result.output


def test_the_credentials_message_is_a_whole_sentence():
    result = CliRunner().invoke(main, ["configure-number", "+14155550123", "--url", "https://ivr.example.com"],
                                env={"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""})
    assert result.exit_code == 1
    assert "your Twilio account's SID and auth token" in result.output


@pytest.mark.server
def test_start_up_is_quiet(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/quiet.db", "IVR_FLOWS_DIR": str(ROOT / "flows"),
           "IVR_PROMPTS_DIR": str(ROOT / "prompts")}
    env.pop("TWILIO_AUTH_TOKEN", None)
    for args in (["call", "--say", "1"], ["calls"]):
        done = subprocess.run([str(Path(sys.executable).parent / "ivr"), *args], env=env, capture_output=True,
                              text=True, timeout=60, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout
        assert "alembic" not in done.stderr and "setup plugin" not in done.stderr, done.stderr


@pytest.mark.server
def test_ivr_call_works_from_any_folder(tmp_path):
    """`ivr call` in a folder with no flows/ or prompts/: the shipped ones, English's
    vocabulary included, read a spoken answer (not "something went wrong")."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("IVR_", "TWILIO_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/anywhere.db"
    done = subprocess.run([str(Path(sys.executable).parent / "ivr"), "call", "--say", "it's a CCS plug", "--say", "0"],
                          env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "went wrong" not in done.stdout and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert "you: it's a CCS plug" in done.stdout


@pytest.mark.server
def test_a_broken_configuration_under_gunicorn_is_one_line(tmp_path):
    env = {**os.environ, "PORT": "1", "TWILIO_AUTH_TOKEN": TOKEN, "IVR_AGENT_NUMBER": "not a number",
           "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "PATH": f"{ROOT}/.venv/bin:{os.environ['PATH']}"}
    gunicorn = [sys.executable, "-c", "import sys; from gunicorn.app.wsgiapp import run; sys.exit(run())"]
    done = subprocess.run([*gunicorn, "ivr.app:create_app()", "--bind", "127.0.0.1:1"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "IVR_AGENT_NUMBER" in lines[0], lines


def test_backup_copies_the_records(nasty_call, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        result = run(["backup", str(tmp_path / "x.db")], database_url)
        assert result.exit_code == 1 and "pg_dump" in result.output
        return
    result = run(["backup", str(tmp_path / "copy.db")], database_url)
    assert result.exit_code == 0, result.output
    listing = run(["calls", "--json"], f"sqlite:///{tmp_path}/copy.db")
    assert nasty_call.sid in listing.output

"""The fault suite's harness: the Procfile's server, real signed calls, the records.

tests/test_faults.py starts the server exactly as production does
(bench/procfile.py: gunicorn, gunicorn.conf.py, signatures checked), breaks
something from outside, plays calls the way Twilio does, and then counts what
reached the database and what reached the log.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import ROOT, TOKEN, UNMASKED_NUMBER
from sqlalchemy import func, select

from ivr.records import db
from ivr.tools.simulator import Call

sys.path.insert(0, str(ROOT))
from bench.load import HttpTwilio
from bench.procfile import procfile_server

# A call that asks two questions: the welcome, "yes" (the session has ended),
# then "it came out" is not said: the caller asks for a person.
ANSWERS = ({"Digits": "1"}, {"SpeechResult": "it's still stuck", "Confidence": "0.9"})


def valid_twiml(response) -> ET.Element:
    """A 200 with TwiML Twilio accepts: text/xml, a <Response> root."""
    assert response.status_code == 200, (response.status_code, response.data[:200])
    assert response.mimetype == "text/xml", response.mimetype
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return root


def play(call: Call, answers=ANSWERS) -> int:
    """The welcome and one webhook per answer; return how many got valid TwiML."""
    root = valid_twiml(call.post("/voice", {"CallStatus": "ringing"}))
    answered = 1
    for answer in answers:
        gather = root.find("Gather")
        if gather is None:
            break
        root = valid_twiml(call.post(gather.get("action"), answer))
        answered += 1
    return answered


def records(database_url: str) -> dict[str, int]:
    """CallSid -> turns recorded, read with a fresh engine."""
    engine = db.connect(database_url)
    try:
        with engine.connect() as conn:
            sids = [row[0] for row in conn.execute(select(db.calls.c.call_sid))]
            turns = dict(conn.execute(select(db.events.c.call_sid, func.count())
                                      .group_by(db.events.c.call_sid)).all())
    finally:
        engine.dispose()
    return {sid: turns.get(sid, 0) for sid in sids}


def sqlite_path(database_url: str) -> Path:
    return Path(database_url.split(":///", 1)[1])


@contextlib.contextmanager
def server(env: dict, log_path: Path):
    """The Procfile's server; yields (a Twilio that posts to it, the gunicorn master)."""
    with open(log_path, "ab") as log, procfile_server(env, log=log) as (base, process):
        yield HttpTwilio(base), process
    leaked = [line for line in log_path.read_text(errors="replace").splitlines() if UNMASKED_NUMBER.search(line) and "ivr.settings" not in line]
    assert not leaked, f"unmasked phone numbers in the server's log: {leaked[:3]}"


def kill(process) -> None:
    """SIGKILL the master and its workers at once: no clean shutdown, no checkpoint."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def new_call(twilio) -> Call:
    return Call(twilio, auth_token=TOKEN)


# -- a private PostgreSQL cluster, to restart at will --------------------------------------

def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


class PrivateCluster:
    """A PostgreSQL server of the test's own (initdb in a temp dir, its own port).

    The suite's shared server is never restarted. initdb refuses to run as root,
    so as root the cluster belongs to the `postgres` user (runuser).
    """

    def __init__(self, bin_dir: Path, port: int):
        import pwd
        import tempfile

        self.bin, self.port = bin_dir, port
        self.dir = Path(tempfile.mkdtemp(prefix="ivr-pg-", dir="/tmp"))
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "-A", "trust", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        import subprocess

        subprocess.run([*self.prefix, str(self.bin / tool), *args], check=True, timeout=120,
                       capture_output=True, cwd=self.dir)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "-t", "60", "stop")

    def remove(self) -> None:
        import shutil

        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# -- the note: per fault, what was answered, recorded and logged ------------------------------

NOTES: list[dict] = []


def note(fault: str, *, webhooks: int, answered: int, database_url: str | None, log_path: Path | None,
         expected: dict | None = None) -> None:
    """Keep one line for the fault suite's summary (printed at the end of the run)."""
    recorded = records(database_url) if database_url else {}
    logged: dict[str, int] = {}
    if log_path is not None and log_path.exists():
        for line in log_path.read_text(errors="replace").splitlines():
            if any(level in line for level in (" ERROR ", " WARNING ", "[ERROR]", "[WARNING]", "[CRITICAL]")):
                text = line.split(": ", 1)[-1] if ": " in line else line
                key = " ".join(w if not w.startswith("CA") else "CA…" for w in text.split())[:90]
                logged[key] = logged.get(key, 0) + 1
    NOTES.append({"fault": fault, "webhooks": webhooks, "answered": answered,
                  "calls": len(recorded), "turns": sum(recorded.values()),
                  "expected": expected, "logged": logged})

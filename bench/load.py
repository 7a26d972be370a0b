"""Nothing lost, at load: complete calls against the server the Procfile starts.

Run from the repo root:

    python -m bench.load [--calls 200] [--concurrency 32] [--workers 2] [--database-url URL]

Starts gunicorn exactly as the Procfile does (signatures checked, a fresh
SQLite file unless --database-url), then plays --calls complete calls, signed
like Twilio signs them, with --concurrency in flight: keypad to "it came out",
speech asking for an agent, a hazard, three silences, and a caller stuck
through every release step. Each call comes from its own number, so the rate
limit (on, at its default) is counted but never reached.

Then checks that every call ended the way its script should (a hang-up, with
the expected outcome in the database) and that every webhook that takes a step
wrote exactly one turn. Prints calls played, failures, webhooks and their p50
and p99 latency; exits 1 on any failure.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
from sqlalchemy import create_engine, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procfile import procfile_server  # noqa: E402
from ivr.records import db  # noqa: E402
from ivr.tools.simulator import Call  # noqa: E402

AGENT = "+14155550100"
# Webhooks that take a step of the call and so write one turn each.
NOT_A_STEP = ("/voice/whisper", "/voice/status")


@dataclass
class Answer:
    """What simulator.Call reads from a Flask test response."""

    status_code: int
    data: bytes
    mimetype: str


@dataclass
class HttpTwilio:
    """Plays Twilio's side over HTTP: simulator.Call's client, aimed at a real server.

    Call signs every request for the URL it names (http://localhost/...); the
    request goes to `server` with that URL's Host, so the server sees, signs
    against and answers with the same URL.
    """

    server: str
    timeout: float = 15.0
    latencies: list = field(default_factory=list)
    steps: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def post(self, path: str, data: dict, headers: dict, base_url: str) -> Answer:
        began = time.perf_counter()
        response = self._session().post(self.server + path, data=data, timeout=self.timeout,
                                        headers={**headers, "Host": urlsplit(base_url).netloc},
                                        allow_redirects=False)
        took = time.perf_counter() - began
        mimetype = response.headers.get("Content-Type", "").split(";")[0]
        sid = data.get("CallSid", "")
        with self._lock:
            self.latencies.append(took)
            if not urlsplit(path).path.startswith(NOT_A_STEP):
                self.steps[sid] = self.steps.get(sid, 0) + 1
            if response.status_code >= 400 or (response.status_code == 200 and mimetype != "text/xml"):
                self.errors.append(f"{sid} {path.split('?')[0]}: HTTP {response.status_code} {mimetype}")
        return Answer(response.status_code, response.content, mimetype)


def keys(*digits: str):
    return [{"Digits": d} for d in digits]


def speech(text: str) -> dict:
    return {"SpeechResult": text, "Confidence": "0.91"}


# name: (answers to each question, the last one repeated; expected outcome)
SCRIPTS = {
    "released": (keys("1", "1", "1"), "released"),
    "agent": ([speech("can I talk to a person")], "transferred"),
    "hazard": ([speech("there's smoke coming from the plug"), {"Digits": "2"}], "hazard"),
    "silent": ([{}], "transferred"),
    "stuck": (keys("1", "1", "2"), "transferred"),
}


def play(client: HttpTwilio, token: str, number: int, script: str) -> tuple[str, str, str]:
    answers, _expected = SCRIPTS[script]
    call = Call(client, auth_token=token, caller=f"+1555{number:07d}")
    turn = iter(range(1000))

    def answer(event):
        if event.kind == "listen":
            return answers[min(next(turn), len(answers) - 1)]
        if event.kind == "dial":
            return {"DialCallStatus": "completed", "DialCallDuration": "42", "DialCallSid": "CA" + secrets.token_hex(16)}
        return None

    return call.sid, script, call.run(answer, max_turns=60)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def check(database_url: str, client: HttpTwilio, played: list[tuple[str, str, str]]) -> list[str]:
    """Every call where its script ends, in the database, with one turn per step."""
    failures = list(client.errors)
    engine = create_engine(db.normalize_url(database_url))
    with engine.connect() as conn:
        outcomes = dict(conn.execute(select(db.calls.c.call_sid, db.calls.c.outcome)).all())
        turns = dict(conn.execute(select(db.events.c.call_sid, func.count())
                                  .group_by(db.events.c.call_sid)).all())
    engine.dispose()
    for sid, script, ending in played:
        expected = SCRIPTS[script][1]
        if ending != "hangup":
            failures.append(f"{sid} ({script}): ended {ending!r}, expected a hang-up")
        if sid not in outcomes:
            failures.append(f"{sid} ({script}): not in the database")
        elif outcomes[sid] != expected:
            failures.append(f"{sid} ({script}): outcome {outcomes[sid]!r}, expected {expected!r}")
        if turns.get(sid, 0) != client.steps.get(sid, 0):
            failures.append(f"{sid} ({script}): {turns.get(sid, 0)} turns recorded for {client.steps.get(sid, 0)} steps")
    extra = set(outcomes) - {sid for sid, _, _ in played}
    if extra:
        failures.append(f"{len(extra)} calls in the database that were never played")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args(argv)

    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/load.db"
        env = {"TWILIO_AUTH_TOKEN": token, "IVR_DEV": "", "IVR_SUPPORT_NUMBER": "+18005550199", "IVR_AGENT_NUMBER": AGENT,
               "DATABASE_URL": database_url, "WEB_CONCURRENCY": str(args.workers)}
        scripts = list(SCRIPTS)
        with open(Path(tmp) / "server.log", "wb") as log, procfile_server(env, log=log) as (base, _process):
            client = HttpTwilio(base)
            began = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
                futures = [pool.submit(play, client, token, n, scripts[n % len(scripts)]) for n in range(args.calls)]
                played, crashed = [], []
                for future in futures:
                    try:
                        played.append(future.result())
                    except Exception as exc:
                        crashed.append(f"a call could not be played: {exc!r}")
            elapsed = time.perf_counter() - began
        failures = crashed + check(database_url, client, played)

    print(f"calls played: {len(played)} of {args.calls} ({args.concurrency} in flight, "
          f"{args.workers} workers, {elapsed:.1f} s)")
    print(f"failures: {len(failures)}")
    for failure in failures[:20]:
        print(f"  {failure}")
    latencies = client.latencies
    if latencies:
        print(f"webhooks: {len(latencies)}, {len(latencies) / elapsed:.0f}/s")
        print(f"webhook latency: p50 {statistics.median(latencies) * 1000:.1f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    return 1 if failures or len(played) != args.calls else 0


if __name__ == "__main__":
    sys.exit(main())

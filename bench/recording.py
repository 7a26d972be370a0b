"""How long recording takes per webhook, and how long a report takes, on SQLite and PostgreSQL.

    python -m bench.recording                     # SQLite in a temporary file
    python -m bench.recording postgresql+psycopg://postgres@127.0.0.1:5432/test

Prints the median and 95th percentile of one turn's write (what a webhook waits
for), a status callback's write, and the time to load and summarise the calls
for `ivr report`. On PostgreSQL it works in a schema of its own, dropped after.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid

from sqlalchemy import create_engine, text

from ivr.records import db, reports

CALLS, TURNS = 2000, 8


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def run(url: str) -> None:
    engine = db.connect(url)
    db.migrate(engine)
    recorder = db.Recorder(engine)
    turn_times, status_times = [], []
    for n in range(CALLS):
        sid = f"CA{n:032x}"
        recorder.call_started(sid, "+15555550123", "+18005550199", "en-US")
        node = "session_screen"
        for t in range(TURNS):
            nxt = "released" if t == TURNS - 1 else f"step_{t}"
            start = time.perf_counter()
            recorder.turn(sid, f"k{t}", node=node, speech="it's still stuck", digits=None, confidence=0.9,
                          intent="still_stuck", action="answer:still_stuck", next_node=nxt,
                          language="en-US", connector="ccs", outcome="released" if nxt == "released" else None)
            turn_times.append(time.perf_counter() - start)
            node = nxt
        start = time.perf_counter()
        recorder.status(sid, "completed", 90, 3)
        status_times.append(time.perf_counter() - start)
    print(f"{engine.dialect.name}: {CALLS} calls x {TURNS} turns")
    print(f"  one turn recorded:   {percentiles(turn_times)}")
    print(f"  one status callback: {percentiles(status_times)}")
    start = time.perf_counter()
    calls = db.load_calls(engine)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    report = reports.summarize(calls)
    summed = time.perf_counter() - start
    assert report["calls"] == CALLS and report["released_at_step"] == {f"step_{TURNS - 2}": CALLS}
    print(f"  report: load {loaded:.2f} s + summarise {summed:.2f} s for {CALLS * TURNS} turns")
    engine.dispose()


def main() -> None:
    if len(sys.argv) > 1:
        url = db.normalize_url(sys.argv[1])
        schema = "bench_" + uuid.uuid4().hex[:12]
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            run(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}")
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{folder}/bench.db")


if __name__ == "__main__":
    main()

"""The console's page times with 100,000 recorded calls, on SQLite or PostgreSQL.

    python -m bench.console                                   # SQLite, a fresh file
    python -m bench.console postgresql+psycopg://postgres@127.0.0.1:5432/test
    python -m bench.console sqlite:////tmp/console-100k.db --reuse   # data already there

Fills the database with bench/console_data.py (100,000 calls over 90 days; on
PostgreSQL in a schema of its own, dropped after), then requests every view through
the app in-process: the overview, the calls list, the stations table, the funnel,
the cars table, the live JSON and a call's story, over the full period and with each
filter alone (7 days, a station, a connector, an outcome, a language, a car make). "Cold": the engine's
connections are closed before every request, so no connection (SQLite's page cache,
PostgreSQL's backend) is reused and the app caches nothing; the operating system's
and PostgreSQL's shared buffers stay as they are. Prints p50 and p95 per view and
filter, and the time to the first byte and to the first row of each export.
Exit status 1 when a p95 passes TARGET_MS.
"""
from __future__ import annotations

import argparse
import base64
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import console_data
from ivr.app import create_app
from ivr.records import db

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 300
PASSWORD = "bench"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"x:{PASSWORD}".encode()).decode()}
VIEWS = ("/dashboard", "/dashboard/calls", "/dashboard/stations", "/dashboard/cars", "/dashboard/funnel")


def filters() -> dict[str, str]:
    week = (datetime.now(timezone.utc) - timedelta(days=7)).date().isoformat()
    return {"full period": "since=all", "7 days": f"since={week}", "station": "since=all&station=ST-0000",
            "connector": "since=all&connector=chademo", "outcome": "since=all&outcome=hazard",
            "language": "since=all&language=es-US", "car": "since=all&car=Nissan"}


def timed(client, engine, url: str, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        engine.dispose()
        began = time.perf_counter()
        response = client.get(url, headers=AUTH)
        response.get_data()
        samples.append(time.perf_counter() - began)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(len(ordered) * 0.95) - 1)]


def first_bytes(client, engine, url: str, rounds: int) -> tuple[float, float, float]:
    """p95 of: the first byte, the first row (the first chunk past the header), the whole export."""
    first, row, whole = [], [], []
    for _ in range(rounds):
        engine.dispose()
        began = time.perf_counter()
        response = client.get(url, headers=AUTH, buffered=False)
        chunks = iter(response.response)
        next(chunks)
        first.append(time.perf_counter() - began)
        next(chunks)
        row.append(time.perf_counter() - began)
        for _ in chunks:
            pass
        whole.append(time.perf_counter() - began)
        response.close()
    return p95(first), p95(row), p95(whole)


def run(url: str, reuse: bool, rounds: int, only: str = "") -> int:
    env = {"IVR_DEV": "1", "IVR_AGENT_NUMBER": "+14155550100", "IVR_SUPPORT_NUMBER": "+18005550199",
           "DATABASE_URL": url, "IVR_FLOWS_DIR": str(ROOT / "flows"), "IVR_PROMPTS_DIR": str(ROOT / "prompts"),
           "IVR_DASHBOARD_PASSWORD": PASSWORD}
    app = create_app(env)
    engine = app.extensions["ivr"].recorder.engine
    if not reuse:
        began = time.perf_counter()
        turns = console_data.generate(engine)
        print(f"data: 100,000 calls, {turns:,} turns, written in {time.perf_counter() - began:.0f} s")
    if engine.dialect.name == "postgresql":   # what autovacuum does to a live database soon after a bulk load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SET statement_timeout = 0"))
            conn.execute(text("VACUUM ANALYZE calls"))
            conn.execute(text("VACUUM ANALYZE events"))
    client = app.test_client()
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM calls")).scalar()
        sid = conn.execute(text("SELECT call_sid FROM calls WHERE outcome = 'transferred' LIMIT 1")).scalar()
    print(f"{engine.dialect.name}: {count:,} calls; {rounds} cold requests each; p50 / p95 in ms (target p95 < {TARGET_MS})")
    worst = 0.0
    for view in [v for v in VIEWS if only in f"{v}?"]:
        for name, query in filters().items():
            samples = timed(client, engine, f"{view}?{query}", rounds)
            worst = max(worst, p95(samples))
            print(f"  {view:<22} {name:<12} {statistics.median(samples) * 1000:7.1f} {p95(samples) * 1000:7.1f}")
    for view in [v for v in ("/dashboard/live.json", f"/dashboard/calls/{sid}") if only in v]:
        samples = timed(client, engine, view, rounds)
        worst = max(worst, p95(samples))
        label = "/dashboard/calls/<sid>" if sid in view else view
        print(f"  {label:<22} {'-':<12} {statistics.median(samples) * 1000:7.1f} {p95(samples) * 1000:7.1f}")
    print("exports, p95 ms: first byte / first row / whole")
    for export in [e for e in ("/dashboard/calls.csv?since=all", "/dashboard/calls.json?since=all",
                               "/dashboard/calls.csv?since=all&station=ST-0000",
                               "/dashboard/calls.csv?since=all&car=Nissan") if only in e]:
        first, row, whole = first_bytes(client, engine, export, max(3, rounds // 4))
        worst = max(worst, first)
        print(f"  {export:<48} {first * 1000:7.1f} {row * 1000:7.1f} {whole * 1000:9.1f}")
    print(f"worst p95: {worst * 1000:.0f} ms: {'OK' if worst * 1000 < TARGET_MS else 'MISSED'} (target {TARGET_MS} ms)")
    engine.dispose()
    return 0 if worst * 1000 < TARGET_MS else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default=None)
    parser.add_argument("--reuse", action="store_true", help="the database already holds the calls")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--only", default="", help="only the views whose URL contains this")
    args = parser.parse_args()
    url = db.normalize_url(args.url or f"sqlite:////tmp/console-bench-{uuid.uuid4().hex[:8]}.db")
    if not url.startswith("postgresql") or args.reuse:
        return run(url, args.reuse, args.rounds, args.only)
    schema = "bench_" + uuid.uuid4().hex[:12]
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        return run(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", False, args.rounds, args.only)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())

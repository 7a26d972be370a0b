"""Server speed, side by side: our webhooks against a sample-shaped baseline.

Run from the repo root (needs wrk: `apt-get install wrk`):

    python bench/webhooks.py [--rounds 3] [--duration 10] [--connections 32]
    python bench/webhooks.py --profile     # where the time goes (pyinstrument)

1. Records one real call (signed, every step of the CCS path to a transfer,
   with speech, keypad, a silence and a repeat) through the app in-process.
2. Starts the app exactly as the Procfile does (gunicorn, gunicorn.conf.py,
   signatures checked, records written to a fresh SQLite file), and the
   baseline (bench/baseline_app.py: same kind of TwiML, no signature check, no
   records) under plain gunicorn with the same number of workers.
3. Per round, signs thousands of copies of the call with fresh CallSids and
   replays them with wrk (bench/replay.lua) at a fixed number of connections,
   baseline and project alternately.
4. Prints requests/s, p50 and p99 latency, server CPU ms per webhook (the
   gunicorn processes' CPU time over the round / requests), the ratios,
   start-up time and each worker's memory; then plays 100 whole calls at once
   and checks that every turn was written down. Exit status 1 when a target is
   missed.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

from bench.procfile import free_port, procfile_server  # noqa: E402

TOKEN = "0123456789abcdef0123456789abcdef"
AGENT = "+14155550100"
CLK_TCK = os.sysconf("SC_CLK_TCK")
RECORDED_PATHS = ("/voice", "/voice/turn", "/voice/dial-result", "/voice/voicemail")

# What the caller says at each question: a CCS driver who tries every step.
ANSWERS = {
    "session_screen": [{"SpeechResult": "yes it says charging complete", "Confidence": "0.91"}],
    "connector": [{"SpeechResult": "it's a CCS plug", "Confidence": "0.87"}],
    "unlock_fob": [{"SpeechResult": "no it's still stuck", "Confidence": "0.90"}],
    "unlock_car": [{"SpeechResult": "no it's still stuck", "Confidence": "0.90"}],
    "ccs_recheck": [{"SpeechResult": "it's still rigid", "Confidence": "0.82"}],
    "rigid_offer": [{"SpeechResult": "no thanks", "Confidence": "0.88"}],
    "unlock_cycle": [{"Digits": "2"}],
    "lock_unlock": [{}, {"SpeechResult": "nope still stuck", "Confidence": "0.80"}],  # silence first
    "reseat": [{"Digits": "*"}, {"Digits": "2"}],                                      # a repeat first
    "charge_lock": [{"SpeechResult": "no", "Confidence": "0.93"}],
    "schedule": [{"SpeechResult": "it won't come out", "Confidence": "0.85"}],
    "adapter_check": [{"SpeechResult": "no adapter", "Confidence": "0.90"}],
    "ccs_button": [{"SpeechResult": "it's rigid", "Confidence": "0.82"}],
    "confirm_stopped": [{"Digits": "1"}],
    "manual_release": [{"SpeechResult": "still stuck", "Confidence": "0.90"}],
    "car_question": [{"SpeechResult": "a Hyundai Kona", "Confidence": "0.88"}],
}


# -- one real call, recorded ------------------------------------------------------

class RecordingClient:
    """Wraps the Flask test client; keeps each webhook's path and form fields."""

    def __init__(self, client):
        self.client = client
        self.requests: list[tuple[str, dict]] = []

    def post(self, path, data=None, headers=None, base_url=None):
        response = self.client.post(path, data=data, headers=headers, base_url=base_url)
        if response.status_code >= 400:
            raise RuntimeError(f"recording: {path} answered {response.status_code}")
        self.requests.append((path, dict(data or {})))
        return response


def record_call(workdir: Path) -> list[tuple[str, dict]]:
    from ivr.app import create_app
    from ivr.tools.simulator import Call

    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "IVR_SUPPORT_NUMBER": "+18005550199", "IVR_AGENT_NUMBER": AGENT,
                      "DATABASE_URL": f"sqlite:///{workdir}/record.db"}, log_errors=False)
    recorder = RecordingClient(app.test_client())
    call = Call(recorder, auth_token=TOKEN)
    asked: dict[str, int] = {}

    def answer(event):
        if event.kind == "dial":
            return {"DialCallStatus": "completed", "DialCallDuration": "95",
                    "DialCallSid": "CA" + secrets.token_hex(16)}
        if event.kind != "listen":
            return None
        query = dict(p.split("=", 1) for p in urlsplit(event.detail["action"]).query.split("&"))
        node = query["node"]
        choices = ANSWERS[node]
        turn = asked.get(node, 0)
        asked[node] = turn + 1
        return choices[min(turn, len(choices) - 1)]

    ending = call.run(answer)
    if ending != "hangup":
        raise RuntimeError(f"the recorded call ended with {ending!r}")
    return recorder.requests


def sign_round(call: list[tuple[str, dict]], base: str, calls: int, out: Path) -> None:
    """`calls` copies of the call, signed for `base`, one request a line for wrk."""
    with out.open("w") as f:
        for requests in signed_calls(call, base, calls):
            for path, signature, body in requests:
                f.write(f"{path}\t{signature}\t{body.decode()}\n")


def signed_calls(call: list[tuple[str, dict]], base: str, calls: int) -> list[list[tuple[str, str, bytes]]]:
    """Whole calls, each a list of (path, signature, body), with fresh CallSids and
    fresh callers: one number calling thousands of times is a flood (IVR_RATE_LIMIT),
    not a busy evening."""
    validator = RequestValidator(TOKEN)
    out = []
    for _ in range(calls):
        sid, caller = "CA" + secrets.token_hex(16), f"+1555{secrets.randbelow(10**7):07d}"
        requests = []
        for path, fields in call:
            params = {**fields, "CallSid": sid, "From": caller}
            requests.append((path, validator.compute_signature(base + path, params), urlencode(params).encode()))
        out.append(requests)
    return out


def signed_environs(call: list[tuple[str, dict]], calls: int) -> list[dict]:
    """`calls` signed copies of the call as WSGI environs for the app in-process (each body
    readable once), with the raw request line gunicorn puts in RAW_URI."""
    from werkzeug.test import EnvironBuilder

    out = []
    for requests in signed_calls(call, "http://localhost", calls):
        for path, signature, body in requests:
            environ = EnvironBuilder(path=urlsplit(path).path, query_string=urlsplit(path).query, method="POST",
                                     data=body, content_type="application/x-www-form-urlencoded",
                                     headers={"X-Twilio-Signature": signature}).get_environ()
            environ["RAW_URI"] = path
            out.append(environ)
    return out


# -- processes: CPU and memory from /proc -------------------------------------------

def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(p) for p in text.split()]
    except OSError:
        return []


def cpu_seconds(pids) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


# -- load ---------------------------------------------------------------------------

def run_wrk(base: str, lines: Path, connections: int, threads: int, duration: int, server_pid: int) -> dict:
    pids = [server_pid, *children(server_pid)]
    cpu_before = cpu_seconds(pids)
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "15s",
         "-s", str(ROOT / "bench" / "replay.lua"), base],
        capture_output=True, text=True, env={**os.environ, "REPLAY_FILE": str(lines),
                                             "REPLAY_THREADS": str(threads)}, check=True)
    cpu_after = cpu_seconds(pids)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    seconds = figures["duration_us"] / 1e6
    figures["rps"] = figures["requests"] / seconds
    figures["cpu_ms"] = 1000 * (cpu_after - cpu_before) / max(figures["requests"], 1)
    return figures


def start_baseline(workers: int, port: int, workdir: Path):
    """Plain gunicorn, as a sample's README would start it (no gunicorn.conf.py)."""
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--chdir", str(ROOT), "bench.baseline_app:app"],
        cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    import urllib.request
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the baseline did not start") from None
            time.sleep(0.1)


def check_answers(base: str, lines: Path, count: int = 40) -> None:
    """Before loading: the project must accept the signed requests (200/204, text/xml)."""
    import urllib.request
    with lines.open() as f:
        for _, line in zip(range(count), f):
            path, signature, body = line.rstrip("\n").split("\t")
            request = urllib.request.Request(base + path, data=body.encode(), method="POST", headers={
                "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
            with urllib.request.urlopen(request, timeout=10) as response:
                kind = response.headers.get("Content-Type", "")
                if response.status not in (200, 204) or (response.status == 200 and not kind.startswith("text/xml")):
                    raise RuntimeError(f"{path} answered {response.status} {kind}")


def check_records(base: str, call: list[tuple[str, dict]], database: Path, calls: int,
                  connections: int) -> tuple[int, int]:
    """Play `calls` whole calls at once, each in order; return (turns expected, turns written)."""
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    def play(requests):
        for path, signature, body in requests:
            request = urllib.request.Request(base + path, data=body, method="POST", headers={
                "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
            with urllib.request.urlopen(request, timeout=15) as response:
                response.read()
        return parse_qs(requests[0][2].decode())["CallSid"][0]

    with ThreadPoolExecutor(connections) as pool:
        sids = list(pool.map(play, signed_calls(call, base, calls)))
    per_call = sum(urlsplit(p).path in RECORDED_PATHS for p, _ in call)
    with sqlite3.connect(database) as db:
        marks = ",".join("?" * len(sids))
        written = db.execute(f"select count(*) from events where call_sid in ({marks})", sids).fetchone()[0]
    return per_call * calls, written


# -- start-up -------------------------------------------------------------------------

STARTUP_SNIPPET = """
import time, sys
t0 = time.perf_counter()
from ivr.app import create_app
t1 = time.perf_counter()
create_app({"TWILIO_AUTH_TOKEN": "x" * 32, "IVR_SUPPORT_NUMBER": "+18005550199", "IVR_AGENT_NUMBER": "+14155550100",
            "DATABASE_URL": sys.argv[1]}, log_errors=False)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def startup_seconds(workdir: Path, runs: int = 5) -> tuple[float, float]:
    """Median (import, create_app = load + lint flows + open the database) in fresh processes."""
    imports, creates = [], []
    for i in range(runs):
        out = subprocess.run([sys.executable, "-c", STARTUP_SNIPPET, f"sqlite:///{workdir}/startup{i}.db"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
        imports.append(float(out[0]))
        creates.append(float(out[1]))
    return statistics.median(imports), statistics.median(creates)


# -- report -----------------------------------------------------------------------------

def in_process(call: list[tuple[str, dict]], workdir: Path, calls: int, with_profiler: bool,
               database_url: str | None = None) -> None:
    """Where a webhook's time goes: the recorded call replayed in-process, under
    pyinstrument (--profile) or bare (--in-process: CPU ms per webhook, no server,
    quick to repeat while working on one step)."""
    if with_profiler:
        try:
            from pyinstrument import Profiler
        except ImportError:
            sys.exit("--profile needs pyinstrument (bench only): pip install '.[bench]'")
    import contextlib
    import logging

    from ivr.app import create_app

    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "IVR_SUPPORT_NUMBER": "+18005550199", "IVR_AGENT_NUMBER": AGENT,
                      "DATABASE_URL": database_url or f"sqlite:///{workdir}/profile.db"}, log_errors=False)
    environs = signed_environs(call, calls)
    logging.getLogger("ivr").setLevel(logging.WARNING)   # as in production's log volume, less the access log
    profiler = Profiler(interval=0.0002) if with_profiler else None
    started, wall = time.process_time(), time.perf_counter()
    with profiler or contextlib.nullcontext():
        for environ in environs:
            b"".join(app.wsgi_app(environ, lambda status, headers, exc_info=None: None))
    print(f"in-process, no server: {1000 * (time.process_time() - started) / len(environs):.2f} CPU ms/webhook, "
          f"{1000 * (time.perf_counter() - wall) / len(environs):.2f} ms wall "
          + ("(with the profiler's own overhead)" if profiler else "(no profiler)") + f"; load average {load_average()}")
    if profiler:
        print(profiler.output_text(unicode=False, color=False))


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--calls", type=int, default=2500, help="signed calls per round")
    parser.add_argument("--profile", action="store_true",
                        help="instead: profile the webhooks in-process with pyinstrument")
    parser.add_argument("--in-process", action="store_true",
                        help="instead: CPU ms per webhook in-process, no server, no profiler")
    parser.add_argument("--database-url", help="with --profile or --in-process: record there (e.g. a PostgreSQL "
                        "database of its own), not in a fresh SQLite file")
    args = parser.parse_args(argv)
    workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as tmp:
        workdir = Path(tmp)
        call = record_call(workdir)
        if args.profile or args.in_process:
            in_process(call, workdir, 200 if args.profile else 500, with_profiler=args.profile,
                       database_url=args.database_url)
            return 0
        import_s, create_s = startup_seconds(workdir)
        project_port, baseline_port = free_port(), free_port()
        database = workdir / "bench.db"
        env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_SUPPORT_NUMBER": "+18005550199", "IVR_AGENT_NUMBER": AGENT, "IVR_DEV": "",
               "DATABASE_URL": f"sqlite:///{database}", "WEB_CONCURRENCY": str(workers)}
        print(f"one call = {len(call)} webhooks; {args.rounds} rounds of {args.duration} s each, "
              f"{args.connections} connections, {workers} workers; load average before: {load_average()}")
        baseline = start_baseline(workers, baseline_port, workdir)
        results = {"baseline": [], "project": []}
        try:
            asked = time.perf_counter()
            with procfile_server(env, port=project_port) as (base, server):
                server_up = time.perf_counter() - asked
                for round_no in range(args.rounds):
                    lines = workdir / f"round{round_no}.txt"
                    if round_no == 0:  # the project must accept what we send before we time it
                        sign_round(call, base, 3, lines)
                        check_answers(base, lines, count=3 * len(call))
                    sign_round(call, base, args.calls, lines)
                    for name, url, pid in (("baseline", f"http://127.0.0.1:{baseline_port}", baseline.pid),
                                           ("project", base, server.pid)):
                        figures = run_wrk(url, lines, args.connections, args.threads, args.duration, pid)
                        results[name].append(figures)
                        print(f"  round {round_no + 1} {name:8} {figures['rps']:7.0f} req/s  "
                              f"p50 {figures['p50_us'] / 1000:6.1f} ms  p99 {figures['p99_us'] / 1000:6.1f} ms  "
                              f"{figures['cpu_ms']:5.2f} CPU ms/webhook  non-2xx {figures['errors_status']}  "
                              f"socket errors {figures['errors_socket']}"
                              + ("  (replayed some calls twice)" if figures["wrapped"] else ""))
                expected, written = check_records(base, call, database, calls=100, connections=args.connections)
                time.sleep(1)
                memory = {pid: memory_mb(pid) for pid in children(server.pid)}
            baseline_memory = {pid: memory_mb(pid) for pid in children(baseline.pid)}
        finally:
            baseline.terminate()
            baseline.wait(10)

    def median(name, key):
        return statistics.median(r[key] for r in results[name])

    # Rounds alternate, so each round's pair saw the same machine: the ratio is
    # the median of the per-round ratios (the machine is shared; see load average).
    ratio = {key: statistics.median(p[key] / b[key] for p, b in zip(results["project"], results["baseline"]))
             for key in ("rps", "p50_us", "p99_us", "cpu_ms")}
    print()
    print(f"{'':10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/webhook':>15}   (medians of the rounds)")
    for name in ("baseline", "project"):
        print(f"{name:10} {median(name, 'rps'):8.0f} {median(name, 'p50_us') / 1000:8.1f} "
              f"{median(name, 'p99_us') / 1000:8.1f} {median(name, 'cpu_ms'):15.2f}")
    print(f"{'ratio':10} {ratio['rps']:7.2f}x {ratio['p50_us']:7.2f}x {ratio['p99_us']:7.2f}x {ratio['cpu_ms']:14.2f}x"
          "   (project / baseline, median of the per-round ratios)")
    print(f"load average after: {load_average()}")
    print(f"start-up: import {import_s * 1000:.0f} ms + load and lint flows, open and migrate the database "
          f"{create_s * 1000:.0f} ms = {(import_s + create_s) * 1000:.0f} ms; "
          f"Procfile line to /healthz answering: {server_up:.1f} s")
    for label, table in (("project", memory), ("baseline", baseline_memory)):
        print(f"{label} workers: " + ", ".join(f"{rss:.1f} MB resident (peak {peak:.1f} MB)"
                                              for rss, peak in table.values()))
    print(f"records: {written} of {expected} turns written for 100 whole calls played at once")
    answered = all(r["errors_status"] == 0 and r["errors_socket"] == 0 for r in results["project"])
    targets = [("every webhook answered 2xx", answered),
               ("nothing lost: every turn written", written == expected),
               # issue 16's targets, in one run against the baseline
               ("CPU per webhook <= 0.8 ms", median("project", "cpu_ms") <= 0.8),
               ("throughput >= 0.6x baseline", ratio["rps"] >= 0.6),
               ("p99 <= 2x baseline's", ratio["p99_us"] <= 2.0),
               ("start-up < 1 s", import_s + create_s < 1.0),
               ("each worker < 80 MB resident", all(peak < 80 for _, peak in memory.values()))]
    for label, met in targets:
        print(f"  {'met ' if met else 'MISS'} {label}")
    return 0 if all(met for _, met in targets) else 1


if __name__ == "__main__":
    sys.exit(main())

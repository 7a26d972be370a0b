"""Server speed, side by side: our webhooks against a sample-shaped baseline.

Run from the repo root (needs wrk: `apt-get install wrk`):

    python bench/webhooks.py [--rounds 3] [--duration 10] [--connections 32]

1. Records one real call (signed, every step of the CCS path to a transfer,
   with speech, keypad, a silence and a repeat) through the app in-process.
2. Starts the app exactly as the Procfile does (gunicorn, gunicorn.conf.py,
   signatures checked, records written to a fresh SQLite file), and the
   baseline (bench/baseline_app.py: same kind of TwiML, no signature check, no
   records) under plain gunicorn with the same number of workers.
3. Per round, signs thousands of copies of the call with fresh CallSids and
   replays them with wrk (bench/replay.lua) at a fixed number of connections,
   baseline and project alternately.
4. Prints requests/s, p50 and p99 latency, server CPU ms per webhook, the
   ratios, start-up time and each worker's memory; checks that every webhook
   the project answered was written down.
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
from urllib.parse import urlencode, urlsplit

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
    "unlock_cycle": [{"Digits": "2"}],
    "lock_unlock": [{}, {"SpeechResult": "nope still stuck", "Confidence": "0.80"}],  # silence first
    "reseat": [{"Digits": "*"}, {"Digits": "2"}],                                      # a repeat first
    "charge_lock": [{"SpeechResult": "no", "Confidence": "0.93"}],
    "schedule": [{"SpeechResult": "it won't come out", "Confidence": "0.85"}],
    "adapter_check": [{"SpeechResult": "no adapter", "Confidence": "0.90"}],
    "ccs_button": [{"SpeechResult": "it's rigid", "Confidence": "0.82"}],
    "confirm_stopped": [{"Digits": "1"}],
    "manual_release": [{"SpeechResult": "still stuck", "Confidence": "0.90"}],
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
    from ivr.simulator import Call

    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "IVR_AGENT_NUMBER": AGENT,
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
    """`calls` copies of the call with fresh CallSids, signed for `base`, one line each."""
    validator = RequestValidator(TOKEN)
    with out.open("w") as f:
        for _ in range(calls):
            sid = "CA" + secrets.token_hex(16)
            for path, fields in call:
                params = {**fields, "CallSid": sid}
                signature = validator.compute_signature(base + path, params)
                f.write(f"{path}\t{signature}\t{urlencode(params)}\n")


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
                raise RuntimeError("the baseline did not start")
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


# -- start-up -------------------------------------------------------------------------

STARTUP_SNIPPET = """
import time, sys
t0 = time.perf_counter()
from ivr.app import create_app
t1 = time.perf_counter()
create_app({"TWILIO_AUTH_TOKEN": "x" * 32, "IVR_AGENT_NUMBER": "+14155550100",
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

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--calls", type=int, default=2500, help="signed calls per round")
    args = parser.parse_args(argv)
    workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as tmp:
        workdir = Path(tmp)
        call = record_call(workdir)
        import_s, create_s = startup_seconds(workdir)
        project_port, baseline_port = free_port(), free_port()
        project_base = f"http://127.0.0.1:{project_port}"
        database = workdir / "bench.db"
        env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_AGENT_NUMBER": AGENT, "IVR_DEV": "",
               "DATABASE_URL": f"sqlite:///{database}", "WEB_CONCURRENCY": str(workers)}
        print(f"one call = {len(call)} webhooks; {args.rounds} rounds of {args.duration}s, "
              f"{args.connections} connections, {workers} workers each")
        baseline = start_baseline(workers, baseline_port, workdir)
        results = {"baseline": [], "project": []}
        expected_events = 0
        per_call_events = sum(urlsplit(p).path in RECORDED_PATHS for p, _ in call)
        try:
            with procfile_server(env, port=project_port) as (base, server):
                for round_no in range(args.rounds):
                    lines = workdir / f"round{round_no}.txt"
                    sign_round(call, project_base, args.calls, lines)
                    if round_no == 0:
                        check_answers(base, lines)
                        lines.unlink()
                        sign_round(call, project_base, args.calls, lines)
                    for name, url, pid in (("baseline", f"http://127.0.0.1:{baseline_port}", baseline.pid),
                                           ("project", base, server.pid)):
                        figures = run_wrk(url, lines, args.connections, args.threads, args.duration, pid)
                        results[name].append(figures)
                        print(f"  round {round_no + 1} {name:8} {figures['rps']:7.0f} req/s  "
                              f"p50 {figures['p50_us'] / 1000:6.1f} ms  p99 {figures['p99_us'] / 1000:6.1f} ms  "
                              f"{figures['cpu_ms']:5.2f} CPU ms/webhook  errors {figures['errors_status']}"
                              f"+{figures['errors_socket']}" + ("  (replayed some calls twice)" if figures["wrapped"] else ""))
                    project = results["project"][-1]
                    # A call's webhooks are replayed in order; the last one may be cut off.
                    expected_events += project["requests"] * per_call_events / len(call)
                time.sleep(1)
                project_workers = children(server.pid)
                memory = {pid: memory_mb(pid) for pid in project_workers}
            baseline_memory = {pid: memory_mb(pid) for pid in children(baseline.pid)}
        finally:
            baseline.terminate()
            baseline.wait(10)
        with sqlite3.connect(database) as db:
            events = db.execute("select count(*) from events").fetchone()[0]

    def median(name, key):
        return statistics.median(r[key] for r in results[name])

    print()
    print(f"{'':10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/webhook':>15}")
    for name in ("baseline", "project"):
        print(f"{name:10} {median(name, 'rps'):8.0f} {median(name, 'p50_us') / 1000:8.1f} "
              f"{median(name, 'p99_us') / 1000:8.1f} {median(name, 'cpu_ms'):15.2f}")
    ratio = {key: median("project", key) / median("baseline", key) for key in ("rps", "p50_us", "p99_us", "cpu_ms")}
    print(f"{'ratio':10} {ratio['rps']:7.2f}x {ratio['p50_us']:7.2f}x {ratio['p99_us']:7.2f}x {ratio['cpu_ms']:14.2f}x"
          "   (project / baseline, medians of the rounds)")
    print(f"start-up: import {import_s * 1000:.0f} ms + load and lint flows, open database "
          f"{create_s * 1000:.0f} ms = {(import_s + create_s) * 1000:.0f} ms")
    for label, table in (("project", memory), ("baseline", baseline_memory)):
        print(f"{label} workers: " + ", ".join(f"{rss:.0f} MB resident (peak {peak:.0f} MB)"
                                              for rss, peak in table.values()))
    print(f"records: {events} turns written for about {expected_events:.0f} recordable webhooks answered")
    targets = [("throughput >= 1.0x baseline", ratio["rps"] >= 1.0),
               ("p99 no worse than baseline", ratio["p99_us"] <= 1.0),
               ("start-up < 1 s", import_s + create_s < 1.0),
               ("each worker < 80 MB", all(rss < 80 for rss, _ in memory.values()))]
    for label, met in targets:
        print(f"  {'met ' if met else 'MISS'} {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

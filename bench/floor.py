"""Where the floor of a webhook's CPU is: what each guarantee costs, and the server's own share.

Run from the repo root (needs wrk for the server part: `apt-get install wrk`):

    python -m bench.floor [--calls 200] [--no-server]

bench/webhooks.py measures the whole webhook against a sample-shaped baseline; this
splits the same recorded call (a CCS driver who tries every step, 21 webhooks) into
what it is made of, so the README can say which part could still shrink:

In-process, no server, CPU ms per webhook (best of 5 rounds; the machine is shared):
  - the whole webhook, as bench/webhooks.py --in-process;
  - Flask alone: the same app answering GET /healthz (context, routing, response);
  - the signature: werkzeug reading the form, then ivr.web.security.is_from_twilio;
  - the record: one turn written by ivr.records.db.Recorder, as each webhook writes one;
  - the rest: the call's own work (reading the answer, deciding, the reply's TwiML,
    the state in the URL), whole minus the three above.
Under load, the Procfile's server (gevent workers) and the baseline's (plain gunicorn,
sync workers) answering GET /healthz with wrk, 32 connections: the server's own CPU
per request when the app does nothing.
"""
from __future__ import annotations

import argparse
import logging
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procfile import free_port, procfile_server  # noqa: E402
from bench.webhooks import (  # noqa: E402
    AGENT,
    TOKEN,
    children,
    cpu_seconds,
    record_call,
    signed_environs,
    start_baseline,
)

ROUNDS = 5


def best_ms(work, make_inputs) -> float:
    """Best of ROUNDS: CPU ms per item of `work` over fresh inputs each round."""
    best = float("inf")
    for _ in range(ROUNDS):
        inputs = make_inputs()
        started = time.process_time()
        for item in inputs:
            work(item)
        best = min(best, 1000 * (time.process_time() - started) / len(inputs))
    return best


def in_process(call, workdir: Path, calls: int) -> dict[str, float]:
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from ivr.app import create_app
    from ivr.records import db
    from ivr.web.security import is_from_twilio, public_url

    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "IVR_SUPPORT_NUMBER": "+18005550199", "IVR_AGENT_NUMBER": AGENT,
                      "DATABASE_URL": f"sqlite:///{workdir}/floor.db"}, log_errors=False)
    logging.getLogger("ivr").setLevel(logging.WARNING)

    def answer(environ):
        b"".join(app.wsgi_app(environ, lambda status, headers, exc_info=None: None))

    def signature(environ):
        request = Request(environ)
        if not is_from_twilio(TOKEN, public_url(environ, request.host_url), request.form,
                              request.headers.get("X-Twilio-Signature")):
            raise RuntimeError("the recorded call's signature did not check")

    recorder = db.Recorder(db.connect(f"sqlite:///{workdir}/floor.db"))
    sids = ["CA" + secrets.token_hex(16) for _ in range(calls)]
    for sid in sids:
        recorder.call_started(sid, "+15555550123", "+18005550199", "en-US")
    state = "node=reseat&lang=en-US&path=connector.ccs_button-n.session_screen-y.adapter_check-n&conn=ccs&ad=0"

    def turns():
        return [(sid, secrets.token_hex(20), n) for sid in sids for n in range(len(call))]

    def record(turn):
        sid, key, n = turn
        recorder.turn(sid, key, node="reseat", speech="it's still stuck", digits=None, confidence=0.9,
                      intent="still_stuck", action="next", next_node=f"step{n}", language="en-US",
                      connector="ccs", state=state)

    def healthz():
        return [EnvironBuilder(path="/healthz", method="GET").get_environ() for _ in range(calls * len(call))]

    figures = {"whole": best_ms(answer, lambda: signed_environs(call, calls)),
               "flask": best_ms(answer, healthz),
               "signature": best_ms(signature, lambda: signed_environs(call, calls)),
               "record": best_ms(record, turns)}
    figures["rest"] = figures["whole"] - figures["flask"] - figures["signature"] - figures["record"]
    return figures


def healthz_under_load(workdir: Path) -> dict[str, tuple[float, float]]:
    """(requests/s, server CPU ms per request) for GET /healthz, project and baseline."""
    def load(base: str, pid: int) -> tuple[float, float]:
        pids = [pid, *children(pid)]
        before = cpu_seconds(pids)
        out = subprocess.run(["wrk", "-t2", "-c32", "-d8s", base + "/healthz"], capture_output=True, text=True,
                             check=True).stdout
        spent = cpu_seconds(pids) - before
        requests = int(next(line for line in out.splitlines() if "requests in" in line).split()[0])
        return requests / 8, 1000 * spent / requests

    env = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_SUPPORT_NUMBER": "+18005550199", "IVR_AGENT_NUMBER": AGENT,
           "IVR_DEV": "", "DATABASE_URL": f"sqlite:///{workdir}/server.db", "WEB_CONCURRENCY": "2"}
    baseline_port = free_port()
    baseline = start_baseline(2, baseline_port, workdir)
    try:
        with procfile_server(env) as (base, server):
            return {"project": load(base, server.pid),
                    "baseline": load(f"http://127.0.0.1:{baseline_port}", baseline.pid)}
    finally:
        baseline.terminate()
        baseline.wait(10)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="copies of the recorded call per round")
    parser.add_argument("--no-server", action="store_true", help="only the in-process split")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ivr-floor-") as tmp:
        workdir = Path(tmp)
        call = record_call(workdir)
        split = in_process(call, workdir, args.calls)
        print(f"in-process, CPU ms per webhook (best of {ROUNDS} rounds of {args.calls} calls x {len(call)} webhooks):")
        labels = {"whole": "the whole webhook", "flask": "  Flask alone (GET /healthz)",
                  "signature": "  the signature (form read, one HMAC)", "record": "  the record (one turn, committed)",
                  "rest": "  the call's own work (the rest)"}
        for key, label in labels.items():
            share = "" if key == "whole" else f"  {100 * split[key] / split['whole']:4.0f}%"
            print(f"  {label:42} {split[key]:6.3f}{share}")
        if not args.no_server:
            served = healthz_under_load(workdir)
            print("under load, GET /healthz, 32 connections, 2 workers (the server's own share):")
            for name, (rate, cpu) in served.items():
                print(f"  {name:9} {rate:7.0f} req/s  {cpu:5.3f} CPU ms per request")
        print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

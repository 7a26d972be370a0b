"""Slow clients must not take the line down: signed calls with slow sockets open.

Run from the repo root:

    python -m bench.slowclients [--slow 50] [--calls 20] [--gunicorn-args "..."]

Starts the Procfile's server (gunicorn.conf.py, signatures checked, a fresh
SQLite file), opens --slow connections that each send request headers with
`Content-Length: 1000` and then one byte of body every --drip seconds (the
slow-loris that held every sync worker, issue 12), and while they are open plays
--calls complete signed calls, one webhook at a time per call, 4 calls at once.
Prints the webhooks' p50, p99 and max latency, how many got valid TwiML, and
whether gunicorn logged worker timeouts. Exits 1 if p99 is 1 s or more or any
webhook failed.

--gunicorn-args goes to gunicorn as GUNICORN_CMD_ARGS (which wins over
gunicorn.conf.py), to measure other settings with the same Procfile line, e.g.
--gunicorn-args "--worker-class sync". Only 127.0.0.1 is contacted; the run is
bounded by --calls and --max-seconds.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import HttpTwilio, percentile  # noqa: E402
from bench.procfile import procfile_server  # noqa: E402
from ivr.tools.simulator import Call  # noqa: E402

ANSWERS = ({"Digits": "1"}, {"Digits": "*"}, {"SpeechResult": "it's still stuck", "Confidence": "0.9"})


def slow_client(base: str, stop: threading.Event, drip: float, opened: list) -> None:
    """Headers at once, then a byte every `drip` seconds, never finishing the body."""
    parts = urlsplit(base)
    try:
        sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
    except OSError:
        return
    try:
        sock.sendall(b"POST /voice HTTP/1.1\r\nHost: localhost\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
        opened.append(1)
        while not stop.wait(drip):
            sock.sendall(b"a")
    except OSError:
        pass  # the server hung up on it: fine
    finally:
        sock.close()


class TimedTwilio(HttpTwilio):
    """HttpTwilio that counts a request that failed or timed out at the time it took."""

    def post(self, path, data, headers, base_url):
        began = time.perf_counter()
        try:
            return super().post(path, data, headers, base_url)
        except Exception as exc:
            with self._lock:
                self.latencies.append(time.perf_counter() - began)
                self.errors.append(f"{path.split('?')[0]}: {type(exc).__name__}")
            raise


def one_call(twilio: HttpTwilio, token: str) -> int:
    """A call: the welcome and three answers; returns webhooks answered with TwiML."""
    call = Call(twilio, auth_token=token)
    good = 0
    try:
        response = call.post("/voice", {"CallStatus": "ringing"})
        for answer in (*ANSWERS, None):
            if response.status_code != 200 or response.mimetype != "text/xml":
                return good
            good += 1
            gather = ET.fromstring(response.data).find("Gather")
            if answer is None or gather is None:
                return good
            response = call.post(gather.get("action"), answer)
    except Exception:
        return good
    return good


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", type=int, default=50, help="slow connections held open")
    parser.add_argument("--drip", type=float, default=2.0, help="seconds between a slow client's bytes")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--gunicorn-args", default="", help="extra gunicorn settings (GUNICORN_CMD_ARGS)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="give up on the calls after this")
    args = parser.parse_args(argv)

    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"TWILIO_AUTH_TOKEN": token, "IVR_DEV": "", "IVR_AGENT_NUMBER": "+14155550100", "IVR_SUPPORT_NUMBER": "+18005550199",
               "DATABASE_URL": f"sqlite:///{tmp}/slow.db", "IVR_RATE_LIMIT": "off",
               "GUNICORN_CMD_ARGS": args.gunicorn_args}
        log_path = Path(tmp) / "server.log"
        stop = threading.Event()
        with open(log_path, "wb") as log, procfile_server(env, log=log) as (base, _process):
            opened: list = []
            slow = [threading.Thread(target=slow_client, args=(base, stop, args.drip, opened), daemon=True)
                    for _ in range(args.slow)]
            for thread in slow:
                thread.start()
            time.sleep(1.0)  # let them all get in first
            twilio = TimedTwilio(base, timeout=15)  # Twilio's own budget
            began = time.monotonic()
            pool = concurrent.futures.ThreadPoolExecutor(4)
            futures = [pool.submit(one_call, twilio, token) for _ in range(args.calls)]
            done, _late = concurrent.futures.wait(futures, timeout=args.max_seconds)
            for future in futures:
                future.cancel()
            answered = sum(f.result() for f in done)
            pool.shutdown(wait=False, cancel_futures=True)
            elapsed = time.monotonic() - began
            stop.set()
            for thread in slow:
                thread.join(timeout=5)
        log_text = log_path.read_text(errors="replace")

    latencies = twilio.latencies
    timeouts = log_text.count("WORKER TIMEOUT")
    print(f"slow connections: {len(opened)} of {args.slow} open (a byte every {args.drip:g} s); "
          f"gunicorn args: {args.gunicorn_args or '(gunicorn.conf.py)'}")
    print(f"calls: {args.calls}, webhooks sent: {len(latencies)}, answered with TwiML: {answered}, "
          f"errors: {len(twilio.errors)}, {elapsed:.1f} s")
    if latencies:
        print(f"signed webhook latency: p50 {statistics.median(latencies) * 1000:.1f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    print(f"worker timeouts logged: {timeouts}")
    ok = latencies and percentile(latencies, 0.99) < 1.0 and answered == len(latencies) and not twilio.errors
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""How long a caller waits when Twilio's REST API hangs during a text offer.

Run from the repo root:  python bench/handoff_sms.py [--runs 5]

Starts a local "proxy" that accepts connections and never answers, points
HTTPS_PROXY at it (twilio-python's requests session honours it), then posts
the caller's "yes" to "Would you like these steps by text message?" through
the real webhook, in-process, signed. Prints the webhook's wall time per run
and what the caller heard. Twilio allows 15 s per webhook; the REST timeout
(ivr.sms.REST_TIMEOUT) must keep the answer well inside it.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def silent_proxy() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held = []

    def accept():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)  # keep it open, say nothing

    threading.Thread(target=accept, daemon=True).start()
    return server, server.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server, port = silent_proxy()
    os.environ["HTTPS_PROXY"] = f"http://127.0.0.1:{port}"
    os.environ.pop("NO_PROXY", None)

    import logging
    logging.disable(logging.WARNING)
    from xml.etree import ElementTree as ET

    from ivr.app import create_app
    from ivr.tools.simulator import Call

    token = "1" * 32
    flows = Path(tempfile.mkdtemp()) / "flows"
    flows.mkdir()
    (flows / "stuck_connector.yaml").write_text((ROOT / "flows" / "stuck_connector.yaml").read_text())
    (flows / "escalation.yaml").write_text("fallback: [sms]\n")
    app = create_app({"TWILIO_AUTH_TOKEN": token, "TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
                      "IVR_SMS_FROM": "+18005550100", "IVR_SUPPORT_NUMBER": "+18005550199", "IVR_AGENT_NUMBER": "+14155550100",
                      "DATABASE_URL": f"sqlite:///{flows.parent}/bench.db", "IVR_FLOWS_DIR": str(flows),
                      "IVR_PROMPTS_DIR": str(ROOT / "prompts")})
    times = []
    for run in range(args.runs):
        call = Call(app.test_client(), auth_token=token)
        offer = call.post("/voice/dial-result?node=agent&lang=en-US&leg=1", {"DialCallStatus": "no-answer"})
        action = ET.fromstring(offer.data).find("Gather").get("action")
        started = time.perf_counter()
        answer = call.post(action, {"Digits": "1"})
        times.append(time.perf_counter() - started)
        heard = " ".join(s.text or "" for s in ET.fromstring(answer.data).iter("Say"))
        print(f"run {run + 1}: {times[-1]:.2f} s, HTTP {answer.status_code}, caller hears: {heard}")
    print(f"webhook time with a hanging REST API: median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s (Twilio's limit: 15 s)")
    server.close()
    return 0 if max(times) < 10 else 1


if __name__ == "__main__":
    sys.exit(main())

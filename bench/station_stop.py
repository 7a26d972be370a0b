"""How long from "it's still charging" to "It's stopped" against the simulated station.

Run from the repo root:  python bench/station_stop.py [--runs 5] [--stop-delay 2.0] [--webhooks]

Starts the operator's simulator (ivr/tools/station_sim.py, scenario `running`) and the
line's OCPI back end against it (in-process, the line served over HTTP for the
CommandResult), then per run: reads the station's status (the session the caller says
is still running), sends STOP_SESSION, and plays the listening wait as the engine would
(ivr.call.station_actions.wait_turn: each turn a silent Gather of its length, then a
read of the command from the database). Prints, per run and as medians: the status
read, the STOP_SESSION round trip, when the CommandResult was stored, and when the
caller hears "It's stopped" (the end of the turn in which it came). `--stop-delay` is
the station's own time to stop (the simulator's; real stations take seconds).

`--webhooks`: the same through the line's own webhooks (the conversation, its effects,
the codec), as Twilio would post them: the call comes in for S100, the caller says
"it's still stuck" at the release button, then each listening Gather of the wait is
silent for its timeout. Prints when the answer to "still stuck" came back (the stop
already sent) and when the webhook that says "It's stopped" answered, from the post
of "still stuck", with the slowest webhook's time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))



def _line_on_a_simulated_station(tmp: str, run: int, stop_delay: float):
    """The simulated station (its session running) and the line on it (a fresh SQLite file)."""
    from ivr.app import create_app
    from ivr.tools.station_sim import Attached

    sim = Attached("running", stop_delay=stop_delay)
    env = {"IVR_DEV": "1", "DATABASE_URL": f"sqlite:///{tmp}/bench-{run}.db", "IVR_RATE_LIMIT": "off",
           "IVR_FLOWS_DIR": str(ROOT / "flows"), "IVR_PROMPTS_DIR": str(ROOT / "prompts"), **sim.env}
    app = create_app(env, log_errors=False)
    sim.serve(app)
    return sim, app

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stop-delay", type=float, default=2.0)
    parser.add_argument("--webhooks", action="store_true", help="through the line's webhooks")
    args = parser.parse_args()
    if args.webhooks:
        return through_webhooks(args)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)   # the simulator's request lines

    from ivr.call.station_actions import Finished, Listen, wait_turn

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            sim, app = _line_on_a_simulated_station(tmp, run, args.stop_delay)
            backend = app.extensions["ivr.station"]
            evse = backend.find_evse("S100").evse
            started = time.monotonic()
            status = backend.status(evse, call_sid="CA-bench")
            read = time.monotonic()
            state = backend.stop_session(evse, status.session.id, call_sid="CA-bench")
            sent = time.monotonic()
            sent_epoch, turn, stored = time.time(), 0, None
            while True:
                decision = wait_turn(backend.command(state.command_id), sent_at=sent_epoch, now=time.time(), turn=turn)
                if isinstance(decision, Finished):
                    heard = time.monotonic()
                    break
                assert isinstance(decision, Listen)
                turn_end = time.monotonic() + decision.seconds
                while time.monotonic() < turn_end:          # a silent Gather: nothing to hear
                    if stored is None and backend.command(state.command_id).finished:
                        stored = time.monotonic()
                    time.sleep(0.05)
                turn += 1
            stored = stored or heard
            rows.append((read - started, sent - read, stored - started, heard - started, decision.lines[0], turn))
            print(f"run {run + 1}: status {1000 * rows[-1][0]:.0f} ms, STOP_SESSION {1000 * rows[-1][1]:.0f} ms, "
                  f"result stored at {rows[-1][2]:.2f} s, caller hears {rows[-1][4]!r} at {rows[-1][3]:.2f} s "
                  f"({turn} listening turns)")
            sim.stop()
            app.extensions["ivr"].recorder.engine.dispose()
    print(f"median over {len(rows)} runs (station stop delay {args.stop_delay:g} s): "
          f"status {1000 * statistics.median(r[0] for r in rows):.0f} ms, "
          f"STOP_SESSION {1000 * statistics.median(r[1] for r in rows):.0f} ms, "
          f"result stored {statistics.median(r[2] for r in rows):.2f} s, "
          f"\"it's still charging\" -> \"It's stopped\" {statistics.median(r[3] for r in rows):.2f} s "
          "(plus the two lines said before the wait)")


def through_webhooks(args) -> None:
    import logging
    import xml.etree.ElementTree as ET
    from urllib.parse import urlsplit
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


    rows = []
    form = {"CallSid": "CA" + "b" * 32, "From": "+14155550123", "To": "+14155550100"}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            sim, app = _line_on_a_simulated_station(tmp, run, args.stop_delay)
            client = app.test_client()
            slowest = 0.0

            def post(url: str, client=client, **fields) -> ET.Element:
                nonlocal slowest
                parts = urlsplit(url)
                began = time.monotonic()
                body = client.post(parts.path + ("?" + parts.query if parts.query else ""), data={**form, **fields}).data
                slowest = max(slowest, time.monotonic() - began)
                return ET.fromstring(body)

            root = post("/voice?station=S100", CallStatus="ringing")
            started = time.monotonic()
            root = post(root.find("Gather").get("action"), SpeechResult="it's still stuck", Confidence="0.9")
            answered = time.monotonic() - started
            turns = 0
            while "/voice/station/wait" in root.find("Gather").get("action"):
                time.sleep(int(root.find("Gather").get("timeout")))      # a silent listening turn
                root = post(root.find("Gather").get("action"))
                turns += 1
            heard = time.monotonic() - started
            first = next(s.text for s in root.iter("Say"))
            rows.append((answered, heard, slowest))
            print(f"run {run + 1}: 'still stuck' answered in {1000 * answered:.0f} ms (the stop sent), "
                  f"{first!r} at {heard:.2f} s after {turns} listening turns; slowest webhook {1000 * slowest:.0f} ms")
            sim.stop()
            app.extensions["ivr"].recorder.engine.dispose()
    print(f"median over {len(rows)} runs through the webhooks (station stop delay {args.stop_delay:g} s): "
          f"\"still stuck\" answered {1000 * statistics.median(r[0] for r in rows):.0f} ms, "
          f"\"It's stopped\" {statistics.median(r[1] for r in rows):.2f} s, "
          f"slowest webhook {1000 * max(r[2] for r in rows):.0f} ms")


if __name__ == "__main__":
    main()

"""How long from "it's still charging" to "It's stopped" against the simulated station.

Run from the repo root:  python bench/station_stop.py [--runs 5] [--stop-delay 2.0]

Starts the operator's simulator (ivr/tools/station_sim.py, scenario `running`) and the
line's OCPI back end against it (in-process, the line served over HTTP for the
CommandResult), then per run: reads the station's status (the session the caller says
is still running), sends STOP_SESSION, and plays the listening wait as the engine would
(ivr.call.station_actions.wait_turn: each turn a silent Gather of its length, then a
read of the command from the database). Prints, per run and as medians: the status
read, the STOP_SESSION round trip, when the CommandResult was stored, and when the
caller hears "It's stopped" (the end of the turn in which it came). `--stop-delay` is
the station's own time to stop (the simulator's; real stations take seconds).
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stop-delay", type=float, default=2.0)
    args = parser.parse_args()
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)   # the simulator's request lines

    from ivr.app import create_app
    from ivr.call.station_actions import Finished, Listen, wait_turn
    from ivr.tools.station_sim import Attached

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            sim = Attached("running", stop_delay=args.stop_delay)
            env = {"IVR_DEV": "1", "DATABASE_URL": f"sqlite:///{tmp}/bench-{run}.db", "IVR_RATE_LIMIT": "off",
                   "IVR_FLOWS_DIR": str(ROOT / "flows"), "IVR_PROMPTS_DIR": str(ROOT / "prompts"), **sim.env}
            app = create_app(env, log_errors=False)
            sim.serve(app)
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


if __name__ == "__main__":
    main()

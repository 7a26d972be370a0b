"""100,000 recorded calls for the console's benchmark: realistic paths through the flow.

    python -m bench.console_data sqlite:////tmp/console-100k.db [--calls 100000] [--days 90]

Each call walks the real flow (flows/stuck_connector.yaml) from the connector question:
at each question it is freed, asks for a person, hangs up, mumbles (a reprompt), reports
a hazard or moves on, with fixed odds; stations follow a long tail (a few get most calls),
one call in seven is in Spanish, a handful are in progress now. A call that reaches
"What car is it?" (or names its car earlier, one in twenty) records a car from a
realistic mix (Teslas mostly on Tesla connectors, a long tail of cars without notes,
"other" and "I don't know" as "unknown" with no model), and takes the branch that car
leads to; every other call records none (NULL), as the webhooks do. Written with batched
inserts straight into the calls and events tables (the webhooks would take hours).
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ivr import content
from ivr.records import db
from ivr.web.views.console import funnel

ROOT = Path(__file__).resolve().parent.parent
CONNECTORS = (("ccs", 45), ("j1772", 20), ("tesla", 15), ("chademo", 10), ("unsure", 10))
STATIONS = [f"ST-{n:04d}" for n in range(600)]
STATION_WEIGHTS = [1 / (rank + 10) for rank in range(len(STATIONS))]   # the busiest gets ~2.4%, the quietest 0.04%
BATCH = 5000
# (make, model, the car question's branch, weight): the cars with notes in flows/vehicles.yaml,
# then "unknown": cars without notes (the name heard is the model), "other" and "I don't know".
CARS = (("Tesla", "Model Y", "tips", 14), ("Tesla", "Model 3", "tips", 12), ("Tesla", "Model S", "tips", 3),
        ("Tesla", "Model X", "tips", 2), ("Chevrolet", "Bolt EV", "no_release", 9), ("Chevrolet", "Bolt EUV", "no_release", 4),
        ("Nissan", "Leaf", "tips", 8), ("Hyundai", "Ioniq 5", "release", 7), ("Hyundai", "Ioniq 6", "release", 3),
        ("Kia", "EV6", "tips", 5), ("Ford", "Mustang Mach-E", "tips", 6), ("Ford", "F-150 Lightning", "tips", 3),
        ("Volkswagen", "ID.4", "tips", 4), ("Rivian", "R1T", "release", 2), ("Rivian", "R1S", "release", 1),
        ("Jaguar", "I-PACE", "tips", 1), ("Audi", "e-tron", "tips", 2), ("BMW", "i4", "tips", 2), ("BMW", "iX", "tips", 1),
        ("unknown", "Polestar 2", "unknown", 3), ("unknown", "Kia Niro", "unknown", 2),
        ("unknown", "Cadillac Lyriq", "unknown", 1), ("unknown", "Lucid Air", "unknown", 1),
        ("unknown", None, "unknown", 6))
TESLA_CARS = tuple(c for c in CARS if c[0] == "Tesla")


def _car(rng: random.Random, connector: str) -> tuple[str, str | None, str]:
    pool = TESLA_CARS if connector == "tesla" and rng.random() < 0.85 else CARS
    return rng.choices([c[:3] for c in pool], [c[3] for c in pool])[0]


def _next_question(flow, node_id: str, connector: str, car: str | None = None) -> str:
    for _ in range(32):
        node = flow.nodes[node_id]
        if node.kind == "say":
            node_id = node.next
        elif node.kind == "branch":
            pick = {"connector": connector, "car": car, "car_release": car}.get(node.branch or "", "no")
            node_id = node.cases.get(pick or "", node.default)
        else:
            return node_id
    return node_id


def one_call(flow, rng: random.Random, n: int, start: datetime, person_ends: list[str]) -> tuple[dict, list[dict]]:
    sid = f"CA{n:032x}"
    connector = rng.choices([c for c, _ in CONNECTORS], [w for _, w in CONNECTORS])[0]
    language = "es-US" if rng.random() < 0.14 else "en-US"
    at = start
    events: list[dict] = []
    car = _car(rng, connector)
    named = rng.random() < 0.05        # "a Tesla with a CCS adapter": named before the question

    def turn(node, action, next_node, intent=None):
        nonlocal at
        at += timedelta(seconds=rng.randint(6, 40))
        speech = rng.random() < 0.6 and action != "start"
        events.append({"call_sid": sid, "request_key": f"k{len(events)}", "at": at, "node": node,
                       "speech": "it's still stuck" if speech else None, "digits": None if speech or action == "start" else "2",
                       "confidence": round(rng.uniform(0.4, 0.98), 2) if speech else None, "intent": intent,
                       "action": action, "next_node": next_node})

    question = flow.nodes["connector"]
    turn(None, "start", "connector")
    outcome, hazard, here = "abandoned", None, "connector"
    if rng.random() < 0.04:
        pass                                              # hung up at the first question
    else:
        here = _next_question(flow, question.on[connector], connector, car[2] if named else None)
        turn("connector", f"answer:{connector}", here, f"connector_{connector}")
        for _ in range(14):
            node = flow.nodes[here]
            if node.kind == "end":
                outcome = {"agent": "transferred", "released": "released", "hazard": "hazard"}.get(node.end, "goodbye")
                if node.end == "agent":
                    turn(here, "dial:" + rng.choice(["completed", "completed", "no-answer", "busy"]), None)
                break
            roll = rng.random()
            if roll < 0.08:
                turn(here, "not_understood:reprompt", here, "unclear")
                continue
            if ((roll < 0.26 and "released" in node.on.values()) or roll < 0.12) and node.sets != "car":
                turn(here, "answer:released" if node.expect == "released" else "confirmed:released", "released", "released")
                outcome = "released"
                here = "released"
                break
            if roll < 0.30:
                turn(here, "agent", "agent", "agent")
                here, outcome = "agent", "transferred"
                turn("agent", "dial:completed", None)
                break
            if roll < 0.34:
                break                                     # hung up here
            if roll < 0.345:
                turn(here, "hazard", "hazard", "hazard")
                here, outcome, hazard = "hazard", "hazard", "fire"
                break
            moves = [k for k, target in node.on.items() if target != "released"] or list(node.on)
            key = car[2] if node.sets == "car" else rng.choice(moves)
            if node.sets == "car":
                named = True
            following = _next_question(flow, node.on[key], connector, car[2] if named else None)
            turn(here, f"answer:{key}", following, key if key in ("yes", "no") else "still_stuck")
            here = following
    ended = at + timedelta(seconds=5)
    path: list[str] = []
    for e in events:   # as the recorder keeps it: each step reached, a step repeated in a row once
        if e["next_node"] and (not path or path[-1] != e["next_node"]):
            path.append(e["next_node"])
    call = {"call_sid": sid, "from_number": f"+1555{rng.randint(0, 9999999):07d}", "to_number": "+18005550199",
            "started_at": start, "ended_at": ended, "language": language,
            "connector": None if connector == "unsure" or len(events) < 2 else connector,
            "station_id": rng.choices(STATIONS, STATION_WEIGHTS)[0] if rng.random() < 0.9 else None,
            "outcome": outcome, "last_node": here, "status": "completed", "duration_s": int((ended - start).total_seconds()),
            "hazard": hazard, "path": ".".join(path),
            "car_make": car[0] if named else None, "car_model": car[1] if named else None}
    return call, events


def generate(engine, calls: int = 100_000, days: int = 90, seed: int = 17, live: int = 5) -> int:
    flow = content.load(ROOT / "flows", ROOT / "prompts").flow
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    people = funnel.person_nodes(flow)
    written = 0
    batch_calls: list[dict] = []
    batch_events: list[dict] = []
    for n in range(calls):
        start = now - timedelta(seconds=rng.uniform(600, days * 86400))
        call, events = one_call(flow, rng, n, start, people)
        if n < live:   # in progress now
            call.update(started_at=now - timedelta(seconds=30 * (n + 1)), ended_at=None, outcome="in_progress",
                        status="in-progress", duration_s=None)
            events = events[:2]
            call["path"] = ".".join(e["next_node"] for e in events)
            for e in events:
                e["at"] = call["started_at"]
        batch_calls.append(call)
        batch_events += events
        if len(batch_calls) >= BATCH or n == calls - 1:
            with engine.begin() as conn:
                conn.execute(db.calls.insert(), batch_calls)
                conn.execute(db.events.insert(), batch_events)
            written += len(batch_events)
            batch_calls, batch_events = [], []
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    engine = db.connect(args.url)
    db.migrate(engine)
    began = time.perf_counter()
    turns = generate(engine, args.calls, args.days)
    print(f"{args.calls} calls, {turns} turns written in {time.perf_counter() - began:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()

"""What the recorded calls say: outcomes, the step that freed the connector, where
callers gave up, what the bot failed to understand.

Pure: call records in, figures out (plain dicts that print as JSON). The
database layer fills the records; the CLI and the dashboard only show them.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ivr.basics.kinds import OUTCOMES

NOT_UNDERSTOOD_TOP = 10


@dataclass(frozen=True)
class Turn:
    """One webhook of a call: where it was, what the caller said or pressed, what the bot did."""

    at: datetime
    node: str | None
    speech: str | None
    digits: str | None
    confidence: float | None
    intent: str | None
    action: str | None
    next_node: str | None


@dataclass(frozen=True)
class CallRecord:
    """A call as recorded; `caller` is already masked to its last four digits."""

    call_sid: str
    caller: str
    called: str | None
    started_at: datetime
    ended_at: datetime | None
    language: str | None
    connector: str | None
    station_id: str | None
    outcome: str
    last_node: str | None
    status: str | None
    duration_s: int | None
    turns: tuple[Turn, ...] = ()
    car_make: str | None = None     # "Nissan", "unknown", or None: no car named (issue 15)
    car_model: str | None = None


def steps(call: CallRecord) -> list[str]:
    """The nodes the call went through, in order; a question asked again counts once in a row."""
    visited: list[str] = []
    for turn in call.turns:
        if turn.next_node and (not visited or visited[-1] != turn.next_node):
            visited.append(turn.next_node)
    return visited


def _is_flow_turn(turn: Turn) -> bool:
    """A turn at a question of the flow, not the agent's dial result or the voicemail."""
    return bool(turn.node) and not (turn.action or "").startswith(("dial:", "voicemail"))


def release_turn(call: CallRecord) -> Turn | None:
    """For a released call, the turn at which the caller said it came out."""
    if call.outcome != "released":
        return None
    flow_turns = [t for t in call.turns if _is_flow_turn(t)]
    return flow_turns[-1] if flow_turns else None


def seconds_to_release(call: CallRecord) -> float | None:
    turn = release_turn(call)
    if turn is None or turn.at is None or call.started_at is None:
        return None
    return max(0.0, (turn.at - call.started_at).total_seconds())


def not_understood(call: CallRecord) -> list[str]:
    """What the caller said or pressed that the bot could not place, as heard."""
    heard = []
    for turn in call.turns:
        if (turn.action or "").startswith("not_understood"):
            answer = " ".join((turn.speech or "").lower().split()) or (turn.digits and f"keys {turn.digits}")
            if answer:
                heard.append(answer)
    return heard


def _share(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _ranked(counter: Counter) -> dict[str, int]:
    """Most frequent first, then by name, so the output is stable."""
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def funnel(calls: list[CallRecord]) -> list[dict]:
    """How many calls reached each node, nodes in the order calls usually reach them."""
    reached: Counter = Counter()
    positions: dict[str, list[int]] = defaultdict(list)
    for call in calls:
        seen = set()
        for index, node in enumerate(steps(call)):
            if node not in seen:
                seen.add(node)
                reached[node] += 1
                positions[node].append(index)
    order = sorted(reached, key=lambda node: (statistics.median(positions[node]), -reached[node], node))
    return [{"node": node, "calls": reached[node]} for node in order]


def outcomes_by_day(calls: list[CallRecord]) -> dict[str, dict[str, int]]:
    """Per day (UTC), a count per outcome: the dashboard's outcomes-over-time chart."""
    days: dict[str, Counter] = defaultdict(Counter)
    for call in calls:
        days[call.started_at.date().isoformat()][call.outcome] += 1
    return {day: {o: days[day][o] for o in OUTCOMES if days[day][o]} for day in sorted(days)}


def summarize(calls: list[CallRecord]) -> dict:
    """The operators' report, as one JSON-ready dict."""
    total = len(calls)
    outcomes = Counter(call.outcome for call in calls)
    by_connector: dict[str, Counter] = defaultdict(Counter)
    by_language: dict[str, Counter] = defaultdict(Counter)
    for call in calls:
        by_connector[call.connector or "unknown"][call.outcome] += 1
        by_language[call.language or "unknown"][call.outcome] += 1
    released_at = Counter(turn.node for turn in map(release_turn, calls) if turn is not None)
    hung_up_at = Counter(call.last_node or "start" for call in calls if call.outcome == "abandoned")
    misheard = Counter(answer for call in calls for answer in not_understood(call))
    release_times = [s for s in map(seconds_to_release, calls) if s is not None]
    durations = [call.duration_s for call in calls if call.duration_s is not None]
    return {
        "calls": total,
        "outcomes": {o: outcomes[o] for o in OUTCOMES} | {o: n for o, n in outcomes.items() if o not in OUTCOMES},
        "shares": {
            "released": _share(outcomes["released"], total),
            "escalated": _share(outcomes["transferred"], total),
            "hazard": _share(outcomes["hazard"], total),
        },
        "by_connector": {
            connector: {"calls": sum(counts.values()), "released": counts["released"],
                        "released_share": _share(counts["released"], sum(counts.values()))}
            for connector, counts in sorted(by_connector.items())
        },
        "by_language": {  # the language the call ended in ("español" switches it)
            language: {"calls": sum(counts.values()), "released": counts["released"],
                       "released_share": _share(counts["released"], sum(counts.values()))}
            for language, counts in sorted(by_language.items())
        },
        "released_at_step": _ranked(released_at),
        "hung_up_at": _ranked(hung_up_at),
        "median_time_to_release_s": _median(release_times),
        "median_duration_s": _median(durations),
        "not_understood": [{"answer": answer, "count": count}
                           for answer, count in list(_ranked(misheard).items())[:NOT_UNDERSTOOD_TOP]],
        "outcomes_by_day": outcomes_by_day(calls),
        "funnel": funnel(calls),
    }


def call_summary(call: CallRecord) -> dict:
    """One call for `ivr calls --json`: the caller masked, the steps in order."""
    return {
        "call_sid": call.call_sid,
        "caller": call.caller,
        "started_at": call.started_at.isoformat() if call.started_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "outcome": call.outcome,
        "connector": call.connector,
        "station_id": call.station_id,
        "language": call.language,
        "steps": steps(call),
        "duration_s": call.duration_s,
    }


def call_line(call: CallRecord) -> str:
    """One call on one line, for `ivr calls`."""
    started = call.started_at.strftime("%Y-%m-%d %H:%M") if call.started_at else "?"
    duration = f"{call.duration_s}s" if call.duration_s is not None else "-"
    path = steps(call)
    return (f"{started}  {call.call_sid}  {call.caller:>8}  {call.outcome:<11}  "
            f"{call.connector or '-':<8}  {duration:>5}  {' > '.join(path) if path else '-'}")


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def report_text(report: dict) -> str:
    """The report for a terminal: the figures first, then the lists to act on."""
    lines = [f"calls: {report['calls']}"]
    if not report["calls"]:
        return lines[0] + "\n"
    shares = report["shares"]
    lines.append(f"released {_percent(shares['released'])}, escalated to a person "
                 f"{_percent(shares['escalated'])}, hazard {_percent(shares['hazard'])}")
    lines.append("outcomes: " + ", ".join(f"{o} {n}" for o, n in report["outcomes"].items() if n))
    ttr = report["median_time_to_release_s"]
    lines.append(f"median time to release: {f'{ttr:.0f}s' if ttr is not None else '-'}")
    sections = [
        ("by connector", {c: f"{v['calls']} calls, {v['released']} released ({_percent(v['released_share'])})"
                          for c, v in report["by_connector"].items()}),
        ("by language", {language: f"{v['calls']} calls, {v['released']} released ({_percent(v['released_share'])})"
                         for language, v in report.get("by_language", {}).items()}),
        ("released at step", report["released_at_step"]),
        ("callers hung up at", report["hung_up_at"]),
        ("not understood (most frequent first)", {i["answer"]: i["count"] for i in report["not_understood"]}),
    ]
    for title, items in sections:
        lines.append(f"{title}:")
        lines.extend(f"  {key}: {value}" for key, value in items.items()) if items else lines.append("  -")
    return "\n".join(lines) + "\n"


# -- per car (issue 15) ------------------------------------------------------------

def by_car(calls: list[CallRecord]) -> dict[str, dict]:
    """Per make ("unknown" for a car without notes, "other" or "I don't know"; calls where
    no car was named are left out): calls, releases, and the step that freed the plug, so
    an operator sees which cars their stations struggle with."""
    made: dict[str, list[CallRecord]] = defaultdict(list)
    for call in calls:
        if call.car_make:
            made[call.car_make].append(call)
    section = {}
    for make, group in sorted(made.items(), key=lambda item: (-len(item[1]), item[0])):
        released = [call for call in group if call.outcome == "released"]
        freed_at = Counter(turn.node for turn in map(release_turn, released) if turn is not None)
        models = Counter(call.car_model for call in group if call.car_model)
        section[make] = {"calls": len(group), "released": len(released),
                         "released_share": _share(len(released), len(group)),
                         "freed_at_step": _ranked(freed_at), "models": _ranked(models)}
    return section


def by_car_text(section: dict[str, dict]) -> str:
    """`ivr report`'s per-make lines: "Nissan: 4 calls, 3 released (75%), freed at car_tips 2"."""
    lines = ["by car make:"]
    for make, v in section.items():
        freed = ", ".join(f"{step} {n}" for step, n in v["freed_at_step"].items())
        lines.append(f"  {make}: {v['calls']} calls, {v['released']} released ({_percent(v['released_share'])})"
                     + (f", freed at {freed}" if freed else ""))
    if not section:
        lines.append("  -")
    return "\n".join(lines) + "\n"

"""The hand-off part of a call's story: the whisper the agent heard, rebuilt with
ivr.call.handoff.whisper_lines from the call's last recorded state, and the dial
results in words. Pure."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl

from ivr.call import handoff
from ivr.call.engine import BadState, CallState
from ivr.call.flow import Flow
from ivr.language.prompts import Catalog

DIAL_WORDS = {"completed": "answered", "answered": "answered", "busy": "busy", "no-answer": "no answer",
              "failed": "failed", "canceled": "cancelled", "unknown": "unknown"}


def whisper(flow: Flow, catalogs: Mapping[str, Catalog], operator: Catalog, last_state: str | None,
            hazard: str | None) -> list[str] | None:
    """What the agent heard, or None when the recorded state cannot be read in today's flow."""
    if not last_state:
        return None
    try:
        state = CallState.from_params(dict(parse_qsl(last_state)), flow, catalogs, questions_only=False)
        return handoff.whisper_lines(operator, flow, state, hazard=hazard == "fire",
                                     caller_language=catalogs.get(state.lang))
    except (BadState, KeyError, ValueError):
        return None


def dial_results(turns: Sequence) -> list[dict]:
    """Each ringing of the agents: when, and how it went ('dial:no-answer:second')."""
    found = []
    for turn in turns:
        action = turn.action or ""
        if action.startswith("dial:"):
            parts = action.split(":")
            found.append({"at": turn.at, "result": DIAL_WORDS.get(parts[1], parts[1]),
                          "bridged": "not-bridged" not in parts, "second": "second" in parts})
    return found


def went_to_person(flow: Flow, turns: Sequence, outcome: str | None) -> bool:
    people = {n.id for n in flow.nodes.values() if n.kind == "end" and n.end == "agent"}
    return outcome == "transferred" or any((t.action or "").startswith("dial:") or t.next_node in people for t in turns)

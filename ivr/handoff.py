"""What the agent hears before taking a call: who, which connector, what was tried.

Pure: built from the call's state and the flow, in the agent's language.
"""
from __future__ import annotations

import re

from .engine import CallState
from .flow import Flow
from .prompts import Catalog


def last_four(number: str | None) -> str | None:
    """The last four digits of a caller's number, or None for anonymous and SIP callers."""
    digits = re.sub(r"\D", "", number or "")
    if not (number or "").lstrip().startswith("+") or len(digits) < 4:
        return None
    return digits[-4:]


def masked(number: str | None) -> str:
    """A caller's number fit for logs: only the last four digits."""
    four = last_four(number)
    return f"***{four}" if four else "unknown"


def steps_tried(flow: Flow, state: CallState) -> list[str]:
    """The labelled release steps the caller went through, in order, without repeats."""
    labels: list[str] = []
    for node_id in (*state.path, state.node):
        node = flow.nodes.get(node_id)
        if node is not None and node.step and node.step not in labels:
            labels.append(node.step)
    return labels


def whisper_lines(catalog: Catalog, flow: Flow, state: CallState, caller: str | None,
                  hazard: bool, caller_language: Catalog | None = None) -> list[str]:
    connector_key = f"connector_{state.connector}" if state.connector else "connector_unknown"
    steps = steps_tried(flow, state)
    questions = [n for n in (*state.path, state.node) if n in flow.nodes and flow.nodes[n].kind == "ask"]
    stopped = flow.nodes[questions[-1]] if questions else None
    four = last_four(caller)
    lines = [catalog.text(
        "whisper",
        connector=catalog.text(connector_key) if connector_key in catalog else catalog.text("connector_unknown"),
        steps=", ".join(steps) if steps else catalog.text("whisper_steps_none"),
        stopped_at=(stopped.step or stopped.id.replace("_", " ")) if stopped is not None else catalog.text("whisper_steps_none"),
    )]
    if four:
        lines.append(catalog.text("whisper_caller", last4=" ".join(four)))
    if hazard:
        lines.append(catalog.text("whisper_hazard"))
    if caller_language is not None and caller_language.language != catalog.language:
        lines.append(catalog.text("whisper_language", language=caller_language.name))
    lines.append(catalog.text("whisper_accept"))
    return lines

"""What the agent hears before taking a call: who, which connector, what was tried.

Pure: built from the call's state and the flow, in the agent's language.
"""
from __future__ import annotations

import re

from .engine import CallState
from .flow import Flow
from .prompts import Catalog
from .station import read_back


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


def steps_tried(flow: Flow, state: CallState, catalog: Catalog | None = None) -> list[str]:
    """The labelled release steps the caller went through, in order, without repeats.

    In `catalog`'s language when given (a text to the caller, the agent's
    whisper); the flow's own labels otherwise (the records).
    """
    labels: list[str] = []
    for node_id in (*state.path, state.node):
        node = flow.nodes.get(node_id)
        label = None if node is None else (catalog.step_label(node) if catalog else node.step)
        if label and label not in labels:
            labels.append(label)
    return labels


WHISPER_STEPS = 3  # the agent must press 1 within seconds: name the last few steps only


def _steps_heard(catalog: Catalog, steps: list[str]) -> str:
    if not steps:
        return catalog.text("whisper_steps_none")
    if len(steps) <= WHISPER_STEPS:
        return ", ".join(steps)
    return catalog.text("whisper_steps_many", count=str(len(steps)), steps=", ".join(steps[-WHISPER_STEPS:]))


def whisper_lines(catalog: Catalog, flow: Flow, state: CallState, caller: str | None,
                  hazard: bool, caller_language: Catalog | None = None) -> list[str]:
    connector_key = f"connector_{state.connector}" if state.connector else "connector_unknown"
    steps = steps_tried(flow, state, catalog)
    # Where the caller stopped: the last release step reached (not the hazard or
    # hand-off question that followed it), else the last question asked.
    questions = [flow.nodes[n] for n in (*state.path, state.node) if n in flow.nodes and flow.nodes[n].kind == "ask"]
    stopped = next((n for n in reversed(questions) if n.step), questions[-1] if questions else None)
    four = last_four(caller)
    lines = [catalog.text(
        "whisper",
        connector=catalog.text(connector_key) if connector_key in catalog else catalog.text("connector_unknown"),
        steps=_steps_heard(catalog, steps),
        stopped_at=(catalog.step_label(stopped) or stopped.id.replace("_", " ")) if stopped is not None else catalog.text("whisper_steps_none"),
    )]
    if state.station:
        lines.append(catalog.text("whisper_station", station=read_back(state.station)))
    if four:
        lines.append(catalog.text("whisper_caller", last4=" ".join(four)))
    if hazard:
        lines.append(catalog.text("whisper_hazard"))
    if caller_language is not None and caller_language.language != catalog.language:
        lines.append(catalog.text("whisper_language", language=caller_language.name))
    lines.append(catalog.text("whisper_accept"))
    return lines


def spoken_number(number: str) -> str:
    """A phone number read the way people say it: '+18005550199' -> '1, 8 0 0, 5 5 5, 0 1 9 9'."""
    digits = re.sub(r"\D", "", number)
    if len(digits) == 11 and digits.startswith("1"):      # North America: 1, area code, 3, 4
        groups = [digits[0], digits[1:4], digits[4:7], digits[7:]]
    elif len(digits) == 10:
        groups = [digits[:3], digits[3:6], digits[6:]]
    else:
        groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return ", ".join(" ".join(group) for group in groups)


def text_message(catalog: Catalog, flow: Flow, state: CallState, support_number: str | None,
                 released: bool) -> str:
    """The text a caller asked for: the steps they went through, and where to call."""
    steps = steps_tried(flow, state, catalog)
    key = "sms_released" if released else "sms_steps"
    lines = [catalog.text(key, steps="; ".join(steps) if steps else catalog.text("whisper_steps_none"))]
    if support_number:
        lines.append(catalog.text("sms_support", number=support_number))
    else:
        lines.append(catalog.text("sms_support_station"))
    return " ".join(lines)


def usable_number(number: str | None) -> str | None:
    """The caller's number if a person can be called or texted on it (not anonymous, SIP or a client)."""
    compact = re.sub(r"[\s().-]", "", number or "")
    return compact if re.fullmatch(r"\+[1-9]\d{6,14}", compact) else None


def callback_number(keys: str | None, caller: str | None) -> str | None:
    """A number keyed in for a call back, in E.164 form, or None if it cannot be one.

    Ten digits are a North American number when the caller's own is (or is
    unknown); otherwise the caller keys the country code, with or without 00/011.
    """
    digits = re.sub(r"\D", "", keys or "")
    own = usable_number(caller)
    if len(digits) == 10 and (own is None or own.startswith("+1")) and digits[0] not in "01":
        return "+1" + digits
    for prefix in ("011", "00"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
            break
    if len(digits) == 11 and digits.startswith("1") and digits[1] in "01":
        return None  # a North American area code never starts with 0 or 1
    return usable_number("+" + digits) if 8 <= len(digits) <= 15 else None


def drop_end_lines(lines: tuple, flow: Flow, node_id: str, catalog: Catalog) -> tuple:
    """The reply's lines without what the end node says ("I'm putting you through..."),
    for a hand-off that will not ring anyone (after hours)."""
    node = flow.nodes.get(node_id)
    if node is None or node.kind != "end":
        return tuple(lines)
    spoken = sum(1 for key in node.say if key in catalog and catalog.text(key))
    return tuple(lines[:len(lines) - spoken]) if spoken else tuple(lines)

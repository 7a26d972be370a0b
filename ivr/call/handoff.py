"""What the agent hears before taking a call: who, which connector, what was tried.

Pure: built from the call's state and the flow, in the agent's language.
"""
from __future__ import annotations

from ivr.call.engine import RESULTS, CallState, Line
from ivr.call.flow import Flow, Node
from ivr.call.station import read_back
from ivr.language.prompts import Catalog

TRIED = ("still_stuck", "released", "yes", "no")   # results that mean the step was done


def step_results(flow: Flow, state: CallState) -> list[tuple[Node, str]]:
    """(node, result) for each labelled step on the call's path, in order, the last
    result of each; the step the caller is on now counts as skipped."""
    seen: dict[str, str] = {}
    for node_id, code in zip(state.path, state.results):
        node = flow.nodes.get(node_id)
        if node is not None and node.step:
            seen.pop(node_id, None)
            seen[node_id] = RESULTS.get(code, "skipped")
    here = flow.nodes.get(state.node)
    if here is not None and here.step and here.kind == "ask" and state.node not in seen:
        seen[state.node] = "skipped"
    return [(flow.nodes[n], result) for n, result in seen.items()]


def steps_tried(flow: Flow, state: CallState, catalog: Catalog | None = None) -> list[str]:
    """The labelled steps the caller actually carried out, in order, without repeats.

    Skipped steps (left by asking for a person, a hazard, or silence) are not
    among them. In `catalog`'s language when given (texts, whispers); the
    flow's own labels otherwise (the records)."""
    labels = [catalog.step_label(node) if catalog else node.step
              for node, result in step_results(flow, state) if result in TRIED]
    return [label for label in labels if label is not None]   # only labelled steps are results


def steps_record(flow: Flow, state: CallState) -> str:
    """Every step with its result, for the call's record: 'reseated the connector: still_stuck; ...'."""
    return "; ".join(f"{node.step}: {result}" for node, result in step_results(flow, state))


def facts(flow: Flow, state: CallState) -> list[str]:
    """What the caller reported about the equipment, from the answers whose question `tells`."""
    found: list[str] = []
    for node_id, code in zip(state.path, state.results):
        node = flow.nodes.get(node_id)
        fact = node.tells.get(_answer_key(node, RESULTS.get(code, ""))) if node is not None else None
        if fact and fact not in found:
            found.append(fact)
    if state.adapter and "adapter" not in found:
        found.append("adapter")
    return found


def _answer_key(node: Node, result: str) -> str:
    return result if node.expect != "released" else {"released": "released", "still_stuck": "still_stuck"}.get(result, "")


WHISPER_WORDS = 40  # about 15 seconds: the agent must press 1 in time


def whisper_lines(catalog: Catalog, flow: Flow, state: CallState, hazard: bool = False,
                  caller_language: Catalog | None = None) -> list[str]:
    """What the agent hears before taking the call, in a fixed order of importance, cut
    to WHISPER_WORDS: hazard, session still running, the connector and what was
    reported about it, the car, the last step and its result (and where the caller
    asked for a person), the station, how many steps. The rest is on the record."""
    tier = state.hazard or ("fire" if hazard else None)
    reported = facts(flow, state)
    must = [catalog.text("whisper")]
    if tier:
        must.append(catalog.text(f"whisper_hazard_{tier}"))
    if caller_language is not None and caller_language.language != catalog.language:
        must.append(catalog.text("whisper_language", language=caller_language.name))
    more: list[str] = []
    if "session_running" in reported:
        more.append(catalog.text("whisper_fact_session_running"))
    connector_key = f"connector_{state.connector}"
    known = state.connector not in (None, "unsure") and connector_key in catalog
    about = [catalog.text("whisper_connector", connector=catalog.text(connector_key)) if known
             else catalog.text("whisper_connector_unknown")]     # "Connector not known.", not "not sure connector."
    about += [catalog.text(f"whisper_fact_{fact}") for fact in reported if fact != "session_running"]
    more.append(" ".join(about))
    if state.car:   # "unknown": the caller said "other" or "I don't know" at "What car is it?"
        more.append(catalog.text("whisper_car_unknown" if state.car == "unknown" else "whisper_car", car=state.car))
    done = [(node, result) for node, result in step_results(flow, state) if result in TRIED]
    if done:
        node, result = done[-1]
        if result in ("yes", "no"):   # a check: what it found is among the facts above
            more.append(catalog.text("whisper_last_check", step=catalog.step_label(node) or ""))
        else:
            more.append(catalog.text("whisper_last", step=catalog.step_label(node) or "",
                                     result=catalog.text(f"whisper_result_{result}")))
    asked_at = _asked_at(flow, state)
    if asked_at is not None and (not done or asked_at is not done[-1][0]):
        more.append(catalog.text("whisper_asked_at", step=catalog.step_label(asked_at) or asked_at.id.replace("_", " ")))
    if state.station:
        more.append(catalog.text("whisper_station", station=read_back(state.station)))
    if done:
        more.append(catalog.text("whisper_count", count=str(len(done))))
    accept = catalog.text("whisper_accept")
    lines = list(must)
    budget = WHISPER_WORDS - _words(accept) - sum(_words(line) for line in must)
    for line in more:
        if _words(line) <= budget:
            lines.append(line)
            budget -= _words(line)
    lines.append(accept)
    return lines


def _asked_at(flow: Flow, state: CallState) -> Node | None:
    """The question the caller was on when they asked for a person (or a hazard came)."""
    for node_id, code in zip(reversed(state.path), reversed(state.results)):
        if RESULTS.get(code) in ("agent", "give_up", "hazard", "damage", "emergency_stop"):
            node = flow.nodes.get(node_id)
            return node if node is not None and node.kind == "ask" and node_id not in flow.hazard_nodes else None
    return None


def _words(text: str) -> int:
    return len(text.split())


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


def drop_end_lines(lines: tuple[str | Line, ...], flow: Flow, node_id: str, catalog: Catalog) -> tuple[str | Line, ...]:
    """The reply's lines without what the end node says ("I'm putting you through..."),
    for a hand-off that will not ring anyone (after hours)."""
    node = flow.nodes.get(node_id)
    if node is None or node.kind != "end":
        return tuple(lines)
    spoken = sum(1 for key in node.say if key in catalog and catalog.text(key))
    return tuple(lines[:len(lines) - spoken]) if spoken else tuple(lines)

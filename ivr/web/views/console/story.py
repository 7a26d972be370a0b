"""A recorded call told turn by turn: what the bot said, what the caller said or
pressed, what the bot took it for.

Pure. The records keep each turn's node, action and next node, not the spoken
text, so the sentences are rebuilt from the flow and the prompts: the arrival at
a question says its lead-in and question, a reprompt its short form, and so on,
in the language and with the connector's variants the call had at that turn.
Rebuilding (rather than recording the text) needs no change to the webhooks or
the schema and costs nothing per call; the price is that a call recorded before
a prompt was reworded shows today's wording, and the page says so. A node that
no longer exists is shown by its readable name, with no sentences.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ivr.call.flow import Flow, Node
from ivr.language.prompts import Catalog
from ivr.web.views.console.words import humanise, node_label

MAX_HOPS = 32
# Actions whose reply repeats the question (with a lead-in), rather than arriving somewhere new.
LEADS = {"wait": ("wait",), "help": ("help",), "roadside": ("roadside",), "confirmed:stuck": ("keep_going",),
         "hot:no": ("keep_going",), "resume": ("resume",), "back:first": ("first_step",)}
# A short side question at the same step ("is it really out?", "is it hot?").
SIDE_QUESTIONS = {"confirm": ("confirm_released",), "confirm:reprompt": ("not_understood", "confirm_released"),
                  "hot_check": ("hot_check",), "resume_offer": ("resume_offer",)}
INTENT_WORDS = {"connector_ccs": "CCS", "connector_chademo": "CHAdeMO", "connector_j1772": "J1772",
                "connector_tesla": "Tesla", "connector_unsure": "not sure", "still_stuck": "still stuck",
                "released": "it came out", "agent": "a person", "dont_know": "don't know",
                "hot_unsure": "not sure if hot", "emergency_stop": "emergency stop", "unclear": "not understood"}


@dataclass(frozen=True)
class Entry:
    at: datetime | None
    offset_s: float | None
    step: str
    heard: str | None          # what the caller said, as recognised
    pressed: str | None        # the keys they pressed
    confidence: float | None
    took_for: str | None
    action: str
    said: tuple[str, ...] = field(default_factory=tuple)
    language: str = "en-US"


def _text(catalog: Catalog, key: str, connector: str | None) -> str | None:
    try:
        text = catalog.text_for(key, connector)
    except (KeyError, IndexError, ValueError):   # a key gone since the call
        return None
    return None if "{" in text else text         # a sentence with a blank the call filled in: not guessed


def _say(catalog: Catalog, keys: Sequence[str], connector: str | None) -> list[str]:
    return [t for t in (_text(catalog, k, connector) for k in keys) if t]


def _arrive(flow: Flow, catalog: Catalog, start: str | None, goal: str | None, connector: str | None) -> list[str]:
    """The sentences from leaving a question at `start` to asking `goal` (say and branch nodes between)."""
    lines: list[str] = []
    node_id = start or goal
    for _ in range(MAX_HOPS):
        node: Node | None = flow.nodes.get(node_id or "")
        if node is None:
            break
        if node.kind == "say":
            lines += _say(catalog, node.say, connector)
            node_id = node.next
        elif node.kind == "branch":
            node_id = node.cases.get(connector or "", node.default) if node.branch == "connector" else \
                (goal if goal in node.cases.values() else node.default)
        else:
            if node_id != goal and goal and goal in flow.nodes:   # the walk went elsewhere: say the goal only
                node = flow.nodes[goal]
            return lines + _say(catalog, (*node.say, *node.ask), connector)
    target = flow.nodes.get(goal or "")
    return lines + (_say(catalog, (*target.say, *target.ask), connector) if target is not None else [])


def _said(flow: Flow, catalog: Catalog, action: str, node_id: str | None, next_id: str | None,
          connector: str | None) -> list[str]:
    here = flow.nodes.get(next_id or "")
    kind, _, detail = action.partition(":")
    if action in SIDE_QUESTIONS:
        return _say(catalog, SIDE_QUESTIONS[action], connector)
    if action.endswith(":reprompt") and here is not None and here.reprompt:
        return _say(catalog, (here.reprompt,), connector)
    if here is not None and here.kind == "ask" and next_id == node_id:
        if action in LEADS:
            return _say(catalog, (*LEADS[action], *here.ask), connector)
        if kind in ("explain", "dont_know"):
            return _say(catalog, (*here.explain, *here.ask), connector)
        if kind == "language":
            return _say(catalog, ("language_switched", *here.ask), connector)
        return _say(catalog, here.ask, connector)
    if kind == "answer" and node_id and node_id in flow.nodes:
        return _arrive(flow, catalog, flow.nodes[node_id].on.get(detail), next_id, connector)
    if action == "start":
        return _arrive(flow, catalog, flow.start, next_id, connector)
    return _arrive(flow, catalog, next_id, next_id, connector)


def _first_language(turns: Sequence, final: str | None, catalogs: Mapping[str, Catalog]) -> str:
    switches = [t.action.split(":", 1)[1] for t in turns if (t.action or "").startswith("language:")]
    if not switches:
        return final if final and final in catalogs else next(iter(catalogs))
    others = [lang for lang in catalogs if lang != switches[0]]
    return others[0] if others else switches[0]


def tell(flow: Flow, catalogs: Mapping[str, Catalog], operator: Catalog, turns: Sequence,
         started_at: datetime | None, final_language: str | None) -> list[Entry]:
    """Each turn as an Entry, in order. `turns` are ivr.records.reports.Turn-like."""
    language = _first_language(turns, final_language, catalogs)
    connector: str | None = None
    entries = []
    for turn in turns:
        action = turn.action or ""
        if action.startswith("language:") and action.split(":", 1)[1] in catalogs:
            language = action.split(":", 1)[1]
        node = flow.nodes.get(turn.node or "")
        if node is not None and node.sets == "connector" and action.startswith("answer:"):
            connector = action.split(":", 1)[1]
        heard = " ".join((turn.speech or "").split()) or None
        said = [] if action.startswith(("dial:", "voicemail")) else \
            _said(flow, catalogs[language], action, turn.node, turn.next_node, connector)
        entries.append(Entry(
            at=turn.at, offset_s=(turn.at - started_at).total_seconds() if turn.at and started_at else None,
            step=node_label(flow, operator, turn.node) if turn.node else "Call start",
            heard=heard, pressed=turn.digits or None, confidence=turn.confidence,
            took_for=INTENT_WORDS.get(turn.intent or "", turn.intent and humanise(turn.intent)),
            action=action, said=tuple(said), language=language))
    return entries

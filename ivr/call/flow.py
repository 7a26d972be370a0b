"""The decision tree: parsed from flows/*.yaml into immutable nodes.

A node is one of four shapes, told apart by the key it carries:

- ``ask``: a question. The caller answers by voice or keypad; ``on`` maps each
  answer to the next node. ``ask`` lists the sentences of the step itself (said
  again in full on "repeat"); ``say`` is a lead-in spoken only on arrival;
  ``explain`` says what the step means, or how to tell ("what do you mean",
  "I don't know"). A yes/no question may have answers of its own beyond yes and
  no ("no_button"), heard only through its ``words:`` in the prompts files.
- ``say`` with ``next``: something to tell the caller, then go on.
- ``branch``: pick the next node from what the call already knows (the
  connector, or whether there is an adapter).
- ``end``: the call's outcome: released, hazard, agent or goodbye. An agent end
  may name ``unanswered``: the question to go back to when nobody takes the call.

Parsing checks the shape of every node and reports the file and line of the
first problem; the graph checks (unknown targets, dead ends) live in lint.py.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from types import MappingProxyType
from typing import Any

from ivr.basics import ids
from ivr.basics.kinds import END_KINDS, EndKind
from ivr.language.prompts import FACTS
from ivr.language.source import LineDict, SourceError

CAR_ANSWERS = ("tips", "release", "no_release", "unknown")
# `tips: car` says the car's tips to try first; `tips: car_release` its manual release.
TIPS = ("car", "car_release")
# The question whose "yes" means charging has stopped: a car's manual release is said only
# after it (`tips: car`), and lint wants every way to the car's tips to pass it.
CHARGING_STOPPED_NODE = "confirm_stopped"
# What each kind of question can be answered with, as keys of a node's `on`.
ANSWERS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "yes_no": ("yes", "no"),
    "released": ("released", "still_stuck"),
    "connector": ("ccs", "chademo", "j1772", "tesla", "unsure"),
    # "What car is it?" (issue 15): a car with tips to try first, one with only its manual
    # release, one without a manual release, or one we have no notes for ("I don't know",
    # "other", a car with no entry).
    "car": CAR_ANSWERS,
})
# hazard: fire, smoke, sparks (call 911); damage: a cracked cable, exposed wires, water
# (step away, a person); emergency_stop: the station is off, a person resets it.
GLOBAL_COMMANDS = ("hazard", "damage", "agent", "released", "emergency_stop", "still_charging")
HAZARD_COMMANDS = ("hazard", "damage")
NODE_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# What a call can know, for `set:` on a question and `branch:`. `adapter` is set by a
# yes/no question ("yes" = there is one) or heard with the connector ("a Tesla with a
# CCS adapter"); a branch on it takes `yes`, `no`, or its default while unknown.
# `car` is set by the car question (`expect: car`) or heard in any earlier answer; a
# branch on it takes the car question's answers, or its default while no car is known;
# one on `car_release` whether the car has a manual release (default: not known).
VARIABLES = ("connector", "adapter", "car", "car_release")
BRANCH_CASES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "connector": ANSWERS["connector"],
    "adapter": ("yes", "no"),
    "car": CAR_ANSWERS,
    "car_release": ("release", "no_release"),   # after the car's tips: its release, or none
})
# Answers a question may have beyond those of its kind, reached only through the
# question's own `words:` ("there's no button"): lint wants them listed in every language.
WORD_ANSWER = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

_ASK_KEYS = {"ask", "say", "reprompt", "explain", "expect", "on", "silence", "not_understood",
             "timeout", "set", "step", "note", "tells", "tips"}
_SAY_KEYS = {"say", "next", "note"}
_BRANCH_KEYS = {"branch", "cases", "default", "note"}
_END_KEYS = {"end", "say", "unanswered", "note"}


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # "ask" | "say" | "branch" | "end"
    line: int
    say: tuple[str, ...] = ()
    ask: tuple[str, ...] = ()
    reprompt: str | None = None
    explain: tuple[str, ...] = ()   # what the step means / how to tell, on "what do you mean"
    expect: str | None = None
    on: Mapping[str, str] = field(default_factory=dict)
    next: str | None = None
    silence: str | None = None
    not_understood: str | None = None
    timeout: int = 8
    sets: str | None = None
    step: str | None = None
    branch: str | None = None
    cases: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None
    end: EndKind | None = None
    tells: Mapping[str, str] = field(default_factory=dict)  # answer -> fact for the whisper
    unanswered: str | None = None   # an `end: agent` node: where to go on when nobody answers
    tips: str | None = None         # `tips: car`: the car's own tips come before `ask` (issue 15)

    def extra_answers(self) -> tuple[str, ...]:
        """Answers of this question beyond its kind's, heard only through its `words:`."""
        return tuple(a for a in self.on if a not in ANSWERS.get(self.expect or "", ()))

    def targets(self) -> dict[str, str]:
        """Every node this one can lead to, labelled by what leads there."""
        found: dict[str, str] = {}
        for answer, target in self.on.items():
            found[f"on.{answer}"] = target
        for label in ("next", "silence", "not_understood", "default", "unanswered"):
            if getattr(self, label):
                found[label] = getattr(self, label)
        for case, target in self.cases.items():
            found[f"cases.{case}"] = target
        return found

    def prompt_keys(self) -> tuple[str, ...]:
        return tuple(k for k in (*self.say, *self.ask, self.reprompt, *self.explain) if k)


@dataclass(frozen=True)
class Flow:
    name: str
    path: str
    start: str
    nodes: Mapping[str, Node]
    globals: Mapping[str, str]
    retries: int
    settings: Mapping[str, Any]
    lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def hazard_nodes(self) -> frozenset[str]:
        """Every node a hazard can lead to: no release step may be among them (lint checks)."""
        return self.reachable([self.globals[c] for c in HAZARD_COMMANDS if c in self.globals])

    def reachable(self, roots: Iterable[str]) -> frozenset[str]:
        """Every node that can be reached from `roots`, the roots included."""
        seen: set[str] = set()
        todo = list(roots)
        while todo:
            node_id = todo.pop()
            if node_id in seen or node_id not in self.nodes:
                continue
            seen.add(node_id)
            todo.extend(self.nodes[node_id].targets().values())
        return frozenset(seen)

    def __getitem__(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.nodes


def _prompt_list(value: Any, path: str, line: int, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise SourceError(path, line, f"{where}: expected a prompt key or a list of prompt keys")
    return tuple(items)


def _target(value: Any, path: str, line: int, where: str) -> str:
    if not isinstance(value, str) or not NODE_ID.match(value):
        raise SourceError(path, line, f"{where}: {value!r} is not a node id")
    return value


def _tells(raw: Any, on: Mapping[str, Any], path: str, line: int, node_id: str) -> Mapping[str, str]:
    if raw is None:
        return MappingProxyType({})
    if not isinstance(raw, dict):
        raise SourceError(path, line, f"node {node_id!r}: tells maps answers to facts, e.g. {{no: session_running}}")
    for answer, fact in raw.items():
        if answer not in on:
            raise SourceError(path, line, f"node {node_id!r}: tells: {answer!r} is not one of this question's answers (`on`)")
        if fact not in FACTS:
            raise SourceError(path, line, f"node {node_id!r}: tells: {fact!r} is not a fact (facts: {', '.join(FACTS)})")
    return MappingProxyType({str(k): str(v) for k, v in raw.items()})


def _node(node_id: str, raw: Any, path: str, defaults: Mapping[str, Any], line: int) -> Node:
    """One node; `line` is where its id stands, which is where lint points."""
    if not isinstance(raw, LineDict):
        raise SourceError(path, line, f"node {node_id!r}: expected a mapping")

    def at(key: str) -> int:
        return raw.line_of(key)

    def only(allowed: set[str], kind: str) -> None:
        for key in raw:
            if key not in allowed:
                raise SourceError(path, at(key), f"node {node_id!r}: {key!r} does not belong in a{'n' if kind[0] in 'ae' else ''} {kind} node")

    if "ask" in raw:
        only(_ASK_KEYS, "ask")
        expect = raw.get("expect")
        if not isinstance(expect, str) or expect not in ANSWERS:
            raise SourceError(path, at("expect"), f"node {node_id!r}: expect must be one of {', '.join(ANSWERS)}")
        on = raw.get("on")
        if not isinstance(on, LineDict) or not on:
            raise SourceError(path, at("on") if "on" in raw else line, f"node {node_id!r}: a question needs `on`, mapping each answer to a node")
        for answer in on:
            if answer not in ANSWERS[expect] and (expect in ("connector", "car") or not isinstance(answer, str)
                                                  or not WORD_ANSWER.match(answer)):
                raise SourceError(path, on.line_of(answer), f"node {node_id!r}: {answer!r} is not an answer to a {expect} question "
                                                            f"(answers: {', '.join(ANSWERS[expect])})")
        timeout = raw.get("timeout", defaults.get("timeout", 8))
        if not isinstance(timeout, int) or not 3 <= timeout <= 60:
            raise SourceError(path, at("timeout"), f"node {node_id!r}: timeout must be whole seconds from 3 to 60")
        sets = raw.get("set")
        if sets is not None and sets not in VARIABLES:
            raise SourceError(path, at("set"), f"node {node_id!r}: set must be one of {', '.join(VARIABLES)}")
        needs = {"connector": "connector", "adapter": "yes_no", "car": "car"}
        if sets is not None and expect != needs[sets]:
            raise SourceError(path, at("set"), f"node {node_id!r}: set: {sets} needs expect: {needs[sets]}")
        if expect == "car" and sets != "car":
            raise SourceError(path, at("expect"), f"node {node_id!r}: a car question records the car: add `set: car`")
        tips = raw.get("tips")
        if tips is not None and tips not in TIPS:
            raise SourceError(path, at("tips"), f"node {node_id!r}: tips must be one of {', '.join(TIPS)}")
        step = raw.get("step")
        if step is not None and not isinstance(step, str):
            raise SourceError(path, at("step"), f"node {node_id!r}: step must be a short label")
        return Node(
            id=node_id, kind="ask", line=line,
            say=_prompt_list(raw.get("say"), path, at("say"), f"node {node_id!r}: say"),
            ask=_prompt_list(raw["ask"], path, at("ask"), f"node {node_id!r}: ask"),
            reprompt=raw.get("reprompt") or None,
            explain=_prompt_list(raw.get("explain"), path, at("explain"), f"node {node_id!r}: explain"),
            expect=expect,
            on=MappingProxyType({k: _target(v, path, on.line_of(k), f"node {node_id!r}: on.{k}") for k, v in on.items()}),
            silence=_target(raw.get("silence", defaults.get("silence")), path, at("silence"), f"node {node_id!r}: silence")
            if raw.get("silence", defaults.get("silence")) else None,
            not_understood=_target(raw.get("not_understood", defaults.get("not_understood")), path, at("not_understood"),
                                   f"node {node_id!r}: not_understood")
            if raw.get("not_understood", defaults.get("not_understood")) else None,
            timeout=timeout, sets=sets, step=step,
            tells=_tells(raw.get("tells"), on, path, at("tells"), node_id), tips=tips,
        )
    if "branch" in raw:
        only(_BRANCH_KEYS, "branch")
        if raw["branch"] not in VARIABLES:
            raise SourceError(path, at("branch"), f"node {node_id!r}: branch must be on one of {', '.join(VARIABLES)}")
        cases = raw.get("cases")
        if not isinstance(cases, LineDict):
            raise SourceError(path, at("cases") if "cases" in raw else line, f"node {node_id!r}: a branch needs `cases`")
        for case in cases:
            if str(case) not in BRANCH_CASES[raw["branch"]]:
                raise SourceError(path, cases.line_of(case), f"node {node_id!r}: {case!r} is not a value of {raw['branch']} "
                                                              f"(values: {', '.join(BRANCH_CASES[raw['branch']])})")
        if not raw.get("default"):
            raise SourceError(path, line, f"node {node_id!r}: a branch needs a `default` for calls that don't know the {raw['branch']}")
        return Node(
            id=node_id, kind="branch", line=line, branch=raw["branch"],
            cases=MappingProxyType({str(k): _target(v, path, cases.line_of(k), f"node {node_id!r}: cases.{k}") for k, v in cases.items()}),
            default=_target(raw["default"], path, at("default"), f"node {node_id!r}: default"),
        )
    if "end" in raw:
        only(_END_KEYS, "end")
        if raw["end"] not in END_KINDS:
            raise SourceError(path, at("end"), f"node {node_id!r}: end must be one of {', '.join(END_KINDS)}")
        unanswered = raw.get("unanswered")
        if unanswered is not None and raw["end"] != "agent":
            raise SourceError(path, at("unanswered"), f"node {node_id!r}: unanswered belongs on an `end: agent` node")
        return Node(id=node_id, kind="end", line=line, end=raw["end"],
                    say=_prompt_list(raw.get("say"), path, at("say"), f"node {node_id!r}: say"),
                    unanswered=_target(unanswered, path, at("unanswered"), f"node {node_id!r}: unanswered")
                    if unanswered is not None else None)
    if "say" in raw:
        only(_SAY_KEYS, "say")
        if not raw.get("next"):
            raise SourceError(path, line, f"node {node_id!r}: a say node needs `next`")
        return Node(id=node_id, kind="say", line=line,
                    say=_prompt_list(raw["say"], path, at("say"), f"node {node_id!r}: say"),
                    next=_target(raw["next"], path, at("next"), f"node {node_id!r}: next"))
    raise SourceError(path, line, f"node {node_id!r}: a node needs one of ask, say, branch or end")


def parse(data: Any, path: str) -> Flow:
    """Turn a loaded YAML document into a Flow, or raise SourceError."""
    if not isinstance(data, LineDict):
        raise SourceError(path, 1, "a flow file is a mapping with `start` and `nodes`")
    for key in data:
        if key not in {"flow", "start", "nodes", "globals", "defaults", "settings", "note"}:
            raise SourceError(path, data.line_of(key), f"unknown top-level key {key!r}")
    nodes_raw = data.get("nodes")
    if not isinstance(nodes_raw, LineDict) or not nodes_raw:
        raise SourceError(path, data.line_of("nodes"), "`nodes` must be a mapping of node ids to nodes")
    defaults = data.get("defaults") or LineDict()
    if not isinstance(defaults, LineDict):
        raise SourceError(path, data.line_of("defaults"), "`defaults` must be a mapping")
    retries = defaults.get("retries", 2)
    if not isinstance(retries, int) or not 0 <= retries <= 5:
        raise SourceError(path, defaults.line_of("retries"), "defaults.retries must be 0 to 5")
    nodes = {}
    for node_id, raw in nodes_raw.items():
        if not isinstance(node_id, str) or not NODE_ID.match(node_id):
            raise SourceError(path, nodes_raw.line_of(node_id), f"{node_id!r} is not a node id: use lower case letters, digits and _")
        nodes[node_id] = _node(node_id, raw, path, defaults, nodes_raw.line_of(node_id))
    globals_raw = data.get("globals") or LineDict()
    if not isinstance(globals_raw, LineDict):
        raise SourceError(path, data.line_of("globals"), "`globals` must be a mapping")
    for key in globals_raw:
        if key not in GLOBAL_COMMANDS:
            raise SourceError(path, globals_raw.line_of(key), f"globals: {key!r} is not a command (commands: {', '.join(GLOBAL_COMMANDS)})")
    settings = data.get("settings") or LineDict()
    if not isinstance(settings, LineDict):
        raise SourceError(path, data.line_of("settings"), "`settings` must be a mapping")
    offers = settings.get("offer_languages", [])
    if not isinstance(offers, list) or not all(ids.is_language_tag(o) for o in offers):
        raise SourceError(path, settings.line_of("offer_languages"), "settings.offer_languages must list language tags like es-US")
    return Flow(
        name=str(data.get("flow") or PurePath(path).stem),
        path=path,
        start=_target(data.get("start"), path, data.line_of("start"), "start"),
        nodes=MappingProxyType(nodes),
        globals=MappingProxyType({k: _target(v, path, globals_raw.line_of(k), f"globals.{k}") for k, v in globals_raw.items()}),
        retries=retries,
        settings=MappingProxyType(dict(settings)),
        lines=MappingProxyType({"start": data.line_of("start"), "globals": data.line_of("globals")}),
    )

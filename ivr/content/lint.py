"""Checks a flow and its prompts before a caller ever meets them.

The app refuses to start on any problem found here, and `ivr lint` prints the
same list for an operator: file, line, node, what is wrong.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ivr.call import station, station_policy
from ivr.call import vehicles as vehicles_module
from ivr.call.flow import ANSWERS, CHARGING_STOPPED_NODE, Flow
from ivr.language.prompts import SYSTEM_KEYS, Catalog

REQUIRED_GLOBALS = ("hazard", "agent")


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def used_prompt_keys(flow: Flow) -> set[str]:
    keys = set(SYSTEM_KEYS)
    for node in flow.nodes.values():
        keys.update(node.prompt_keys())
    return keys


def check(flow: Flow, catalogs: Mapping[str, Catalog], vehicles=None) -> list[Problem]:
    """Every problem of the flow and its prompts; with `vehicles` (flows/vehicles.yaml),
    its problems too, and the prompt keys it says count as used."""
    problems: list[Problem] = []
    problems += _targets(flow)
    if problems:  # graph checks need every target to exist
        return sorted(problems)
    problems += _globals(flow)
    problems += _reachability(flow)
    problems += _questions(flow)
    problems += _agent_reachable(flow)
    problems += _say_loops(flow)
    problems += _unanswered(flow)
    problems += _station_point(flow)
    problems += _car_nodes(flow)
    problems += _prompts(flow, catalogs, vehicles.prompt_keys() if vehicles else frozenset())
    if vehicles is not None:
        problems += [Problem(*p) for p in vehicles_module.problems(vehicles, catalogs)]
    problems += _variants(flow, catalogs)
    problems += _word_answers(flow, catalogs)
    return sorted(set(problems))


def _problem(flow: Flow, node_id: str | None, message: str) -> Problem:
    line = flow.nodes[node_id].line if node_id is not None and node_id in flow.nodes else 1
    prefix = f"node {node_id!r}: " if node_id else ""
    return Problem(flow.path, line, prefix + message)


def _targets(flow: Flow) -> Iterable[Problem]:
    if flow.start not in flow:
        yield Problem(flow.path, flow.lines.get("start", 1), f"start: no node {flow.start!r}")
    for command, target in flow.globals.items():
        if target not in flow:
            yield Problem(flow.path, flow.lines.get("globals", 1), f"globals.{command}: no node {target!r}")
    for node in flow.nodes.values():
        for label, target in node.targets().items():
            if target not in flow:
                yield _problem(flow, node.id, f"{label} leads to {target!r}, which is not a node")


def _globals(flow: Flow) -> Iterable[Problem]:
    for command in REQUIRED_GLOBALS:
        if command not in flow.globals:
            yield Problem(flow.path, flow.lines.get("globals", 1), f"globals.{command} is missing: every call must reach it from any question")
    agent = flow.globals.get("agent")
    if agent and flow[agent].kind == "end" and flow[agent].end != "agent":
        yield _problem(flow, agent, "globals.agent must lead to an `end: agent` node")
    if flow.globals.get("hazard"):
        for node_id in sorted(flow.hazard_nodes):
            if flow[node_id].expect == "released" or flow[node_id].step:
                yield _problem(flow, node_id, "a release step can be reached after a hazard")
            if flow[node_id].end == "released":
                yield _problem(flow, node_id, "the released ending can be reached after a hazard")


def _reachability(flow: Flow) -> Iterable[Problem]:
    seen = flow.reachable([flow.start, *flow.globals.values()])
    for node_id in flow.nodes:
        if node_id not in seen:
            yield _problem(flow, node_id, "unreachable: no path from start leads here")


def _questions(flow: Flow) -> Iterable[Problem]:
    for node in flow.nodes.values():
        if node.kind != "ask":
            continue
        if not node.silence:
            yield _problem(flow, node.id, "question has no `silence` path (set it, or defaults.silence)")
        if not node.not_understood:
            yield _problem(flow, node.id, "question has no `not_understood` path (set it, or defaults.not_understood)")
        missing = [a for a in ANSWERS.get(node.expect or "", ()) if a not in node.on]
        if missing:
            yield _problem(flow, node.id, f"question has no path for the answer(s): {', '.join(missing)}")


def _agent_reachable(flow: Flow) -> Iterable[Problem]:
    agent_ends = {n.id for n in flow.nodes.values() if n.end == "agent"}
    if not agent_ends:
        yield Problem(flow.path, 1, "no `end: agent` node: a caller could never reach a person")
        return
    for node in flow.nodes.values():
        if node.kind == "end":
            continue
        if not flow.reachable([node.id]) & agent_ends:
            yield _problem(flow, node.id, "no agent can be reached from here")


def _say_loops(flow: Flow) -> Iterable[Problem]:
    """A cycle of say and branch nodes would talk forever without listening."""
    for start in flow.nodes.values():
        if start.kind not in ("say", "branch"):
            continue
        seen, todo = set(), [start.id]
        while todo:
            node_id = todo.pop()
            node = flow[node_id]
            if node.kind not in ("say", "branch"):
                continue
            for target in node.targets().values():
                if target == start.id:
                    yield _problem(flow, start.id, "loops back to itself without asking anything")
                    todo = []
                    break
                if target not in seen:
                    seen.add(target)
                    todo.append(target)


def _outside_hazard(flow: Flow) -> frozenset[str]:
    """Nodes a call can reach without a hazard: from the start and the agent command."""
    hazard = flow.globals.get("hazard")
    seen: set[str] = set()
    todo = [flow.start, *(t for c, t in flow.globals.items() if c != "hazard")]
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in flow or node_id == hazard:
            continue
        seen.add(node_id)
        todo.extend(flow[node_id].targets().values())
    return frozenset(seen)


def _unanswered(flow: Flow) -> Iterable[Problem]:
    """`unanswered:` (nobody took the call) leads back to a question, never after a hazard."""
    outside = _outside_hazard(flow)
    after_hazard = flow.reachable([flow.globals["hazard"]]) if "hazard" in flow.globals else frozenset()
    for node in flow.nodes.values():
        if not node.unanswered:
            continue
        target = flow[node.unanswered]
        if target.kind not in ("ask", "branch"):   # a branch picks a question ("What car is it?", or its tips)
            yield _problem(flow, node.id, f"unanswered leads to {target.id!r}, which is not a question or a branch")
        if target.id not in outside:
            yield _problem(flow, node.id, f"unanswered leads to {target.id!r}, which only a hazard call reaches")
        if node.id in after_hazard or node.id == flow.globals.get("agent"):
            yield _problem(flow, node.id, "unanswered on a hand-off a hazard call can reach (or the agent command's): "
                           "a call that reported a hazard must never go back to the steps")


def _car_nodes(flow: Flow) -> Iterable[Problem]:
    """"What car is it?" (issue 15): its question, a branch on `car` and `tips: car` nodes are
    never reached after a hazard, nor from a connector question's `chademo` (the lock is the
    station's: no car's tip frees it); the tips only after `confirm_stopped` (the car's manual
    release is said only once charging has stopped)."""
    car_nodes = {n.id for n in flow.nodes.values() if n.expect == "car" or n.tips or n.branch in ("car", "car_release")}
    if not car_nodes:
        return
    hazard = flow.hazard_nodes if "hazard" in flow.globals else frozenset()
    for node_id in sorted(car_nodes & hazard):
        yield _problem(flow, node_id, "the car's question or tips can be reached after a hazard")
    for node in flow.nodes.values():
        if node.expect == "connector" and "chademo" in node.on:
            for node_id in sorted(car_nodes & flow.reachable([node.on["chademo"]])):
                yield _problem(flow, node_id, f"reached from {node.id!r}'s chademo answer: a station-side lock "
                               "gets no car's tips")
    tips = {n.id for n in flow.nodes.values() if n.tips}
    if tips and (CHARGING_STOPPED_NODE not in flow or flow[CHARGING_STOPPED_NODE].expect != "yes_no"):
        yield Problem(flow.path, 1, f"`tips: car` needs the yes/no question {CHARGING_STOPPED_NODE!r} "
                      "(its yes: charging has stopped) before it")
        return
    seen: set[str] = set()
    todo = [flow.start, *(t for c, t in flow.globals.items() if c not in ("hazard", "damage"))]
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in flow or node_id == CHARGING_STOPPED_NODE:
            continue
        seen.add(node_id)
        todo.extend(flow[node_id].targets().values())
    for node_id in sorted(tips & seen):
        yield _problem(flow, node_id, f"`tips: car` can be reached without passing {CHARGING_STOPPED_NODE!r}: "
                       "a car's manual release is only for once charging has stopped")


def _station_point(flow: Flow) -> Iterable[Problem]:
    """`station_id_before:` names the questions the station ID is asked just before."""
    for node_id in station.asked_before(flow.settings):
        if node_id not in flow or flow[node_id].kind != "ask":
            yield Problem(flow.path, 1, f"settings.station_id_before: {node_id!r} is not a question")
    for problem in station_policy.settings_problems(flow.settings):   # stations.unlock (issue 14)
        yield Problem(flow.path, 1, problem)


def _variants(flow: Flow, catalogs: Mapping[str, Catalog]) -> Iterable[Problem]:
    """`key@connector`: the key exists, the connector is one, every language has the same."""
    every = set()
    for catalog in catalogs.values():
        every |= set(catalog.variants())
    for language, catalog in sorted(catalogs.items()):
        mine = catalog.variants()
        for variant, (key, connector) in sorted(mine.items()):
            line = catalog.lines.get(variant, 1)
            if key not in catalog:
                yield Problem(catalog.path, line, f"prompt {variant!r}: a variant of {key!r}, which is not a prompt")
            if connector not in ANSWERS["connector"]:
                yield Problem(catalog.path, line, f"prompt {variant!r}: {connector!r} is not a connector "
                              f"({', '.join(ANSWERS['connector'])})")
        for variant in sorted(every - set(mine)):
            yield Problem(catalog.path, 1, f"prompt {variant!r} is missing in {language}: every language has the same variants")


def _word_answers(flow: Flow, catalogs: Mapping[str, Catalog]) -> Iterable[Problem]:
    """An answer beyond yes and no is heard only through the question's words: every language
    that words the question lists it (one without words for it is read as a plain yes/no)."""
    for node in flow.nodes.values():
        for answer in node.extra_answers():
            if not any(catalog.words.get(node.id, {}).get(answer) for catalog in catalogs.values()):
                yield _problem(flow, node.id, f"on.{answer}: not an answer to a {node.expect} question, "
                               f"and no language lists words.{node.id}.{answer}")
            for language, catalog in sorted(catalogs.items()):
                if node.id in catalog.words and not catalog.words[node.id].get(answer):
                    yield _problem(flow, node.id, f"on.{answer}: not an answer to a {node.expect} question, "
                                   f"and words.{node.id}.{answer} is missing in {language} ({catalog.path})")


def _prompts(flow: Flow, catalogs: Mapping[str, Catalog], also_used: frozenset = frozenset()) -> Iterable[Problem]:
    """`also_used`: keys said outside the flow (the cars' tips): never "never used", and
    checked in every language by the vehicles' own check."""
    needed: dict[str, str | None] = {}
    for node in flow.nodes.values():
        for key in node.prompt_keys():
            needed.setdefault(key, node.id)
        if node.kind == "ask":
            needed.setdefault(f"keys_{node.expect}", node.id)
    for key in SYSTEM_KEYS:
        needed.setdefault(key, None)
    for language in flow.settings.get("offer_languages", ()):
        if language not in catalogs:
            yield Problem(flow.path, 1, f"settings.offer_languages: no prompts file for {language}")
    for language, catalog in sorted(catalogs.items()):
        for key, node_id in sorted(needed.items()):
            if key not in catalog:
                where = f"node {node_id!r}: " if node_id else ""
                line = flow[node_id].line if node_id else 1
                yield Problem(flow.path, line, f"{where}prompt {key!r} is missing in {language} ({catalog.path})")
        for key in sorted(k for k in set(catalog.texts) - set(needed) - also_used
                          if k.split("@", 1)[0] not in needed):
            yield Problem(catalog.path, catalog.lines.get(key, 1), f"prompt {key!r} is never used by the flow")
        labelled = {n.id for n in flow.nodes.values() if n.step}
        for node_id in sorted(set(catalog.steps) - labelled):
            yield Problem(catalog.path, catalog.steps_line, f"steps.{node_id}: no step {node_id!r} in the flow")
        if catalog.steps:
            for node_id in sorted(labelled - set(catalog.steps)):
                yield Problem(catalog.path, catalog.steps_line, f"steps.{node_id}: missing in {language} (the flow labels it {flow[node_id].step!r})")
        for node_id, answers in sorted(catalog.words.items()):
            asked = flow.nodes.get(node_id)
            if asked is None or asked.kind != "ask":
                yield Problem(catalog.path, catalog.words_line, f"words.{node_id}: no question {node_id!r} in the flow")
                continue
            for answer in answers:
                if answer == "released":
                    yield Problem(catalog.path, catalog.words_line,
                                  f"words.{node_id}.released: a release must be heard clearly, not matched from a word list")
                elif answer not in asked.on:
                    yield Problem(catalog.path, catalog.words_line,
                                  f"words.{node_id}.{answer}: not an answer of that question ({', '.join(asked.on)})")

"""The funnel: one per connector branch, its questions in the flow's order.

Pure. The order is the flow's own: a walk from the connector question, breadth
first, following each question's answers in the order the flow lists them (the
"still stuck" path is how a call moves on), choosing the branch's case for that
connector. Hazard advice and the hand-off's ends are outcomes, not steps.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from ivr.call.flow import Flow, Node
from ivr.language.prompts import Catalog
from ivr.web.views.console.words import connector_words, node_label

Counts = Mapping[str, Mapping[tuple[str, str], int]]


def connector_question(flow: Flow) -> Node | None:
    return next((n for n in flow.nodes.values() if n.sets == "connector"), None)


def person_nodes(flow: Flow) -> list[str]:
    return [n.id for n in flow.nodes.values() if n.kind == "end" and n.end == "agent"]


def branch_path(flow: Flow, start: str, connector: str) -> list[str]:
    """The questions a `connector` call can reach from `start`, in the flow's order."""
    hazards = flow.hazard_nodes
    order: list[str] = []
    seen: set[str] = set()
    todo = deque([start])
    while todo:
        node_id = todo.popleft()
        if node_id in seen or node_id not in flow.nodes or node_id in hazards:
            continue
        seen.add(node_id)
        node = flow.nodes[node_id]
        if node.kind == "ask":
            order.append(node_id)
            todo.extend(node.on.values())
        elif node.kind == "say" and node.next:
            todo.append(node.next)
        elif node.kind == "branch":
            if node.branch == "connector":
                todo.append(node.cases.get(connector) or node.default or "")
            else:
                todo.extend([*node.cases.values(), node.default or ""])
        elif node.kind == "end" and node.unanswered:
            todo.append(node.unanswered)
    return order


def branches(flow: Flow) -> dict[str, list[str]]:
    """connector -> its funnel's questions, the connector question first."""
    question = connector_question(flow)
    if question is None:
        return {}
    return {connector: [question.id] + [n for n in branch_path(flow, target, connector) if n != question.id]
            for connector, target in question.on.items()}


def funnels(flow: Flow, operator: Catalog, counts: Counts) -> list[dict]:
    """Per connector branch: each step with reached, freed there, hung up there, to a person from there."""
    out = []
    for connector, path in branches(flow).items():
        keys = (connector, "-") if connector == "unsure" else (connector,)
        rows = [{"node": node_id, "label": node_label(flow, operator, node_id),
                 **{name: sum(counts.get(name, {}).get((k, node_id), 0) for k in keys)
                    for name in ("reached", "freed", "hung_up", "person")}} for node_id in path]
        if any(r["reached"] for r in rows):
            out.append({"connector": connector, "name": connector_words(connector), "steps": rows})
    return out

"""The flow as a diagram operators can review: Mermaid text, or Graphviz for SVG.

Pure apart from `svg`, which runs Graphviz's `dot` (Debian: apt-get install graphviz).
Edges carry what leads along them (an answer, silence, not understood); the
global commands (hazard words, "agent", "it came out") are drawn once, dashed,
from an "any question" box rather than from every node.
"""
from __future__ import annotations

from ivr import extras
from ivr.call.flow import Flow, Node

ANY_QUESTION = "any_question"
END_COLOURS = {"released": "#c8e6c9", "hazard": "#ffcdd2", "agent": "#bbdefb", "goodbye": "#e1bee7"}


def _label(node: Node) -> str:
    if node.kind == "ask":
        return f"{node.id}\n{node.step}" if node.step else node.id
    if node.kind == "branch":
        return f"{node.id}\n{node.branch}?"
    if node.kind == "end":
        return f"{node.id}\nend: {node.end}"
    return node.id


def _edge_label(label: str) -> str:
    return label.removeprefix("on.").removeprefix("cases.").replace("_", " ")


def edges(flow: Flow) -> list[tuple[str, str, str, bool]]:
    """(from, to, label, is_global) for every way one node leads to another."""
    found = [(node.id, target, _edge_label(label), False)
             for node in flow.nodes.values() for label, target in node.targets().items()]
    found += [(ANY_QUESTION, target, command, True) for command, target in flow.globals.items()]
    return found


def _mermaid_id(node_id: str) -> str:
    return "n_" + node_id  # Mermaid reserves words such as `end`


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br/>")


def mermaid(flow: Flow) -> str:
    shapes = {"ask": ('["', '"]'), "say": ('("', '")'), "branch": ('{"', '"}'), "end": ('(["', '"])')}
    lines = ["flowchart TD"]
    for node in flow.nodes.values():
        left, right = shapes[node.kind]
        lines.append(f"  {_mermaid_id(node.id)}{left}{_mermaid_text(_label(node))}{right}")
    if flow.globals:
        lines.append(f'  {_mermaid_id(ANY_QUESTION)}[["any question"]]')
    for source, target, label, is_global in edges(flow):
        arrow = "-.->" if is_global else "-->"
        lines.append(f"  {_mermaid_id(source)} {arrow}|{_mermaid_text(label)}| {_mermaid_id(target)}")
    lines.append(f"  {_mermaid_id(flow.start)}:::start")
    for node in flow.nodes.values():
        if node.kind == "end":
            lines.append(f"  {_mermaid_id(node.id)}:::{node.end}")
    lines.append("  classDef start stroke-width:3px")
    lines.extend(f"  classDef {kind} fill:{colour}" for kind, colour in END_COLOURS.items())
    return "\n".join(lines) + "\n"


def digraph(flow: Flow):
    """A graphviz.Digraph of the flow (the `graphviz` package only builds DOT text);
    MissingExtra without the `graph` extra."""
    graphviz = extras.require("graphviz", "graph")

    shapes = {"ask": "box", "say": "note", "branch": "diamond", "end": "oval"}
    graph = graphviz.Digraph(flow.name, graph_attr={"rankdir": "TB", "fontname": "Helvetica"},
                             node_attr={"fontname": "Helvetica", "fontsize": "11"},
                             edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    for node in flow.nodes.values():
        attrs = {"shape": shapes[node.kind]}
        if node.kind == "end":
            attrs.update(style="filled", fillcolor=END_COLOURS.get(node.end or "", "white"))
        if node.id == flow.start:
            attrs["penwidth"] = "3"
        graph.node(node.id, _label(node), **attrs)
    if flow.globals:
        graph.node(ANY_QUESTION, "any question", shape="box", style="dashed")
    for source, target, label, is_global in edges(flow):
        graph.edge(source, target, label, style="dashed" if is_global else "solid")
    return graph


def svg(flow: Flow) -> str:
    """The flow drawn by Graphviz's `dot`; raises graphviz.ExecutableNotFound without it."""
    return digraph(flow).pipe(format="svg", encoding="utf-8")

"""Words an operator reads: a step's label instead of its node ID, an outcome in plain
words, in the operator's language (IVR_AGENT_LANGUAGE).

Pure. A node's label comes from the prompts' `steps:` (the same labels the agent
hears in the whisper), else the flow's `step:`, else a few words for the questions
without one, else the node's ID made readable: a call recorded before a node was
renamed or removed still reads as words, never as `unlock_fob`.
"""
from __future__ import annotations

from ivr.call.flow import Flow
from ivr.language.prompts import Catalog

OUTCOME_WORDS = {
    "en": {"released": "Connector freed", "hazard": "Safety hazard", "transferred": "Put through to a person",
           "abandoned": "Hung up", "goodbye": "Ended with goodbye", "in_progress": "In progress"},
    "es": {"released": "Conector liberado", "hazard": "Peligro", "transferred": "Pasó a una persona",
           "abandoned": "Colgó", "goodbye": "Terminó con despedida", "in_progress": "En curso"},
}
# Nodes without a `step:` label that an operator still sees in a call's path.
NODE_WORDS = {
    "en": {"welcome": "Welcome", "connector": "Which connector", "released": "Connector out",
           "hazard": "Safety advice (fire)", "damage": "Safety advice (damage)", "agent": "Asked for a person",
           "station_id": "Station ID"},
    "es": {"welcome": "Bienvenida", "connector": "Qué conector", "released": "Conector fuera",
           "hazard": "Consejo de seguridad (fuego)", "damage": "Consejo de seguridad (daño)",
           "agent": "Pidió una persona", "station_id": "ID de la estación"},
}
END_WORDS = {
    "en": {"agent": "Put through to a person", "released": "Connector out", "hazard": "Safety advice",
           "goodbye": "Goodbye"},
    "es": {"agent": "Pasó a una persona", "released": "Conector fuera", "hazard": "Consejo de seguridad",
           "goodbye": "Despedida"},
}
# The car as recorded (issue 15): a make, "unknown" (no notes, "other", "I don't know"), or none named.
CAR_WORDS = {
    "en": {"unknown": "Unknown car", None: "No car named", "no_model": "model not said"},
    "es": {"unknown": "Coche desconocido", None: "Ningún coche", "no_model": "modelo no dicho"},
}
CONNECTOR_WORDS = {"ccs": "CCS", "chademo": "CHAdeMO", "j1772": "J1772", "tesla": "Tesla/NACS",
                   "unsure": "Not sure", None: "-"}


def _lang(catalog: Catalog) -> str:
    short = catalog.language.split("-")[0]
    return short if short in OUTCOME_WORDS else "en"


def humanise(node_id: str) -> str:
    """'agent_after_silence' -> 'Agent after silence': readable when nothing better is known."""
    words = node_id.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else "-"


def node_label(flow: Flow, catalog: Catalog, node_id: str | None) -> str:
    """A step's label for people, whatever became of the node since the call."""
    if not node_id:
        return "-"
    lang = _lang(catalog)
    node = flow.nodes.get(node_id)
    if node is not None and node.step:
        label = catalog.step_label(node) or node.step
        return label[:1].upper() + label[1:]
    if node_id in NODE_WORDS[lang]:
        return NODE_WORDS[lang][node_id]
    if node is not None and node.kind == "end" and node.end:
        return f"{END_WORDS[lang][node.end]} ({humanise(node_id).lower()})" if node.end == "agent" \
            and node_id != "agent" else END_WORDS[lang][node.end]
    return humanise(node_id)


def outcome_words(catalog: Catalog, outcome: str | None) -> str:
    return OUTCOME_WORDS[_lang(catalog)].get(outcome or "", humanise(outcome or "unknown"))


def connector_words(connector: str | None) -> str:
    return CONNECTOR_WORDS.get(connector, humanise(connector or "-"))


def car_words(catalog: Catalog, make: str | None) -> str:
    """A make as recorded, for people: "Nissan" stays "Nissan"; "unknown" says what it covers."""
    return CAR_WORDS[_lang(catalog)].get(make, make or "-") if make in (None, "unknown") else str(make)


def model_words(catalog: Catalog, model: str | None) -> str:
    return model or CAR_WORDS[_lang(catalog)]["no_model"]

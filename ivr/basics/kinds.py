"""The closed sets, each defined once as a Literal type with its values beside it.

A value outside a set is a type error (mypy, strict on the pure layers), and the
tuples below, read off the types, are what parsers and reports check against.
"""
from __future__ import annotations

from typing import Literal, get_args

from ivr.basics.ids import is_language_tag

#: A connector a vocabulary names and a call records (state.connector).
Connector = Literal["ccs", "chademo", "j1772", "tesla"]
CONNECTORS: tuple[Connector, ...] = get_args(Connector)

#: How a flow's `end:` node ends the call; also the engine reply's outcome.
EndKind = Literal["released", "hazard", "agent", "goodbye"]
END_KINDS: tuple[EndKind, ...] = get_args(EndKind)

#: What a caller's answer meant (ivr.call.understanding). A caller asking for
#: another language is `language_<tag>`, outside this set.
Intent = Literal[
    "yes", "no", "released", "still_stuck", "repeat", "back", "wait", "help",
    "agent", "hazard", "connector_ccs", "connector_chademo", "connector_j1772",
    "connector_tesla", "connector_unsure", "unclear", "silence",
    # issue 11: in priority order hazard > damage > agent > emergency_stop > roadside
    # > hot_unsure > wait/repeat/explain/back/help/language > the answer
    "damage", "emergency_stop", "roadside", "hot_unsure", "explain", "dont_know", "car",
]
INTENTS: tuple[Intent, ...] = get_args(Intent)
#: Another language asked for, by voice or by its key: `language_` + the tag its prompts file names.
LANGUAGE_INTENT = "language_"


def language_intent(tag: str) -> str:
    """The intent of a caller asking for the language `tag` ('language_es-US')."""
    return LANGUAGE_INTENT + tag


def is_intent(value: str) -> bool:
    """One of INTENTS, or a request for another language (`language_<tag>`)."""
    return value in INTENTS or (value.startswith(LANGUAGE_INTENT) and is_language_tag(value.removeprefix(LANGUAGE_INTENT)))

#: The kind of answer a question listens for.
Expectation = Literal["yes_no", "released", "connector", "car", "any"]
EXPECTATIONS: tuple[Expectation, ...] = get_args(Expectation)

#: How a recorded call ended, in the order reports show them.
Outcome = Literal["released", "hazard", "transferred", "abandoned", "goodbye", "in_progress"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)

"""How a call begins: the welcome (or welcome back), and whether the station ID comes first.

Pure: the web layer looks up what it must (the line's language, the station its
number stands for, an earlier call that dropped) and renders the greeting.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ivr.call import station_dialogue
from ivr.call.engine import CallState, Engine, Reply


@dataclass(frozen=True)
class Greeting:
    reply: Reply
    ask_station: bool     # the welcome, then the station-ID question before the first step


def with_station(reply: Reply, station_id: str) -> Reply:
    """The first reply of a call whose number stands for one station (?station= on its voice URL)."""
    state = replace(reply.state, station=station_id)
    question = replace(reply.question, state=replace(reply.question.state, station=station_id)) \
        if reply.question is not None else None
    return replace(reply, state=state, question=question)


def greet(engine: Engine, settings: Mapping[str, Any], lang: str | None, earlier: CallState | None,
          known_station: str | None) -> Greeting:
    """A caller back after a dropped call carries on (a hazard held); anyone else starts."""
    if earlier is not None:
        reply = engine.resume(replace(earlier, station=earlier.station or known_station), lang)
    else:
        reply = engine.start(lang)
        if known_station:  # the number stands for one station: carry it to the whisper
            reply = with_station(reply, known_station)
    ask = earlier is None and reply.question is not None and station_dialogue.wanted(settings, reply.state)
    return Greeting(reply, ask)


def station_after_answer(settings: Mapping[str, Any], before: CallState, reply: Reply) -> bool:
    """Ask the station ID after this answer? With settings.station_id_before, when the
    caller's answer first reaches one of those questions (never once a hazard is heard)."""
    return (reply.question is not None and reply.action.startswith("answer:") and reply.node != before.node
            and not reply.state.hazard and station_dialogue.wanted(settings, reply.state, arriving_at=reply.node))

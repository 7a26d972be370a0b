"""A question's own words: "it's rigid", "the light is on", "still charging"."""
from __future__ import annotations

from pathlib import Path

import pytest

from ivr import content
from ivr.call.engine import CallState
from ivr.call.understanding import understand
from ivr.language import phrases

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def engine():
    return content.load(ROOT / "flows", ROOT / "prompts").engine


def test_longest_phrase_wins_and_ties_are_no_answer():
    words = {"yes": ["on", "light is on"], "no": ["not on", "off"]}
    assert phrases.match("the light is on", words) == "yes"
    assert phrases.match("it's not on", words) == "no"
    assert phrases.match("on and off", words) is None
    assert phrases.match("", words) is None
    assert phrases.match("bonjour", words) is None  # whole words only


@pytest.mark.parametrize("node, said, next_node", [
    ("session_screen", "the screen says charging complete", "adapter_check"),
    ("session_screen", "it's showing 45 percent", "stop_session"),
    ("session_screen", "no it's still charging", "stop_session"),
    ("session_screen", "not charging anymore", "adapter_check"),
    ("session_screen", "it says ready for a new session", "adapter_check"),
    ("session_screen", "um I don't know", "session_screen"),  # dont_know: how to tell (issue 11)
    ("ccs_button", "it's rigid", "session_screen"),
    ("ccs_button", "no it's really stiff", "session_screen"),
    ("ccs_button", "it's soft", "ccs_soft"),
    ("ccs_button", "there's no button on this one", "session_screen"),
    ("ccs_recheck", "there's no button", "car_question"),
    ("ccs_recheck", "still stiff", "rigid_offer"),
    ("chademo_light", "the light is on", "chademo_lit"),
    ("chademo_light", "it's off", "chademo_release"),
    ("chademo_lit", "it's still on", "agent_station"),
    ("chademo_lit", "it went out", "chademo_release"),
    ("stop_session", "it won't stop", "car_wont_stop"),
    ("car_wont_stop", "it's still charging", "agent_session"),
    ("confirm_stopped", "not sure", "confirm_stopped"),      # dont_know: how to tell (issue 11)
    ("rigid_offer", "no thanks, the manual release", "car_question"),
])
def test_question_words_route_the_call(engine, node, said, next_node):
    state = CallState(node=node, connector="ccs")
    reply = engine.answer(state, understand(said, 0.9, None, engine.expecting(state)))
    assert reply.node == next_node


def test_commands_still_win_over_question_words(engine):
    state = CallState(node="chademo_light")
    reply = engine.answer(state, understand("the light is on and there's smoke", 0.9, None, "yes_no"))
    assert reply.state.node == "hazard"

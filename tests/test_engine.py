"""The call engine, pure: state + meaning in, reply out. No Flask here."""
from __future__ import annotations

from collections import deque
from dataclasses import replace
from pathlib import Path

import pytest

from ivr import content
from ivr.call.engine import WAIT_SECONDS, BadState, CallState, Heard
from ivr.call.flow import ANSWERS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def loaded():
    return content.load(ROOT / "flows", ROOT / "prompts")


@pytest.fixture(scope="module")
def engine(loaded):
    return loaded.engine


def text(reply) -> str:
    return " ".join(line.text for line in reply.lines)


def at(engine, node, **kw) -> CallState:
    return CallState(node=node, **kw)


def test_engine_imports_no_web_or_xml():
    import ast
    tree = ast.parse((ROOT / "ivr" / "call" / "engine.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"flask", "werkzeug", "twilio", "sqlalchemy", "xml"}


def test_start_greets_and_asks_the_first_question(engine):
    reply = engine.start()
    assert reply.question is not None and reply.outcome is None
    assert reply.state.node == engine.flow.start or engine.flow[reply.state.node].kind == "ask"
    assert reply.state.node == "connector"  # the plug decides the first thing to try
    assert "press 1" in text(reply).lower()  # the keypad alternative is said


def test_yes_moves_on_and_records_the_path(engine):
    reply = engine.answer(at(engine, "session_screen", path=("connector", "unlock_fob")), Heard("yes"))
    assert reply.state.node == "adapter_check"
    assert reply.state.path == ("connector", "unlock_fob", "session_screen")


def test_connector_answer_is_kept_in_the_state(engine):
    reply = engine.answer(at(engine, "connector"), Heard("connector_chademo"))
    assert reply.state.connector == "chademo"
    assert reply.state.node == "chademo_light"


@pytest.mark.parametrize("connector, first", [
    ("ccs", "ccs_button"), ("chademo", "chademo_light"), ("j1772", "unlock_fob"),
    ("tesla", "unlock_fob"), ("unsure", "unlock_fob")])
def test_the_connector_decides_the_first_thing_to_do(engine, connector, first):
    reply = engine.answer(at(engine, "connector"), Heard(f"connector_{connector}"))
    assert reply.state.node == first
    assert reply.lines[0].text.split()[0] in ("Press", "Hold", "Put")  # hands first, at once


def test_still_stuck_goes_to_the_next_step(engine):
    reply = engine.answer(at(engine, "unlock_car", connector="ccs"), Heard("still_stuck"))
    assert reply.state.node == "unlock_cycle"
    assert "five times" in text(reply)


def test_certain_release_ends_the_call(engine):
    reply = engine.answer(at(engine, "reseat"), Heard("released", certain=True))
    assert reply.outcome == "released" and reply.question is None


def test_uncertain_release_is_confirmed_first(engine):
    reply = engine.answer(at(engine, "reseat"), Heard("released", certain=False))
    assert reply.question is not None and reply.state.mode == "confirm"
    assert reply.question.expecting == "yes_no"
    yes = engine.answer(reply.state, Heard("yes"))
    assert yes.outcome == "released"
    no = engine.answer(reply.state, Heard("no"))
    assert no.outcome is None and no.state.node == "charge_lock"


def test_unclear_confirmation_never_ends_the_call(engine):
    state = engine.answer(at(engine, "reseat"), Heard("released", certain=False)).state
    for _ in range(engine.flow.retries):
        reply = engine.answer(state, Heard("unclear"))
        assert reply.outcome is None and reply.state.mode == "confirm"
        state = reply.state
    reply = engine.answer(state, Heard("silence"))
    assert reply.outcome == "agent"  # a person, never a hang-up


def test_released_heard_at_another_question_is_confirmed(engine):
    reply = engine.answer(at(engine, "session_screen"), Heard("released", certain=True))
    assert reply.state.mode == "confirm"
    assert engine.answer(reply.state, Heard("yes")).outcome == "released"
    back = engine.answer(reply.state, Heard("no"))
    assert back.state.node == "session_screen" and back.outcome is None


@pytest.mark.parametrize("node", ["session_screen", "unlock_fob", "connector", "manual_release"])
def test_hazard_from_anywhere_gives_safety_advice_and_no_release_step(engine, node):
    reply = engine.answer(at(engine, node, connector="ccs"), Heard("hazard"))
    said = text(reply).lower()
    assert "step away" in said and "911" in said.replace(" ", "") and "touch" in said
    assert reply.state.node == "hazard"
    # whatever the caller says next, no release step follows
    for intent in ("no", "yes", "still_stuck", "released", "back", "silence", "unclear", "repeat"):
        nxt = engine.answer(reply.state, Heard(intent))
        assert nxt.outcome in (None, "agent", "hazard")
        if nxt.question is not None:
            assert nxt.state.node in engine.safety_nodes
        assert "key fob" not in text(nxt)


def test_agent_from_anywhere(engine):
    reply = engine.answer(at(engine, "lock_unlock"), Heard("agent"))
    assert reply.outcome == "agent"


def test_wait_listens_long_then_resumes_the_same_step(engine):
    state = at(engine, "unlock_cycle", tries=1)
    waiting = engine.answer(state, Heard("wait"))
    assert waiting.question.timeout >= 20 and waiting.question.expecting == "any"
    assert "continue" in text(waiting).lower()
    assert waiting.state.node == "unlock_cycle" and waiting.state.mode == "wait"
    # Silence during a wait is not silence at the step: the step comes back.
    resumed = engine.answer(waiting.state, Heard("silence"))
    assert resumed.state.node == "unlock_cycle" and resumed.state.mode == "ask"
    assert "five times" in text(resumed)
    assert resumed.state.tries == 0


def test_wait_then_a_stuck_report_moves_on(engine):
    waiting = engine.answer(at(engine, "unlock_cycle"), Heard("wait"))
    nxt = engine.answer(waiting.state, Heard("still_stuck"))
    assert nxt.state.node == "lock_unlock"


def test_wait_then_released_is_confirmed(engine):
    waiting = engine.answer(at(engine, "unlock_cycle"), Heard("wait"))
    nxt = engine.answer(waiting.state, Heard("released", certain=True))
    assert nxt.state.mode == "confirm"


def test_repeat_says_the_whole_step_and_slower_the_second_time(engine):
    state = at(engine, "reseat")
    first = engine.answer(state, Heard("repeat"))
    assert "push it gently" in text(first)
    assert not any(line.slow for line in first.lines)
    second = engine.answer(first.state, Heard("repeat"))
    assert "push it gently" in text(second)
    assert all(line.slow for line in second.lines)


def test_back_returns_to_the_previous_question(engine):
    reply = engine.answer(at(engine, "lock_unlock", path=("connector", "unlock_fob", "session_screen", "unlock_cycle")),
                          Heard("back"))
    assert reply.state.node == "unlock_cycle"
    assert reply.state.path == ("connector", "unlock_fob", "session_screen")


def test_back_at_the_first_question_says_so(engine):
    reply = engine.answer(at(engine, "connector"), Heard("back"))
    assert reply.state.node == "connector"
    assert "first step" in text(reply)


def test_help_says_what_the_caller_can_say(engine):
    reply = engine.answer(at(engine, "reseat"), Heard("help"))
    said = text(reply).lower()
    assert "repeat" in said and "wait" in said and "agent" in said
    assert reply.state.node == "reseat"


@pytest.mark.parametrize("intent", ["silence", "unclear"])
def test_twice_reprompted_shorter_then_a_person(engine, intent):
    state = at(engine, "charge_lock")
    full = text(engine.answer(state, Heard("repeat")))
    for attempt in range(1, engine.flow.retries + 1):
        reply = engine.answer(state, Heard(intent))
        assert reply.question is not None and reply.state.tries == attempt
        assert len(text(reply)) < len(full)  # shorter
        state = reply.state
    reply = engine.answer(state, Heard(intent))
    assert reply.outcome == "agent"


def test_branch_by_connector(engine):
    # CCS callers have not unlocked the car yet; the others did, first thing.
    ccs = engine.answer(at(engine, "adapter_check", connector="ccs"), Heard("no"))
    assert ccs.state.node == "unlock_car"
    other = engine.answer(at(engine, "adapter_check", connector="j1772"), Heard("no"))
    assert other.state.node == "unlock_cycle"
    # At the end, CCS feels the button again; the others go to the manual release.
    assert engine.answer(at(engine, "confirm_stopped", connector="ccs"), Heard("yes")).state.node == "ccs_recheck"
    # ...by way of "What car is it?" (issue 15)
    assert engine.answer(at(engine, "confirm_stopped", connector="tesla"), Heard("yes")).state.node == "car_question"


def test_the_adapter_question_records_the_answer_and_is_skipped_when_known(engine):
    asked = engine.answer(at(engine, "session_screen", connector="ccs"), Heard("yes"))
    assert asked.state.node == "adapter_check"
    yes = engine.answer(asked.state, Heard("yes"))
    assert yes.state.adapter is True and yes.state.node == "adapter"
    no = engine.answer(asked.state, Heard("no"))
    assert no.state.adapter is False and no.state.node == "unlock_car"
    # "A Tesla with a CCS adapter": understood as CCS with an adapter, never asked again.
    said = engine.answer(at(engine, "connector"), Heard("connector_ccs", adapter=True))
    assert said.state.connector == "ccs" and said.state.adapter is True
    later = engine.answer(replace(said.state, node="session_screen"), Heard("yes"))
    assert later.state.node == "adapter"


def test_a_connector_variant_is_said_when_there_is_one(engine):
    tesla = text(engine.answer(at(engine, "connector"), Heard("connector_tesla")))
    assert "button on the handle" in tesla and "screen" in tesla and "latch" not in tesla
    j1772 = text(engine.answer(at(engine, "connector"), Heard("connector_j1772")))
    assert "latch" in j1772


def test_manual_release_only_after_charging_confirmed_stopped(engine):
    no = engine.answer(at(engine, "confirm_stopped"), Heard("no"))
    assert no.outcome == "agent"
    yes = engine.answer(at(engine, "confirm_stopped", connector="j1772"), Heard("yes"))
    assert yes.state.node == "car_question"
    assert engine.answer(yes.state, Heard("car", heard="other")).state.node == "manual_release"
    # Every way to the manual release passes the confirmation that charging has stopped.
    flow = engine.flow
    before = flow.reachable([flow.start]) - {"manual_release"}
    unconfirmed = set()
    todo = [flow.start]
    while todo:
        node_id = todo.pop()
        if node_id in unconfirmed or node_id == "confirm_stopped":
            continue
        unconfirmed.add(node_id)
        todo.extend(flow[node_id].targets().values())
    assert not {"manual_release", "car_tips", "car_question"} & unconfirmed and before


def test_chademo_never_leads_to_the_cars_manual_release(engine):
    flow = engine.flow
    reach = flow.reachable(["chademo_light"])
    assert not {"manual_release", "car_question", "car_tips", "car_named"} & reach and "agent_station" in reach


def test_a_rigid_ccs_button_once_stopped_offers_a_person_first(engine):
    offer = engine.answer(at(engine, "ccs_recheck", connector="ccs"), Heard("no"))
    assert offer.state.node == "rigid_offer" and "put you through" in text(offer)
    assert engine.answer(offer.state, Heard("yes")).node == "agent_rigid"
    # Nobody answers, or the caller declines: the car's own help (issue 15)
    assert engine.flow["agent_rigid"].unanswered == "car_named"
    rigid = replace(offer.state, node="agent_rigid")
    assert engine.unanswered(rigid).state.node == "car_question"
    assert engine.unanswered(replace(rigid, car="Tesla Model Y")).state.node == "car_tips"
    assert engine.answer(offer.state, Heard("no")).state.node == "car_question"


def test_a_car_that_wont_stop_charging_is_told_not_to_use_the_manual_release(engine):
    reply = engine.answer(at(engine, "stop_session", connector="ccs"), Heard("no"))
    said = text(reply)
    assert reply.state.node == "car_wont_stop"
    assert "don't use the car's manual release" in said.lower()
    assert "charge limit" in said and "safe to wait" in said and "stay with the car" in said
    assert engine.answer(reply.state, Heard("yes")).state.node == "adapter_check"
    assert engine.answer(reply.state, Heard("no")).outcome == "agent"


def test_state_round_trips_through_params(engine, loaded):
    state = CallState(node="reseat", lang="en-US", tries=1, repeats=2, mode="confirm",
                      path=("session_screen", "connector"), connector="ccs", adapter=False)
    assert CallState.from_params(state.to_params(), loaded.flow, loaded.catalogs) == state


@pytest.mark.parametrize("params", [
    {"node": "nowhere", "lang": "en-US"},
    {"node": "released", "lang": "en-US"},  # an end, not a question
    {"node": "reseat", "lang": "xx-XX"},
    {"node": "reseat", "lang": "en-US", "tries": "-1"},
    {"node": "reseat", "lang": "en-US", "tries": "999"},
    {"node": "reseat", "lang": "en-US", "mode": "dance"},
    {"node": "reseat", "lang": "en-US", "path": "a.b.c"},
    {"node": "reseat", "lang": "en-US", "conn": "<script>"},
    {"node": "reseat", "lang": "en-US", "ad": "maybe"},
    {},
])
def test_bad_state_is_refused(loaded, params):
    with pytest.raises(BadState):
        CallState.from_params(params, loaded.flow, loaded.catalogs)


# -- every path, walked ---------------------------------------------------------

def _answers_for(engine, state: CallState) -> list[Heard]:
    expect = engine.expecting(state)
    intents = {"silence", "unclear", "repeat", "wait", "back", "help", "agent", "hazard"}
    if expect == "yes_no":
        intents |= {"yes", "no"}
    elif expect == "released":
        intents |= {"released", "still_stuck", "yes", "no"}
    elif expect == "connector":
        intents |= {f"connector_{c}" for c in ANSWERS["connector"]}
    else:
        intents |= {"yes", "still_stuck", "released"}
    heard = [Heard(i) for i in sorted(intents)]
    heard.append(Heard("released", certain=False))
    if expect == "car":   # "What car is it?": a car with tips, one without a release, "other"
        heard += [Heard("car", heard=name) for name in ("nissan leaf", "chevy bolt", "other")]
    return heard


def _key(state: CallState):
    return (state.node, state.mode, state.tries, state.repeats > 1, state.connector, state.adapter, state.car)


def test_every_path_ends_and_every_end_is_reachable(engine):
    """Explore every answer at every question: no dead end, no loop without a way out."""
    start = engine.start()
    graph: dict = {}
    outcomes_seen = set()
    todo = deque([start])
    seen = set()
    while todo:
        reply = todo.popleft()
        assert reply.question is not None or reply.outcome is not None, "a reply that neither asks nor ends"
        if reply.outcome:
            outcomes_seen.add(reply.outcome)
            continue
        key = _key(reply.state)
        if key in seen:
            continue
        seen.add(key)
        graph[key] = set()
        for heard in _answers_for(engine, reply.state):
            nxt = engine.answer(reply.state, heard)
            graph[key].add(("end", nxt.outcome) if nxt.outcome else _key(nxt.state))
            todo.append(nxt)
    assert outcomes_seen >= {"released", "hazard", "agent"}
    # From every reachable question, some ending is reachable (no trap).
    for key in graph:
        stack, visited, found = [key], set(), False
        while stack and not found:
            k = stack.pop()
            for nxt in graph.get(k, ()):
                if nxt[0] == "end":
                    found = True
                    break
                if nxt not in visited:
                    visited.add(nxt)
                    stack.append(nxt)
        assert found, f"no way out from {key}"
    # Every question of the flow is visited.
    asked = {k[0] for k in graph}
    questions = {n.id for n in engine.flow.nodes.values() if n.kind == "ask"}
    assert questions <= asked, questions - asked


def test_wait_timeout_is_at_least_twenty_seconds():
    assert WAIT_SECONDS >= 20


def test_silence_never_hangs_up_on_a_stuck_caller(engine):
    """Only a confirmed release, or the hazard goodbye, end a call without a person."""
    for node in engine.flow.nodes.values():
        if node.kind != "ask":
            continue
        state = at(engine, node.id, connector="ccs")
        for _ in range(engine.flow.retries + 2):
            reply = engine.answer(state, Heard("silence"))
            if reply.outcome:
                assert reply.outcome == "agent", (node.id, reply.outcome)
                break
            state = reply.state
        else:
            pytest.fail(f"silence at {node.id} never ends in a person")

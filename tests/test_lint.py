"""Broken flows and prompts are caught, with the file, the line and what is wrong."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import edit
from ivr import content
from ivr.app import create_app
from ivr.content import ContentError
from ivr.tools import cli

ROOT = Path(__file__).resolve().parent.parent
FLOW = ROOT / "flows" / "stuck_connector.yaml"




def problems(tree) -> list[str]:
    with pytest.raises(ContentError) as info:
        content.load(tree / "flows", tree / "prompts")
    return [str(p) for p in info.value.problems]


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_the_shipped_flow_is_clean():
    loaded = content.load(ROOT / "flows", ROOT / "prompts")
    assert loaded.flow.start == "welcome"


def test_unknown_target(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "still_stuck: lock_unlock", "still_stuck: lock_unlok")
    found = problems(tree)
    assert any("'lock_unlok'" in p and "not a node" in p and "unlock_cycle" in p for p in found), found
    assert all(p.startswith(str(flow)) for p in found)


def test_unreachable_node(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "nodes:\n", "nodes:\n  orphan:\n    end: goodbye\n    say: released\n")
    found = problems(tree)
    assert any(p == f"{flow}:{line_of(flow, 'orphan:')}: node 'orphan': unreachable: no path from start leads here" for p in found), found


def test_question_without_silence_path(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "  silence: agent_after_silence    # ...a person, never a hang-up\n", "")
    found = problems(tree)
    assert any("no `silence` path" in p and "'session_screen'" in p for p in found), found


def test_question_missing_an_answer(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "      yes: chademo_lit\n", "")
    found = problems(tree)
    assert any("'chademo_light'" in p and "yes" in p for p in found), found


def test_missing_prompt_key(tree):
    edit(tree / "prompts" / "en-US.yaml", "  reseat: ", "  reseat_old: ")
    found = problems(tree)
    assert any("prompt 'reseat' is missing in en-US" in p for p in found), found
    assert any("prompt 'reseat_old' is never used" in p for p in found), found


def test_no_agent_reachable(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    # A self-contained loop: two questions that only lead to each other.
    edit(flow, "nodes:\n", """nodes:
  trap_a:
    ask: reseat
    expect: yes_no
    silence: trap_b
    not_understood: trap_b
    on: {yes: trap_b, no: trap_b}
  trap_b:
    ask: reseat
    expect: yes_no
    silence: trap_a
    not_understood: trap_a
    on: {yes: trap_a, no: trap_a}
""")
    edit(flow, "      yes: adapter_known\n      no: stop_session", "      yes: trap_a\n      no: stop_session")
    found = problems(tree)
    assert any("'trap_a'" in p and "no agent can be reached" in p for p in found), found


def test_release_step_after_hazard(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "      no: hazard_goodbye", "      no: reseat")
    found = problems(tree)
    assert any("release step can be reached after a hazard" in p for p in found), found


def test_say_loop(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "  agent:\n", "  say_a:\n    say: reassure\n    next: say_b\n  say_b:\n    say: reassure\n    next: say_a\n  agent:\n")
    edit(flow, "      ccs: ccs_button\n      chademo", "      ccs: say_a\n      chademo")
    found = problems(tree)
    assert any("'say_a'" in p and "loops back" in p for p in found), found


def test_yaml_syntax_error_points_at_the_line(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "    expect: yes_no\n    timeout: 12", "    expect: [yes_no\n    timeout: 12")
    found = problems(tree)
    assert len(found) == 1 and found[0].startswith(f"{flow}:") and "not valid YAML" in found[0]


def test_wrong_shape_is_refused_with_its_line(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "    expect: yes_no\n    timeout: 12", "    expect: maybe\n    timeout: 12")
    found = problems(tree)
    assert found == [f"{flow}:{line_of(flow, 'expect: maybe')}: node 'session_screen': expect must be one of yes_no, released, connector, car"]


def test_yes_and_no_keys_are_not_booleans(tree):
    """YAML 1.1 would read on/yes/no as booleans; operators shouldn't need quotes."""
    loaded = content.load(tree / "flows", tree / "prompts")
    assert set(loaded.flow["session_screen"].on) == {"yes", "no"}


def test_the_app_refuses_to_start_on_a_broken_flow(tree, env):
    edit(tree / "flows" / "stuck_connector.yaml", "still_stuck: reseat", "still_stuck: nowhere")
    with pytest.raises(ContentError) as info:
        create_app({**env, "IVR_FLOWS_DIR": str(tree / "flows"), "IVR_PROMPTS_DIR": str(tree / "prompts")})
    assert "stuck_connector.yaml:" in str(info.value) and "'nowhere'" in str(info.value)


def test_ivr_lint_exit_codes(tree, monkeypatch):
    monkeypatch.setenv("IVR_FLOWS_DIR", str(tree / "flows"))
    monkeypatch.setenv("IVR_PROMPTS_DIR", str(tree / "prompts"))
    runner = CliRunner()
    ok = runner.invoke(cli.main, ["lint"])
    assert ok.exit_code == 0 and ok.output.startswith("ok:")
    edit(tree / "flows" / "stuck_connector.yaml", "still_stuck: reseat", "still_stuck: nowhere")
    bad = runner.invoke(cli.main, ["lint"])
    assert bad.exit_code == 1
    assert "stuck_connector.yaml:" in bad.output and "node 'lock_unlock'" in bad.output


def test_words_for_an_unknown_question_or_answer(tree):
    prompts = tree / "prompts" / "en-US.yaml"
    edit(prompts, "  ccs_button:\n    yes:", "  ccs_buton:\n    yes:")
    found = problems(tree)
    assert any("words.ccs_buton: no question 'ccs_buton'" in p for p in found), found


def test_words_may_not_stand_for_a_release(tree):
    prompts = tree / "prompts" / "en-US.yaml"
    edit(prompts, "words:\n", "words:\n  reseat:\n    released: [free]\n")
    found = problems(tree)
    assert any("words.reseat.released" in p and "heard clearly" in p for p in found), found


# -- the mechanisms of issue 11: variants, explain, unanswered, word answers ---------

def test_a_variant_of_a_missing_key_or_connector(tree):
    prompts = tree / "prompts" / "en-US.yaml"
    edit(prompts, "  park: ", '  parq@tesla: "x"\n  reseat@nacs: "x"\n  park: ')
    found = problems(tree)
    assert any("'parq@tesla': a variant of 'parq', which is not a prompt" in p for p in found), found
    assert any("'reseat@nacs'" in p and "'nacs' is not a connector" in p for p in found), found


def test_every_language_has_the_same_variants(tree):
    edit(tree / "prompts" / "es-US.yaml", "  unlock_fob@tesla: ", "  unlock_fob_tesla_old: ")
    found = problems(tree)
    assert any("'unlock_fob@tesla' is missing in es-US" in p for p in found), found


def test_explain_keys_are_checked_like_say(tree):
    edit(tree / "prompts" / "es-US.yaml", "  reseat_explain: ", "  reseat_explicar: ")
    found = problems(tree)
    assert any("prompt 'reseat_explain' is missing in es-US" in p for p in found), found


def test_every_question_but_the_hazards_has_an_explain():
    loaded = content.load(ROOT / "flows", ROOT / "prompts")
    hazard = loaded.flow.reachable([loaded.flow.globals["hazard"]])
    for node in loaded.flow.nodes.values():
        if node.kind == "ask" and node.id not in hazard:
            assert node.explain, node.id


def test_unanswered_must_lead_to_a_question_outside_the_hazard(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "    unanswered: car_named", "    unanswered: out_of_steps")
    found = problems(tree)
    assert any("'agent_rigid'" in p and "not a question" in p for p in found), found


def test_unanswered_may_not_follow_a_hazard(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "  agent_hazard:\n    end: agent\n", "  agent_hazard:\n    end: agent\n    unanswered: manual_release\n")
    found = problems(tree)
    assert any("'agent_hazard'" in p and "hazard call can reach" in p for p in found), found
    assert any("release step can be reached after a hazard" in p for p in found), found


def test_unanswered_to_a_node_only_a_hazard_reaches(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "    unanswered: car_named", "    unanswered: hazard")
    found = problems(tree)
    assert any("'agent_rigid'" in p and "only a hazard call reaches" in p for p in found), found


def test_unanswered_belongs_on_an_agent_end(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "  released:\n    end: released\n", "  released:\n    end: released\n    unanswered: reseat\n")
    found = problems(tree)
    assert any("unanswered belongs on an `end: agent` node" in p for p in found), found


def test_an_answer_beyond_yes_no_needs_words_in_every_language(tree):
    prompts = tree / "prompts" / "es-US.yaml"
    edit(prompts, "    no_button: [\"no tiene botón\"", "    sin_boton: [\"no tiene botón\"")
    found = problems(tree)
    assert any("on.no_button" in p and "missing in es-US" in p for p in found), found


def test_station_id_before_names_questions(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "station_id_before: [session_screen,", "station_id_before: [nowhere,")
    found = problems(tree)
    assert any("settings.station_id_before: 'nowhere' is not a question" in p for p in found), found


def test_the_unlock_policy_is_checked(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "  offer_languages: [es-US]", "  offer_languages: [es-US]\n  stations: {unlock: always}")
    found = problems(tree)
    assert any("settings.stations.unlock: 'always': expected agent, automatic or off" in p for p in found), found


# -- "What car is it?" (issue 15) ------------------------------------------------------

def test_the_car_question_from_chademo_is_refused(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "      still_stuck: agent_chademo", "      still_stuck: car_named")
    assert any("chademo answer: a station-side lock gets no car's tips" in p for p in problems(tree))


def test_car_tips_before_charging_is_confirmed_stopped_are_refused(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "      still_stuck: confirm_stopped", "      still_stuck: car_named")
    assert any("`tips: car` can be reached without passing 'confirm_stopped'" in p for p in problems(tree))


def test_a_car_question_must_record_the_car(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "    expect: car\n    set: car\n", "    expect: car\n")
    assert any("a car question records the car: add `set: car`" in p for p in problems(tree))


def test_a_car_question_answers_only_known_no_release_unknown(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    edit(flow, "      unknown: car_other          #", "      maybe: car_other          #")
    assert any("'maybe' is not an answer to a car question" in p for p in problems(tree))


def test_the_keypad_list_names_cars_the_file_has_and_other(tree):
    cars = tree / "flows" / "vehicles.yaml"
    edit(cars, "  6: kia_ev6\n  7: other\n", "  6: kia_ev9\n  9: tesla\n")
    found = problems(tree)
    assert any("keypad: 6: no vehicle 'kia_ev9'" in p for p in found)
    assert any("keypad: '9' is not a key the list may use" in p for p in found)
    assert any("keypad: the list needs a key for `other`" in p for p in found)


def test_the_keypad_list_read_out_names_every_key(tree):
    edit(tree / "prompts" / "es-US.yaml", " 7 para otro carro.", " Otro, diga otro.")
    assert any("keypad: key 7 is not read out in keys_car (es-US" in p for p in problems(tree))

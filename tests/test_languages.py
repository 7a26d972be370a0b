"""A language is a prompts file: served end to end, checked by lint."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from helpers import action_of, fields, gather, said, state_of, twiml
from ivr import content
from ivr.app import create_app
from ivr.config import ConfigError
from ivr.content import ContentError

LINE = "+18005550123"


def add_language(prompts_dir: Path, tag: str, name: str, voice: str, drop: str | None = None,
                 sections: str = "") -> None:
    """Write a third language from the English file: same keys, marked sentences,
    and optionally its `understanding:` and `hints:` sections, as YAML text."""
    english = yaml.safe_load((ROOT / "prompts" / "en-US.yaml").read_text())
    texts = {key: (f"[{tag}] {text}" if text else "") for key, text in english["prompts"].items()}
    if drop:
        texts.pop(drop)
    document = {"language": tag, "name": name, "voice": voice, "prompts": texts}
    (prompts_dir / f"{tag}.yaml").write_text(yaml.safe_dump(document, allow_unicode=True) + sections)


def offer_languages(flow: Path, *tags: str) -> None:
    """Set the flow's settings.offer_languages, keeping its other settings."""
    text, n = re.subn(r"(?m)^  offer_languages: .*$", f"  offer_languages: [{', '.join(tags)}]", flow.read_text())
    assert n == 1, "the flow should offer languages in its settings"
    flow.write_text(text)



def test_a_third_language_is_just_a_file(tree, env):
    add_language(tree / "prompts", "fr-CA", "French", "Polly.Gabrielle-Neural")
    app = create_app({**env, "IVR_FLOWS_DIR": str(tree / "flows"), "IVR_PROMPTS_DIR": str(tree / "prompts"),
                      "IVR_NUMBER_LANGUAGES": f"{LINE}=fr-CA"})
    client = app.test_client()
    root = twiml(client.post("/voice", data=fields(To=LINE)))
    assert gather(root).get("language") == "fr-CA"
    offers = [say for say in root.iter("Say") if say.get("language") == "es-US"]
    assert [say.text for say in offers] == ["Para español, oprima 9, o diga español."]
    assert all(say.get("language") == "fr-CA" and say.get("voice") == "Polly.Gabrielle-Neural"
               for say in root.iter("Say") if say not in offers)
    assert said(root).startswith("[fr-CA]")
    # Another number of the same app still answers in English.
    english = twiml(client.post("/voice", data=fields(To="+18005550199")))
    assert gather(english).get("language") == "en-US"


def test_a_missing_key_in_any_language_fails_lint(tree):
    add_language(tree / "prompts", "fr-CA", "French", "Polly.Gabrielle-Neural", drop="reseat")
    with pytest.raises(ContentError) as info:
        content.load(tree / "flows", tree / "prompts")
    assert any("prompt 'reseat' is missing in fr-CA" in str(p) for p in info.value.problems)


def test_an_unknown_line_language_refuses_to_start(env):
    with pytest.raises(ConfigError):
        create_app({**env, "IVR_NUMBER_LANGUAGES": f"{LINE}=de-DE"})
    with pytest.raises(ConfigError):
        create_app({**env, "IVR_NUMBER_LANGUAGES": "not-a-number=es-US"})


def test_offered_languages_speak_in_their_own_voice(tree, env):
    add_language(tree / "prompts", "fr-CA", "French", "Polly.Gabrielle-Neural")
    flow = tree / "flows" / "stuck_connector.yaml"
    offer_languages(flow, "fr-CA")
    app = create_app({**env, "IVR_FLOWS_DIR": str(tree / "flows"), "IVR_PROMPTS_DIR": str(tree / "prompts")})
    root = twiml(app.test_client().post("/voice", data=fields()))
    offers = [s for s in root.iter("Say") if s.get("language") == "fr-CA"]
    assert len(offers) == 1 and offers[0].get("voice") == "Polly.Gabrielle-Neural"
    assert offers[0].text.startswith("[fr-CA]")
    assert gather(root).get("language") == "en-US"


def test_offering_a_language_without_prompts_fails_lint(tree):
    flow = tree / "flows" / "stuck_connector.yaml"
    offer_languages(flow, "de-DE")
    with pytest.raises(ContentError) as info:
        content.load(tree / "flows", tree / "prompts")
    assert any("no prompts file for de-DE" in str(p) for p in info.value.problems)


FRENCH_WORDS = """
understanding:
  hazard: [fumée, étincelles, "ça brûle"]
  agent: [agent, "une personne"]
  yes: [oui]
  no: [non]
  negators: [ne, pas, n]
  released: ["c'est sorti", "il est sorti"]
  stuck: [coincé, bloqué]
  still_stuck: [toujours, encore]
hints:
  yes_no: [oui, non]
  released: ["c'est sorti", "toujours coincé"]
  connector: [CCS, Chademo, Tesla]
  all_questions: [agent, fumée]
"""


def test_a_third_language_understands_its_callers_from_its_file(tree, env):
    add_language(tree / "prompts", "fr-CA", "French", "Polly.Gabrielle-Neural", sections=FRENCH_WORDS)
    app = create_app({**env, "IVR_FLOWS_DIR": str(tree / "flows"), "IVR_PROMPTS_DIR": str(tree / "prompts"),
                      "IVR_NUMBER_LANGUAGES": f"{LINE}=fr-CA"})
    client = app.test_client()
    root = twiml(client.post("/voice", data=fields(To=LINE)))
    assert gather(root).get("hints") == "CCS, Chademo, Tesla, agent, fumée"
    root = twiml(client.post(action_of(root), data=fields(To=LINE, Digits="4")))
    assert gather(root).get("hints") == "c'est sorti, toujours coincé, agent, fumée"
    root = twiml(client.post(action_of(root), data=fields(To=LINE, SpeechResult="non, toujours coincé",
                                                          Confidence="0.9")))
    assert state_of(root)["node"] == "session_screen" and state_of(root)["lang"] == "fr-CA"
    assert gather(root).get("hints") == "oui, non, agent, fumée"
    root = twiml(client.post(action_of(root), data=fields(To=LINE, SpeechResult="oui", Confidence="0.9")))
    assert state_of(root)["node"] == "adapter_check"
    root = twiml(client.post(action_of(root), data=fields(To=LINE, SpeechResult="il y a de la fumée",
                                                          Confidence="0.5")))
    assert state_of(root)["node"] == "hazard"
    assert all(say.get("language") == "fr-CA" for say in root.iter("Say"))


def test_steps_are_named_in_the_listeners_language():
    from ivr.call import handoff
    from ivr.call.engine import CallState
    loaded = content.load(ROOT / "flows", ROOT / "prompts")
    state = CallState(node="reseat", lang="es-US", path=("connector", "unlock_fob", "session_screen"),
                      results=("", "s", "y"))
    spanish = handoff.text_message(loaded.catalogs["es-US"], loaded.flow, state, None, released=False)
    assert "le quitó el seguro al carro y jaló" in spanish and "unlocked" not in spanish
    english = handoff.whisper_lines(loaded.catalogs["en-US"], loaded.flow, state,
                                    caller_language=loaded.catalogs["es-US"])
    assert "checked the charger screen" in " ".join(english)
    # The step the caller is on now was not done: it is not among the steps tried.
    assert handoff.steps_tried(loaded.flow, state) == [
        "unlocked the car and pulled", "checked the charger screen"]


def test_a_language_that_names_steps_names_them_all(tree):
    prompts = tree / "prompts" / "es-US.yaml"
    prompts.write_text(prompts.read_text().replace("  reseat: volvió a asentar el conector\n", ""))
    with pytest.raises(ContentError) as info:
        content.load(tree / "flows", tree / "prompts")
    assert any("steps.reseat: missing in es-US" in str(p) for p in info.value.problems)


def test_english_is_read_with_the_loaded_prompts(tmp_path):
    """English's vocabulary is the loaded content's (IVR_PROMPTS_DIR), not a file found
    next to the code: a word added to a deployment's en-US.yaml is understood."""
    from ivr.call import understanding

    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "flows", tree / "flows")
    shutil.copytree(ROOT / "prompts", tree / "prompts")
    english = tree / "prompts" / "en-US.yaml"
    english.write_text(english.read_text().replace("  agent: [agent, operator,", "  agent: [agent, zorblax, operator,", 1))
    assert understanding.understand("zorblax", 0.9, None, "yes_no").intent != "agent"
    try:
        content.load(tree / "flows", tree / "prompts")
        assert understanding.understand("zorblax", 0.9, None, "yes_no").intent == "agent"
    finally:
        content.load(ROOT / "flows", ROOT / "prompts")        # the shipped English for the other tests
    assert understanding.understand("zorblax", 0.9, None, "yes_no").intent != "agent"

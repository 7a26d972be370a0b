"""Understanding Spanish answers with the vocabulary of prompts/es-US.yaml.

The same targets as English (>= 97% overall, 100% hazard and agent, no dangerous
error) on tests/data/utterances_es.tsv, the same safety rules one by one, and a
small third language written as data, to show a language needs no Python.
"""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.call.understanding import EXPECTATIONS, hints, is_intent, understand
from ivr.content.yamlfile import SourceError, load
from ivr.language import vocabulary
from ivr.language.prompts import parse

DATA = Path(__file__).parent / "data" / "utterances_es.tsv"
ES = parse(load(ROOT / "prompts" / "es-US.yaml"), str(ROOT / "prompts" / "es-US.yaml")).vocabulary
GOOD = 0.9


def es(speech: str, expecting: str = "released", confidence: float | None = GOOD):
    return understand(speech, confidence, None, expecting, ES)


def _rows() -> list[tuple[str, str, str]]:
    with open(DATA, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(fh, delimiter="\t") if r and not r[0].startswith("#")]
    assert rows[0] == ["utterance", "expecting", "intent"]
    return [tuple(r[:3]) for r in rows[1:]]


ROWS = _rows()


def _dangerous(truth: str, got) -> bool:
    if truth == "hazard":
        return got.intent != "hazard"
    if truth == "damage":
        return got.intent not in ("damage", "hazard")
    if truth == "hot_unsure":
        return got.intent not in ("hot_unsure", "hazard")
    if truth == "agent":
        return got.intent not in ("agent", "hazard", "damage")
    if got.intent == "released" and truth != "released":
        return truth == "still_stuck" or (got.certain and truth != "yes")
    return False


def test_the_spanish_set_is_large_and_well_formed():
    assert len(ROWS) >= 250
    for utt, expecting, intent in ROWS:
        assert expecting in EXPECTATIONS, utt
        assert is_intent(intent), utt
    kinds = Counter(i for _, _, i in ROWS)
    assert kinds["hazard"] >= 30 and kinds["agent"] >= 20 and kinds["still_stuck"] >= 40


def test_accuracy_meets_the_english_targets():
    per = {}
    for utt, expecting, truth in ROWS:
        ok, n = per.get(truth, (0, 0))
        per[truth] = (ok + (es(utt, expecting).intent == truth), n + 1)
    overall = sum(ok for ok, _ in per.values()) / sum(n for _, n in per.values())
    assert overall >= 0.97
    assert per["hazard"][0] == per["hazard"][1]
    assert per["agent"][0] == per["agent"][1]


@pytest.mark.parametrize("utt,expecting,truth", [r for r in ROWS if r[2] in ("hazard", "agent", "still_stuck")])
def test_dangerous_rows_one_by_one(utt, expecting, truth):
    assert not _dangerous(truth, es(utt, expecting))


# --- the safety rules ------------------------------------------------------------------

@pytest.mark.parametrize("utt", ["no hay humo", "ya no sale humo", "no, no huele a quemado", "nada de chispas",
                                 "no está muy caliente", "no me dio toque", "no, pero huele a quemado"])
@pytest.mark.parametrize("expecting", EXPECTATIONS)
def test_negation_never_cancels_a_hazard(utt, expecting):
    assert es(utt, expecting).intent == "hazard"


@pytest.mark.parametrize("utt", ["there's smoke", "sparks", "it's burning", "huele a humo, I mean smoke"])
def test_english_hazard_words_count_in_spanish(utt):
    assert es(utt, "released").intent == "hazard"


@pytest.mark.parametrize("utt", ["no salió", "no se soltó", "no lo pude sacar", "todavía no sale", "sigue atascado",
                                 "ya salió... no, sigue atascado", "salió pero sigue trabado", "no, no sale",
                                 "nunca salió", "ya no sale", "sí, pero sigue pegado", "no quiere salir"])
@pytest.mark.parametrize("confidence", [GOOD, 0.3, None])
def test_a_still_stuck_answer_is_never_released(utt, confidence):
    assert es(utt, "released", confidence).intent != "released"
    assert es(utt, "yes_no", confidence).intent not in ("yes", "released")


@pytest.mark.parametrize("utt", ["ya salió", "sí, ya salió", "se soltó", "ya lo saqué", "ya está fuera"])
def test_a_clear_release_is_certain(utt):
    got = es(utt)
    assert got.intent == "released" and got.certain


@pytest.mark.parametrize("utt", ["sí", "si", "ya", "listo", "si salio", "ya no está atascado",
                                 "creo que ya salió", "casi salió", "ya salio pero", "salió otra vez?"])
def test_an_uncertain_release_is_confirmed(utt):
    got = es(utt)
    assert got.intent != "released" or not got.certain


@pytest.mark.parametrize("confidence", [None, 0.59, 0.2])
def test_a_release_at_low_or_missing_confidence_is_not_certain(confidence):
    got = es("ya salió", confidence=confidence)
    assert got.intent == "released" and not got.certain


def test_a_misspelling_is_corrected_but_never_certain():
    stuck = es("sigue atascao")
    assert stuck.intent == "still_stuck"
    assert es("ya salió atascao").certain is False or es("ya salió atascao").intent != "released"


@pytest.mark.parametrize("utt,intent", [
    ("agente", "agent"), ("quiero hablar con una persona", "agent"), ("operadora", "agent"),
    ("espere", "wait"), ("un momento", "wait"), ("deje ver", "wait"), ("repita", "repeat"),
    ("¿qué?", "repeat"), ("¿cómo?", "repeat"), ("atrás", "back"), ("ayuda", "help"),
    ("inglés", "language_en-US"), ("English please", "language_en-US"),
    ("humo y quiero un agente", "hazard"), ("espere, hay chispas", "hazard"),
])
def test_commands_in_priority_order(utt, intent):
    assert es(utt, "yes_no").intent == intent


@pytest.mark.parametrize("said,intent", [("uno", "connector_ccs"), ("el dos", "connector_chademo"),
                                         ("oprimo el tres", "connector_j1772"), ("4", "connector_tesla"),
                                         ("cero", "agent"), ("asterisco", "repeat")])
def test_spoken_keys(said, intent):
    assert es(said, "connector").intent == intent


def test_spoken_key_one_is_not_a_certain_release():
    got = es("uno", "released")
    assert got.intent == "released" and not got.certain


@pytest.mark.parametrize("utt,intent", [("no es tesla, es ccs", "connector_ccs"), ("ccs o chademo", "unclear"),
                                        ("chadenmo", "connector_chademo"), ("no sé cuál", "connector_unsure")])
def test_connectors(utt, intent):
    assert es(utt, "connector").intent == intent


def test_one_language_object_says_which_rules_read_the_answer():
    """The call's language is one object (its vocabulary names its tag): English's reads
    English; Spanish's reads Spanish, and English's safety and agent words back it up."""
    from ivr.call.understanding import english
    assert understand("yes it came out", GOOD, None, "released", english()).intent == "released"
    assert understand("it's still stuck", GOOD, None, "released", english()).intent == "still_stuck"
    assert understand("ya salió", GOOD, None, "released", ES).intent == "released"
    assert understand("there is smoke", GOOD, None, "released", ES).intent == "hazard"
    assert understand("agent please", GOOD, None, "released", ES).intent == "agent"


def test_heard_keeps_the_accents_for_the_records():
    assert es("¿Sí, ya salió!").heard == "sí ya salió"


def test_spanish_hints_come_from_the_prompts_file():
    released = hints("released", ES)
    assert "ya salió" in released and "sigue atascado" in released
    assert {"agente", "humo", "repita", "espere"} <= set(released)
    assert "J1772" in hints("connector", ES)
    assert "still stuck" not in released


WORDS = ["sí", "no", "ya", "salió", "se", "soltó", "sigue", "atascado", "todavía", "humo", "agente", "espere",
         "nada", "lo", "saqué", "creo", "pero", "casi", "el", "conector", "está", "libre", "nunca", "si", "uno"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=7), st.sampled_from(EXPECTATIONS),
       st.one_of(st.none(), st.floats(0, 1)))
def test_properties(words, expecting, confidence):
    got = es(" ".join(words), expecting, confidence)
    assert is_intent(got.intent)
    if "humo" in words:
        assert got.intent == "hazard"
    if got.intent == "released" and got.certain:
        # a certain release carries no word one mishearing could flip, and a good Confidence
        assert not {"no", "nunca", "nada", "sigue", "todavía", "atascado", "creo", "pero", "casi", "si"} & set(words)
        assert confidence is not None and confidence >= 0.6


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.sampled_from(EXPECTATIONS))
def test_any_text_is_handled(text, expecting):
    assert es(text, expecting).intent != "silence" or not text.strip()


# --- a third language is data ----------------------------------------------------------

FRENCH = """
understanding:
  hazard: [fumée, étincelles, "ça brûle", chaud]
  agent: [agent, "une personne", conseiller]
  wait: ["un instant", attendez]
  repeat: [répétez, pardon]
  yes: [oui, ouais]
  no: [non]
  negators: ["ne", "pas", "n"]
  bridge: [est, sort]
  released: ["c'est sorti", "il est sorti", "il est libre"]
  stuck: [coincé, bloqué]
  still_stuck: [toujours, encore]
  motion: [sort, bouge]
  languages: {en-US: [anglais], es-US: [espagnol]}
  keys: {un: "1", deux: "2"}
hints:
  released: ["c'est sorti", "toujours coincé", oui, non]
  all_questions: [agent, fumée]
"""


@pytest.fixture(scope="module")
def french(tmp_path_factory) -> vocabulary.Vocabulary:
    """The sections as an operator writes them in prompts/fr-CA.yaml (yes/no as plain keys)."""
    path = tmp_path_factory.mktemp("fr") / "fr-CA.yaml"
    path.write_text(FRENCH, encoding="utf-8")
    data = load(path)
    return vocabulary.parse("fr-CA", data["understanding"], data["hints"], str(path))


@pytest.mark.parametrize("utt,expecting,intent", [
    ("c'est sorti", "released", "released"), ("non, toujours coincé", "released", "still_stuck"),
    ("il ne sort pas", "released", "still_stuck"), ("oui", "yes_no", "yes"), ("non", "yes_no", "no"),
    ("il y a de la fumée", "released", "hazard"), ("pas de fumée", "yes_no", "hazard"),
    ("une personne", "released", "agent"), ("un instant", "released", "wait"),
    ("anglais", "released", "language_en-US"), ("espagnol", "yes_no", "language_es-US"),
    ("deux", "released", "still_stuck"), ("smoke", "released", "hazard"),
])
def test_a_third_language_is_understood_from_its_file(french, utt, expecting, intent):
    assert understand(utt, GOOD, None, expecting, french).intent == intent


def test_a_third_language_brings_its_hints(french):
    assert list(hints("released", french)) == ["c'est sorti", "toujours coincé", "oui", "non", "agent", "fumée"]


@pytest.mark.parametrize("section,message", [
    ({"hazzard": ["fumée"]}, "understanding.hazzard: unknown"),
    ({"yes": "oui"}, "understanding.yes: expected a list"),
    ({"keys": {"un": "A"}}, "not a phone key"),
    ({"released": ["sorti"], "misheard": {"sorty": "sorti"}}, "a release must be heard"),
    ({"connectors": {"type2": ["mennekes"]}}, "understanding.connectors.type2"),
    ({"help": ["/aide(?!/"]}, "understanding.help: /aide(?!/ is not a valid pattern"),
])
def test_a_broken_vocabulary_is_reported_with_its_file(section, message):
    with pytest.raises(SourceError) as info:
        vocabulary.parse("fr-CA", section, None, "fr-CA.yaml")
    assert message in str(info.value) and "fr-CA.yaml" in str(info.value)


def test_english_is_read_from_its_own_file_by_the_same_reader():
    """English is data too: prompts/en-US.yaml's vocabulary is what reads an English call."""
    english = parse(load(ROOT / "prompts" / "en-US.yaml"), str(ROOT / "prompts" / "en-US.yaml")).vocabulary
    assert english is not None and english.rx("hazard").search("there is smoke")
    assert understand("yes it popped out", GOOD, None, "released", english) == \
        understand("yes it popped out", GOOD, None, "released")
    assert understand("it won't budge", GOOD, None, "released", english).intent == "still_stuck"
    assert understand("no problem", GOOD, None, "yes_no", english).intent == "yes"


def test_a_pattern_phrase_keeps_its_order_and_its_lookarounds():
    vocab = vocabulary.parse("fr-CA", {"help": ["/aide(?! inutile)/", "menu"], "yes": ["oui"]},
                             None, "fr-CA.yaml")
    assert vocab.rx("help").search("aide moi") and not vocab.rx("help").search("aide inutile")
    assert vocab.rx("yes").search("oui") and vocab.words_of("help") == {"aide", "inutile", "menu"}

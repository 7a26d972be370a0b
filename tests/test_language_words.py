"""A language is data: its switch key and its station words come from its prompts file.

A made-up third language, built here (never shipped), reads a station ID in its own
words and is reached by the key its file names; no language's name is in Python.
"""
from __future__ import annotations

import pytest
from conftest import ROOT

from helpers import edit
from ivr import content
from ivr.call import station, station_dialogue, understanding
from ivr.language import station_words, vocabulary
from ivr.language.source import SourceError

# A third language's words for a station ID (French, as a test would make it up).
THIRD = {
    "digits": {"zero": 0, "un": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
               "huit": 8, "neuf": 9},
    "repeats": {"double": 2},
    "fillers": ["la", "borne", "numero", "cest"],
    "skip": ["je le trouve pas", "passer"],
}


@pytest.fixture
def third():
    return vocabulary.parse("fr-CA", {"yes": ["oui"]}, None, "fr-CA.yaml", station_words=THIRD)


def test_a_third_language_reads_a_station_id_in_its_own_words(third):
    assert station.from_speech("c'est la borne numéro quatre cinq zéro double sept", third) == "45077"
    assert station.from_speech("e a un deux trois quatre cinq", third) == "EA12345"
    assert station.from_speech("four five oh seven seven", third) == "45077"      # English's words back it
    assert station.from_speech("quatre cinq zéro sept sept") is None               # not English's
    assert station.wants_skip("je le trouve pas", third) and not station.wants_skip("je le trouve pas")


def test_the_station_dialogue_reads_with_the_calls_language(third):
    settings = {"ask_station_id": True}
    heard = station_dialogue.answer(settings, "unclear", "quatre cinq zéro sept sept", None, None, 0, third)
    assert isinstance(heard, station_dialogue.ReadBack) and heard.station_id == "45077"
    skipped = station_dialogue.answer(settings, "unclear", "passer", None, None, 0, third)
    assert isinstance(skipped, station_dialogue.GoOn)


def test_the_shipped_languages_carry_their_station_words():
    loaded = content.load(ROOT / "flows", ROOT / "prompts")
    for catalog in loaded.catalogs.values():
        assert catalog.vocabulary is not None and catalog.vocabulary.station.digits, catalog.language
        assert set(catalog.vocabulary.station.digits.values()) == set("0123456789"), catalog.language


@pytest.mark.parametrize("section", [{"digits": {"quatre": "four"}}, {"repeats": {"double": 5}},
                                     {"skip": "passer"}, {"unknown": []}])
def test_broken_station_words_name_the_problem(section):
    with pytest.raises(SourceError, match="station_words"):
        station_words.parse(section, "fr-CA.yaml")


def test_the_switch_key_comes_from_the_prompts_file(tree):
    spanish = (tree / "prompts" / "es-US.yaml").read_text()
    (tree / "prompts" / "fr-CA.yaml").write_text(spanish.replace("language: es-US", "language: fr-CA")
                                                 .replace("switch_key: 9", "switch_key: 8"))
    edit(tree / "prompts" / "es-US.yaml", "switch_key: 9", "switch_key: 7")
    try:
        content.load(tree / "flows", tree / "prompts")
        assert understanding.understand(None, None, "8", "connector").intent == "language_fr-CA"
        assert understanding.understand(None, None, "7", "yes_no").intent == "language_es-US"
        assert understanding.understand(None, None, "9", "yes_no").intent == "unclear"
    finally:
        content.load(ROOT / "flows", ROOT / "prompts")      # the shipped keys again, for the other tests
    assert understanding.understand(None, None, "9", "yes_no").intent == "language_es-US"
    assert understanding.understand("español", 0.9, None, "yes_no").intent == "language_es-US"


def test_two_languages_cannot_claim_one_key(tree):
    spanish = (tree / "prompts" / "es-US.yaml").read_text()
    (tree / "prompts" / "fr-CA.yaml").write_text(spanish.replace("language: es-US", "language: fr-CA"))
    with pytest.raises(content.ContentError, match="switch_key 9"):
        content.load(tree / "flows", tree / "prompts")


@pytest.mark.parametrize("key", ["1", "0", "#", "10"])
def test_a_switch_key_may_not_be_an_answer_or_a_command(tree, key):
    edit(tree / "prompts" / "es-US.yaml", "switch_key: 9", f"switch_key: '{key}'")
    with pytest.raises(content.ContentError, match="switch_key"):
        content.load(tree / "flows", tree / "prompts")

"""Station IDs read off the station, by keypad or speech."""
from __future__ import annotations

import pytest
from conftest import CONTENT

from ivr.call import station


@pytest.mark.parametrize("speech, expected", [
    ("four five oh seven seven", "45077"),
    ("it's 4 5 0 7 7", "45077"),
    ("station number four five oh double seven", "45077"),
    ("45077", "45077"),
    ("one two three four five six", "123456"),
    ("triple nine one", "9991"),
    ("the blue one", None),
    ("", None),
    (None, None),
])
def test_speech_to_digits(speech, expected):
    assert station.from_speech(speech) == expected


@pytest.mark.parametrize("candidate, ok", [
    ("45077", True), ("1234", True), ("1234567890", True),
    ("123", False), ("12345678901", False), ("0000", False), ("12a4", False), (None, False), ("", False),
])
def test_impossible_ids_are_refused(candidate, ok):
    assert (station.check(candidate) is not None) is ok


def test_keypad_drops_the_pound_key():
    assert station.from_keypad("45077#") == "45077"
    assert station.from_keypad("#") is None


def test_digit_range_from_the_flow_settings():
    assert station.digit_range({"station_id_digits": [5, 8]}) == (5, 8)
    assert station.digit_range({}) == (station.MIN_DIGITS, station.MAX_DIGITS)
    assert station.settings_problems({"station_id_digits": [8, 5]})
    assert station.settings_problems({"ask_station_id": "yes"})
    assert not station.settings_problems({"ask_station_id": True, "station_id_digits": [4, 10]})


def test_skip_words():
    assert station.wants_skip("I don't know it")
    assert station.wants_skip("skip")
    assert not station.wants_skip("four five six")


def test_read_back_groups_digits():
    assert station.read_back("45077") == "4 5 0, 7 7"


# -- letters on the label: "EA 12345" ------------------------------------------------------

@pytest.mark.parametrize("speech, expected", [
    ("e a one two three four five", "EA12345"),
    ("EA12345", "EA12345"),
    ("EA 12345", "EA12345"),
    ("echo alpha one two three four five", "EA12345"),
    ("E 1 2 3 4 5", "E12345"),
    ("E. A. 12345", "EA12345"),
    ("station I D is E A 1 2 3 4 5", "EA12345"),
    ("it's a 45077", "45077"),               # the article, not the letter A
    ("ea-12345", "EA12345"),
])
def test_speech_keeps_the_letters(speech, expected):
    assert station.from_speech(speech) == expected


def test_a_spanish_caller_reads_the_label_in_spanish():
    spanish = CONTENT.catalogs["es-US"].vocabulary
    assert station.from_speech("e a uno dos tres cuatro cinco", spanish) == "EA12345"
    assert station.from_speech("estación número cuatro cinco cero doble siete", spanish) == "45077"
    assert station.wants_skip("no lo encuentro", spanish) and station.wants_skip("sáltelo", spanish)
    assert station.wants_skip("skip", spanish)                 # English's words count too


def test_an_id_counts_its_digits_and_allows_a_few_letters():
    assert station.check("ea12345") == "EA12345"
    assert station.check("EA123") is None                 # 3 digits: too few
    assert station.check("ABCDE12345") is None            # more letters than a label carries
    assert station.check("EA0000") is None                # all zeros


def test_keyed_digits_are_matched_ignoring_letters():
    known = ("EA12345", "EB22345", "EC45077", "ED45077")
    assert station.match_keyed("12345", known) == "EA12345"
    assert station.match_keyed("45077", known) is None    # two stations: no guess
    assert station.match_keyed("99999", known) is None
    assert station.match_keyed(None, known) is None


def test_known_ids_and_the_station_question_place_from_the_settings():
    settings = {"station_ids": ["ea-12345", "EB 22345"], "station_id_before": ["session_screen"]}
    assert station.known_ids(settings) == ("EA12345", "EB22345")
    assert station.asked_before(settings) == ("session_screen",)
    assert not station.settings_problems(settings)
    assert station.settings_problems({"station_ids": ["12"]})
    assert station.settings_problems({"station_id_before": "session_screen"})


def test_read_back_spells_the_letters():
    assert station.read_back("EA12345") == "E A, 1 2 3, 4 5"
    assert station.read_back("E12345") == "E, 1 2 3, 4 5"

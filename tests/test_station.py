"""Station IDs read off the station, by keypad or speech."""
from __future__ import annotations

import pytest

from ivr import station


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

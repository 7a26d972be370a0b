"""The station ID a caller reads off the charging station, by keypad or speech.

Pure. "four five oh double seven", "45 077" and 45077# all give "45077"; an
ID of the wrong length, or all zeros, is impossible and is asked again.
"""
from __future__ import annotations

import re
from typing import Mapping

MIN_DIGITS, MAX_DIGITS = 4, 10
MAX_TRIES = 2  # then the call goes on without it: the release steps matter more

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0",
    "one": "1", "won": "1", "two": "2", "to": "2", "too": "2", "three": "3", "tree": "3",
    "four": "4", "for": "4", "fore": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "ate": "8", "nine": "9", "niner": "9",
}
_REPEATS = {"double": 2, "triple": 3}
# Words around an ID that carry nothing: "it's station number 4 5 ..."
_FILLERS = {"it", "its", "it's", "is", "the", "station", "number", "id", "i", "d", "um", "uh", "er",
            "and", "a", "okay", "ok", "so", "charger", "says", "reads", "dash", "hyphen", "space"}
_SKIP_WORDS = re.compile(r"\b(skip|don'?t know|do not know|can'?t find|cannot find|no idea|don'?t have|not sure|"
                         r"no id|saltar|s[aá]ltelo|no lo encuentro|no s[eé])\b")


def digit_range(settings: Mapping[str, object]) -> tuple[int, int]:
    """`station_id_digits: [5, 8]` in the flow's settings, or the defaults."""
    raw = settings.get("station_id_digits")
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(n, int) for n in raw) \
            and 1 <= raw[0] <= raw[1] <= 16:
        return raw[0], raw[1]
    return MIN_DIGITS, MAX_DIGITS


def settings_problems(settings: Mapping[str, object]) -> list[str]:
    """What is wrong with the flow's station-ID settings, for lint."""
    problems = []
    ask = settings.get("ask_station_id", False)
    if not isinstance(ask, bool):
        problems.append("settings.ask_station_id must be true or false")
    if "station_id_digits" in settings and digit_range(settings) == (MIN_DIGITS, MAX_DIGITS) \
            and settings["station_id_digits"] != [MIN_DIGITS, MAX_DIGITS]:
        problems.append("settings.station_id_digits must be [fewest, most] digits, from 1 to 16, e.g. [4, 10]")
    return problems


def wants_skip(speech: str | None) -> bool:
    """The caller can't find it, or would rather go on."""
    return bool(speech) and bool(_SKIP_WORDS.search(speech.lower()))


def from_keypad(digits: str | None) -> str | None:
    """The keys pressed, without the # that ends them; None when there were none."""
    keys = (digits or "").strip().rstrip("#")
    return keys or None


def from_speech(speech: str | None) -> str | None:
    """Spoken digits to a digit string; None when something other than digits was said."""
    if not speech:
        return None
    words = re.findall(r"[a-z']+|\d+", speech.lower().replace("-", " "))
    result: list[str] = []
    repeat = 1
    for word in words:
        if word.isdigit():
            result.append(word[0] * repeat + word[1:])
            repeat = 1
        elif word in _REPEATS:
            repeat = _REPEATS[word]
        elif word in _DIGIT_WORDS:
            result.append(_DIGIT_WORDS[word] * repeat)
            repeat = 1
        elif word in _FILLERS:
            continue
        else:
            return None
    return "".join(result) or None


def check(candidate: str | None, fewest: int = MIN_DIGITS, most: int = MAX_DIGITS) -> str | None:
    """The ID if it could be printed on a station, else None."""
    if not candidate or not candidate.isdigit() or not fewest <= len(candidate) <= most:
        return None
    if set(candidate) == {"0"}:
        return None
    return candidate


def read_back(station_id: str) -> str:
    """Spaced for text-to-speech, in groups of three: '45077' -> '4 5 0, 7 7'."""
    groups = [station_id[i:i + 3] for i in range(0, len(station_id), 3)]
    return ", ".join(" ".join(group) for group in groups)

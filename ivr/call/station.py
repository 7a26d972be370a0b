"""The station ID a caller reads off the charging station, by keypad or speech.

Pure. Labels carry letters as well as digits ("EA 12345", "E 1 2 3 4 5"):

- By speech, letters and digits: "e a one two three four five", "EA12345",
  "echo alpha one two three four five" and "four five oh double seven" all give
  an ID ("EA12345", "45077").
- By keypad, digits only: the keys are matched against the operator's list of
  known IDs, ignoring their letters (`settings.station_ids`); without a list, or
  without a match, the digits are kept as keyed, and the caller is told so.

An ID whose digits are too few or too many, or all zeros, is impossible and is
asked again. Either way the ID is read back for a yes or no.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

from ivr.call import understanding
from ivr.language.station_words import StationWords
from ivr.language.vocabulary import Vocabulary, fold, matcher

MIN_DIGITS, MAX_DIGITS = 4, 10
MAX_LETTERS = 4
MAX_TRIES = 2  # then the call goes on without it: the release steps matter more
ID_CHARS = re.compile(r"^[A-Z0-9]{1,16}$")

# The phonetic alphabet is international; each language's digits, letter names, repeats,
# fillers and skip words are in its prompts file (`station_words:`, ivr.language.station_words).
_PHONETIC = {
    "alpha": "A", "alfa": "A", "bravo": "B", "charlie": "C", "delta": "D", "echo": "E",
    "foxtrot": "F", "golf": "G", "hotel": "H", "india": "I", "juliet": "J", "juliett": "J",
    "kilo": "K", "lima": "L", "mike": "M", "november": "N", "oscar": "O", "papa": "P",
    "quebec": "Q", "romeo": "R", "sierra": "S", "tango": "T", "uniform": "U", "victor": "V",
    "whiskey": "W", "whisky": "W", "xray": "X", "yankee": "Y", "zulu": "Z",
}


def words_for(vocabulary: Vocabulary | None = None) -> StationWords:
    """The call's language's station words, backed by English's (as English backs every
    language's understanding); without a vocabulary, English's alone."""
    english = understanding.english()
    if vocabulary is None or vocabulary.language == english.language:
        return english.station
    return _merged(vocabulary, english)


@lru_cache(maxsize=32)
def _merged(vocabulary: Vocabulary, english: Vocabulary) -> StationWords:
    """Worked out once per pair of loaded vocabularies (each is loaded once)."""
    return vocabulary.station.merged(english.station)


@lru_cache(maxsize=32)
def _skip_matcher(skip: tuple[str, ...]) -> re.Pattern[str] | None:
    return matcher(skip)


def digit_range(settings: Mapping[str, object]) -> tuple[int, int]:
    """`station_id_digits: [5, 8]` in the flow's settings, or the defaults: how many digits an ID has."""
    raw = settings.get("station_id_digits")
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(n, int) for n in raw) \
            and 1 <= raw[0] <= raw[1] <= 16:
        return raw[0], raw[1]
    return MIN_DIGITS, MAX_DIGITS


def known_ids(settings: Mapping[str, object]) -> tuple[str, ...]:
    """`station_ids: [EA12345, ...]`: the operator's stations, so keyed digits can find their letters."""
    raw = settings.get("station_ids") or []
    if not isinstance(raw, list):
        return ()
    return tuple(normalise(str(i)) for i in raw if normalise(str(i)))


def asked_before(settings: Mapping[str, object]) -> tuple[str, ...]:
    """`station_id_before: [node, ...]`: the questions the station ID is asked just before.

    Empty: it is asked right after the welcome. Naming the questions that follow the
    caller's first try keeps the first thing they do with their hands early.
    """
    raw = settings.get("station_id_before") or []
    return tuple(str(n) for n in raw) if isinstance(raw, list) else ()


def settings_problems(settings: Mapping[str, object]) -> list[str]:
    """What is wrong with the flow's station-ID settings, for lint."""
    problems = []
    ask = settings.get("ask_station_id", False)
    if not isinstance(ask, bool):
        problems.append("settings.ask_station_id must be true or false")
    if "station_id_digits" in settings and digit_range(settings) == (MIN_DIGITS, MAX_DIGITS) \
            and settings["station_id_digits"] != [MIN_DIGITS, MAX_DIGITS]:
        problems.append("settings.station_id_digits must be [fewest, most] digits, from 1 to 16, e.g. [4, 10]")
    ids = settings.get("station_ids")
    if ids is not None:
        fewest, most = digit_range(settings)
        if not isinstance(ids, list):
            problems.append("settings.station_ids must list station IDs, e.g. [EA12345, EA12346]")
        else:
            for raw in ids:
                if check(normalise(str(raw)), fewest, most) is None:
                    problems.append(f"settings.station_ids: {raw!r} is not a station ID "
                                    f"(letters and {fewest} to {most} digits)")
    before = settings.get("station_id_before")
    if before is not None and (not isinstance(before, list) or not all(isinstance(n, str) for n in before)):
        problems.append("settings.station_id_before must list question ids, e.g. [session_screen]")
    return problems


def wants_skip(speech: str | None, vocabulary: Vocabulary | None = None) -> bool:
    """The caller can't find it, or would rather go on (the language's `station_words.skip`)."""
    skip = _skip_matcher(words_for(vocabulary).skip)
    return bool(speech) and skip is not None and skip.search(fold(speech or "")) is not None


def normalise(raw: str | None) -> str:
    """'ea-12 345' -> 'EA12345': letters upper case, separators dropped."""
    return re.sub(r"[^A-Za-z0-9]", "", raw or "").upper()


def from_keypad(digits: str | None) -> str | None:
    """The keys pressed, without the # that ends them; None when there were none."""
    keys = (digits or "").strip().rstrip("#")
    return keys or None


def match_keyed(keys: str | None, known: Iterable[str]) -> str | None:
    """The one known ID whose digits are the keys pressed, letters ignored; None if none or several."""
    if not keys:
        return None
    found = {k for k in known if re.sub(r"\D", "", k) == keys}
    return found.pop() if len(found) == 1 else None


def from_speech(speech: str | None, vocabulary: Vocabulary | None = None) -> str | None:
    """Spoken letters and digits to an ID ('EA12345'); None when something else was said.

    Read with the call's language's words (`vocabulary`), backed by English's."""
    if not speech:
        return None
    said = words_for(vocabulary)
    letters = {**_PHONETIC, **said.letters}
    text = unicodedata.normalize("NFKD", speech.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))     # "estación" as "estacion"
    text = text.replace("x-ray", "xray").replace("-", " ")
    text = re.sub(r"(?<=[a-z])'(?=[a-z])", "", text)
    text = re.sub(r"\bi\.? ?d\b\.?", " ", text)      # "station I D is ...": the word, not letters
    words = re.findall(r"[a-z]+\d[a-z0-9]*|\d+[a-z][a-z0-9]*|[a-z]+|\d+", text)
    has_digits = any(re.search(r"\d", w) or w in said.digits for w in words)
    result: list[str] = []
    repeat = 1
    previous = ""
    for word in words:
        if word.isdigit():
            result.append(word[0] * repeat + word[1:])
            repeat = 1
        elif re.search(r"\d", word):          # "ea12345", "12345a": as written
            result.append(word.upper())
            repeat = 1
        elif word in said.repeats:
            repeat = said.repeats[word]
        elif word in said.digits:
            result.append(said.digits[word] * repeat)
            repeat = 1
        elif word == "a" and previous in said.article_after:
            pass                               # "it's a ...": the article
        elif word in letters:
            result.append(letters[word] * repeat)
            repeat = 1
        elif word in said.fillers:
            pass
        elif len(word) == 1:                   # "e a one two...": a letter
            result.append(word.upper() * repeat)
            repeat = 1
        elif has_digits and len(word) <= 3:    # "EA 12345" written as a word: the label's letters
            result.append(word.upper())
            repeat = 1
        else:
            return None
        previous = word
    return "".join(result) or None


def check(candidate: str | None, fewest: int = MIN_DIGITS, most: int = MAX_DIGITS) -> str | None:
    """The ID if it could be printed on a station, else None: letters, and `fewest` to `most` digits."""
    candidate = normalise(candidate) if candidate else ""
    if not ID_CHARS.match(candidate):
        return None
    digits = re.sub(r"\D", "", candidate)
    if not fewest <= len(digits) <= most or set(digits) == {"0"}:
        return None
    if len(candidate) - len(digits) > MAX_LETTERS:
        return None
    return candidate


def read_back(station_id: str) -> str:
    """Spaced for text-to-speech: letters one by one, digits in groups of three.

    '45077' -> '4 5 0, 7 7'; 'EA12345' -> 'E A, 1 2 3, 4 5'.
    """
    parts = []
    for run in re.findall(r"[A-Z]+|\d+", station_id):
        if run.isdigit():
            parts += [" ".join(run[i:i + 3]) for i in range(0, len(run), 3)]
        else:
            parts.append(" ".join(run))
    return ", ".join(parts)

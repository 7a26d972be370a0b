"""A language's words for reading a station ID aloud, from its prompts file.

The `station_words:` section of prompts/<language>.yaml: how callers say the digits
("cuatro"), letter names ("bee"), repeats ("double"), the words around an ID that carry
nothing ("it's station number"), and how they say they can't find it ("skip", "no lo
encuentro"). A third language reads a station ID by writing its own section; the
phonetic alphabet (alpha, bravo...) is international and stays in ivr/call/station.py.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ivr.language.source import LineDict, SourceError

SECTIONS = {
    "digits": "a spoken digit -> the digit ('cuatro': 4)",
    "letters": "a letter's name as a recogniser writes it -> the letter ('bee': B)",
    "repeats": "a word that repeats the next digit -> how often ('double': 2)",
    "fillers": "words around an ID that carry nothing ('station', 'number')",
    "article_after": "after these, a lone 'a' is the article, not the letter A ('it's a 4 5...')",
    "skip": "phrases that say the caller can't find it or would rather go on ('skip', 'no lo encuentro')",
}


@dataclass(frozen=True)
class StationWords:
    """The words one language (or several, `merged`) reads station IDs with; lower case."""

    digits: Mapping[str, str] = field(default_factory=dict)
    letters: Mapping[str, str] = field(default_factory=dict)
    repeats: Mapping[str, int] = field(default_factory=dict)
    fillers: frozenset[str] = frozenset()
    article_after: frozenset[str] = frozenset()
    skip: tuple[str, ...] = ()

    def merged(self, other: StationWords) -> StationWords:
        """Both languages' words; where they differ, this one's win."""
        return StationWords(MappingProxyType({**other.digits, **self.digits}),
                            MappingProxyType({**other.letters, **self.letters}),
                            MappingProxyType({**other.repeats, **self.repeats}),
                            self.fillers | other.fillers, self.article_after | other.article_after,
                            tuple(dict.fromkeys((*self.skip, *other.skip))))


def parse(raw: Any, path: str, line: int = 1) -> StationWords:
    """The `station_words:` section; missing, no words (English's back every language)."""
    if raw is None:
        return StationWords()
    if not isinstance(raw, dict):
        raise SourceError(path, line, f"`station_words` must map {', '.join(SECTIONS)} to words")
    where = raw.line_of if isinstance(raw, LineDict) else (lambda key: line)
    for name in raw:
        if str(name) not in SECTIONS:
            raise SourceError(path, where(name), f"station_words.{name}: unknown; expected one of {', '.join(SECTIONS)}")
    digits = _mapping(raw, "digits", path, where, lambda v: v if re.fullmatch(r"\d", v) else None)
    letters = _mapping(raw, "letters", path, where, lambda v: v.upper() if re.fullmatch(r"[A-Za-z]", v) else None)
    repeats = _mapping(raw, "repeats", path, where, lambda v: int(v) if v in ("2", "3") else None)
    return StationWords(digits, letters, repeats, frozenset(_list(raw, "fillers", path, where)),
                        frozenset(_list(raw, "article_after", path, where)), tuple(_list(raw, "skip", path, where)))


def _mapping(raw: Any, name: str, path: str, where: Any, value_of: Any) -> Mapping[str, Any]:
    value = raw.get(name) or {}
    if not isinstance(value, dict):
        raise SourceError(path, where(name), f"station_words.{name}: expected a mapping ({SECTIONS[name]})")
    out = {}
    for word, meant in value.items():
        checked = value_of(str(meant))
        if checked is None or not re.fullmatch(r"[a-z]+", str(word).lower()):
            raise SourceError(path, where(name), f"station_words.{name}.{word}: {SECTIONS[name]}")
        out[str(word).lower()] = checked
    return MappingProxyType(out)


def _list(raw: Any, name: str, path: str, where: Any) -> list[str]:
    value = raw.get(name) or []
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise SourceError(path, where(name), f"station_words.{name}: expected a list ({SECTIONS[name]})")
    return [w.strip().lower() for w in value]

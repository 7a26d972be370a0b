"""Answers particular to one question: "it's rigid", "the light is on".

Generic understanding knows yes and no; a question like "is the button soft?"
is also answered with its own words. Each prompts file lists them per node
(`words:`), so they are written, and translated, with the question. Only
consulted when the generic reading found nothing, so commands (hazard,
agent, wait) always win.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache


def tokens(text: str) -> tuple[str, ...]:
    """Lower case, accents folded, apostrophes dropped ("it's" -> "its")."""
    text = unicodedata.normalize("NFKD", text or "").lower()
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("'", "").replace("\u2019", "")
    return tuple(re.findall(r"[a-z0-9]+", text))


@lru_cache(maxsize=4096)
def _phrase_tokens(phrase: str) -> tuple[int, str]:
    """A listed phrase's length in words and its words between spaces (" not on "),
    worked out once: the phrases come from the prompts files."""
    words = tokens(phrase)
    return len(words), f" {' '.join(words)} "


def _contains(said: str, needle: str) -> bool:
    """Are the needle's words, in a row, among the words said? Both are written
    between spaces, and words hold no spaces, so a substring is a run of whole words."""
    return needle != "  " and needle in said


def match(text: str, words: Mapping[str, Sequence[str]]) -> str | None:
    """The answer whose longest phrase occurs in `text`; None when none does or answers tie.

    Longest first, so "not charging" beats "charging" and "not on" beats "on".
    """
    said = f" {' '.join(tokens(text))} "
    best: dict[str, int] = {}
    for answer, phrases in words.items():
        for phrase in phrases:
            length, needle = _phrase_tokens(phrase)
            if _contains(said, needle):
                best[answer] = max(best.get(answer, 0), length)
    if not best:
        return None
    top = max(best.values())
    winners = [a for a, length in best.items() if length == top]
    return winners[0] if len(winners) == 1 else None

"""A question's TwiML, built with twilio's builders once per prompt and serialized once.

A question's reply differs from one call to the next only in its action URL (the
call's state travels in it): the lines, the voice, the timeout and the speech hints
are the same for every caller at that node in that language. Building the Gather
with the builders and serializing it with ElementTree cost a fifth of a webhook
(issue 16), so the XML is made once, with a placeholder where the URL goes, and
each reply fills the URL in. tests/test_twiml_cache.py proves, over every node and
language, that the filled-in reply is the very text the builders make.
"""
from __future__ import annotations

from collections.abc import Sequence

from twilio.twiml.voice_response import VoiceResponse

from ivr.web import twiml

# Where the action URL goes; a URL (so the builders keep it as it is) that no prompt holds.
PLACEHOLDER = "https://twiml-cache.invalid/action"
MAX_ENTRIES = 2048   # the shipped flow has a few hundred (node, language, slow, keys) variants
_NEEDS_FRESH = ('"', "<", ">", "\n", "\r", "\t")   # escaped differently in attributes and text

_templates: dict[tuple, tuple[str, ...]] = {}


class Prebuilt(VoiceResponse):
    """A reply already serialized: str() and to_xml() give its XML, as a built one's would.

    Nothing may be appended to it: the text is made, and verbs added later would be lost.
    """

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def to_xml(self, xml_declaration: bool = True) -> str:
        if xml_declaration:
            return self._text
        return self._text.split("?>", 1)[1]

    def __str__(self) -> str:
        return self._text

    def append(self, verb):
        raise TypeError("a Prebuilt reply is already serialized: build a fresh one to add verbs")


def question(lines: Sequence, *, action: str, voice: twiml.Voice, timeout: int,
             hints: Sequence[str] = ()) -> VoiceResponse:
    """twiml.question, from the cache."""
    return _cached(twiml.question, False, lines, action, voice, timeout, hints)


def keyed_entry(lines: Sequence, *, action: str, voice: twiml.Voice, timeout: int = 8,
                hints: Sequence[str] = ()) -> VoiceResponse:
    """twiml.keyed_entry, from the cache."""
    return _cached(twiml.keyed_entry, True, lines, action, voice, timeout, hints)


def _cached(build, keyed: bool, lines: Sequence, action: str, voice: twiml.Voice, timeout: int,
            hints: Sequence[str]) -> VoiceResponse:
    if not action or any(ch in action for ch in _NEEDS_FRESH):   # never from our url_for; then: built fresh
        return build(list(lines), action=action, voice=voice, timeout=timeout, hints=hints)
    key = (keyed, tuple(lines), voice, timeout, tuple(hints))
    parts = _templates.get(key)
    if parts is None:
        made = str(build(list(lines), action=PLACEHOLDER, voice=voice, timeout=timeout, hints=hints))
        parts = tuple(made.split(PLACEHOLDER))
        if len(_templates) >= MAX_ENTRIES:   # lines with a caller's own words in them: start again
            _templates.clear()
        _templates[key] = parts
    # In an attribute and in text alike, ElementTree writes & as &amp; (the rest are above).
    return Prebuilt(action.replace("&", "&amp;").join(parts))

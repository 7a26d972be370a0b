"""What did the caller mean?  Pure speech/keypad understanding for the call engine.

No Flask, no TwiML, no I/O per call: `understand()` maps one Gather result (SpeechResult,
Confidence, Digits) plus the kind of question that was asked to one intent.

Speech in every language is read by ivr.language.reader with that language's vocabulary (the
`understanding:` section of prompts/<language>.yaml; English's is prompts/en-US.yaml,
loaded once).  The rules (ivr/language/reader.py), in short: normalise and correct known
mishearings, never inferring a release; commands first (hazard > damage > agent >
emergency_stop > roadside > hot_unsure > wait > repeat > explain > back > help > another
language), a hazard or damage word wins whatever surrounds it, and English hazard, damage
and agent words count in every language; then the answer to the question asked, with
negation scope and contradictions resolved in favour of "still stuck".  "I don't know"
to a yes/no or release question is `dont_know` (to the connector question,
`connector_unsure`); a release said with a wait ("hang on, it's out") is `released`,
never certain.

Besides the intent: `car`, the display name of a car the caller named (the `cars:`
mapping of the prompts files; English's names count in every language), never taken for
a connector (a car named with nothing else understood is the intent `car`); and
`adapter`, whether the caller said an adapter is in use ("a Tesla with a CCS adapter" is
connector_ccs with adapter=True).

Certainty
---------
The costliest mistake is ending the call while the connector is still in the car, so a
`released` is `certain` only when it is a clear release phrase ("yes it came out", "it
popped out", key 1) at Confidence >= RELEASE_CONFIDENCE (0.6), with no word that one
mishearing could flip ("will"/"won't", "not", "no", "still", "did", "can", "stuck"...),
no correction applied, no negation reversal ("not stuck anymore"), no bare yes/got it/
done, and little unexplained speech.  A missing Confidence counts as low (the engine
then spends one short confirming question, which is cheap).  0.6: Twilio's phone-call
recognisers report 0.8-0.95 for clean short answers and fall below ~0.5 on noise and
cross-talk; 0.6 keeps normal answers certain while sending doubtful ones to a confirm.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ivr.basics.kinds import EXPECTATIONS, INTENTS, is_intent, language_intent
from ivr.language import reader
from ivr.language.vocabulary import Vocabulary, is_pattern

__all__ = [
    "EXPECTATIONS",
    "INTENTS",
    "RELEASE_CONFIDENCE",
    "Understanding",
    "hints",
    "is_intent",
    "understand",
    "use_switch_keys",
]


#: Below this Confidence (or without one) a "released" is never certain.
RELEASE_CONFIDENCE = reader.RELEASE_CONFIDENCE



@dataclass(frozen=True)
class Understanding:
    intent: str        # one of INTENTS, or language_<tag> (another language asked for)
    certain: bool      # False => the engine confirms before acting on 'released'
    heard: str         # what was said/pressed, normalised, for the records ("" on silence)
    car: str | None = None   # the car named ("Nissan Leaf"), never a connector by itself
    adapter: bool = False    # an adapter is in use ("a Tesla with a CCS adapter")


# ---------------------------------------------------------------------------------------
# Keypad

_GLOBAL_KEYS = {"0": "agent", "*": "repeat", "#": "wait"}
# The key that switches to each language, as its prompts file names it (`switch_key: 9` in
# prompts/es-US.yaml) -> `language_<tag>`; set by the content loader (`use_switch_keys`).
_SWITCH_KEYS: dict[str, str] = {}
_ANSWER_KEYS = {
    "yes_no": {"1": "yes", "2": "no"},
    "any": {"1": "yes", "2": "no"},
    "released": {"1": "released", "2": "still_stuck"},
    "connector": {"1": "connector_ccs", "2": "connector_chademo", "3": "connector_j1772",
                  "4": "connector_tesla", "5": "connector_unsure"},
}


def _key_intent(key: str, expecting: str) -> str:
    if key in _GLOBAL_KEYS:
        return _GLOBAL_KEYS[key]
    if key in _SWITCH_KEYS:
        return _SWITCH_KEYS[key]
    return _ANSWER_KEYS.get(expecting, _ANSWER_KEYS["any"]).get(key, "unclear")


# ---------------------------------------------------------------------------------------
# English's vocabulary

_ENGLISH: list[Vocabulary] = []   # set by the content loader; a list, so no `global`


def use_english(vocabulary: Vocabulary) -> None:
    """English's vocabulary, which reads English and backs up every language: the
    loaded content's (ivr.content.load calls this), never a file read here."""
    _ENGLISH[:] = [vocabulary]


def use_switch_keys(keys: dict[str, str]) -> None:
    """Key -> language tag, from the loaded prompts files (each names its own key): pressing
    it anywhere in the call asks for that language (`language_<tag>`)."""
    _SWITCH_KEYS.clear()
    _SWITCH_KEYS.update({key: language_intent(tag) for key, tag in keys.items()})


def english() -> Vocabulary:
    """English's vocabulary, as the content loader last set it (`use_english`)."""
    if not _ENGLISH:
        raise RuntimeError("English's vocabulary is not loaded: load the content first (ivr.content.load)")
    return _ENGLISH[0]


def _heard(text: str) -> str:
    """The record form: lower case, punctuation dropped, spaces collapsed, accents kept."""
    text = unicodedata.normalize("NFC", text).lower().replace("\u2019", "'").replace("`", "'")
    text = re.sub(r"[^\w'\s]", " ", text)
    return " ".join(text.split())


def _tokens(heard: str) -> list[str]:
    """An English utterance's words as the reader sees them (contractions expanded)."""
    return reader.tokens(english(), heard)


def __getattr__(name: str) -> frozenset[str]:
    if name in ("_HAZARD_WORDS", "_DAMAGE_WORDS"):    # English's single words of a tier (tests pick rows with them)
        tier = "hazard" if name == "_HAZARD_WORDS" else "damage"
        return frozenset(p for p in english().phrases[tier] if not is_pattern(p) and " " not in p)
    raise AttributeError(name)


def understand(speech: str | None, confidence: float | None, digits: str | None,
               expecting: str, vocabulary: Vocabulary | None = None) -> Understanding:
    """Map one Gather result to an intent.  Digits win over speech; silence is 'silence'.

    `vocabulary`: the call's language, as one object (it names its own tag; from its
    prompts file, ivr.language.vocabulary). Speech is read by ivr.language.reader with
    it, backed by English's; without one, with English's alone.
    """
    if expecting not in EXPECTATIONS:
        expecting = "any"
    if expecting == "car":
        return _car_answer(speech, confidence, digits, vocabulary)
    keys = "".join((digits or "").split())
    if keys:
        # One key is the protocol; a repeated key ("11") is read as that key.
        if len(set(keys)) == 1:
            return Understanding(_key_intent(keys[0], expecting), True, keys)
        return Understanding("unclear", True, keys)
    if speech is None or not speech.strip():
        return Understanding("silence", True, "")
    vocabulary = vocabulary or english()
    heard = _heard(speech)
    also = english() if vocabulary.language != english().language else None
    got = reader.read_all(vocabulary, heard, confidence, expecting, also=also)
    intent, certain = got.intent, got.certain
    if intent.startswith("key:"):
        intent = _key_intent(intent[4:], expecting)
        certain = certain and intent != "released"
    return Understanding(intent, certain, heard, got.car, got.adapter)


# What still counts as a command at "What car is it?"; anything else said is the car.
_CAR_COMMANDS = frozenset({"hazard", "damage", "agent", "emergency_stop", "roadside", "hot_unsure", "wait",
                           "repeat", "explain", "back", "help", "silence", "dont_know"})


def _car_answer(speech: str | None, confidence: float | None, digits: str | None,
                vocabulary: Vocabulary | None) -> Understanding:
    """"What car is it?" (issue 15): commands as at any question; a key of the keypad
    list, or anything else said, is `car`, with the words (or the key) in `heard`. Which
    car that is, if any, the engine reads with ivr.call.vehicles (it holds the cars' file)."""
    keys = "".join((digits or "").split())
    if keys:
        if len(set(keys)) != 1:
            return Understanding("unclear", True, keys)
        key = keys[0]
        return Understanding(_GLOBAL_KEYS.get(key) or _SWITCH_KEYS.get(key) or "car", True, key)
    got = understand(speech, confidence, None, "any", vocabulary)
    if got.intent in _CAR_COMMANDS or got.intent.startswith("language_"):
        return got
    return Understanding("car", got.certain, got.heard, got.car, got.adapter)


@lru_cache(maxsize=64)
def hints(expecting: str, vocabulary: Vocabulary | None = None) -> tuple[str, ...]:
    """Speech hints for a question: its expected words plus the global commands
    (short phrases, e.g. 'still stuck', 'came out', 'agent', 'repeat', 'wait', 'CHAdeMO', 'J1772').

    A language with a vocabulary brings its own (`hints:` in its prompts file), else English's.
    Built once per question kind and language (a vocabulary is loaded once):
    every question's webhook asks for them."""
    vocabulary = vocabulary or english()
    return tuple((vocabulary if vocabulary.hints else english()).hints_for(expecting))



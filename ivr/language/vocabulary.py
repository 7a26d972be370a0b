"""A language's words for understanding callers, read from its prompts file.

Every language, English included, brings its vocabulary as data, in the
`understanding:` and `hints:` sections of prompts/<language>.yaml, so adding a
language is editing a file, not Python: which phrases are hazards, requests for
a person, yes, no, "it came out", "still stuck", which words negate, what the
recogniser gets wrong, and what the speech recogniser should listen for.
ivr.language.reader reads answers with it; the rules live there, once.

Phrases are compared lower case, without accents, as whole words. A phrase
written between slashes ('/hurt (?:my|me)/') is a regular expression over those
words, for the few phrasings a list cannot say (optional words, "help" but not
"helped"); a category holding one keeps its phrases in the order written, since
the first that matches wins.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ivr.basics import ids
from ivr.basics.kinds import CONNECTORS
from ivr.language import station_words as station_words_module
from ivr.language.source import LineDict, SourceError
from ivr.language.station_words import StationWords

# Lists of phrases, by what they mean.
CATEGORIES = {
    # commands, whatever the question
    "hazard": "fire tier: smoke, fire, sparks, a burning smell, melting, a hissing or swelling battery, a shock "
              "(never cancelled by 'no')",
    "damage": "damage tier: a cracked or broken cable, handle or plug, exposed wires, water in the port "
              "(never cancelled by 'no')",
    "emergency_stop": "the station's emergency stop was pressed ('paro de emergencia'): not a hazard",
    "roadside": "the caller is in traffic ('blocking traffic', 'on the shoulder')",
    "hot_unsure": "heat that does not say smoke, fire, burning or melting ('it's hot out here'): one question",
    "explain": "what does that mean: the step again, explained",
    "adapter": "an adapter between the plug and the car ('adaptador'); negated ('no adapter') it is none",
    "agent": "a request for a person, on its own ('agente', 'operador')",
    "agent_weak": "a person, only when asked for ('persona', 'alguien') or in a short answer",
    "agent_request": "words that ask for something ('hablar', 'quiero', 'páseme')",
    "wait": "hold on: the caller needs a moment",
    "repeat": "say it again",
    "repeat_alone": "say it again, only when said alone ('¿qué?', '¿cómo?')",
    "back": "the step before",
    "help": "what can I say",
    "still_charging": "the session still runs ('still charging', 'sigue cargando'): at a question not about "
                      "the session, on to the flow's `still_charging` step",
    # answers
    "yes": "yes to any question",
    "no": "no to any question",
    "unsure": "I don't know",
    "released": "the connector came out, done ('ya salió'); negated it means still stuck",
    "released_weak": "sounds like success but says nothing about the connector ('listo'): never certain",
    "stuck": "a stuck state ('atascado'); negated ('ya no está atascado') it means released, never certain",
    "still_stuck": "stuck with no other reading ('sigue igual', 'todavía no')",
    "motion": "verbs that mean stuck only when negated ('no sale', 'no se mueve')",
    # how sentences work
    "negators": "words that negate what follows ('no', 'nunca')",
    "bridge": "words that may stand between a negator and what it negates ('se', 'lo', 'está')",
    "doubt": "words one mishearing away from the opposite: a release with one is confirmed",
    "fillers": "words that carry nothing ('este', 'pues', 'bueno')",
    "common": "ordinary words that are neither noise nor to be corrected",
    "neutral": "phrases that contain a command word but are not one ('liberación de emergencia')",
    "key_prefix": "words before a spoken key ('oprimo', 'el')",
    # optional: rules a language may need (none of them is required)
    "key_suffix": "words after a spoken key ('please')",
    "back_alone": "the step before, only when said alone ('back')",
    "help_negated": "help said as a complaint ('that did not help'): not a request for help",
    "help_anyway": "a request for help even within such a complaint ('what to do')",
    "yes_with_no": "a yes that contains a no word ('no problem'): read before the no words",
    "past_stuck": "stuck in the past ('it was stuck'): not a stuck answer, and never a certain release",
    "done": "words of a completed release ('came'); with this list, only a release holding one can be certain",
    "stuck_only": "stuck with no other reading, that does not outweigh a release said after it ('no luck')",
    "answer_negators": "negators that are also answers ('no'): they negate only across `bridge` words",
    "clause_break": "words that end a negation's reach ('but'); with this list a negator reaches across any "
                    "other words, and stays to be heard as a 'no'",
    "leading_fillers": "words that carry nothing at the start of an answer ('well', 'so')",
    "fuzz_targets": "the words a long unknown word may be corrected to (default: the long command and stuck words)",
    "never_fuzz": "real words close to a fuzz target that must stay what they are ('plugged')",
    "doubt_written": "words that, written exactly so (accents kept), make a release doubtful ('si' as 'if')",
}
MAPPINGS = {
    "connectors": "connector (ccs, chademo, j1772, tesla) -> phrases naming it",
    "cars": "a car's display name -> phrases naming it ('Nissan Leaf': [nissan leaf, leaf]); never a connector",
    "languages": "language tag -> phrases asking for it ('inglés')",
    "keys": "spoken key -> key ('uno': 1, 'asterisco': '*')",
    "misheard": "what the recogniser writes -> the word meant ('atascao': atascado)",
    "spellings": "casual or multi-word forms -> the word meant, not counted as a correction ('yeah': yes)",
    "misheard_start": "what the recogniser writes at the start of an answer -> the word meant ('know': no)",
    "contractions": "written contraction -> words ('won't': will not; '*n't': '* not' for any word)",
}
HINT_GROUPS = ("yes_no", "released", "connector", "car", "any", "all_questions")


def fold(text: str) -> str:
    """Lower case, accents dropped, punctuation to spaces, digits apart from letters."""
    text = unicodedata.normalize("NFKD", text or "").lower()
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^a-z0-9\s]", " ", text.replace("'", "").replace("\u2019", ""))
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)
    return " ".join(text.split())


def is_pattern(phrase: str) -> bool:
    """Is this phrase a regular expression ('/.../')?"""
    return len(phrase) > 2 and phrase.startswith("/") and phrase.endswith("/")


def _alternative(phrase: str) -> str:
    return phrase[1:-1] if is_pattern(phrase) else re.escape(fold(phrase))


def matcher(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for a list of phrases, whole words: longest first, or as written
    when the list holds a pattern."""
    phrases = [str(p) for p in phrases if is_pattern(str(p)) or fold(str(p))]
    if not any(is_pattern(p) for p in phrases):
        phrases = sorted({fold(p) for p in phrases}, key=len, reverse=True)
    if not phrases:
        return None
    alternatives = dict.fromkeys(_alternative(p) for p in phrases)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])")


def matchers(phrases: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    """The matchers to look for one after another: each pattern on its own, in the
    order written, then the plain phrases together. Where matches overlap, the first
    matcher's is taken, as a list of patterns means."""
    patterns = [p for p in map(str, phrases) if is_pattern(p)]
    plain = [p for p in map(str, phrases) if not is_pattern(p)]
    found = [matcher([p]) for p in patterns] + [matcher(plain)]
    return tuple(rx for rx in found if rx is not None)


def words(phrase: str) -> list[str]:
    """The words of a phrase (of a pattern: its words of three letters or more)."""
    return re.findall(r"[a-z]{3,}", phrase) if is_pattern(phrase) else fold(phrase).split()


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """How one language says what the bot listens for."""

    language: str
    phrases: Mapping[str, tuple[str, ...]]
    connectors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    languages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    keys: Mapping[str, str] = field(default_factory=dict)
    misheard: Mapping[str, str] = field(default_factory=dict)
    hints: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    spellings: Mapping[str, str] = field(default_factory=dict)
    misheard_start: Mapping[str, str] = field(default_factory=dict)
    contractions: Mapping[str, str] = field(default_factory=dict)
    cars: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    station: StationWords = field(default_factory=StationWords)   # reading a station ID (`station_words:`)
    # Worked out once from the lists above (__post_init__):
    _compiled: Mapping[str, re.Pattern[str] | None] = field(init=False, repr=False, compare=False)
    _sequences: Mapping[str, tuple[re.Pattern[str], ...]] = field(init=False, repr=False, compare=False)
    _words: Mapping[str, frozenset[str]] = field(init=False, repr=False, compare=False)
    words: frozenset[str] = field(init=False, repr=False, compare=False)
    folded_keys: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lists = {name: self.phrases.get(name, ()) for name in CATEGORIES}
        lists.update({f"connector_{c}": p for c, p in self.connectors.items()})
        lists.update({f"language_{t}": p for t, p in self.languages.items()})
        lists.update({f"car:{name}": p for name, p in self.cars.items()})
        lists["cars"] = tuple(p for phrases in self.cars.values() for p in phrases)   # any car at all
        object.__setattr__(self, "_compiled", MappingProxyType({n: matcher(p) for n, p in lists.items()}))
        object.__setattr__(self, "_sequences", MappingProxyType({n: matchers(p) for n, p in lists.items()}))
        per_category = {name: frozenset(w for p in self.phrases.get(name, ()) for w in words(p))
                        for name in CATEGORIES}
        object.__setattr__(self, "_words", MappingProxyType(per_category))
        object.__setattr__(self, "words", frozenset().union(*per_category.values()))
        object.__setattr__(self, "folded_keys", MappingProxyType({fold(k): v for k, v in self.keys.items()}))

    def rx(self, name: str) -> re.Pattern[str] | None:
        """The compiled matcher of a category, 'connector_<name>' or 'language_<tag>'."""
        return self._compiled.get(name)

    def rx_sequence(self, name: str) -> tuple[re.Pattern[str], ...]:
        """The matchers of a category to look for one after another (see `matchers`)."""
        return self._sequences.get(name, ())

    def words_of(self, name: str) -> frozenset[str]:
        """Every single word of a category's phrases."""
        return self._words.get(name, frozenset())

    def hints_for(self, expecting: str) -> list[str]:
        """The question's own hints, then those of every question, without repeats."""
        out: list[str] = []
        for hint in (*self.hints.get(expecting, self.hints.get("any", ())), *self.hints.get("all_questions", ())):
            if hint not in out:
                out.append(hint)
        return out


def parse(language: str, understanding: Any, hints: Any, path: str, line: int = 1,
          station_words: Any = None, station_line: int = 1) -> Vocabulary | None:
    """The vocabulary of a prompts file's `understanding:`, `hints:` and `station_words:` sections, or None."""
    if understanding is None and hints is None:
        return None
    understanding = understanding if understanding is not None else LineDict()
    if not isinstance(understanding, dict):
        raise SourceError(path, line, "`understanding` must map kinds of words to lists of phrases")
    where = understanding.line_of if isinstance(understanding, LineDict) else (lambda key: line)
    phrases, maps = {}, {}
    for name, value in understanding.items():
        name = str(name)
        if name in CATEGORIES:
            phrases[name] = _phrase_list(value, path, where(name), f"understanding.{name}")
        elif name in MAPPINGS:
            if not isinstance(value, dict):
                raise SourceError(path, where(name), f"understanding.{name}: expected a mapping ({MAPPINGS[name]})")
            maps[name] = value
        else:
            known = ", ".join([*CATEGORIES, *MAPPINGS])
            raise SourceError(path, where(name), f"understanding.{name}: unknown; expected one of {known}")
    connectors = {}
    for name, value in (maps.get("connectors") or {}).items():
        if str(name) not in CONNECTORS:
            raise SourceError(path, where("connectors"), f"understanding.connectors.{name}: expected one of {', '.join(CONNECTORS)}")
        connectors[str(name)] = _phrase_list(value, path, where("connectors"), f"understanding.connectors.{name}")
    cars = {}
    for name, value in (maps.get("cars") or {}).items():
        if not str(name).strip():
            raise SourceError(path, where("cars"), "understanding.cars: a car needs a display name")
        cars[str(name)] = _phrase_list(value, path, where("cars"), f"understanding.cars.{name}")
    languages = {}
    for tag, value in (maps.get("languages") or {}).items():
        if not ids.is_language_tag(str(tag)):
            raise SourceError(path, where("languages"), f"understanding.languages.{tag}: expected a language tag like en-US")
        languages[str(tag)] = _phrase_list(value, path, where("languages"), f"understanding.languages.{tag}")
    keys = {}
    for spoken, key in (maps.get("keys") or {}).items():
        if str(key) not in set("0123456789*#"):
            raise SourceError(path, where("keys"), f"understanding.keys.{spoken}: {key!r} is not a phone key")
        keys[str(spoken)] = str(key)
    misheard = {fold(str(k)): fold(str(v)) for k, v in (maps.get("misheard") or {}).items()}
    if any(not k or not v or " " in k for k, v in misheard.items()):
        raise SourceError(path, where("misheard"), "understanding.misheard: map one written word to the word meant")
    spellings = {fold(str(k)): fold(str(v)) for k, v in (maps.get("spellings") or {}).items()}
    if any(not k for k in spellings):
        raise SourceError(path, where("spellings"), "understanding.spellings: map written words to the words meant")
    starts = {str(k) if is_pattern(str(k)) else fold(str(k)): fold(str(v))
              for k, v in (maps.get("misheard_start") or {}).items()}
    contractions = {str(k).lower(): str(v).lower() for k, v in (maps.get("contractions") or {}).items()}
    for name, value in (*phrases.items(), ("misheard_start", starts), *((f"connectors.{c}", p) for c, p in
                        (maps.get("connectors") or {}).items()), *((f"cars.{c}", p) for c, p in cars.items())):
        for p in value if isinstance(value, (tuple, list)) else value.keys():
            if is_pattern(str(p)):
                try:
                    re.compile(str(p)[1:-1])
                except re.error as exc:
                    raise SourceError(path, where(name.split(".")[0]),
                                      f"understanding.{name}: {p} is not a valid pattern ({exc})") from None
    released = {w for p in (*phrases.get("released", ()), *phrases.get("released_weak", ())) for w in words(p)}
    if set(misheard.values()) & released - {w for p in phrases.get("negators", ()) for w in fold(p).split()}:
        raise SourceError(path, where("misheard"), "understanding.misheard: a release must be heard, never corrected into")
    hint_lists = {}
    if hints is not None:
        if not isinstance(hints, dict):
            raise SourceError(path, line, f"`hints` must map {', '.join(HINT_GROUPS)} to lists of phrases")
        hwhere = hints.line_of if isinstance(hints, LineDict) else (lambda key: line)
        for group, value in hints.items():
            if str(group) not in HINT_GROUPS:
                raise SourceError(path, hwhere(group), f"hints.{group}: expected one of {', '.join(HINT_GROUPS)}")
            hint_lists[str(group)] = _phrase_list(value, path, hwhere(group), f"hints.{group}")
    return Vocabulary(language, MappingProxyType(phrases), MappingProxyType(connectors),
                      MappingProxyType(languages), MappingProxyType(keys), MappingProxyType(misheard),
                      MappingProxyType(hint_lists), MappingProxyType(spellings), MappingProxyType(starts),
                      MappingProxyType(contractions), MappingProxyType(cars),
                      station_words_module.parse(station_words, path, station_line))


def _phrase_list(value: Any, path: str, line: int, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, (str, int)) and str(p).strip() for p in value):
        raise SourceError(path, line, f"{where}: expected a list of phrases")
    return tuple(str(p) for p in value)

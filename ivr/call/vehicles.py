"""Cars: flows/vehicles.yaml, a spoken name matched to one entry, and what to say for it.

Pure: no Flask, no database, no network. Loaded once with the flow (ivr/content.py).

- ``load(path)`` parses the file, with ``file:line`` errors for its shape (ivr/yamlfile.py);
  ``problems(vehicles, catalogs)`` is what ``ivr lint`` adds: every entry has sources, every
  connector type is known, every prompt key exists in every language, and no entry offers
  a manual release without the charging-stopped guard.
- ``match(vehicles, spoken)`` returns the entry a caller named, or ``UNKNOWN``: never a guess.
  Each entry's ``heard_as`` names and the ``not_ours`` names (cars with no entry: "Chevy
  Volt", "BMW i3", a make alone) are compared with the words heard, fuzzily (rapidfuzz),
  after the recogniser's spellings are folded ("Ioniq5", "Mach-E", "I D four", "modelo
  tres"). The best name wins only when it is close enough, belongs to one entry, and no
  car without an entry is as close and as long.
- ``from_keys`` reads the keypad list (`keypad:`, "other" last); ``answer_for`` is the car
  question's answer (known, no_release, unknown); ``label`` the short name a call carries.
- ``tips_for(entry, connector, charging_stopped)`` gives the prompt keys to say, in the
  order that is safe; the manual release only when ``charging_stopped`` is True.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from ivr.language.source import LineDict, SourceError

#: Connector types a car's entry may name (the connector question's answers, less "unsure").
CONNECTORS = ("ccs", "chademo", "j1772", "tesla")
#: Where the lock is the station's (a CHAdeMO handle): no car's tip can help, none is given.
STATION_SIDE = frozenset({"chademo"})
#: The one guard a manual release may carry.
CHARGING_STOPPED = "charging_stopped"
#: How close a spoken name must be to one we know (rapidfuzz ratio, 0-100); names of four
#: letters or fewer ("i 4", "ev 6", "volt") must be heard exactly.
THRESHOLD = 88
SHORT = 4
#: A car's name comes early in an answer: words after these are not looked at (a 1,500
#: character answer would otherwise cost half a second).
MAX_WORDS = 40
COMMON_KEYS = ("ask", "ask_short", "unknown", "hand_first", "release_see_manual",
               "release_follow_manual", "no_release_offer", "pull_plug")
RELEASE_PLACES_WITHOUT_STEPS = ("none", "see_owners_manual")
#: The keypad's "other" (`keypad:` in the file): a car with no key of its own.
OTHER = "other"
#: Keys the keypad list may use: 0, 9, * and # answer every question (agent, Spanish...).
KEYPAD_DIGITS = "12345678"
#: How a car may travel in the call's URL and records (ivr/call/engine.py's CAR_NAME).
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .'-]{0,39}")

_ENTRY_KEYS = {"id", "make", "model", "heard_as", "connectors", "lock", "tips", "dont", "manual_release"}
_LOCK_KEYS = {"relock_seconds", "port_lock_setting", "scheduled_charging"}
_RELEASE_KEYS = {"where", "steps", "when", "tool"}
_FACT_KEYS = {"is", "key", "source", "connectors", "note"}
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Source:
    url: str | None
    document: str | None
    section: str | None

    def __str__(self) -> str:
        where = self.url or self.document or "?"
        return f"{where} ({self.section})" if self.section else where


@dataclass(frozen=True)
class Fact:
    """One thing we know about a car, with what backs it."""

    value: object = None          # `is:`: a number, a name, a list of connectors
    key: str | None = None        # the prompt key that says it, if it is said
    sources: tuple[Source, ...] = ()
    connectors: tuple[str, ...] = ()   # only for these connectors; () = all
    line: int = 0

    def applies_to(self, connector: str | None) -> bool:
        return not self.connectors or connector is None or connector in self.connectors


@dataclass(frozen=True)
class Release:
    where: Fact
    steps: tuple[Fact, ...] = ()
    when: str | None = None
    tool: str | None = None
    line: int = 0

    @property
    def exists(self) -> bool:
        return self.where.value != "none"


@dataclass(frozen=True)
class Entry:
    id: str
    make: str
    model: str
    heard_as: tuple[str, ...]
    line: int
    connectors: Fact | None = None
    relock_seconds: Fact | None = None
    port_lock_setting: Fact | None = None
    scheduled_charging: Fact | None = None
    tips: tuple[Fact, ...] = ()
    dont: tuple[Fact, ...] = ()
    release: Release | None = None

    @property
    def name(self) -> str:
        """For records, whispers and reports: "Nissan Leaf"."""
        return f"{self.make} {self.model}"

    def facts(self) -> Iterable[tuple[str, Fact]]:
        for label in ("connectors", "relock_seconds", "port_lock_setting", "scheduled_charging"):
            if getattr(self, label) is not None:
                yield label, getattr(self, label)
        for i, fact in enumerate(self.tips):
            yield f"tips[{i}]", fact
        for i, fact in enumerate(self.dont):
            yield f"dont[{i}]", fact
        if self.release:
            yield "manual_release.where", self.release.where
            for i, fact in enumerate(self.release.steps):
                yield f"manual_release.steps[{i}]", fact

    def prompt_keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.key for _, f in self.facts() if f.key))


class _Unknown:
    """A car we have no entry for, or a name we could not place."""

    id = "unknown"
    name = "unknown"

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN = _Unknown()


MATCH_CACHE = 1024      # names remembered per loaded file (a call says a handful)


@dataclass(frozen=True)
class Vehicles:
    path: str
    entries: Mapping[str, Entry]
    common: Mapping[str, str]
    not_ours: tuple[str, ...]
    hand_first_seconds: int = 30
    lines: Mapping[str, int] = field(default_factory=dict)
    _names: tuple[tuple[str, str, str | None], ...] = ()  # (normalised name, compact form, entry id or None)
    keypad: Mapping[str, str] = field(default_factory=dict)   # digit -> entry id, or OTHER
    # What spoken names matched, per call of match(): the same answer is read by the reader,
    # the car question and the records, and a fuzzy match costs about a millisecond.
    _matched: dict[str, Entry | _Unknown] = field(default_factory=dict, compare=False, repr=False, init=False)

    def prompt_keys(self) -> frozenset[str]:
        """Every prompt key this file makes the bot say: lint counts them as used."""
        keys = set(self.common.values())
        for entry in self.entries.values():
            keys.update(entry.prompt_keys())
        return frozenset(keys)

    def __getitem__(self, entry_id: str) -> Entry:
        return self.entries[entry_id]


# ---------------------------------------------------------------------------------------
# Hearing a name

_NUMBERS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "forty": "40", "fifty": "50",
    "sixty": "60", "uno": "1", "una": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5",
    "seis": "6", "siete": "7", "ocho": "8", "nueve": "9",
}
_PHRASES = ((re.compile(r"\bone (?:hundred (?:and )?)?fifty\b"), "150"),
            (re.compile(r"\bciento cincuenta\b"), "150"),
            (re.compile(r"\bmodelo\b"), "model"))


def normalise(text: str) -> str:
    """Lower case, no accents or punctuation, letters and digits apart, numbers as digits:
    "Ioniq5" -> "ioniq 5", "I.D. four" -> "i d 4", "F-150" -> "f 150", "modelo tres" -> "model 3"."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("'", "").replace("\u2019", "")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    return " ".join(_NUMBERS.get(w, w) for w in text.split())


def _names(entries: Mapping[str, Entry], not_ours: Iterable[str]) -> tuple[tuple[str, str, str | None], ...]:
    names: list[tuple[str, str, str | None]] = []
    for entry in entries.values():
        for name in (*entry.heard_as, entry.name):
            n = normalise(name)
            names.append((n, n.replace(" ", ""), entry.id))
    for name in not_ours:
        n = normalise(name)
        names.append((n, n.replace(" ", ""), None))
    return tuple(dict.fromkeys(names))


def _closeness(words: list[str], name: str, compact: str) -> tuple[float, frozenset[int]]:
    """How close any run of the words heard is to `name` (0-100), and which words it took."""
    size = name.count(" ") + 1
    best, span = 0.0, frozenset[int]()
    for width in range(max(1, size - 1), size + 3):
        for start in range(0, max(1, len(words) - width + 1)):
            window = words[start:start + width]
            if not window:
                continue
            spaced = " ".join(window)
            if width < size:     # fewer words than the name: only the name run together ("mache")
                score = 100.0 if spaced.replace(" ", "") == compact else 0.0
            else:
                score = max(fuzz.ratio(spaced, name), fuzz.ratio(spaced.replace(" ", ""), compact))
            if score > best:
                best, span = score, frozenset(range(start, start + len(window)))
                if best == 100:
                    return best, span
    return best, span


def match(vehicles: Vehicles, spoken: str | None) -> Entry | _Unknown:
    """The entry a caller named, or UNKNOWN: never a guess.

    UNKNOWN when no name we know is close enough; when two entries are equally close; or
    when a car without an entry is closer, or as close and either says more than the
    entry's name ("Hyundai Ioniq 9" against "Hyundai Ioniq", "Chevy Volt" against "Chevy
    Bolt") or is as long. A make alone inside an entry's name ("Kia" in "Kia EV6") is not."""
    words = normalise(spoken or "").split()[:MAX_WORDS]
    if not words:
        return UNKNOWN
    key = " ".join(words)
    found = vehicles._matched.get(key)
    if found is None:
        if len(vehicles._matched) >= MATCH_CACHE:
            vehicles._matched.clear()
        found = vehicles._matched[key] = _match(vehicles, words)
    return found


def _match(vehicles: Vehicles, words: list[str]) -> Entry | _Unknown:
    ours: dict[str, tuple[float, int, frozenset[int]]] = {}
    others: list[tuple[float, int, frozenset[int]]] = []
    for name, compact, entry_id in vehicles._names:
        score, span = _closeness(words, name, compact)
        if score < (100 if len(compact) <= SHORT else THRESHOLD):
            continue
        if entry_id is None:
            others.append((score, len(compact), span))
        elif (score, len(compact)) > ours.get(entry_id, (0.0, 0))[:2]:
            ours[entry_id] = (score, len(compact), span)
    if not ours:
        return UNKNOWN
    ranked = sorted(ours.items(), key=lambda item: item[1][:2], reverse=True)
    entry_id, (score, length, span) = ranked[0]
    if len(ranked) > 1 and ranked[1][1][:2] == (score, length):
        return UNKNOWN           # two entries equally close
    for other_score, other_length, other_span in others:
        if other_score > score or (other_score == score and (not other_span <= span or other_length >= length)):
            return UNKNOWN       # a car without an entry is at least as close
    return vehicles.entries[entry_id]


def names_another_car(vehicles: Vehicles, spoken: str | None) -> bool:
    """Whether the words name a car we have no entry for (`not_ours`: "Chevy Volt", a make
    alone): at "What car is it?" that is an answer ("unknown"), not a mumble to ask again."""
    words = normalise(spoken or "").split()[:MAX_WORDS]
    return bool(words) and any(
        _closeness(words, name, compact)[0] >= (100 if len(compact) <= SHORT else THRESHOLD)
        for name, compact, entry_id in vehicles._names if entry_id is None)


def from_keys(vehicles: Vehicles, digit: str) -> Entry | _Unknown | None:
    """The car a key on the keypad list stands for; UNKNOWN for "other"; None for a key
    the list does not have (asked again)."""
    entry_id = vehicles.keypad.get(digit)
    if entry_id is None:
        return None
    return vehicles.entries.get(entry_id, UNKNOWN)


def answer_for(vehicles: Vehicles, entry: Entry | _Unknown, connector: str | None = None) -> str:
    """The car question's answer (ivr.call.flow.CAR_ANSWERS): `tips` to try before its
    release, else `release` (its manual release alone), `no_release` (a car without one:
    told so and offered a person), `unknown` (no notes: its owner's manual)."""
    if not isinstance(entry, Entry):
        return "unknown"
    if before_release(vehicles, entry, connector):
        return "tips"
    return "no_release" if has_no_release(entry) else "release"


def has_no_release(entry: Entry | _Unknown) -> bool:
    """A car whose maker gives no manual release (the Bolt): told so, and offered a person."""
    return isinstance(entry, Entry) and entry.release is not None and not entry.release.exists


def before_release(vehicles: Vehicles, entry: Entry | _Unknown, connector: str | None) -> tuple[str, ...]:
    """The tips to try first (settings, hand on the handle, unlock tips, don'ts): one
    "did it come out?" before the car's manual release is even mentioned."""
    release = set(release_part(vehicles, entry, connector, True))
    return tuple(k for k in tips_for(vehicles, entry, connector, True) if k not in release)


def release_part(vehicles: Vehicles, entry: Entry | _Unknown, connector: str | None,
                 charging_stopped: bool) -> tuple[str, ...]:
    """The car's manual release (where, its steps), or that it has none and the offer of a
    person; nothing until charging has stopped; the owner's manual for an unknown car."""
    if not isinstance(entry, Entry):
        return tips_for(vehicles, entry, connector, charging_stopped)
    release = entry.release
    if not charging_stopped or release is None or connector in STATION_SIDE:
        return ()
    keys = set(tips_for(vehicles, entry, connector, True)) - set(tips_for(vehicles, entry, connector, False))
    return tuple(k for k in tips_for(vehicles, entry, connector, True) if k in keys)


def label(vehicles: Vehicles, entry: Entry, said: str | None = None) -> str:
    """A short name for the call's URL, the records and the whisper, that reads back as
    the same entry: what the caller said ("Tesla Model Y") if it does, else the make and
    model ("Nissan Leaf"), the make ("Tesla"), or the make and first model."""
    first = f"{entry.make} {entry.model.split(',')[0].strip()}"
    for name in (said, entry.name, entry.make, first):
        if name and LABEL.fullmatch(name) and match(vehicles, name) is entry:
            return name
    return first[:40]


def record_of(vehicles: Vehicles | None, name: str | None) -> tuple[str, str | None] | None:
    """The (make, model) a call records for the car it carries: ("Nissan", "Leaf"); for a
    car without notes ("Polestar 2", "other"), ("unknown", the name heard or None); None
    while no car was named. Cheap on every turn: `match` remembers each name it read."""
    if not name:
        return None
    entry = match(vehicles, name) if vehicles is not None else UNKNOWN
    if not isinstance(entry, Entry):
        return (UNKNOWN.name, None if name == UNKNOWN.name else name)
    model = name[len(entry.make):].strip() if name.lower().startswith(entry.make.lower()) else ""
    return (entry.make, model or entry.model)


# ---------------------------------------------------------------------------------------
# What to say

def needs_hand_first(vehicles: Vehicles, entry: Entry, connector: str | None = None) -> bool:
    """A car that locks the plug again within seconds of an unlock: hand on the handle first."""
    fact = entry.relock_seconds
    return bool(fact and fact.applies_to(connector) and isinstance(fact.value, int)
                and fact.value <= vehicles.hand_first_seconds)


def tips_for(vehicles: Vehicles, entry: Entry | _Unknown, connector: str | None,
             charging_stopped: bool) -> tuple[str, ...]:
    """The prompt keys to say for this car, in the safe order: the settings that hold the plug
    (the charge-port lock, scheduled charging: once off, nothing locks it again), hand on the
    handle first (a short relock window), the unlock tips, the don'ts, then, only once
    charging has stopped, the manual release (where it is and its
    steps; for a car without one, that it has none and the offer of a person). A station-side
    lock (CHAdeMO) gets nothing: no car's tip frees it. An unknown car: the owner's manual."""
    if connector in STATION_SIDE:
        return ()
    if not isinstance(entry, Entry):
        return (vehicles.common["unknown"],)
    keys: list[str] = []
    for fact in (entry.port_lock_setting, entry.scheduled_charging):
        if fact and fact.key and fact.applies_to(connector):
            keys.append(fact.key)
    if needs_hand_first(vehicles, entry, connector):
        keys.append(vehicles.common["hand_first"])
    keys += [f.key for f in entry.tips if f.key and f.applies_to(connector)]
    keys += [f.key for f in entry.dont if f.key and f.applies_to(connector)]
    release = entry.release
    if charging_stopped and release is not None and release.where.applies_to(connector):
        if not release.exists:
            keys += [k for k in (release.where.key, vehicles.common["no_release_offer"]) if k]
        elif release.when == CHARGING_STOPPED or release.where.value == "see_owners_manual":
            keys.append(release.where.key or vehicles.common["release_see_manual"])
            keys += [f.key for f in release.steps if f.key and f.applies_to(connector)]
    return tuple(dict.fromkeys(k for k in keys if k))


def release_needs_tool(entry: Entry | _Unknown) -> str | None:
    """The tool a car's own manual release needs ("flat_screwdriver"), or None: the engine must
    not say "don't use tools" before such a release."""
    return entry.release.tool if isinstance(entry, Entry) and entry.release else None


# ---------------------------------------------------------------------------------------
# Loading

def parse(data: Any, path: str) -> Vehicles:
    if not isinstance(data, LineDict):
        raise SourceError(path, 1, "a vehicles file is a mapping with `sources`, `common` and `vehicles`")
    unknown = set(data) - {"sources", "common", "vehicles", "not_ours", "hand_first_seconds", "keypad"}
    if unknown:
        key = sorted(unknown)[0]
        raise SourceError(path, data.line_of(key), f"unknown key {key!r}")
    sources = _sources(data.get("sources") or _empty(), path)
    common = data.get("common")
    if not isinstance(common, LineDict) or not all(isinstance(v, str) for v in common.values()):
        raise SourceError(path, data.line_of("common"), "`common` must map uses to prompt keys")
    missing = [k for k in COMMON_KEYS if k not in common]
    if missing:
        raise SourceError(path, data.line_of("common"), f"common: missing {', '.join(missing)}")
    seconds = data.get("hand_first_seconds", 30)
    if not isinstance(seconds, int) or not 0 < seconds <= 120:
        raise SourceError(path, data.line_of("hand_first_seconds"), "hand_first_seconds: whole seconds, 1 to 120")
    raw = data.get("vehicles")
    if not isinstance(raw, list) or not raw:
        raise SourceError(path, data.line_of("vehicles"), "`vehicles` must list the cars")
    entries: dict[str, Entry] = {}
    for item in raw:
        entry = _entry(item, sources, path, data.line_of("vehicles"))
        if entry.id in entries:
            raise SourceError(path, entry.line, f"vehicle {entry.id!r} is listed twice")
        entries[entry.id] = entry
    not_ours = data.get("not_ours") or []
    if not isinstance(not_ours, list) or not all(isinstance(n, str) and n.strip() for n in not_ours):
        raise SourceError(path, data.line_of("not_ours"), "`not_ours` must list names of cars without an entry")
    keypad = data.get("keypad") or {}
    if not isinstance(keypad, dict) or not all(isinstance(v, str) for v in keypad.values()):
        raise SourceError(path, data.line_of("keypad"), "`keypad` maps keys (1 to 8) to vehicle ids, or `other`")
    return Vehicles(path, entries, dict(common), tuple(not_ours), seconds, dict(data.key_lines),
                    _names(entries, not_ours), keypad={str(k): v for k, v in keypad.items()})


def _empty() -> LineDict:
    empty = LineDict()
    empty.line, empty.key_lines = 0, {}
    return empty


def _sources(raw: Any, path: str) -> dict[str, Source]:
    if not isinstance(raw, LineDict):
        raise SourceError(path, None, "`sources` must map ids to {url or document, section}")
    return {str(k): _source(v, path, raw.line_of(k), f"sources.{k}") for k, v in raw.items()}


def _source(raw: Any, path: str, line: int, where: str) -> Source:
    if not isinstance(raw, LineDict):
        raise SourceError(path, line, f"{where}: a source is {{url: ..., section: ...}} or {{document: ..., section: ...}}")
    url, document, section = raw.get("url"), raw.get("document"), raw.get("section")
    if not ((isinstance(url, str) and url.startswith(("https://", "http://"))) or (isinstance(document, str) and document.strip())):
        raise SourceError(path, raw.line, f"{where}: needs a `url` (http or https) or a `document`")
    if not isinstance(section, str) or not section.strip():
        raise SourceError(path, raw.line, f"{where}: needs a `section` (where in it the fact is)")
    return Source(url if isinstance(url, str) else None, document if isinstance(document, str) else None, section)


def _fact(raw: Any, sources: Mapping[str, Source], path: str, line: int, where: str) -> Fact:
    if not isinstance(raw, LineDict):
        raise SourceError(path, line, f"{where}: a fact is a mapping with `source:` (and `is:` or `key:`)")
    extra = set(raw) - _FACT_KEYS
    if extra:
        raise SourceError(path, raw.line, f"{where}: unknown key {sorted(extra)[0]!r}")
    key = raw.get("key")
    if key is not None and (not isinstance(key, str) or not key.strip()):
        raise SourceError(path, raw.line, f"{where}: `key` must be a prompt key")
    refs = raw.get("source")
    refs = refs if isinstance(refs, list) else [] if refs is None else [refs]
    found = []
    for ref in refs:
        if isinstance(ref, str):
            if ref not in sources:
                raise SourceError(path, raw.line, f"{where}: source {ref!r} is not in `sources`")
            found.append(sources[ref])
        else:
            found.append(_source(ref, path, raw.line, f"{where}.source"))
    connectors = raw.get("connectors") or []
    if not isinstance(connectors, list):
        raise SourceError(path, raw.line, f"{where}: `connectors` must be a list")
    return Fact(raw.get("is"), key, tuple(found), tuple(str(c) for c in connectors), raw.line)


def _entry(raw: Any, sources: Mapping[str, Source], path: str, line: int) -> Entry:
    if not isinstance(raw, LineDict):
        raise SourceError(path, line, "each vehicle is a mapping with id, make, model, heard_as")
    extra = set(raw) - _ENTRY_KEYS
    if extra:
        raise SourceError(path, raw.line, f"unknown key {sorted(extra)[0]!r}")
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        raise SourceError(path, raw.line, "vehicle `id` must be lower_case_with_underscores")
    for key in ("make", "model"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise SourceError(path, raw.line_of(key), f"vehicle {entry_id!r}: `{key}` is required")
    heard = raw.get("heard_as")
    if not isinstance(heard, list) or not heard or not all(isinstance(h, str) and h.strip() for h in heard):
        raise SourceError(path, raw.line_of("heard_as"), f"vehicle {entry_id!r}: `heard_as` must list the names it is heard as")
    at = f"vehicle {entry_id!r}"

    def fact(value: Any, key_line: int, where: str) -> Fact:
        return _fact(value, sources, path, key_line, f"{at}: {where}")

    def maybe(value: Any, key_line: int, where: str) -> Fact | None:
        return None if value is None else fact(value, key_line, where)

    lock = raw.get("lock") or _empty()
    if not isinstance(lock, LineDict) or set(lock) - _LOCK_KEYS:
        raise SourceError(path, raw.line_of("lock"), f"{at}: `lock` holds {', '.join(sorted(_LOCK_KEYS))}")
    lists = {}
    for name in ("tips", "dont"):
        value = raw.get(name) or []
        if not isinstance(value, list):
            raise SourceError(path, raw.line_of(name), f"{at}: `{name}` must be a list of facts")
        lists[name] = tuple(fact(v, raw.line_of(name), f"{name}[{i}]") for i, v in enumerate(value))
    release = None
    if raw.get("manual_release") is not None:
        rel = raw["manual_release"]
        if not isinstance(rel, LineDict) or set(rel) - _RELEASE_KEYS or "where" not in rel:
            raise SourceError(path, raw.line_of("manual_release"),
                              f"{at}: `manual_release` holds where (required), steps, when, tool")
        steps = rel.get("steps") or []
        if not isinstance(steps, list):
            raise SourceError(path, rel.line_of("steps"), f"{at}: manual_release.steps must be a list of facts")
        release = Release(fact(rel["where"], rel.line_of("where"), "manual_release.where"),
                          tuple(fact(s, rel.line_of("steps"), f"manual_release.steps[{i}]") for i, s in enumerate(steps)),
                          rel.get("when"), rel.get("tool"), rel.line)
    return Entry(entry_id, raw["make"].strip(), raw["model"].strip(), tuple(heard), raw.line,
                 maybe(raw.get("connectors"), raw.line_of("connectors"), "connectors"),
                 maybe(lock.get("relock_seconds"), lock.line_of("relock_seconds"), "lock.relock_seconds"),
                 maybe(lock.get("port_lock_setting"), lock.line_of("port_lock_setting"), "lock.port_lock_setting"),
                 maybe(lock.get("scheduled_charging"), lock.line_of("scheduled_charging"), "lock.scheduled_charging"),
                 lists["tips"], lists["dont"], release)


# ---------------------------------------------------------------------------------------
# Checking (ivr lint)

def problems(vehicles: Vehicles, catalogs: Mapping[str, Any]) -> list[tuple[str, int, str]]:
    """(file, line, problem) for each rule the data breaks."""
    found: list[tuple[str, int, str]] = []
    path = vehicles.path

    def add(line: int, message: str) -> None:
        found.append((path, line, message))

    for use, key in vehicles.common.items():
        for language, catalog in sorted(catalogs.items()):
            if key not in catalog:
                add(vehicles.lines.get("common", 1), f"common.{use}: prompt {key!r} is missing in {language} ({catalog.path})")
    keypad_line = vehicles.lines.get("keypad", 1)
    for digit, entry_id in vehicles.keypad.items():
        if len(digit) != 1 or digit not in KEYPAD_DIGITS:
            add(keypad_line, f"keypad: {digit!r} is not a key the list may use ({', '.join(KEYPAD_DIGITS)}; "
                "0, 9, * and # answer every question)")
        if entry_id != OTHER and entry_id not in vehicles.entries:
            add(keypad_line, f"keypad: {digit}: no vehicle {entry_id!r} (or `{OTHER}`)")
    if vehicles.keypad and OTHER not in vehicles.keypad.values():
        add(keypad_line, f"keypad: the list needs a key for `{OTHER}`")
    for language, catalog in sorted(catalogs.items()):   # the list read out names every key
        if vehicles.keypad and "keys_car" in catalog:
            read = set(re.findall(r"\d", catalog.text("keys_car")))
            for digit in sorted(set(vehicles.keypad) - read):
                add(keypad_line, f"keypad: key {digit} is not read out in keys_car ({language}, {catalog.path})")
    for entry in vehicles.entries.values():
        at = f"vehicle {entry.id!r}"
        facts = list(entry.facts())
        if not facts:
            add(entry.line, f"{at}: no facts, so no sources: give it at least its connectors or its manual release")
        for label, fact in facts:
            if not fact.sources:
                add(fact.line or entry.line, f"{at}: {label} has no source")
            for connector in fact.connectors:
                if connector not in CONNECTORS:
                    add(fact.line or entry.line, f"{at}: {label}: {connector!r} is not a connector ({', '.join(CONNECTORS)})")
            if fact.key:
                for language, catalog in sorted(catalogs.items()):
                    if fact.key not in catalog:
                        add(fact.line or entry.line, f"{at}: {label}: prompt {fact.key!r} is missing in {language} ({catalog.path})")
        if entry.connectors is not None:
            value = entry.connectors.value
            if not isinstance(value, list) or not value:
                add(entry.connectors.line, f"{at}: connectors must list connector types")
            else:
                for connector in value:
                    if connector not in CONNECTORS:
                        add(entry.connectors.line, f"{at}: connectors: {connector!r} is not a connector ({', '.join(CONNECTORS)})")
        relock = entry.relock_seconds
        if relock is not None and (not isinstance(relock.value, int) or relock.value <= 0):
            add(relock.line, f"{at}: lock.relock_seconds: `is` must be whole seconds")
        release = entry.release
        if release is not None:
            if release.exists and release.where.value not in RELEASE_PLACES_WITHOUT_STEPS:
                if release.when != CHARGING_STOPPED:
                    add(release.line or entry.line, f"{at}: a manual release needs `when: {CHARGING_STOPPED}`: "
                        "it is offered only once charging has stopped")
                if not release.steps and not release.where.key:
                    add(release.line or entry.line, f"{at}: a manual release needs where it is, or its steps")
            elif release.steps:
                add(release.line or entry.line, f"{at}: manual_release.where is {release.where.value!r}, "
                    "so it has no steps to give")
            if not release.exists and not release.where.key:
                add(release.line or entry.line, f"{at}: a car without a manual release says so: give where.key")
    return found

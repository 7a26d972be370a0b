"""Read one spoken answer with a language's vocabulary (ivr.language.vocabulary).

The rules live here, once, for every language; the words come from data:

1. Normalise (lower case, accents folded, the language's `contractions`
   expanded), fix the recogniser's known spellings (`spellings`, `misheard`,
   `misheard_start`), and, for long unknown words only, a strict fuzzy match to
   the language's command and stuck words; release words are never fuzz targets.
2. Commands first: hazard (the fire tier) > damage > agent > emergency stop >
   roadside > ambiguous heat > wait > repeat > explain > back > help > another
   language. A hazard or damage phrase anywhere wins, and no negation cancels
   it. The hazard, damage and agent words of `also` (English) count in every
   language. A release said in the same breath as a wait ("hang on, it's
   out") is a release, never certain.
3. The answer to the question asked, with negation scope: a negated release
   ("no salió", "it won't come out") is stuck, a negated stuck state ("ya no
   está atascado", "not stuck anymore") is a release that is never certain, and
   `still_stuck` words ("sigue", "still") make it stuck whatever else is said.
4. A release is certain only when it is a completed release phrase, at a good
   Confidence, with no doubt word, no correction and little else said.
5. Alongside the intent (`read_all`): the car named (`cars`, the language's
   and `also`'s; the most specific name wins), which is never a connector, and
   whether an adapter is in use. At the connector question a connector named
   inside a car's name ("Tesla Model 3") does not count, and a connector named
   with the adapter ("a Tesla with a CCS adapter") is the station's plug.

A language chooses how far a negation reaches: across its `bridge` words only,
the negator taken with what it negates ("no se mueve"); or, when it lists
`clause_break` words, across any words up to one, the negator still heard as a
"no" ("no, I can't really get it out"). Such a language answers a yes/no
question with its yes and no words only: "still stuck" is no answer to "has the
charging stopped?".
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from ivr.basics.kinds import CONNECTORS
from ivr.language.vocabulary import Vocabulary, fold, is_pattern, words

#: Below this Confidence (or without one) a release is never certain.
RELEASE_CONFIDENCE = 0.6
FUZZY_WORDS = 40    # how far into an answer a garbled connector name is looked for
_REACH = 4          # how many words before a phrase a negator may stand
_KEY_WORDS = 10     # the most words a spoken key comes with ("i will press option number one please")


@dataclass(frozen=True)
class Reading:
    """What one utterance says: the intent, whether a release is certain, the car, the adapter."""

    intent: str
    certain: bool
    car: str | None = None
    adapter: bool = False


@dataclass
class _Answer:
    released: int = 0
    done: int = 0                # of which in a completed form ("came out", "salió")
    stuck: int = 0
    still: bool = False          # a stuck phrase that outweighs any release
    reversal: bool = False       # a negated or past stuck state read as released
    weak: bool = False           # only "got it"/"listo"-like signals
    yes: bool = False
    no: bool = False
    unsure: bool = False
    last: str = ""               # which kind came last: "released" / "stuck"
    rest: int = 0                # unexplained words


def read(vocab: Vocabulary, heard: str, confidence: float | None, expecting: str,
         also: Vocabulary | None = None) -> tuple[str, bool]:
    """(intent, certain) of one utterance (see `read_all`)."""
    got = read_all(vocab, heard, confidence, expecting, also)
    return got.intent, got.certain


def read_all(vocab: Vocabulary, heard: str, confidence: float | None, expecting: str,
             also: Vocabulary | None = None) -> Reading:
    """The Reading of one utterance. `heard` keeps its accents.

    A spoken key comes back as 'key:<key>' for the caller to map."""
    raw = tokens(vocab, heard)
    toks, corrected = _correct(vocab, raw)
    if not toks:
        return Reading("unclear", True)
    text = " ".join(toks)
    cars = [c for c in _cars(vocab, also, text) if _negated(vocab, toks, c[1], c[2]) is None]
    car = cars[0][0] if cars else None
    adapter = _adapter(vocab, toks, text)
    intent, certain = _intent(vocab, heard, raw, toks, text, corrected, confidence, expecting, also,
                              cars, adapter)
    if intent == "unclear" and car is not None and not _has(vocab, "unsure", text):
        intent, certain = "car", True       # a car named, and nothing else understood
    return Reading(intent, certain, car, adapter)


def _intent(vocab: Vocabulary, heard: str, raw: list[str], toks: list[str], text: str, corrected: bool,
            confidence: float | None, expecting: str, also: Vocabulary | None,
            cars: list[tuple[str, int, int]], adapter: bool) -> tuple[str, bool]:
    plain = not corrected and not (confidence is not None and confidence < RELEASE_CONFIDENCE)
    said = " ".join(raw)
    candidates = [_blank_for_hazard(vocab, said)]
    if text != said:
        candidates.append(_blank_for_hazard(vocab, text))
    english = _blank_for_hazard(also, said) if also is not None else None
    for tier in ("hazard", "damage"):
        if any(_has(vocab, tier, c) for c in candidates) or (also is not None and english is not None and _has(also, tier, english)):
            return tier, True
    text = _blank(vocab.rx("neutral"), text)
    command = _command(vocab, text, also)
    if command == "wait" and _release_with_wait(vocab, heard, text):
        return "released", False        # "hang on, it's out": a release, always confirmed
    if command is not None:
        return command, plain or command in _ALWAYS_CERTAIN
    key = _spoken_key(vocab, toks)
    if key is not None:
        return f"key:{key}", plain

    if expecting == "connector":
        found = _connector(vocab, toks, text, cars, adapter)
        if found is not None:
            return found[0], plain and found[1]
        if _sentence_scope(vocab):
            a = _read_answer(vocab, text)
            return ("connector_unsure", plain) if a.unsure and not a.released else ("unclear", True)
        if _has(vocab, "unsure", text):
            return "connector_unsure", plain
        return "unclear", True

    a = _read_answer(vocab, text)
    if expecting == "released":
        if a.stuck and (not a.released or a.last == "stuck" or a.still):
            return "still_stuck", True
        if (a.stuck and a.released) or (a.released and a.unsure):
            return "unclear", True
        if a.released:
            if a.rest > 4 and a.weak:
                return "unclear", True
            return "released", _certain(vocab, a, heard, toks, confidence, corrected)
        if _dont_know(a):
            return "dont_know", True
        if a.unsure or (a.yes and a.no):
            return "unclear", True
        if a.rest > (0 if a.yes and not a.no else 3):
            return "unclear", True      # a stray "yeah" in noise is not an answer
        if a.no:
            return "still_stuck", True
        if a.yes:
            return "released", False    # a bare yes: confirm before ending the call
        return "unclear", True

    if expecting == "yes_no":
        if _sentence_scope(vocab):      # yes and no words anywhere answer it
            a = _markers(vocab, " ".join(toks), _Answer(released=a.released, stuck=a.stuck))
        if _dont_know(a):
            return "dont_know", True
        if a.rest > 3 or (a.unsure and not (a.yes or a.no)):
            return "unclear", True
        if a.stuck and not a.released and (a.yes or not _sentence_scope(vocab)):
            # "yes, it's still stuck" to "is it out?": never a yes that could end the call;
            # "sigue atascado" to "¿ya está fuera?" is a no
            return ("unclear", True) if a.yes else ("no", plain)
        if a.yes and not a.no:
            return "yes", plain
        if a.no and not a.yes:
            return "no", plain
        if a.released and not a.stuck and not a.yes and not a.no:
            return "released", False    # "it came out!" to another question
        return "unclear", True

    # "any": no particular question -- a command (handled above) or any clear answer
    found = _connector(vocab, toks, text, cars, adapter)
    if found is not None and found[0] != "unclear":
        return found[0], plain and found[1]
    if a.stuck and not a.released:
        return "still_stuck", True
    if a.released and not a.stuck and not a.weak:
        return "released", False
    if a.rest > 3 or a.unsure:
        return "unclear", True
    if a.yes and not a.no:
        return "yes", plain
    if a.no and not a.yes:
        return "no", plain
    return "unclear", True


#: Commands acted on whatever the Confidence (the others are certain only when plain).
_ALWAYS_CERTAIN = ("agent", "emergency_stop", "roadside", "hot_unsure")


def _dont_know(a: _Answer) -> bool:
    """'I don't know' and nothing else: no yes, no no, no release or stuck state."""
    return a.unsure and not (a.yes or a.no or a.released or a.stuck) and a.rest <= 5


def _sentence_scope(vocab: Vocabulary) -> bool:
    """Does a negation reach across any words to a clause break (see the module doc)?"""
    return bool(vocab.words_of("clause_break"))


# --- normalising and correcting --------------------------------------------------------

def tokens(vocab: Vocabulary, heard: str) -> list[str]:
    """The words of an utterance: lower case, accents folded, contractions expanded."""
    if not vocab.contractions:
        return fold(heard).split()
    text = unicodedata.normalize("NFKD", heard.lower())
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("_", " ")
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)   # j1772 -> j 1772
    out: list[str] = []
    for tok in text.split():
        tok = tok.strip("'")
        if not tok:
            continue
        if tok in vocab.contractions:
            out.extend(vocab.contractions[tok].split())
            continue
        for suffix, words_meant in _suffix_rules(vocab):
            if tok.endswith(suffix):
                out.extend(words_meant.replace("*", tok[:-len(suffix)].split("'")[0]).split())
                break
        else:
            out.append(tok.replace("'", ""))
    return out


@lru_cache(maxsize=64)
def _suffix_rules(vocab: Vocabulary) -> tuple[tuple[str, str], ...]:
    """'*n't': '* not' -- a contraction rule for any word ending so."""
    return tuple((k[1:], v) for k, v in vocab.contractions.items() if k.startswith("*"))


@lru_cache(maxsize=64)
def _spellings_rx(vocab: Vocabulary) -> re.Pattern[str] | None:
    if not vocab.spellings:
        return None
    alternatives = sorted(vocab.spellings, key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, alternatives)) + r")(?![a-z0-9])")


@lru_cache(maxsize=64)
def _start_rules(vocab: Vocabulary) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(k[1:-1] if is_pattern(k) else re.escape(k) + r"(?![a-z0-9])"), v)
                 for k, v in vocab.misheard_start.items())


def _correct(vocab: Vocabulary, toks: list[str]) -> tuple[list[str], bool]:
    """Apply the language's spellings and mishearing fixes, strict fuzzy corrections;
    drop fillers."""
    corrected = False
    spellings = _spellings_rx(vocab)
    if spellings is not None:
        toks = spellings.sub(lambda m: vocab.spellings[m.group(0)], " ".join(toks)).split()
    out: list[str] = []
    for tok in toks:
        fixed = vocab.misheard.get(tok)
        if fixed is None:
            fixed = _fuzzy(vocab, tok)
        if fixed is not None and fixed != tok:
            corrected = True
            out.extend(fixed.split())
        else:
            out.append(tok)
    kept = [t for t in _blank(vocab.rx("fillers"), " ".join(out)).split() if t != "_"]
    if vocab.misheard_start:
        kept, changed = _fix_start(vocab, kept)
        corrected |= changed
    leading = vocab.words_of("leading_fillers")
    if leading and kept and kept[0] in leading:
        first = next((i for i, t in enumerate(kept) if t not in leading), len(kept))
        kept = kept[first:]
        kept, changed = _fix_start(vocab, kept)
        corrected |= changed
    return kept, corrected


def _fix_start(vocab: Vocabulary, kept: list[str]) -> tuple[list[str], bool]:
    text = " ".join(kept)
    for rx, meant in _start_rules(vocab):
        m = rx.match(text)
        if m:
            return (meant + text[m.end():]).split(), True
    return kept, False


@lru_cache(maxsize=64)
def _fuzz_targets(vocab: Vocabulary) -> tuple[tuple[str, ...], frozenset[str]]:
    """Long words worth correcting to, and every word the vocabulary knows."""
    released = vocab.words_of("released") | vocab.words_of("released_weak")
    long_words: set[str] = set()
    for name in ("agent", "wait", "repeat", "stuck", "still_stuck"):
        long_words |= {w for w in vocab.words_of(name) if len(w) >= 6}
    long_words |= {w for w in vocab.words_of("hazard") if len(w) >= 8}
    for phrases in vocab.connectors.values():
        long_words |= {w for p in phrases if not is_pattern(p) for w in fold(p).split() if len(w) >= 6 and w.isalpha()}
    targets = tuple(sorted(long_words - released))
    if vocab.phrases.get("fuzz_targets"):
        targets = tuple(dict.fromkeys(fold(p) for p in vocab.phrases["fuzz_targets"]))
    known = set(vocab.words) | set(vocab.misheard) | set(vocab.misheard.values())
    known |= set(vocab.spellings) | {w for v in vocab.spellings.values() for w in v.split()}
    known |= {w for ps in (*vocab.connectors.values(), *vocab.languages.values()) for p in ps for w in words(p)}
    known |= {w for k in vocab.folded_keys for w in k.split()}
    known |= {w for ps in vocab.cars.values() for p in ps for w in words(p)}
    return targets, frozenset(known)


def _fuzzy(vocab: Vocabulary, tok: str) -> str | None:
    if len(tok) < 5 or not tok.isalpha():
        return None
    return _fuzzy_word(vocab, tok)


@lru_cache(maxsize=8192)
def _fuzzy_word(vocab: Vocabulary, tok: str) -> str | None:
    targets, known = _fuzz_targets(vocab)
    if tok in known:
        return None
    cutoff = 88 if len(tok) <= 6 else 85
    best = process.extractOne(tok, targets, scorer=fuzz.ratio, score_cutoff=cutoff)
    return best[0] if best else None


# --- matching --------------------------------------------------------------------------

def _has(vocab: Vocabulary, name: str, text: str) -> bool:
    rx = vocab.rx(name)
    return rx is not None and rx.search(text) is not None


def _spans(vocab: Vocabulary, name: str, text: str) -> list[tuple[int, int]]:
    """Word spans of a category's matches, matcher after matcher (see vocabulary.matchers)."""
    out = []
    for rx in vocab.rx_sequence(name):
        at, words_before = 0, 0         # counted as the matches go: linear, not per match
        for m in rx.finditer(text):
            words_before += text.count(" ", at, m.start())
            at = m.start()
            out.append((words_before, words_before + m.group(0).count(" ") + 1))
    return out


def _blank(rx: re.Pattern[str] | None, text: str) -> str:
    """Remove matches, keeping word positions (each matched word becomes '_')."""
    if rx is None:
        return text
    return rx.sub(lambda m: " ".join("_" for _ in m.group(0).split()), text)


def _alone(vocab: Vocabulary, name: str, text: str) -> bool:
    rx = vocab.rx(name)
    return rx is not None and rx.fullmatch(text) is not None


def _command(vocab: Vocabulary, text: str, also: Vocabulary | None) -> str | None:
    if _has(vocab, "agent", text) or (also is not None and _has(also, "agent", text)):
        return "agent"
    if _has(vocab, "agent_weak", text) and (_has(vocab, "agent_request", text) or len(text.split()) <= 3):
        return "agent"
    for name in ("emergency_stop", "roadside", "hot_unsure"):
        if _has(vocab, name, text):
            return name
    if _has(vocab, "wait", text):
        return "wait"
    if _has(vocab, "repeat", text) or _alone(vocab, "repeat_alone", text):
        return "repeat"
    if _has(vocab, "explain", text):
        return "explain"
    if _has(vocab, "back", text) or _alone(vocab, "back_alone", text):
        return "back"
    negated = _has(vocab, "help_negated", text)
    if (_has(vocab, "help", text) and not negated) or (negated and _has(vocab, "help_anyway", text)):
        return "help"
    for tag in vocab.languages:
        if tag != vocab.language and _has(vocab, f"language_{tag}", text):
            return f"language_{tag}"
    return None


def _spoken_key(vocab: Vocabulary, toks: list[str]) -> str | None:
    """The key of "press one", "oprima el uno": prefixes and suffixes dropped."""
    if len(toks) > _KEY_WORDS:
        return None                     # not a spoken key (and no loop over a long input)
    spoken = " ".join(toks)
    for name, at_start in (("key_prefix", True), ("key_suffix", False)):
        rx = vocab.rx(name)
        while rx is not None and spoken:
            m = next((m for m in rx.finditer(spoken) if (m.start() == 0 if at_start else m.end() == len(spoken))), None)
            if m is None or m.end() - m.start() == len(spoken):
                break
            spoken = (spoken[m.end():] if at_start else spoken[:m.start()]).strip()
    if spoken.isdigit() and len(spoken) == 1:
        return spoken
    return vocab.folded_keys.get(spoken)


def _negated(vocab: Vocabulary, toks: list[str], start: int, end: int) -> int | None:
    """Where the negator of toks[start:end] is, if one stands inside it or before it."""
    negators, bridge = vocab.words_of("negators"), vocab.words_of("bridge")
    for j in range(start, end):
        if toks[j] in negators:
            return j
    sentence, breaks = _sentence_scope(vocab), vocab.words_of("clause_break")
    answers = vocab.words_of("answer_negators")
    for j in range(start - 1, max(-1, start - 1 - _REACH), -1):
        t = toks[j]
        if t in breaks:
            return None
        if t in negators:
            # a leading "no" is an answer, not a negator, unless right before ("no movement")
            if t in answers and not all(x in bridge for x in toks[j + 1:start]):
                continue
            return j
        if not sentence and t not in bridge:
            return None
    return None


def _connector(vocab: Vocabulary, toks: list[str], text: str,
               cars: Sequence[tuple[str, int, int]] = (), adapter: bool = False) -> tuple[str, bool] | None:
    """(connector intent, not guessed) -- negated names ("not a tesla") are dropped, and so
    are names inside a car's name ("tesla model 3"); with an adapter, the name said with
    it ("a ccs adapter", "adaptador de ccs") is the station's plug."""
    words_ = text.split()
    inside: set[int] = set()
    # reach[p]: the furthest end of a car's name starting at or before word p; before[p]: before it
    reach, before = [0] * (len(words_) + 1), [0] * (len(words_) + 1)
    for _car, cs, ce in cars:
        inside.update(range(cs, ce))
        reach[cs] = max(reach[cs], ce)
    for p in range(1, len(reach)):
        before[p] = max(before[p - 1], reach[p - 1])
        reach[p] = max(reach[p], before[p])
    mentions: list[tuple[str, int, int]] = []
    for name in CONNECTORS:
        for s, e in _spans(vocab, f"connector_{name}", text):
            if _negated(vocab, toks, s, e) is not None:
                continue
            if reach[s] > e or before[s] >= e:
                continue        # inside a longer car's name ("tesla model 3"): never a connector
            mentions.append((f"connector_{name}", s, e))
    found = {m[0] for m in mentions}
    if len(found) > 1 and adapter:
        near = _with_adapter(vocab, words_, mentions)
        if near is not None:
            return near, True
    if len(found) == 1:
        return found.pop(), True
    if len(found) > 1:
        return "unclear", False
    # One garbled long name ("chade mo", "shademo"), looked for in the first words only:
    # an answer naming its plug is short, and a long one must not cost a fuzzy match per word.
    first_words = toks[:FUZZY_WORDS]
    for garbled, target in _connector_names(vocab):
        for n in (1, 2, 3):
            for i in range(len(first_words) - n + 1):
                if inside and inside.intersection(range(i, i + n)):
                    continue
                joined = "".join(first_words[i:i + n])
                if len(joined) >= 5 and fuzz.ratio(joined, target) >= 80:
                    return f"connector_{garbled}", False
    return None


def _with_adapter(vocab: Vocabulary, words_: list[str], mentions: list[tuple[str, int, int]]) -> str | None:
    """The one connector named right with an adapter (at most two words apart), or None."""
    best: dict[str, int] = {}
    ending: dict[int, list[str]] = {}
    starting: dict[int, list[str]] = {}
    for name, ms, me in mentions:
        ending.setdefault(me, []).append(name)
        starting.setdefault(ms, []).append(name)
    for _s, e in _spans(vocab, "adapter", " ".join(words_)):
        at = e - 1                      # the adapter itself: a phrase may start with its verb
        for gap in range(3):            # "ccs adapter", "adaptador de ccs": at most two words apart
            for name in ending.get(at - gap, []) + starting.get(at + 1 + gap, []):
                best[name] = min(gap, best.get(name, gap))
    if not best:
        return None
    closest = min(best.values())
    winners = [n for n, g in best.items() if g == closest]
    return winners[0] if len(winners) == 1 else None


def _adapter(vocab: Vocabulary, toks: list[str], text: str) -> bool:
    """Is an adapter in use? An adapter named and not negated ("no adapter", "sin adaptador")."""
    return any(_negated(vocab, toks, s, e) is None for s, e in _spans(vocab, "adapter", text))


def _cars(vocab: Vocabulary, also: Vocabulary | None, text: str) -> list[tuple[str, int, int]]:
    """(display name, start, end) of each car named, the longest first: the first is the car.

    The language's own names, then `also`'s (English's list counts in every language)."""
    found: list[tuple[str, int, int]] = []
    for v in (vocab, also) if also is not None else (vocab,):
        if not v.cars or not _has(v, "cars", text):
            continue
        for name in v.cars:
            for s, e in _spans(v, f"car:{name}", text):
                found.append((name, s, e))
    found.sort(key=lambda c: c[1] - c[2])       # stable: longest first, then as listed
    return found


def _blank_for_hazard(vocab: Vocabulary, text: str) -> str:
    """The text a hazard or damage phrase is looked for in: without the phrases that hold a
    hazard word but are not one ('neutral': 'emergency release'; 'emergency_stop')."""
    return _blank(vocab.rx("emergency_stop"), _blank(vocab.rx("neutral"), text))


def _release_with_wait(vocab: Vocabulary, heard: str, text: str) -> bool:
    """'Wait, yes! it came out': a completed release, and no doubt, besides the wait."""
    rest = _blank(vocab.rx("wait"), text)
    a = _read_answer(vocab, rest)
    if not a.released or not a.done or a.stuck or a.unsure or a.no or a.reversal or a.weak:
        return False
    doubt = vocab.words_of("doubt") - vocab.words_of("negators")
    if any(t in doubt for t in rest.split()):
        return False
    return not vocab.words_of("doubt_written").intersection(heard.lower().split())


@lru_cache(maxsize=64)
def _connector_names(vocab: Vocabulary) -> tuple[tuple[str, str], ...]:
    """(connector, name) for the long one-word names worth a fuzzy look ("chademo")."""
    out = []
    for name in CONNECTORS:
        for phrase in vocab.connectors.get(name, ()):
            target = "" if is_pattern(phrase) else fold(phrase).replace(" ", "")
            if len(target) >= 6 and target.isalpha():
                out.append((name, target))
    return tuple(out)


def _read_answer(vocab: Vocabulary, text: str) -> _Answer:
    a = _Answer()
    if _has(vocab, "past_stuck", text):
        a.reversal = True        # "it was stuck but..." -- never certain
        text = _blank(vocab.rx("past_stuck"), text)
    toks = text.split()
    taken: set[int] = set()
    positions: list[tuple[int, str]] = []
    sentence = _sentence_scope(vocab)
    done_words = vocab.words_of("done")
    negators = vocab.words_of("negators")

    def take(s: int, e: int, negator: int | None) -> None:
        taken.update(range(s, e))
        if negator is not None and not sentence:
            taken.update(range(min(negator, s), e))

    def signal(pos: int, kind: str) -> None:
        positions.append((pos, kind))
        if kind == "released":
            a.released += 1
        else:
            a.stuck += 1

    for s, e in _spans(vocab, "still_stuck", text):
        if not taken.intersection(range(s, e)):
            take(s, e, None)
            a.still = True
            signal(s, "stuck")
    for s, e in _spans(vocab, "released", text):
        if taken.intersection(range(s, e)):
            continue
        neg = _negated(vocab, toks, s, e)
        take(s, e, neg)
        if neg is not None:
            signal(s, "stuck")
        else:
            signal(s, "released")
            a.done += bool(done_words.intersection(toks[s:e])) if done_words else 1
    for s, e in _spans(vocab, "stuck", text):
        if taken.intersection(range(s, e)):
            continue
        neg = _negated(vocab, toks, s, e)
        take(s, e, neg)
        if neg is not None:
            a.reversal = True
            signal(s, "released")
        else:
            signal(s, "stuck")
    for s, e in _spans(vocab, "stuck_only", text):
        if not taken.intersection(range(s, e)):
            take(s, e, None)
            signal(s, "stuck")
    for s, e in _spans(vocab, "motion", text):
        if taken.intersection(range(s, e)):
            continue
        neg = _negated(vocab, toks, s, e)
        if neg is not None:
            take(s, e, neg)
            if sentence:        # the negators before it are explained too
                taken.update(j for j in range(max(0, s - _REACH), s) if toks[j] in negators)
            signal(s, "stuck")
    if not a.released:
        for s, e in _spans(vocab, "released_weak", text):
            if not taken.intersection(range(s, e)) and _negated(vocab, toks, s, e) is None:
                take(s, e, None)
                a.weak = True
                signal(s, "released")
    if positions:
        a.last = max(positions)[1]
    rest = " ".join("_" if i in taken else t for i, t in enumerate(toks))
    return _markers(vocab, rest, a)


def _markers(vocab: Vocabulary, text: str, a: _Answer) -> _Answer:
    """Yes / no / unsure words in `text` (what the content signals left over)."""
    if _has(vocab, "yes_with_no", text):
        a.yes = True
        text = _blank(vocab.rx("yes_with_no"), text)
    for name in ("unsure", "no", "yes"):
        if _has(vocab, name, text):
            setattr(a, name, True)
            text = _blank(vocab.rx(name), text)
    a.rest = sum(1 for t in text.split() if t != "_" and t not in _explained(vocab))
    return a


@lru_cache(maxsize=64)
def _explained(vocab: Vocabulary) -> frozenset[str]:
    """Words that are neither noise nor content (a negator too, where it is consumed)."""
    known = vocab.words_of("common") | vocab.words_of("fillers") | vocab.words_of("bridge")
    return known if _sentence_scope(vocab) else known | vocab.words_of("negators")


def _certain(vocab: Vocabulary, a: _Answer, heard: str, toks: list[str],
             confidence: float | None, corrected: bool) -> bool:
    if confidence is None or confidence < RELEASE_CONFIDENCE:
        return False
    if corrected or a.reversal or a.weak or a.stuck or a.no or a.unsure or not a.done or a.rest > 2:
        return False
    doubt = vocab.words_of("doubt")
    if not _sentence_scope(vocab):
        doubt = doubt | vocab.words_of("negators")
    if any(t in doubt for t in toks):
        return False
    # as written: Spanish "si" without its accent is also "if" ("si salió...")
    return not vocab.words_of("doubt_written").intersection(heard.lower().split())

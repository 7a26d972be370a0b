"""Read one spoken answer with a language's vocabulary (ivr.vocabulary).

The same rules as the English reader, with the words taken from data:

1. Normalise (lower case, accents folded), fix the recogniser's known spellings
   (`misheard`), and, for long unknown words only, a strict fuzzy match to the
   language's command and stuck words; release words are never fuzz targets.
2. Commands first: hazard > agent > wait > repeat > back > help > another
   language. A hazard phrase anywhere wins, and no negation cancels it. The
   English hazard and agent words count in every language.
3. The answer to the question asked, with negation scope: a negated release
   ("no salió") is stuck, a negated stuck state ("ya no está atascado") is a
   release that is never certain, "sigue"/"todavía" make it stuck whatever else.
4. A release is certain only when it is a completed release phrase, at a good
   Confidence, with no doubt word, no correction and little else said.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from .vocabulary import CONNECTORS, Vocabulary, fold

#: Below this Confidence (or without one) a release is never certain (as in English).
RELEASE_CONFIDENCE = 0.6
_COMMANDS = ("agent", "wait", "repeat", "back", "help")


@dataclass
class _Answer:
    released: int = 0
    done: int = 0
    stuck: int = 0
    still: bool = False          # a stuck phrase with no other reading
    reversal: bool = False       # a negated stuck state read as released
    weak: bool = False
    yes: bool = False
    no: bool = False
    unsure: bool = False
    last: str = ""
    rest: int = 0


def read(vocab: Vocabulary, heard: str, confidence: float | None, expecting: str,
         english_hazard=None, english_agent=None) -> tuple[str, bool]:
    """(intent, certain) of one utterance. `heard` keeps its accents."""
    raw = fold(heard).split()
    tokens, corrected = _correct(vocab, raw)
    text = " ".join(tokens)
    plain = not corrected and not (confidence is not None and confidence < RELEASE_CONFIDENCE)
    if not tokens:
        return "unclear", True
    for candidate in (" ".join(raw), text):
        if _has(vocab, "hazard", _blank(vocab.rx("neutral"), candidate)):
            return "hazard", True
    if english_hazard is not None and english_hazard(raw):
        return "hazard", True
    text = _blank(vocab.rx("neutral"), text)
    command = _command(vocab, text, english_agent)
    if command is not None:
        return command, plain or command == "agent"
    key = _spoken_key(vocab, tokens)
    if key is not None:
        return f"key:{key}", plain    # a spoken key: ivr.understanding maps it

    if expecting == "connector":
        found = _connector(vocab, tokens, text)
        if found is not None:
            return found
        if _has(vocab, "unsure", text):
            return "connector_unsure", plain
        return "unclear", True

    a = _read_answer(vocab, text)
    if expecting == "released":
        if a.stuck and (not a.released or a.last == "stuck" or a.still):
            return "still_stuck", True
        if a.stuck and a.released or a.released and a.unsure:
            return "unclear", True
        if a.released:
            if a.rest > 4 and a.weak:
                return "unclear", True
            return "released", _certain(vocab, a, heard, tokens, confidence, corrected)
        if a.unsure or (a.yes and a.no):
            return "unclear", True
        if a.rest > (0 if a.yes and not a.no else 3):
            return "unclear", True
        if a.no:
            return "still_stuck", True
        if a.yes:
            return "released", False
        return "unclear", True

    if expecting == "yes_no":
        if a.rest > 3 or a.unsure and not (a.yes or a.no):
            return "unclear", True
        if a.stuck and not a.released:
            # "sigue atascado" to "¿ya está fuera?" is a no; with a "sí" it is a contradiction
            return ("unclear", True) if a.yes else ("no", plain)
        if a.yes and not a.no:
            return "yes", plain
        if a.no and not a.yes:
            return "no", plain
        if a.released and not a.stuck and not a.yes and not a.no:
            return "released", False
        return "unclear", True

    found = _connector(vocab, tokens, text)
    if found is not None and found[0] != "unclear":
        return found
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


# --- correcting ------------------------------------------------------------------------

def _correct(vocab: Vocabulary, tokens: list[str]) -> tuple[list[str], bool]:
    corrected = False
    out: list[str] = []
    for tok in tokens:
        fixed = vocab.misheard.get(tok)
        if fixed is None:
            fixed = _fuzzy(vocab, tok)
        if fixed is not None and fixed != tok:
            corrected = True
            out.extend(fixed.split())
        else:
            out.append(tok)
    kept = _blank(vocab.rx("fillers"), " ".join(out)).split()
    return [t for t in kept if t != "_"], corrected


@lru_cache(maxsize=64)
def _fuzz_targets(vocab: Vocabulary) -> tuple[tuple[str, ...], frozenset[str]]:
    """Long words worth correcting to, and every word the vocabulary knows."""
    targets = set()
    for name in ("agent", "wait", "repeat", "stuck", "still_stuck"):
        targets |= {w for w in vocab.words_of(name) if len(w) >= 6}
    targets |= {w for w in vocab.words_of("hazard") if len(w) >= 8}
    for phrases in vocab.connectors.values():
        targets |= {w for p in phrases for w in fold(p).split() if len(w) >= 6 and w.isalpha()}
    known = set(vocab.words) | set(vocab.misheard) | set(vocab.misheard.values())
    known |= {w for ps in (*vocab.connectors.values(), *vocab.languages.values()) for p in ps for w in fold(p).split()}
    known |= {w for k in vocab.folded_keys for w in k.split()}
    released = vocab.words_of("released") | vocab.words_of("released_weak")
    return tuple(sorted(targets - released)), frozenset(known)


def _fuzzy(vocab: Vocabulary, tok: str) -> str | None:
    targets, known = _fuzz_targets(vocab)
    if len(tok) < 5 or tok in known or not tok.isalpha():
        return None
    cutoff = 88 if len(tok) <= 6 else 85
    best = process.extractOne(tok, targets, scorer=fuzz.ratio, score_cutoff=cutoff)
    return best[0] if best else None


# --- matching --------------------------------------------------------------------------

def _has(vocab: Vocabulary, name: str, text: str) -> bool:
    rx = vocab.rx(name)
    return rx is not None and rx.search(text) is not None


def _spans(rx, text: str) -> list[tuple[int, int]]:
    if rx is None:
        return []
    out = []
    for m in rx.finditer(text):
        start = text.count(" ", 0, m.start())
        out.append((start, start + m.group(0).count(" ") + 1))
    return out


def _blank(rx, text: str) -> str:
    if rx is None:
        return text
    return rx.sub(lambda m: " ".join("_" for _ in m.group(0).split()), text)


def _command(vocab: Vocabulary, text: str, english_agent) -> str | None:
    if _has(vocab, "agent", text) or (english_agent is not None and english_agent(text)):
        return "agent"
    if _has(vocab, "agent_weak", text) and (_has(vocab, "agent_request", text) or len(text.split()) <= 3):
        return "agent"
    if _has(vocab, "wait", text):
        return "wait"
    alone = vocab.rx("repeat_alone")
    if _has(vocab, "repeat", text) or (alone is not None and alone.fullmatch(text)):
        return "repeat"
    if _has(vocab, "back", text):
        return "back"
    if _has(vocab, "help", text):
        return "help"
    for tag in vocab.languages:
        if tag != vocab.language and _has(vocab, f"language_{tag}", text):
            return f"language_{tag}"
    return None


def _spoken_key(vocab: Vocabulary, tokens: list[str]) -> str | None:
    prefixes = vocab.words_of("key_prefix")
    rest = list(tokens)
    while rest and rest[0] in prefixes:
        rest.pop(0)
    spoken = " ".join(rest)
    if spoken.isdigit() and len(spoken) == 1:
        return spoken
    return vocab.folded_keys.get(spoken)


def _negated(vocab: Vocabulary, toks: list[str], start: int, end: int) -> int | None:
    """Where the negator of toks[start:end] is, if one stands just before it."""
    negators, bridge = vocab.words_of("negators"), vocab.words_of("bridge")
    for j in range(start, end):
        if toks[j] in negators:
            return j
    for j in range(start - 1, max(-1, start - 5), -1):
        if toks[j] in negators:
            return j
        if toks[j] not in bridge:
            return None
    return None


def _connector(vocab: Vocabulary, tokens: list[str], text: str) -> tuple[str, bool] | None:
    found: set[str] = set()
    for name in CONNECTORS:
        for s, e in _spans(vocab.rx(f"connector_{name}"), text):
            if _negated(vocab, tokens, s, e) is None:
                found.add(f"connector_{name}")
    if len(found) == 1:
        return found.pop(), True
    if len(found) > 1:
        return "unclear", True
    for name in CONNECTORS:        # one garbled long name: "chademo" as "chade mo", "shademo"
        for phrase in vocab.connectors.get(name, ()):
            target = fold(phrase).replace(" ", "")
            if len(target) < 6 or not target.isalpha():
                continue
            for n in (1, 2, 3):
                for i in range(len(tokens) - n + 1):
                    joined = "".join(tokens[i:i + n])
                    if len(joined) >= 5 and fuzz.ratio(joined, target) >= 80:
                        return f"connector_{name}", False
    return None


def _read_answer(vocab: Vocabulary, text: str) -> _Answer:
    a = _Answer()
    toks = text.split()
    taken: set[int] = set()
    positions: list[tuple[int, str]] = []

    def take(s: int, e: int, negator: int | None) -> None:
        taken.update(range(s, e))
        if negator is not None:
            taken.update(range(min(negator, s), e))

    def signal(pos: int, kind: str) -> None:
        positions.append((pos, kind))
        if kind == "released":
            a.released += 1
        else:
            a.stuck += 1

    for s, e in _spans(vocab.rx("still_stuck"), text):
        if not taken.intersection(range(s, e)):
            take(s, e, None)
            a.still = True
            signal(s, "stuck")
    for s, e in _spans(vocab.rx("released"), text):
        if taken.intersection(range(s, e)):
            continue
        neg = _negated(vocab, toks, s, e)
        take(s, e, neg)
        if neg is not None:
            signal(s, "stuck")
        else:
            signal(s, "released")
            a.done += 1
    for s, e in _spans(vocab.rx("stuck"), text):
        if taken.intersection(range(s, e)):
            continue
        neg = _negated(vocab, toks, s, e)
        take(s, e, neg)
        if neg is not None:
            a.reversal = True
            signal(s, "released")
        else:
            signal(s, "stuck")
    for s, e in _spans(vocab.rx("motion"), text):
        if taken.intersection(range(s, e)):
            continue
        neg = _negated(vocab, toks, s, e)
        if neg is not None:
            take(s, e, neg)
            signal(s, "stuck")
    if not a.released:
        for s, e in _spans(vocab.rx("released_weak"), text):
            if not taken.intersection(range(s, e)) and _negated(vocab, toks, s, e) is None:
                take(s, e, None)
                a.weak = True
                signal(s, "released")
    if positions:
        a.last = max(positions)[1]
    rest = " ".join("_" if i in taken else t for i, t in enumerate(toks))
    return _markers(vocab, rest, a)


def _markers(vocab: Vocabulary, text: str, a: _Answer) -> _Answer:
    for name in ("unsure", "no", "yes"):
        if _has(vocab, name, text):
            setattr(a, name, True)
            text = _blank(vocab.rx(name), text)
    known = vocab.words_of("common") | vocab.words_of("bridge") | vocab.words_of("negators")
    a.rest = sum(1 for t in text.split() if t != "_" and t not in known)
    return a


def _certain(vocab: Vocabulary, a: _Answer, heard: str, tokens: list[str],
             confidence: float | None, corrected: bool) -> bool:
    if confidence is None or confidence < RELEASE_CONFIDENCE:
        return False
    if corrected or a.reversal or a.weak or a.stuck or a.no or a.unsure or not a.done or a.rest > 2:
        return False
    doubt = vocab.words_of("doubt") | vocab.words_of("negators")
    if any(t in doubt for t in tokens):
        return False
    # "si" without its accent is also "if" ("si salió..."); only "sí" is a plain yes.
    return "si" not in heard.lower().split()

"""ivr.understanding: accuracy on labelled sets, zero dangerous errors, and the rules.

The labelled sets are scored as a whole (>= 97% overall, 100% hazard, damage and agent)
and the dangerous rows are asserted one by one: a still-stuck answer must never come out
as released, a hazard, damage, ambiguous heat or an agent request must never be missed.
The held-out phrasings of issue 11 (tests/data/heldout_en.tsv) are scored the same way;
tests/test_understanding_issue11.py has the new intents one by one.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.understanding import dev_label, expecting_for, load_labelled, read_rows
from ivr.call.understanding import EXPECTATIONS, INTENTS, RELEASE_CONFIDENCE, Understanding, hints, is_intent, understand

DATA = Path(__file__).parent / "data"
OURS = DATA / "utterances_en.tsv"
HELDOUT = DATA / "heldout_en.tsv"
DEV = Path(__file__).resolve().parents[1].parent / "shared" / "utterances" / "dev.tsv"
GOOD = 0.9   # a confident recogniser


_rows = read_rows  # one reader of the labelled sets, shared with the benchmark


def _ours() -> list[tuple[str, str, str]]:
    rows = _rows(OURS)
    assert rows[0] == ["utterance", "expecting", "intent"]
    return [tuple(r[:3]) for r in rows[1:]]


_dev_expecting = expecting_for


def _dev() -> list[tuple[str, str, str]]:
    if not DEV.exists():
        return []
    return [(r[0], e, dev_label(r[1])) for r in _rows(DEV) for e in _dev_expecting(r[1])]


OURS_ROWS = _ours()
HELDOUT_ROWS = [row[:3] for row in load_labelled(HELDOUT)]
DEV_ROWS = _dev()
SETS = {"ours": OURS_ROWS, "heldout": HELDOUT_ROWS, "dev": DEV_ROWS}


def _danger(truth: str, got: Understanding) -> bool:
    if truth == "hazard":
        return got.intent != "hazard"
    if truth == "damage":
        return got.intent not in ("damage", "hazard")
    if truth == "hot_unsure":
        return got.intent not in ("hot_unsure", "hazard")
    if truth == "agent":
        return got.intent not in ("agent", "hazard", "damage")
    if truth == "still_stuck":
        return got.intent == "released"
    if truth not in ("released", "yes"):
        return got.intent == "released" and got.certain
    return False


# --- the labelled sets ---------------------------------------------------------------

def test_our_set_is_large_and_well_formed():
    assert len(OURS_ROWS) >= 400 and len(HELDOUT_ROWS) >= 150
    counts = Counter(i for _, _, i in OURS_ROWS + HELDOUT_ROWS)
    for intent in INTENTS:
        if intent != "silence":
            assert counts[intent] >= 3, intent
    for u, e, i in OURS_ROWS + HELDOUT_ROWS:
        assert u.strip() and e in EXPECTATIONS and is_intent(i), (u, e, i)


@pytest.mark.parametrize("name", ["ours", "heldout", "dev"])
def test_accuracy_and_no_dangerous_errors(name):
    rows = SETS[name]
    if not rows:
        pytest.skip("../shared/utterances/dev.tsv not present")
    per, misses, danger = Counter(), [], []
    for utt, exp, truth in rows:
        got = understand(utt, GOOD, None, exp)
        per[truth, got.intent == truth] += 1
        if got.intent != truth:
            misses.append((utt, exp, truth, got.intent))
        if _danger(truth, got):
            danger.append((utt, exp, truth, got))
    ok = sum(n for (_, hit), n in per.items() if hit)
    assert not danger, danger
    assert ok / len(rows) >= 0.97, misses
    for must in ("hazard", "damage", "agent"):
        assert per[must, False] == 0, [m for m in misses if m[2] == must]


DANGER_ROWS = [r for r in OURS_ROWS + HELDOUT_ROWS + DEV_ROWS
               if r[2] in ("hazard", "damage", "hot_unsure", "agent", "still_stuck")]


@pytest.mark.parametrize("utt,expecting,truth", DANGER_ROWS)
def test_dangerous_rows_one_by_one(utt, expecting, truth):
    for conf in (GOOD, 0.3, None):
        got = understand(utt, conf, None, expecting)
        assert not _danger(truth, got), (utt, conf, got)


# --- silence and digits --------------------------------------------------------------

@pytest.mark.parametrize("speech,digits", [(None, None), ("", ""), ("   ", None), (None, " ")])
def test_silence(speech, digits):
    for exp in EXPECTATIONS:
        assert understand(speech, None, digits, exp) == Understanding("silence", True, "")


@pytest.mark.parametrize("key,expecting,intent", [
    ("1", "yes_no", "yes"), ("2", "yes_no", "no"), ("1", "released", "released"),
    ("2", "released", "still_stuck"), ("0", "released", "agent"), ("*", "yes_no", "repeat"),
    ("#", "any", "wait"), ("9", "connector", "language_es-US"), ("1", "connector", "connector_ccs"),
    ("2", "connector", "connector_chademo"), ("3", "connector", "connector_j1772"),
    ("4", "connector", "connector_tesla"), ("5", "connector", "connector_unsure"),
    ("0", "connector", "agent"), ("*", "connector", "repeat"), ("#", "connector", "wait"),
    ("7", "yes_no", "unclear"), ("3", "released", "unclear"), ("6", "connector", "unclear"),
    ("12", "yes_no", "unclear"), ("11", "released", "released"),
])
def test_keypad(key, expecting, intent):
    got = understand(None, None, key, expecting)
    assert (got.intent, got.certain, got.heard) == (intent, True, key)


def test_digits_win_over_speech():
    got = understand("yes it came out", 0.95, "2", "released")
    assert got.intent == "still_stuck" and got.certain
    assert understand("it's still stuck", 0.95, "1", "released").intent == "released"


# --- priority ------------------------------------------------------------------------

@pytest.mark.parametrize("utt,intent", [
    ("hold on, there's smoke", "hazard"),
    ("get me a person, it's sparking", "hazard"),
    ("repeat that, something is burning", "hazard"),
    ("wait, get me a person", "agent"),
    ("hang on, can I talk to a human", "agent"),
    ("go back, I need an agent", "agent"),
    ("hold on, what was that", "wait"),
    ("say that again, I need help", "repeat"),
    ("go back, what are my options", "back"),
    ("help, it's still stuck", "help"),
    ("yes, hold on", "wait"),
    ("no, operator please", "agent"),
])
def test_priority(utt, intent):
    for exp in EXPECTATIONS:
        assert understand(utt, GOOD, None, exp).intent == intent, exp


@pytest.mark.parametrize("utt", ["no smoke", "there's no smoke", "not too hot", "it's not sparking",
                                 "no fire no", "nothing is burning", "it isn't melting"])
def test_negation_never_cancels_a_hazard(utt):
    for exp in EXPECTATIONS:
        assert understand(utt, GOOD, None, exp).intent == "hazard"


# --- negation and contradictions in the release question ------------------------------

@pytest.mark.parametrize("utt,intent", [
    ("it's not out", "still_stuck"),
    ("it's not stuck anymore", "released"),
    ("no problem, it's out", "released"),
    ("it won't budge", "still_stuck"),
    ("it will not come out", "still_stuck"),
    ("yes, it's still stuck", "still_stuck"),
    ("yeah no it's jammed", "still_stuck"),
    ("no, still stuck", "still_stuck"),
    ("it didn't come out", "still_stuck"),
    ("the car unlocked but the plug is still in", "still_stuck"),
    ("it came out", "released"),
    ("it's raining out here", "unclear"),
    ("I pressed the release button", "unclear"),
    ("I pressed the release button and it's still stuck", "still_stuck"),
])
def test_negation(utt, intent):
    assert understand(utt, GOOD, None, "released").intent == intent


@pytest.mark.parametrize("utt,intent", [
    ("know", "no"), ("nah", "no"), ("yep", "yes"), ("yah", "yes"), ("yes sir", "yes"),
    ("um, uh, yes", "yes"), ("okay so no", "no"),
])
def test_mishearings_yes_no(utt, intent):
    assert understand(utt, GOOD, None, "yes_no").intent == intent


@pytest.mark.parametrize("utt", ["it's stock", "still stack", "it's struck", "know it's still stuck"])
def test_mishearings_stuck(utt):
    assert understand(utt, GOOD, None, "released").intent == "still_stuck"


# --- certainty -----------------------------------------------------------------------

@pytest.mark.parametrize("utt", ["yes it came out", "it popped out", "it's unplugged",
                                 "I pulled it out", "the connector is out"])
def test_clear_release_is_certain_at_good_confidence(utt):
    got = understand(utt, GOOD, None, "released")
    assert got == Understanding("released", True, got.heard)


@pytest.mark.parametrize("utt", [
    "it will come out",            # may be "it won't come out"
    "it did come out",             # may be "it didn't come out"
    "it's not stuck anymore",      # negation reversal
    "no longer stuck",
    "yes",                         # a bare yes: the word a recogniser inserts into noise
    "yeah",
    "got it",
    "it's coming out",             # may be "it's not coming out"
    "no it came out",
    "it was stuck but now it's out",
    "it's unplugd",                # needed a correction... or is garbage
    "one",
])
def test_flip_prone_release_is_not_certain(utt):
    got = understand(utt, GOOD, None, "released")
    assert got.intent in ("released", "unclear") and not (got.intent == "released" and got.certain)


@pytest.mark.parametrize("conf", [None, 0.0, 0.3, RELEASE_CONFIDENCE - 0.01])
def test_low_or_missing_confidence_release_is_not_certain(conf):
    got = understand("yes it came out", conf, None, "released")
    assert got.intent == "released" and not got.certain


def test_threshold_boundary_is_certain():
    assert understand("yes it came out", RELEASE_CONFIDENCE, None, "released").certain


def test_stuck_is_certain_even_at_low_confidence():
    assert understand("it's still stuck", 0.2, None, "released") == \
        Understanding("still_stuck", True, "it's still stuck")


def test_heard_is_normalised():
    assert understand("  Yes, it CAME out!  ", GOOD, None, "released").heard == "yes it came out"
    assert understand("En Español, por favor", GOOD, None, "any").heard == "en español por favor"


# --- garbage and properties ------------------------------------------------------------

@pytest.mark.parametrize("utt", ["blah blah", "the quick brown fox", "yeah the parking lot is full",
                                 "in the outhouse", "ouch", "asdfgh qwerty", "out"])
def test_garbage_is_never_a_certain_release(utt):
    got = understand(utt, GOOD, None, "released")
    assert not (got.intent == "released" and got.certain)


_WORDS = st.sampled_from(
    ["it", "is", "not", "no", "yes", "out", "stuck", "still", "came", "will", "won't", "the", "a", "cable", "plug", "smoke",
     "what", "hold", "on", "come", "budge", "jammed", "free", "unplugged", "never", "yeah", "nope", "person", "help", "back",
     "maybe", "know", "now", "did", "stock", "locked", "release", "button", "car"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=8), st.sampled_from(EXPECTATIONS),
       st.one_of(st.none(), st.floats(0, 1)))
def test_properties(words, expecting, conf):
    utt = " ".join(words)
    got = understand(utt, conf, None, expecting)
    assert is_intent(got.intent) and got.intent != "silence"
    if "smoke" in words:
        assert got.intent == "hazard"
    if got.intent == "released" and got.certain:
        # a certain release never carries a word one mishearing could flip
        assert not {"not", "no", "still", "will", "won't", "stuck", "did", "never",
                    "nope", "know", "stock", "locked", "jammed"} & set(words), utt
        assert conf is not None and conf >= RELEASE_CONFIDENCE


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.sampled_from(EXPECTATIONS))
def test_any_text_is_handled(text, expecting):
    got = understand(text, 0.5, None, expecting)
    assert is_intent(got.intent)


# --- hints ---------------------------------------------------------------------------

@pytest.mark.parametrize("expecting", EXPECTATIONS)
def test_hints(expecting):
    h = hints(expecting)
    assert len(h) == len(set(h)) and all(0 < len(x) <= 100 for x in h)
    for command in ("agent", "repeat", "wait", "go back", "help", "smoke"):
        assert command in h
    expected = {"yes_no": "yes", "released": "still stuck", "connector": "CHAdeMO",
                "car": "Nissan Leaf", "any": "yes"}[expecting]
    assert expected in h


def test_connector_hints():
    h = hints("connector")
    assert {"CCS", "CHAdeMO", "J1772", "Tesla", "NACS", "not sure"} <= set(h)
    assert h.index("CCS") < h.index("agent")   # the question's own words first


"""Safety on real recogniser output (committed fixtures from bench/asr/make_fixtures.py).

PocketSphinx on synthetic phone audio garbles most of what it hears (see the bench for
its word error rate), so these tests assert SAFETY, not accuracy:
- no phrase whose true meaning is not "released" is understood as a *certain* release
  (the engine would end the call without confirming), whatever the recogniser's
  confidence, and not under the release question either;
- a true still-stuck answer is never understood as released when its transcript still
  says "stuck"/"won't"/"not";
- a hazard phrase whose transcript still contains a hazard word is a hazard, and "no" or
  "not" around it never cancels it; a damage word that survives is damage (or a hazard).
CI has no flite or PocketSphinx: only the committed TSV is read.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ivr.call.understanding import _DAMAGE_WORDS, _HAZARD_WORDS, _tokens, understand

FIXTURES = Path(__file__).parent / "data" / "asr_transcripts.tsv"


def _load() -> list[dict[str, str]]:
    with open(FIXTURES, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


ROWS = _load()
IDS = [f"{r['voice']}-{r['noise']}-{r['phrase']}" for r in ROWS]


def test_fixtures_cover_voices_noises_and_intents():
    assert len(ROWS) >= 200
    assert {r["noise"] for r in ROWS} == {"clean", "pink20", "pink10"}
    assert len({r["voice"] for r in ROWS}) >= 2
    assert {"released", "still_stuck", "hazard", "agent", "unclear"} <= {r["intent"] for r in ROWS}


NON_RELEASES = [(r, i) for r, i in zip(ROWS, IDS) if r["intent"] not in ("released", "yes")]


@pytest.mark.parametrize("row", [r for r, _ in NON_RELEASES], ids=[i for _, i in NON_RELEASES])
def test_no_certain_release_from_a_garbled_non_release(row):
    for expecting in {row["expecting"], "released", "any"}:
        for conf in (0.95, 0.7, None):
            got = understand(row["transcript"], conf, None, expecting)
            assert not (got.intent == "released" and got.certain), (row, expecting, got)


_STUCK_WORDS = {"stuck", "not", "won't", "will not", "didn't", "jammed", "locked", "still"}


def _keeps_a_stuck_word(row) -> bool:
    words = set(_tokens(row["transcript"].lower())) | {row["transcript"].lower()}
    return bool(words & _STUCK_WORDS)


# Only transcripts where a stuck word survived the recogniser can be held to this.
STUCK_KEPT = [(r, i) for r, i in zip(ROWS, IDS) if r["intent"] == "still_stuck" and _keeps_a_stuck_word(r)]


def test_some_stuck_words_survive_the_recogniser():
    assert len(STUCK_KEPT) >= 10


@pytest.mark.parametrize("row", [r for r, _ in STUCK_KEPT], ids=[i for _, i in STUCK_KEPT])
def test_stuck_words_that_survive_are_never_released(row):
    assert understand(row["transcript"], 0.95, None, "released").intent != "released"


HAZARD_ROWS = [r for r in ROWS if _HAZARD_WORDS & set(_tokens(r["transcript"].lower()))]


def test_some_hazard_words_survive_the_recogniser():
    assert HAZARD_ROWS, "fixtures should contain surviving hazard words"


@pytest.mark.parametrize("row", HAZARD_ROWS, ids=[r["transcript"] for r in HAZARD_ROWS])
def test_surviving_hazard_word_is_hazard(row):
    for expecting in ("released", "yes_no", "connector", "any"):
        for text in (row["transcript"], "no " + row["transcript"], "not " + row["transcript"],
                     row["transcript"] + " no", "there's no " + row["transcript"]):
            assert understand(text, 0.95, None, expecting).intent == "hazard", (text, expecting)


DAMAGE_ROWS = [r for r in ROWS if _DAMAGE_WORDS & set(_tokens(r["transcript"].lower()))]


@pytest.mark.parametrize("row", DAMAGE_ROWS, ids=[r["transcript"] for r in DAMAGE_ROWS])
def test_surviving_damage_word_is_damage(row):
    for expecting in ("released", "yes_no", "connector", "any"):
        for text in (row["transcript"], "no " + row["transcript"], "not " + row["transcript"]):
            assert understand(text, 0.95, None, expecting).intent in ("damage", "hazard"), (text, expecting)


WAIT_RELEASES = [r for r in ROWS if r["phrase"] in ("wait yes it came out", "hang on it's out")]


@pytest.mark.parametrize("row", WAIT_RELEASES, ids=[f"{r['voice']}-{r['noise']}-{r['phrase']}" for r in WAIT_RELEASES])
def test_a_garbled_release_with_a_wait_is_never_certain_unless_the_wait_was_lost(row):
    """Whatever the recogniser kept of 'wait, yes it came out', a release read with a wait
    word still in it is confirmed."""
    got = understand(row["transcript"], 0.95, None, "released")
    waits = {"wait", "hang", "hold"} & set(_tokens(row["transcript"].lower()))
    if got.intent == "released" and waits:
        assert not got.certain, (row, got)

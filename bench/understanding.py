"""Benchmark ivr.understanding: accuracy per meaning, dangerous errors, recogniser loop.

Run from the repo root:   python bench/understanding.py [-v]

Sets: tests/data/utterances_en.tsv (ours: utterance, expecting, intent), its Spanish
twin tests/data/utterances_es.tsv (read with the vocabulary of prompts/es-US.yaml), the
held-out phrasings of issue 11, tests/data/heldout_en.tsv and heldout_es.tsv, and a second
round written after the first vocabulary change, heldout2_en.tsv and heldout2_es.tsv (two more
optional columns: car, the display name expected or '-' for none, and adapter, 1 or 0;
an empty column is not checked, and a row is right only when they match too), the shared
development set ../shared/utterances/dev.tsv (utterance, intent; the question is implied
by the intent, and commands/unclear rows are tried under every kind of question), and
the recogniser fixtures tests/data/asr_transcripts.tsv (bench/asr/make_fixtures.py), and the
spoken car names of issue 15, tests/data/cars.tsv and cars_heldout.tsv (name, the entry of
flows/vehicles.yaml or "unknown"; targets: 95% right, none matched to a wrong entry).

Dangerous errors: a still_stuck answer taken as released; any other non-release answer
taken as a *certain* release; a hazard missed; damage missed (read as anything but damage
or a hazard); ambiguous heat read as anything but heat or a hazard; an agent request missed.
Exit status 1 when a target is missed (>= 97% overall, 100% hazard, damage and agent,
0 dangerous).
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ivr import content  # noqa: E402
from ivr.call.understanding import EXPECTATIONS, understand  # noqa: E402

content.load(REPO / "flows", REPO / "prompts")   # English's vocabulary comes from the loaded content

OURS = REPO / "tests" / "data" / "utterances_en.tsv"
OURS_ES = REPO / "tests" / "data" / "utterances_es.tsv"
HELDOUT = REPO / "tests" / "data" / "heldout_en.tsv"
HELDOUT_ES = REPO / "tests" / "data" / "heldout_es.tsv"
HELDOUT2 = REPO / "tests" / "data" / "heldout2_en.tsv"     # round 2: written after the first change
HELDOUT2_ES = REPO / "tests" / "data" / "heldout2_es.tsv"
PROMPTS_ES = REPO / "prompts" / "es-US.yaml"
DEV = REPO.parent / "shared" / "utterances" / "dev.tsv"
ASR = REPO / "tests" / "data" / "asr_transcripts.tsv"
CARS = REPO / "tests" / "data" / "cars.tsv"
CARS_HELDOUT = REPO / "tests" / "data" / "cars_heldout.tsv"    # written after the matcher
VEHICLES = REPO / "flows" / "vehicles.yaml"
CONFIDENCE = 0.9  # pessimistic: as if the recogniser were sure of what it wrote


def expecting_for(intent: str) -> tuple[str, ...]:
    """The question a dev-set row answers, from its intent."""
    if intent in ("yes", "no"):
        return ("yes_no",)
    if intent in ("released", "still_stuck"):
        return ("released",)
    if intent.startswith("connector_"):
        return ("connector",)
    return EXPECTATIONS


def read_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [r for r in csv.reader(fh, delimiter="\t")
                if r and r[0].strip() and not r[0].startswith("#")]


def load_ours(path: Path = OURS) -> list[tuple[str, str, str]]:
    """(utterance, expecting, intent) of a labelled set; further columns are ignored."""
    return [row[:3] for row in load_labelled(path)]


def load_labelled(path: Path = OURS) -> list[tuple[str, str, str, str | None, bool | None]]:
    """(utterance, expecting, intent, car, adapter) of a labelled set.

    car: the display name expected, "" for none ('-' in the file), None when not checked;
    adapter: True/False, None when not checked."""
    rows = read_rows(path)
    if rows and rows[0][:3] == ["utterance", "expecting", "intent"]:
        rows = rows[1:]
    out = []
    for u, e, i, *more in rows:
        car = more[0].strip() if more and more[0].strip() else None
        flag = more[1].strip() if len(more) > 1 and more[1].strip() else None
        out.append((u, e, i, "" if car == "-" else car, None if flag is None else flag in ("1", "yes", "true")))
    return out


# The shared dev set (not ours to edit) names a request for Spanish by its old label.
_OLD_LABELS = {"spanish": "language_es-US"}


def dev_label(intent: str) -> str:
    """A dev-set label as the understanding names it today."""
    return _OLD_LABELS.get(intent, intent)


def load_dev(path: Path = DEV) -> list[tuple[str, str, str]]:
    return [(u, e, dev_label(i)) for u, i, *_ in read_rows(path) for e in expecting_for(i)]


def load_asr(path: Path = ASR) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def dangerous(truth: str, expecting: str, got) -> str | None:
    """Why a result is dangerous, or None."""
    if truth == "hazard" and got.intent != "hazard":
        return "hazard missed"
    if truth == "damage" and got.intent not in ("damage", "hazard"):
        return "damage missed"
    if truth == "hot_unsure" and got.intent not in ("hot_unsure", "hazard"):
        return "heat missed"
    if truth == "agent" and got.intent not in ("agent", "hazard", "damage"):
        return "agent missed"
    if got.intent == "released" and truth != "released":
        if truth == "still_stuck":
            return "stuck taken as released"
        if got.certain and truth != "yes":
            return "certain release from a non-release answer"
    return None


def spanish_vocabulary():
    """The es-US vocabulary, as the app loads it."""
    from ivr.content.yamlfile import load
    from ivr.language.prompts import parse
    return parse(load(PROMPTS_ES), str(PROMPTS_ES)).vocabulary


def evaluate(rows, confidence: float | None = CONFIDENCE, language: str = "en-US", vocabulary=None):
    per = defaultdict(Counter)
    errors, danger = [], []
    for utt, exp, truth, *more in rows:
        got = understand(utt, confidence, None, exp, vocabulary)
        car, adapter = (more + [None, None])[:2]
        ok = (got.intent == truth and (car is None or (getattr(got, "car", None) or "") == car)
              and (adapter is None or bool(getattr(got, "adapter", False)) == adapter))
        per[truth]["n"] += 1
        per[truth]["ok"] += ok
        if not ok:
            errors.append((utt, exp, truth, got.intent, getattr(got, "car", None), getattr(got, "adapter", None)))
        why = dangerous(truth, exp, got)
        if why:
            danger.append((why, utt, exp, got.intent, got.certain))
    return per, errors, danger


def report(name: str, rows, verbose: bool, language: str = "en-US", vocabulary=None) -> bool:
    per, errors, danger = evaluate(rows, language=language, vocabulary=vocabulary)
    n = sum(c["n"] for c in per.values())
    ok = sum(c["ok"] for c in per.values())
    print(f"== {name}: {n} cases")
    for intent in sorted(per):
        c = per[intent]
        print(f"  {intent:18} {c['ok']:4}/{c['n']:<4} {100 * c['ok'] / c['n']:6.1f}%")
    acc = ok / n if n else 1.0
    print(f"  {'OVERALL':18} {ok:4}/{n:<4} {100 * acc:6.1f}%")
    print(f"  dangerous errors: {len(danger)}")
    for d in danger:
        print("    DANGER", d)
    if verbose:
        for e in errors:
            print("    miss", e)
    must = [per.get(i, Counter(n=1, ok=1)) for i in ("hazard", "damage", "agent")]
    return acc >= 0.97 and not danger and all(c["ok"] == c["n"] for c in must)


def wer(ref: str, hyp: str) -> tuple[int, int]:
    """(word edits, reference words) by Levenshtein over words."""
    r, h = ref.lower().replace("'", "").split(), hyp.lower().replace("'", "").split()
    prev = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        cur = [i] + [0] * len(h)
        for j, hw in enumerate(h, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rw != hw))
        prev = cur
    return prev[-1], len(r)


def report_asr(verbose: bool) -> bool:
    if not ASR.exists():
        print("== recogniser fixtures: none (run bench/asr/make_fixtures.py)")
        return True
    rows = load_asr()
    print(f"== recogniser loop (flite -> G.711 -> PocketSphinx): {len(rows)} transcripts")
    by_noise = defaultdict(lambda: [0, 0])
    for r in rows:
        e, n = wer(r["phrase"], r["transcript"])
        by_noise[r["noise"]][0] += e
        by_noise[r["noise"]][1] += n
    try:
        import jiwer  # optional, bench only
        total = jiwer.wer([r["phrase"].lower().replace("'", "") for r in rows],
                          [r["transcript"].lower().replace("'", "") or "<empty>" for r in rows])
        src = "jiwer"
    except ImportError:
        e = sum(v[0] for v in by_noise.values())
        n = sum(v[1] for v in by_noise.values())
        total, src = e / n, "own Levenshtein"
    print(f"  word error rate {100 * total:.1f}% ({src}); by noise: " + ", ".join(
        f"{k} {100 * v[0] / v[1]:.0f}%" for k, v in sorted(by_noise.items())))
    from ivr.call.understanding import _DAMAGE_WORDS, _HAZARD_WORDS, _tokens  # the safety test's own view
    understood, kept, danger, confirm = Counter(), 0, [], 0
    for r in rows:
        got = understand(r["transcript"], CONFIDENCE, None, r["expecting"])
        understood[got.intent] += 1
        kept += got.intent == r["intent"]
        # Garbled speech can't be understood, only handled safely: no certain release
        # from a phrase that was not one, and a hazard word that survived is a hazard.
        why = None
        if got.intent == "released" and r["intent"] != "released":
            if got.certain:
                why = "certain release from a non-release phrase"
            else:
                confirm += 1
        if (r["intent"] == "hazard" and got.intent != "hazard"
                and _HAZARD_WORDS.intersection(_tokens(r["transcript"]))):
            why = "hazard word heard but missed"
        if (got.intent not in ("damage", "hazard")
                and _DAMAGE_WORDS.intersection(_tokens(r["transcript"]))):
            why = "damage word heard but missed"
        if why:
            danger.append((why, r["phrase"], r["transcript"], r["expecting"], got))
        elif verbose and got.intent != r["intent"]:
            print(f"    {r['phrase']!r} -> {r['transcript']!r}: {got.intent}")
    print(f"  meaning kept: {kept}/{len(rows)} ({100 * kept / len(rows):.0f}%)")
    print("  understood as: " + ", ".join(f"{k} {v}" for k, v in understood.most_common()))
    print(f"  non-release phrases read as released, to be confirmed (certain=False): {confirm}")
    print(f"  dangerous errors: {len(danger)}")
    for d in danger:
        print("    DANGER", d)
    return not danger


def load_cars(path: Path = CARS) -> list[tuple[str, str]]:
    """(what was heard, the entry expected or 'unknown') of the labelled car names."""
    rows = read_rows(path)
    if rows and rows[0][:2] == ["spoken", "expected"]:
        rows = rows[1:]
    return [(r[0], r[1].strip()) for r in rows]


def report_cars(verbose: bool, path: Path = CARS) -> bool:
    """Issue 15: a car name matched to its entry, or 'unknown'; never to another car's entry."""
    if not (path.exists() and VEHICLES.exists()):
        print(f"== car names: {path.name} or flows/vehicles.yaml not found, skipped")
        return True
    import time

    from ivr.call import vehicles
    data = content.load_vehicles(VEHICLES)
    rows = load_cars(path)
    per, wrong, misses = defaultdict(Counter), [], []
    start = time.perf_counter()
    for spoken, expected in rows:
        got = vehicles.match(data, spoken).id
        per[expected]["n"] += 1
        per[expected]["ok"] += got == expected
        if got != expected:
            (misses if got == "unknown" else wrong).append((spoken, expected, got))
    per_name = (time.perf_counter() - start) / len(rows)
    ok = sum(c["ok"] for c in per.values())
    print(f"== car names (tests/data/{path.name} against flows/vehicles.yaml): {len(rows)} names")
    for entry in sorted(per):
        c = per[entry]
        print(f"  {entry:22} {c['ok']:4}/{c['n']:<4} {100 * c['ok'] / c['n']:6.1f}%")
    print(f"  {'OVERALL':22} {ok:4}/{len(rows):<4} {100 * ok / len(rows):6.1f}%")
    print(f"  matched to a wrong entry: {len(wrong)}; left unknown: {len(misses)}; "
          f"{per_name * 1e6:.0f} µs per name")
    for w in wrong:
        print("    WRONG", w)
    if verbose:
        for m in misses:
            print("    miss", m)
    return ok / len(rows) >= 0.95 and not wrong


def report_car_question(path: Path = CARS) -> bool:
    """The same names answered at "What car is it?" through understanding and the engine, as a
    call hears them: the car the call then carries, "unknown" (the owner's manual), or asked
    again (a name not placed). Never another car's tips."""
    if not (path.exists() and VEHICLES.exists()):
        return True
    from ivr.call import vehicles
    from ivr.call.engine import CallState, Heard
    loaded = content.load(REPO / "flows", REPO / "prompts")
    engine, data = loaded.engine, loaded.vehicles
    at = CallState(node="car_question", connector="j1772", path=("confirm_stopped",), results=("y",))
    right = wrong = again = 0
    for spoken, expected in load_cars(path):
        reply = engine.answer(at, Heard.of(understand(spoken, CONFIDENCE, None, "car"), "speech"))
        if reply.state.node == "car_question":
            again += 1
            continue
        got = vehicles.match(data, reply.state.car).id if reply.state.car else "unknown"
        right += got == expected
        wrong += got not in (expected, "unknown")
    total = right + wrong + again + 0
    print(f"== the car question (tests/data/{path.name} through understand + engine): "
          f"{right}/{len(load_cars(path))} right, {wrong} wrong, {again} asked again (of {total})")
    return not wrong


def report_speed(rounds: int = 5) -> None:
    """Time per utterance, English rules vs a vocabulary read (after a warm-up pass)."""
    import time
    for name, rows, language, vocabulary in (("en-US", load_ours(), "en-US", None),
                                             ("es-US", load_ours(OURS_ES), "es-US", spanish_vocabulary())):
        evaluate(rows, language=language, vocabulary=vocabulary)
        start = time.perf_counter()
        for _ in range(rounds):
            for utt, exp, _truth in rows:
                understand(utt, CONFIDENCE, None, exp, vocabulary)
        per = (time.perf_counter() - start) / (rounds * len(rows))
        print(f"== speed {name}: {per * 1e6:.0f} µs per utterance ({rounds} x {len(rows)})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark ivr.understanding")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = ap.parse_args(argv)
    good = True
    if OURS.exists():
        good &= report("ours (tests/data/utterances_en.tsv)", load_ours(), args.verbose)
    if OURS_ES.exists():
        good &= report("español (tests/data/utterances_es.tsv)", load_ours(OURS_ES), args.verbose,
                       "es-US", spanish_vocabulary())
    if HELDOUT.exists():
        good &= report("held-out (tests/data/heldout_en.tsv)", load_labelled(HELDOUT), args.verbose)
    if HELDOUT_ES.exists():
        good &= report("held-out español (tests/data/heldout_es.tsv)", load_labelled(HELDOUT_ES),
                       args.verbose, "es-US", spanish_vocabulary())
    if HELDOUT2.exists():
        good &= report("held-out, round 2 (tests/data/heldout2_en.tsv)", load_labelled(HELDOUT2), args.verbose)
    if HELDOUT2_ES.exists():
        good &= report("held-out español, round 2 (tests/data/heldout2_es.tsv)", load_labelled(HELDOUT2_ES),
                       args.verbose, "es-US", spanish_vocabulary())
    if DEV.exists():
        good &= report("dev (../shared/utterances/dev.tsv)", load_dev(), args.verbose)
    else:
        print("== dev set: not found at ../shared/utterances/dev.tsv, skipped")
    good &= report_asr(args.verbose)
    good &= report_cars(args.verbose)
    good &= report_cars(args.verbose, CARS_HELDOUT)
    good &= report_car_question()
    good &= report_car_question(CARS_HELDOUT)
    report_speed()
    print("targets met" if good else "TARGETS MISSED")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())

"""The worst case of reading one answer, at the length the web layer lets through.

Run from the repo root:

    python -m bench.long_input [--repeat 5]

ivr/web/views/web.py cuts SpeechResult to FIELD_CAPS (1,500 characters: Twilio's
60 s maxSpeechTime at very fast speech) before anything reads it. This feeds
ivr.understanding.understand, per language and per kind of question, answers
of exactly that length built to be slow (one short word again and again, a
negator and a verb in turns, hazard and release words mixed, one long word,
punctuation), and prints the CPU time of the slowest, the best of --repeat runs
each. Target (issue 12): under 50 ms. Exits 1 above it.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr import content as content_module  # noqa: E402
from ivr.call.understanding import EXPECTATIONS, understand  # noqa: E402
from ivr.web.views.web import FIELD_CAPS, capped  # noqa: E402

TARGET_S = 0.050
PATTERNS = {
    "one word": "it ",
    "yes no": "yes no ",
    "negated": "not stopped ",
    "hazard and release": "it came out there's smoke ",
    "filler": "um uh like ",
    "spanish": "ya salió sigue atascado ",
    "punctuation": "no, it's... still - stuck?! ",
    "digits spoken": "one two three four five six seven eight nine oh ",
    "agent": "can I talk to a person please ",
    "no spaces": "x",
}


def cpu(function, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.process_time()
        function()
        best = min(best, time.process_time() - began)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    loaded = content_module.load(ROOT / "flows", ROOT / "prompts", content_module.DEFAULT_FLOW)
    cap = FIELD_CAPS["SpeechResult"]
    results = []
    for name, unit in PATTERNS.items():
        speech = capped("SpeechResult", unit * (cap // len(unit) + 1))
        for language, catalog in sorted(loaded.catalogs.items()):
            for expecting in sorted(EXPECTATIONS):
                took = cpu(lambda speech=speech, expecting=expecting, vocabulary=catalog.vocabulary, language=language:
                           understand(speech, 0.9, None, expecting, vocabulary),
                           args.repeat)
                results.append((took, name, language, expecting, len(speech)))
    results.sort(reverse=True)
    print(f"answers read: {len(results)} ({len(PATTERNS)} patterns x languages x kinds of question), "
          f"each {cap} characters at most, best of {args.repeat}")
    for took, name, language, expecting, length in results[:5]:
        print(f"  {took * 1000:6.2f} ms CPU  {name!r} ({length} chars), {language}, expecting {expecting}")
    worst = results[0][0]
    print(f"worst case: {worst * 1000:.2f} ms CPU (target under {TARGET_S * 1000:.0f} ms)")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())

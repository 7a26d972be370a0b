"""Make recogniser fixtures: caller phrases -> synthetic voice -> phone line -> PocketSphinx.

A deliberately pessimistic source of garbled speech for tests/test_asr_safety.py: flite
speaks each phrase, sox brings it to telephone quality (8 kHz G.711 mu-law, 300-3400 Hz,
optionally with pink roadside noise at 20 or 10 dB SNR) and PocketSphinx (16 kHz model,
so the phone audio is upsampled again) transcribes it.  The output TSV is committed; CI
never runs this script (it has neither flite nor pocketsphinx).

Needs:   apt-get install -y flite sox      pip install pocketsphinx   (5.1.x)
Run:     python bench/asr/make_fixtures.py [--out tests/data/asr_transcripts.tsv] [--jobs 2]

Deterministic: `sox -R` everywhere (fixed dither/noise seed) and decoder.reinit_feat()
before each utterance (the noise tracker would otherwise carry state across utterances),
so re-running gives identical transcripts whatever the order or number of workers.
See ../shared/asr-notes.md for why the pipeline looks like this.
"""
from __future__ import annotations

import argparse
import csv
import math
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "data" / "asr_transcripts.tsv"

VOICES = ("rms", "slt")
NOISES = ("clean", "pink20", "pink10")  # SNR in dB for the pink ones

# (phrase as spoken, true intent, which question it answers)
PHRASES: list[tuple[str, str, str]] = [
    ("yes it came out", "released", "released"),
    ("it popped out", "released", "released"),
    ("the connector is out now", "released", "released"),
    ("it's unplugged", "released", "released"),
    ("I got it out", "released", "released"),
    ("it's still stuck", "still_stuck", "released"),
    ("no it won't come out", "still_stuck", "released"),
    ("it won't budge", "still_stuck", "released"),
    ("it's not out", "still_stuck", "released"),
    ("still jammed", "still_stuck", "released"),
    ("no still stuck", "still_stuck", "released"),
    ("it will not come out", "still_stuck", "released"),
    ("nope it's locked", "still_stuck", "released"),
    ("it didn't come out", "still_stuck", "released"),
    ("it's not moving", "still_stuck", "released"),
    ("no", "still_stuck", "released"),
    ("there's smoke", "hazard", "released"),
    ("I see sparks", "hazard", "any"),
    ("the handle is very hot", "hazard", "yes_no"),
    ("the cable is melting", "hazard", "released"),
    ("there's a fire", "hazard", "any"),
    ("it smells like something is burning", "hazard", "released"),
    ("it shocked me", "hazard", "yes_no"),
    ("I want to talk to a person", "agent", "released"),
    ("agent", "agent", "any"),
    ("get me a real person", "agent", "yes_no"),
    ("operator please", "agent", "connector"),
    ("hold on", "wait", "released"),
    ("hang on I need both hands", "wait", "released"),
    ("give me a second", "wait", "any"),
    ("what", "repeat", "yes_no"),
    ("say that again", "repeat", "released"),
    ("sorry I didn't catch that", "repeat", "connector"),
    ("go back", "back", "yes_no"),
    ("help", "help", "released"),
    ("what can I say", "help", "any"),
    ("yes", "yes", "yes_no"),
    ("yeah sure", "yes", "yes_no"),
    ("no", "no", "yes_no"),
    ("nope", "no", "yes_no"),
    ("CCS", "connector_ccs", "connector"),
    ("CHAdeMO", "connector_chademo", "connector"),
    ("J seventeen seventy two", "connector_j1772", "connector"),
    ("Tesla", "connector_tesla", "connector"),
    ("I'm not sure", "connector_unsure", "connector"),
    ("Spanish please", "spanish", "any"),
    ("the parking lot is busy today", "unclear", "released"),
    ("my dog is waiting in the car", "unclear", "released"),
    # issue 11: the new intents, and a release said with a wait (never a certain release)
    ("wait yes it came out", "released", "released"),
    ("hang on it's out", "released", "released"),
    ("the battery is swelling", "hazard", "any"),
    ("the cable is cracked", "damage", "released"),
    ("I can see bare wires", "damage", "any"),
    ("there's water in the port", "damage", "yes_no"),
    ("transfer me", "agent", "yes_no"),
    ("I pressed the emergency stop", "emergency_stop", "any"),
    ("I'm blocking traffic", "roadside", "released"),
    ("it's hot out here", "hot_unsure", "yes_no"),
    ("what do you mean", "explain", "released"),
    ("I don't know", "dont_know", "yes_no"),
    ("it's a Nissan Leaf", "car", "connector"),
]


def run(*cmd: str) -> str:
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return res.stdout + res.stderr


def rms(path: str) -> float:
    out = run("sox", path, "-n", "stat")
    m = re.search(r"RMS\s+amplitude:\s+([0-9.eE+-]+)", out)
    return float(m.group(1)) if m else 0.0


def phone_audio(phrase: str, voice: str, noise: str, tmp: str) -> bytes:
    """Synthesise `phrase` and return 16 kHz 16-bit mono PCM after a G.711 phone line."""
    raw, s16, mix, ulaw, back = (os.path.join(tmp, n) for n in
                                 ("raw.wav", "s16.wav", "mix.wav", "ulaw.wav", "back.raw"))
    run("flite", "-voice", voice, "-t", phrase, "-o", raw)
    run("sox", "-R", raw, "-r", "16000", "-c", "1", "-b", "16", s16, "gain", "-n", "-9",
        "pad", "0.5", "0.5")
    src = s16
    if noise != "clean":
        snr = float(noise.removeprefix("pink"))
        dur = run("soxi", "-D", s16).strip()
        bed = os.path.join(tmp, "pink.wav")
        run("sox", "-R", "-n", "-r", "16000", "-c", "1", "-b", "16", bed, "synth", dur,
            "pinknoise")
        # scale the noise bed so that speech RMS / noise RMS = SNR (whole file, pads included)
        factor = rms(s16) / (rms(bed) * math.pow(10.0, snr / 20.0))
        run("sox", "-R", "-m", "-v", "1", s16, "-v", f"{factor:.6f}", bed, mix)
        src = mix
    run("sox", "-R", src, "-r", "8000", "-c", "1", "-e", "u-law", ulaw, "sinc", "300-3400")
    run("sox", "-R", ulaw, "-t", "raw", "-r", "16000", "-c", "1", "-b", "16",
        "-e", "signed-integer", back)
    return Path(back).read_bytes()


_decoder = None


def _init_worker() -> None:
    global _decoder
    from pocketsphinx import Decoder  # imported here: only this script needs it
    _decoder = Decoder(loglevel="FATAL")


def transcribe(job: tuple[str, str, str, str, str]) -> tuple[str, ...]:
    phrase, intent, expecting, voice, noise = job
    with tempfile.TemporaryDirectory() as tmp:
        pcm = phone_audio(phrase, voice, noise, tmp)
    _decoder.reinit_feat()
    _decoder.start_utt()
    _decoder.process_raw(pcm, full_utt=True)
    _decoder.end_utt()
    hyp = _decoder.hyp()
    text = hyp.hypstr.strip() if hyp is not None else ""
    return (phrase, intent, expecting, voice, noise, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = ap.parse_args(argv)
    jobs = [(p, i, e, v, n) for (p, i, e) in PHRASES for v in VOICES for n in NOISES]
    with multiprocessing.Pool(args.jobs, initializer=_init_worker) as pool:
        rows = []
        for k, row in enumerate(pool.imap(transcribe, jobs), 1):
            rows.append(row)
            print(f"[{k}/{len(jobs)}] {row[3]:4} {row[4]:6} {row[0]!r} -> {row[5]!r}",
                  file=sys.stderr, flush=True)
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(["phrase", "intent", "expecting", "voice", "noise", "transcript"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The caller's time: how much speech before each useful instruction.

Run from the repo root:   python bench/caller_time.py

Walks the flow (ivr.content + ivr.engine, no server) for each connector, as a
driver whose session has already ended and who tries every step, and prints the
words the bot says (and seconds at 150 words a minute) from the moment the call
is answered to the first actionable instruction and to each step.

Assumptions, stated so they can be argued with:
- The caller listens to every sentence in full (no barge-in), so these are upper
  bounds for a caller who cuts in.
- A prompt caller's own answer costs ANSWER_SECONDS: about half a second of
  speech, the two seconds of quiet Twilio waits before it ends a spoken answer
  (twiml.SPEECH_TIMEOUT), and half a second for the webhook and the voice to start.
- Time spent doing the step (walking to the fob) is not counted: it is the
  caller's, not ours.
- A step is "reached" when its first action sentence has been said in full; the
  first actionable instruction is the first sentence of the first question.

Targets: first actionable instruction within 20 words; the key-fob unlock
sentence within 45 seconds. Exit status 1 when one is missed.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr import content as content_module  # noqa: E402
from ivr.engine import Heard, Reply  # noqa: E402
from ivr.flow import ANSWERS  # noqa: E402

WORDS_PER_MINUTE = 150
ANSWER_SECONDS = 3.0
FIRST_INSTRUCTION_WORDS = 20
KEY_FOB_SECONDS = 45.0
KEY_FOB_NODE, KEY_FOB_WORDS = "unlock_fob", "key fob"

# Yes/no questions on the way to the manual release, for a caller whose session has ended.
YES_NO = {"session_screen": "yes", "adapter_check": "no", "ccs_button": "yes",
          "chademo_light": "no", "confirm_stopped": "yes", "stop_session": "yes"}


@dataclass(frozen=True)
class Mark:
    """A moment in the call: the words said so far, and the caller's answers so far."""

    label: str
    words: int
    answers: int

    @property
    def seconds(self) -> float:
        return self.words * 60 / WORDS_PER_MINUTE + self.answers * ANSWER_SECONDS


def words(text: str) -> int:
    return len(text.split())


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s]


def walk(connector: str, content=None, session_ended: bool = True) -> list[Mark]:
    """Marks for the first instruction, each step and the key-fob sentence."""
    content = content or load()
    engine, flow = content.engine, content.flow
    catalog = content.catalogs[content.default_language]
    reply: Reply = engine.start()
    said, answers, marks = 0, 0, []
    for _ in range(100):
        node = flow[reply.node] if reply.node in flow else None
        if reply.question is not None and node is not None:
            # The reply's lines end with this question's own sentences (ask + keys).
            own = [catalog.text(k) for k in node.ask if catalog.text(k)]
            lead = sum(words(line.text) for line in reply.lines) - sum(words(t) for t in own) \
                - words(catalog.text(f"keys_{node.expect}"))
            first = sentences(own[0])[0] if own else ""
            if not marks:
                marks.append(Mark("first actionable instruction", said + lead + words(first), answers))
            if node.step:
                marks.append(Mark(node.step, said + lead + words(first), answers))
            if node.id == KEY_FOB_NODE:
                before = said + lead
                for sentence in (s for text in own for s in sentences(text)):
                    before += words(sentence)
                    if KEY_FOB_WORDS in sentence.lower():
                        marks.append(Mark("key-fob unlock said", before, answers))
                        break
        said += sum(words(line.text) for line in reply.lines)
        if reply.question is None:
            marks.append(Mark(f"end: {reply.outcome}", said, answers))
            return marks
        answers += 1
        reply = engine.answer(reply.question.state, Heard(answer_for(node, connector, session_ended)))
    raise RuntimeError("the walk did not end")


def answer_for(node, connector: str, session_ended: bool) -> str:
    if node.expect == "connector":
        return f"connector_{connector}"
    if node.expect == "released":
        return "no"  # still stuck: try the next step
    if node.id == "session_screen":
        return "yes" if session_ended else "no"
    return YES_NO.get(node.id, "yes")


def load():
    return content_module.load(ROOT / "flows", ROOT / "prompts")


def main() -> int:
    content = load()
    failures = []
    print(f"{WORDS_PER_MINUTE} words a minute, {ANSWER_SECONDS:.0f} s per answer, every sentence heard in full")
    for connector in ANSWERS["connector"]:
        marks = walk(connector, content)
        print(f"\n{connector}:  {'words':>5} {'seconds':>8}  answers")
        for mark in marks:
            print(f"  {mark.label:40} {mark.words:5} {mark.seconds:8.1f}  {mark.answers}")
        first = marks[0]
        fob = next((m for m in marks if m.label == "key-fob unlock said"), None)
        if first.words > FIRST_INSTRUCTION_WORDS:
            failures.append(f"{connector}: first instruction after {first.words} words (target {FIRST_INSTRUCTION_WORDS})")
        if fob is None or fob.seconds > KEY_FOB_SECONDS:
            failures.append(f"{connector}: key-fob unlock at {fob.seconds if fob else 'never'} s (target {KEY_FOB_SECONDS:.0f})")
    slow = next(m for m in walk("ccs", content, session_ended=False) if m.label == "key-fob unlock said")
    print(f"\nA session that had not ended (stop it first): key-fob unlock at {slow.words} words, {slow.seconds:.1f} s")
    print()
    for failure in failures:
        print("MISS", failure)
    if not failures:
        print(f"met: first instruction within {FIRST_INSTRUCTION_WORDS} words, "
              f"key-fob unlock within {KEY_FOB_SECONDS:.0f} s, for every connector")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""The caller's time: how much speech before the first thing done with the hands,
and before a person, per connector.

Run from the repo root:   python bench/caller_time.py

Walks the flow (ivr.content + ivr.engine, no server) for each connector, twice:
with the flow as shipped, and with the station-ID question on (asked where the
view asks it: before the first of `settings.station_id_before`, or after the
welcome when that is empty). The caller's session has ended, there is no
adapter, and every step fails, so the call ends with a person.

Assumptions, stated so they can be argued with:
- Speech at WORDS_PER_MINUTE, every sentence heard in full (no barge-in), so
  these are upper bounds for a caller who cuts in.
- Each answer costs ANSWER_SECONDS: about half a second of speech, the two
  seconds of quiet Twilio waits before it ends a spoken answer
  (twiml.SPEECH_TIMEOUT), and half a second for the webhook and the voice.
- The caller answers every question the same way (all by voice, or all by
  keys), so once they have answered twice, "Press 1 for yes, 2 for no" is no
  longer said (the engine drops it then).
- The first physical action is the first sentence that starts with a verb done
  with the hands (press, unlock, hold, push, pull, tap): "Press the release
  button on top of the handle" counts; "Put the car in Park" does not.
- A station ID is spoken as "E A 1 2 3 4 5" and confirmed with a yes.
- Time spent doing the step (walking to the fob) is not counted: it is the
  caller's, not ours.

Targets: the first physical action within FIRST_ACTION_SECONDS of the answer,
for every connector, in both flows; a failed CCS call reaches a person (the end
of the last sentence before the transfer) within PERSON_SECONDS, in the flow as
shipped. Exit status 1 when one is missed.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr import content as content_module  # noqa: E402
from ivr.call import station  # noqa: E402
from ivr.call.engine import Heard, Reply  # noqa: E402
from ivr.call.flow import ANSWERS, Flow  # noqa: E402

WORDS_PER_MINUTE = 150
ANSWER_SECONDS = 3.0
FIRST_ACTION_SECONDS = 30.0
PERSON_SECONDS = 180.0
KEYS_DROPPED_AFTER = 2          # answers by the same means
ACTION_VERBS = ("press", "unlock", "hold", "push", "pull", "tap")
SPOKEN_STATION = "EA12345"

# The caller's answers to the yes/no questions: the session has ended, no
# adapter, the CCS button stays rigid, the CHAdeMO light is off, and they take
# the offer of a person.
YES_NO = {"session_screen": "yes", "stop_session": "yes", "car_wont_stop": "yes",
          "adapter_check": "no", "ccs_button": "no", "ccs_recheck": "no",
          "chademo_light": "no", "chademo_lit": "yes", "confirm_stopped": "yes",
          "rigid_offer": "yes"}


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


def is_action(sentence: str) -> bool:
    """'Press the release button...' is; 'Press 1 for C C S' (a keypad choice) is not."""
    found = re.findall(r"[a-z0-9]+", sentence.lower())[:2]
    if not found or found[0] not in ACTION_VERBS:
        return False
    return not (found[0] == "press" and len(found) > 1
                and (found[1].isdigit() or found[1] in ("star", "pound", "zero", "one", "two", "nine")))


def with_station(flow: Flow) -> Flow:
    return replace(flow, settings={**flow.settings, "ask_station_id": True})


def walk(connector: str, content=None, session_ended: bool = True, station_on: bool = False,
         answers: dict[str, str] | None = None) -> list[Mark]:
    """Marks for the first physical action, each step, and the end."""
    content = content or load()
    engine, flow = content.engine, content.flow
    catalog = content.catalogs[content.default_language]
    choices = {**YES_NO, **(answers or {})}
    if not session_ended:
        choices["session_screen"] = "no"
    keys_lines = {catalog.text("keys_yes_no"), catalog.text("keys_released")}
    before = station.asked_before(flow.settings)
    station_pending = station_on
    said, answered, marks = 0, 0, []
    reply: Reply = engine.start()
    previous = None
    for _ in range(100):
        lines = [line.text for line in reply.lines]
        if station_pending and reply.question is not None and (
                (not before and previous is None) or (before and reply.node in before and previous != reply.node)):
            # The view asks the station ID here, then says the question in full.
            own = [line.text for line in engine.ask(reply.state).lines]
            lead = lines[:len(lines) - len(own)]
            keys = catalog.text("keys_yes_no")
            station_lines = [catalog.text("station_ask")]
            # the view says "Press 1 for yes, 2 for no" at the read-back whatever came before
            confirm = [catalog.text("station_confirm", station=station.read_back(SPOKEN_STATION)), keys]
            said += sum(words(t) for t in lead + station_lines)
            answered += 1
            said += sum(words(t) for t in confirm)
            answered += 1
            marks.append(Mark("station ID confirmed", said, answered))
            lines = [catalog.text("station_thanks")] + own
            station_pending = False
        if answered >= KEYS_DROPPED_AFTER:
            lines = [t for t in lines if t not in keys_lines]
        node = flow[reply.node] if reply.node in flow else None  # noqa: SIM401 (a Flow, not a dict)
        for text in lines:
            for sentence in sentences(text):
                said += words(sentence)
                if not any(m.label == "first physical action" for m in marks) and is_action(sentence):
                    marks.append(Mark("first physical action", said, answered))
        if node is not None and node.step and reply.question is not None:
            marks.append(Mark(node.step, said, answered))
        if reply.question is None:
            marks.append(Mark(f"end: {reply.outcome}", said, answered))
            return marks
        answered += 1
        previous = reply.node
        reply = engine.answer(reply.question.state, Heard(answer_for(node, connector, choices)))
    raise RuntimeError("the walk did not end")


def answer_for(node, connector: str, choices: dict[str, str]) -> str:
    if node.expect == "connector":
        return f"connector_{connector}"
    if node.expect == "released":
        return "no"  # still stuck: try the next step
    return choices.get(node.id, "yes")


def first_action(marks: list[Mark]) -> Mark | None:
    return next((m for m in marks if m.label == "first physical action"), None)


def load():
    return content_module.load(ROOT / "flows", ROOT / "prompts")


def main() -> int:
    content = load()
    station_content = replace(content, flow=with_station(content.flow),
                              engine=type(content.engine)(with_station(content.flow), content.catalogs,
                                                          content.default_language))
    failures = []
    print(f"{WORDS_PER_MINUTE} words a minute, {ANSWER_SECONDS:.0f} s per answer, every sentence heard in full; "
          f"'Press 1 for yes' dropped after {KEYS_DROPPED_AFTER} answers")
    summary = []
    for connector in ANSWERS["connector"]:
        marks = walk(connector, content)
        with_id = walk(connector, station_content, station_on=True)
        print(f"\n{connector}:  {'words':>5} {'seconds':>8}  answers")
        for mark in marks:
            print(f"  {mark.label:44} {mark.words:5} {mark.seconds:8.1f}  {mark.answers}")
        first, first_id = first_action(marks), first_action(with_id)
        end, end_id = marks[-1], with_id[-1]
        summary.append((connector, first, first_id, end, end_id))
        for flow_name, mark in (("as shipped", first), ("station ID on", first_id)):
            if mark is None or mark.seconds > FIRST_ACTION_SECONDS:
                failures.append(f"{connector} ({flow_name}): first physical action at "
                                f"{f'{mark.seconds:.1f}' if mark else 'never'} s (target {FIRST_ACTION_SECONDS:.0f})")
        if connector == "ccs" and (end.label != "end: agent" or end.seconds > PERSON_SECONDS):
            failures.append(f"ccs: a failed call reaches a person at {end.seconds:.1f} s (target {PERSON_SECONDS:.0f})")
    print("\nper connector, seconds from the answer     first action      a person (every step failed)")
    print(f"  {'':10} {'as shipped':>14} {'station ID on':>14} {'as shipped':>14} {'station ID on':>14}")
    for connector, first, first_id, end, end_id in summary:
        print(f"  {connector:10} {first.seconds:14.1f} {first_id.seconds:14.1f} {end.seconds:14.1f} {end_id.seconds:14.1f}")
    soft = walk("ccs", content, answers={"ccs_button": "yes", "ccs_recheck": "yes"})[-1]
    slow = first_action(walk("ccs", content, session_ended=False))
    wont = walk("ccs", content, session_ended=False, answers={"stop_session": "no", "car_wont_stop": "no"})[-1]
    print(f"\nCCS with a soft button that still won't come out: a person at {soft.seconds:.1f} s")
    print(f"CCS, the session had not ended: first physical action at {slow.seconds:.1f} s")
    print(f"CCS, a car that won't stop charging: a person at {wont.seconds:.1f} s")
    print()
    for failure in failures:
        print("MISS", failure)
    if not failures:
        print(f"met: first physical action within {FIRST_ACTION_SECONDS:.0f} s for every connector, with and "
              f"without the station ID; a failed CCS call reaches a person within {PERSON_SECONDS:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

""""What car is it?" (issue 15): what an answer to it means, and what a car's nodes say.

Pure, and apart from the engine, which calls three functions: ``heard`` (the question's
answer and the car the call then carries), ``case`` (a branch on `car` or `car_release`
for a car named earlier) and ``tips`` (the prompt keys a `tips:` node says before its
question). The cars' facts and their order are ivr.call.vehicles'; this module decides
only how a call uses them.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from ivr.call import vehicles as cars
from ivr.language import phrases

Found = cars.Entry | cars._Unknown


def heard(vehicles: cars.Vehicles | None, words: Mapping[str, Sequence[str]], text: str, intent: str,
          by: str, named: str | None, connector: str | None) -> tuple[str, str] | None:
    """(the answer, the car to carry), or None: ask again (words that name no car).

    `words` are the question's own (`words:` in the prompts file: "other", "I don't know");
    `text` what was heard (a key: the keypad list); `named` the car the reader heard, if
    any ("Kia Niro"). A car with notes is carried by a short name that reads back as it;
    one without, as said; "other" and "I don't know" as "unknown"."""
    said = phrases.match(text, words) if text else None
    if said is None and intent == "dont_know":
        said = "unknown"
    entry: Found | None = None
    if said is None and vehicles is not None:
        if by == "keys" or text.isdigit():
            entry = cars.from_keys(vehicles, text)
        else:
            entry = cars.match(vehicles, text)
            if not entry and not named and not cars.names_another_car(vehicles, text):
                entry = None                               # no car in it
    if said is None and entry is None:
        return None
    if vehicles is None:
        return said or "unknown", cars.UNKNOWN.name
    if isinstance(entry, cars.Entry):
        car = cars.label(vehicles, entry, named)
    else:
        car = (_unlisted(vehicles, text, by, named) if entry is not None else None) or cars.UNKNOWN.name
    return said or cars.answer_for(vehicles, entry or cars.UNKNOWN, connector), car


def _unlisted(vehicles: cars.Vehicles, text: str, by: str, named: str | None) -> str | None:
    """A car without notes, for the records and the whisper: the reader's name ("Kia Niro")
    unless that is a car we know, else the words said ("rivian r2")."""
    if named and not cars.match(vehicles, named):
        return named
    said = text[:40].strip()
    return said if by != "keys" and not said.isdigit() and cars.LABEL.fullmatch(said) else None


def case(vehicles: cars.Vehicles | None, car: str | None, variable: str, connector: str | None) -> str | None:
    """A branch on `car`: the car question's answer for a car named earlier, else None (ask
    it); on `car_release`: "no_release" for a car without a manual release, else "release"."""
    if not car or vehicles is None:
        return None
    entry = cars.match(vehicles, car)
    if variable == "car_release":
        return "no_release" if cars.has_no_release(entry) else "release"
    return cars.answer_for(vehicles, entry, connector)


def tips(vehicles: cars.Vehicles | None, kind: str | None, car: str | None, connector: str | None,
         charging_stopped: bool, asked: Sequence[str]) -> tuple[str, ...]:
    """What a `tips:` node says before its question: `car`, the tips to try first; `car_release`,
    the manual release, only once charging has stopped (or that there is none)."""
    if not kind or vehicles is None:
        return ()
    entry = cars.match(vehicles, car) if car else cars.UNKNOWN
    keys = (cars.before_release(vehicles, entry, connector) if kind == "car"
            else cars.release_part(vehicles, entry, connector, charging_stopped))
    return tuple(k for k in keys if k not in asked)

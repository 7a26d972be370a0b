"""One codec for the state every webhook's URL carries, so any worker can take the next turn.

Pure. Twilio signs the whole action URL, so the state needs no signature of its
own; it only has to be read strictly: anything malformed is BadState, and the
web layer gives the caller an apology and a person.

The keys, each parsed in one place:

  node lang tries rep mode path conn st hz car ad by
         the release flow's CallState (ivr.call.engine.CallState.from_params)
  ch     the hand-off chain: f = fallback, a = after hours, r = after a release
  at     the link of the chain being run (-1: none yet)
  done   codes of the links already run (ivr.call.escalation.LINK_CODES)
  ot     tries at the current offer or entry (one digit)
  sc     the station ID read back, waiting for yes or no
  step   the call-back dialogue: confirm (a number read back) or enter (keying one)
  cb     the call-back number being confirmed, E.164 without its +
  leg    which dial ended: 1 the agent line, 2 the second agent
  empty  1: the voicemail's Record ended with nothing recorded
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal, cast

from ivr.basics import ids, phone
from ivr.call import escalation
from ivr.call.engine import BadState, CallState
from ivr.call.escalation import Escalation
from ivr.call.flow import Flow

ChainName = Literal["f", "a", "r"]
CHAINS: dict[str, str] = {"f": "fallback", "a": "after_hours", "r": "released"}
CallbackStep = Literal["confirm", "enter"]
PLACE_KEYS = ("ch", "at", "done", "ot", "sc", "step", "cb", "leg", "empty")   # beside CallState's own


@dataclass(frozen=True)
class Place:
    """The whole state of a call between two webhooks: the release flow's state, where
    the call is in the hand-off chain, and what the next webhook is waiting for."""

    state: CallState
    chain: ChainName = "f"
    at: int = -1
    done: str = ""
    tries: int = 0
    candidate: str | None = None          # sc
    step: CallbackStep | None = None      # step
    callback: str | None = None           # cb, in E.164
    leg: int | None = None              # leg: set on a dial's action URL
    empty: bool = False

    def links(self, esc: Escalation) -> tuple[str, ...]:
        return esc.chain(CHAINS[self.chain])

    def link(self, esc: Escalation) -> str | None:
        links = self.links(esc)
        return links[self.at] if 0 <= self.at < len(links) else None

    def did(self, link: str) -> Place:
        """The place after `link` ran (it will not be offered again, nor its alternative)."""
        return replace(self, done=self.done + escalation.LINK_CODES[link])

    def settled(self) -> Place:
        """Without what one webhook was waiting for (the read-back, the call-back step, the leg)."""
        return replace(self, candidate=None, step=None, callback=None, leg=None, empty=False)


def encode(place: Place) -> dict[str, str]:
    """The URL's query parameters; defaults are left out."""
    params = place.state.to_params()
    if place.chain != "f":
        params["ch"] = place.chain
    if place.at != -1:
        params["at"] = str(place.at)
    if place.done:
        params["done"] = place.done
    if place.tries:
        params["ot"] = str(place.tries)
    if place.candidate:
        params["sc"] = place.candidate
    if place.step:
        params["step"] = place.step
    if place.callback:
        params["cb"] = place.callback.lstrip("+")
    if place.leg is not None:
        params["leg"] = str(place.leg)
    if place.empty:
        params["empty"] = "1"
    return params


def decode(params: Mapping[str, str], flow: Flow, languages: Iterable[str], *, questions_only: bool = False) -> Place:
    """The place an action URL names; BadState if any key is malformed. `questions_only`:
    the release flow's answer URL, which always names a question."""
    state = CallState.from_params(params, flow, tuple(languages), questions_only=questions_only)
    if not any(key in params for key in PLACE_KEYS):
        return Place(state)     # a release-flow URL: nothing more to read (most webhooks)
    chain = params.get("ch", "f")
    if chain not in CHAINS:
        raise BadState(f"unknown chain {chain!r}")
    at = _count(params, "at", r"-1|\d", -1)
    done = params.get("done", "")
    if any(code not in escalation.LINK_CODES.values() for code in done) or len(done) > len(escalation.LINK_CODES):
        raise BadState("unknown links done")
    candidate = params.get("sc") or None
    if candidate is not None and not ids.is_station_id(candidate):
        raise BadState("bad station ID read back")
    step = params.get("step") or None
    if step not in (None, "confirm", "enter"):
        raise BadState(f"unknown call-back step {step!r}")
    callback = phone.e164("+" + params["cb"]) if params.get("cb") else None
    if params.get("cb") and (callback is None or not params["cb"].isdigit()):
        raise BadState("bad call-back number")
    if step == "confirm" and callback is None:
        raise BadState("a call-back number to confirm is missing")
    empty = params.get("empty", "")
    if empty not in ("", "1"):
        raise BadState("bad empty flag")
    return Place(state, chain=cast(ChainName, chain), at=at, done=done,
                 tries=_count(params, "ot", r"\d", 0), candidate=candidate, step=cast("CallbackStep | None", step),
                 callback=callback, leg=_number(params, "leg", r"[12]"), empty=empty == "1")


def _count(params: Mapping[str, str], key: str, pattern: str, default: int) -> int:
    value = _number(params, key, pattern)
    return default if value is None else value


def _number(params: Mapping[str, str], key: str, pattern: str) -> int | None:
    raw = params.get(key)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(pattern, raw):
        raise BadState(f"bad {key!r}")
    return int(raw)

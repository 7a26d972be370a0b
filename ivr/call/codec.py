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
  ev     the identified charger (issue 14): `<location id>~<evse uid>`; the line acts on no other
  el     its label, as the whisper says it (physical_reference or evse_id)
  sr     the last station command's result, for the whisper: stop-ok, unlock-failed, ...
  rd     the session questions whose station status was read (their indexes, once each)
  cmd    the station command being waited on (its id); `wf` what for: s stop, u unlock, h hazard stop
  ws     when it was sent (epoch seconds); `wt` the listening turns so far
  uc     the connector the agent may unlock (the whisper's offer); `ua` 1: automatic unlock asked
  ec     a charger of the site read back, waiting for yes or no (`<location id>~<evse uid>`, with `el`)
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
STATION_KEYS = ("ev", "el", "sr", "rd", "cmd", "wf", "ws", "wt", "uc", "ua", "ec")
Waiting = Literal["s", "u", "h"]
_OCPI_ID = r"[A-Za-z0-9][A-Za-z0-9._*:-]{0,35}"   # OCPI CiString(36) ids as CPOs write them
_EVSE_REF = re.compile(rf"({_OCPI_ID})~({_OCPI_ID})")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9 *._:-]{0,47}")
_COMMAND_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_RESULT = re.compile(r"(stop|unlock)-(ok|pending|rejected|unknown_session|not_supported|failed|timeout|down)")


@dataclass(frozen=True)
class StationPlace:
    """The station in the call (issue 14): the charger the line may act on, the last
    command's result, and the command being waited on. `carried()` is what every
    later webhook keeps; the wait's keys belong to the wait's own webhooks."""

    location_id: str | None = None      # ev, with evse_uid: the identified EVSE
    evse_uid: str | None = None
    label: str | None = None            # el
    result: str | None = None           # sr: "stop-ok"
    read: str = ""                      # rd: indexes of the session questions read
    command_id: str | None = None       # cmd
    waiting: Waiting | None = None      # wf
    sent_at: int | None = None          # ws
    turn: int = 0                       # wt
    unlock_connector: str | None = None  # uc
    hold_asked: bool = False            # ua
    candidate: str | None = None        # ec: "<location id>~<evse uid>" read back, not yet confirmed

    @property
    def identified(self) -> bool:
        return bool(self.location_id and self.evse_uid)

    def carried(self) -> StationPlace:
        """What the next, unrelated webhook keeps: the EVSE, the result, the reads, the offer."""
        return StationPlace(self.location_id, self.evse_uid, self.label, self.result, self.read,
                            unlock_connector=self.unlock_connector, hold_asked=self.hold_asked)

    def to_params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.identified:
            params["ev"] = f"{self.location_id}~{self.evse_uid}"
        for key, value in (("el", self.label), ("sr", self.result), ("rd", self.read), ("cmd", self.command_id),
                           ("wf", self.waiting), ("uc", self.unlock_connector)):
            if value:
                params[key] = value
        if self.sent_at is not None:
            params["ws"] = str(self.sent_at)
        if self.turn:
            params["wt"] = str(self.turn)
        if self.hold_asked:
            params["ua"] = "1"
        if self.candidate:
            params["ec"] = self.candidate
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> StationPlace:
        """Strict: any malformed station key is BadState."""
        location_id = evse_uid = None
        if params.get("ev"):
            match = _EVSE_REF.fullmatch(params["ev"])
            if match is None:
                raise BadState("bad EVSE")
            location_id, evse_uid = match.groups()
        label = params.get("el") or None
        if label is not None and not _LABEL.fullmatch(label):
            raise BadState("bad EVSE label")
        result = params.get("sr") or None
        if result is not None and not _RESULT.fullmatch(result):
            raise BadState("bad station result")
        read = params.get("rd", "")
        if not re.fullmatch(r"[0-9]{0,3}", read):
            raise BadState("bad station reads")
        command_id = params.get("cmd") or None
        if command_id is not None and not _COMMAND_ID.fullmatch(command_id):
            raise BadState("bad station command")
        waiting = params.get("wf") or None
        if waiting not in (None, "s", "u", "h"):
            raise BadState("bad station wait")
        if (command_id is None) != (waiting is None) or (command_id is not None and location_id is None):
            raise BadState("a station wait needs its command and its EVSE")
        unlock = params.get("uc") or None
        if unlock is not None and not re.fullmatch(_OCPI_ID, unlock):
            raise BadState("bad connector to unlock")
        hold = params.get("ua", "")
        if hold not in ("", "1"):
            raise BadState("bad hold flag")
        if (unlock is not None or hold) and location_id is None:
            raise BadState("an unlock needs its EVSE")
        candidate = params.get("ec") or None
        if candidate is not None and (not _EVSE_REF.fullmatch(candidate) or location_id is not None):
            raise BadState("bad charger read back")
        return cls(location_id, evse_uid, label, result, read, command_id, cast("Waiting | None", waiting),
                   _number(params, "ws", r"\d{9,11}"), _count(params, "wt", r"\d{1,2}", 0), unlock, hold == "1",
                   candidate)


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
    station: StationPlace = StationPlace()   # ev el sr rd cmd wf ws wt uc ua (issue 14)

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
        return replace(self, candidate=None, step=None, callback=None, leg=None, empty=False,
                       station=self.station.carried())


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
    params.update(place.station.to_params())
    return params


def decode(params: Mapping[str, str], flow: Flow, languages: Iterable[str], *, questions_only: bool = False) -> Place:
    """The place an action URL names; BadState if any key is malformed. `questions_only`:
    the release flow's answer URL, which always names a question."""
    state = CallState.from_params(params, flow, tuple(languages), questions_only=questions_only)
    station = StationPlace() if params.keys().isdisjoint(STATION_KEYS) else StationPlace.from_params(params)
    if params.keys().isdisjoint(PLACE_KEYS):
        return Place(state, station=station)   # a release-flow URL: nothing more to read (most webhooks)
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
                 callback=callback, leg=_number(params, "leg", r"[12]"), empty=empty == "1", station=station)


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

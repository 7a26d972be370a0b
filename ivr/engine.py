"""The call engine: given where a call is and what the caller meant, decide what
happens next.

Pure: no Flask, no XML, no database. A call's whole position is a CallState,
small enough to travel in the action URL that Twilio signs and sends back, so
any worker, before or after a restart, can take the next turn.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Mapping

from . import phrases
from .flow import Flow, Node
from .prompts import Catalog

MODES = ("ask", "wait", "confirm")
MAX_PATH = 40
MAX_HOPS = 64
WAIT_SECONDS = 30
CONFIRM_SECONDS = 8
STATION_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")


class BadState(ValueError):
    """The action URL does not describe a place in this flow."""


@dataclass(frozen=True)
class CallState:
    """Where a call is: the question being asked and what led there."""

    node: str
    lang: str = "en-US"
    tries: int = 0
    repeats: int = 0
    mode: str = "ask"
    path: tuple[str, ...] = ()
    connector: str | None = None
    station: str | None = None     # the station ID the caller confirmed (ivr/station.py)
    adapter: bool | None = None    # is there an adapter? None while unknown (flow variable `adapter`)

    def to_params(self) -> dict[str, str]:
        params = {"node": self.node, "lang": self.lang}
        if self.tries:
            params["tries"] = str(self.tries)
        if self.repeats:
            params["rep"] = str(self.repeats)
        if self.mode != "ask":
            params["mode"] = self.mode
        if self.path:
            params["path"] = ".".join(self.path)
        if self.connector:
            params["conn"] = self.connector
        if self.station:
            params["st"] = self.station
        if self.adapter is not None:
            params["ad"] = "1" if self.adapter else "0"
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, str], flow: Flow, languages,
                    questions_only: bool = True) -> "CallState":
        """Parse and check; the hand-off URLs may also name the end node reached."""
        node = params.get("node", "")
        if node not in flow or (questions_only and flow[node].kind != "ask"):
            raise BadState(f"no question {node!r} in flow {flow.name}")
        lang = params.get("lang", "")
        if lang not in languages:
            raise BadState(f"unknown language {lang!r}")
        path = tuple(p for p in params.get("path", "").split(".") if p)
        if len(path) > MAX_PATH or any(p not in flow for p in path):
            raise BadState("path names nodes this flow does not have")
        mode = params.get("mode", "ask")
        if mode not in MODES:
            raise BadState(f"unknown mode {mode!r}")
        connector = params.get("conn") or None
        if connector is not None and not re.fullmatch(r"[a-z0-9]{1,12}", connector):
            raise BadState("bad connector")
        station = params.get("st") or None
        if station is not None and not STATION_ID.fullmatch(station):
            raise BadState("bad station ID")
        adapter = params.get("ad")
        if adapter not in (None, "", "0", "1"):
            raise BadState("bad adapter")
        return cls(node=node, lang=lang, tries=_small_int(params.get("tries")),
                   repeats=_small_int(params.get("rep")), mode=mode, path=path,
                   connector=connector, station=station,
                   adapter=None if not adapter else adapter == "1")


def _small_int(raw: str | None) -> int:
    if not raw:
        return 0
    if not raw.isdigit() or len(raw) > 2:
        raise BadState("counter out of range")
    return int(raw)


@dataclass(frozen=True)
class Line:
    """One sentence to speak; slow when the caller has asked twice to hear it again."""

    text: str
    slow: bool = False
    voice: str | None = None      # another language's voice, e.g. for "Para español..."
    language: str | None = None


@dataclass(frozen=True)
class Question:
    """Listen for an answer: keypad and speech, for `timeout` seconds."""

    expecting: str
    timeout: int
    state: CallState


@dataclass(frozen=True)
class Reply:
    """What the bot does this turn.

    Either `question` is set (speak `lines` inside a gather) or `outcome` is
    (speak `lines`, then end: released, hazard, goodbye; or agent: transfer).
    `action` names what the bot did, for the records.
    """

    lines: tuple[Line, ...]
    action: str
    state: CallState
    question: Question | None = None
    outcome: str | None = None
    node: str | None = None


@dataclass(frozen=True)
class Heard:
    """The engine's view of an answer; understanding.Understanding fits it."""

    intent: str
    certain: bool = True
    heard: str = ""
    adapter: bool = False   # "a Tesla with a CCS adapter": an adapter heard with the answer


class Engine:
    def __init__(self, flow: Flow, catalogs: Mapping[str, Catalog], default_language: str = "en-US"):
        self.flow = flow
        self.catalogs = catalogs
        self.default_language = default_language
        self.safety_nodes = flow.reachable([flow.globals["hazard"]]) if "hazard" in flow.globals else frozenset()

    # -- starting and moving ---------------------------------------------------

    def start(self, lang: str | None = None) -> Reply:
        state = CallState(node=self.flow.start, lang=lang or self.default_language)
        return self._enter(self.flow.start, state, (), action="start")

    def expecting(self, state: CallState) -> str:
        """Which kind of answer the current turn listens for."""
        if state.mode == "wait":
            return "any"
        if state.mode == "confirm":
            return "yes_no"
        return self.flow[state.node].expect

    def answer(self, state: CallState, heard: Heard) -> Reply:
        node = self.flow[state.node]
        intent = heard.intent
        if getattr(heard, "adapter", False) and state.adapter is not True:  # the flow's `adapter` variable
            state = replace(state, adapter=True)
        if intent == "hazard":
            return self._global(state, "hazard")
        if intent == "agent":
            return self._global(state, "agent")
        if intent == "spanish" or intent.startswith("language_"):
            return self._switch_language(state, node, heard)
        if state.mode == "wait":
            return self._after_wait(state, node, heard)
        if state.mode == "confirm":
            return self._after_confirm(state, node, heard)
        if intent == "wait":
            return self._wait(state)
        if intent == "repeat":
            return self._ask(node, replace(state, repeats=state.repeats + 1), (), action="repeat")
        if intent == "back":
            if node.id in self.safety_nodes:  # no release step after a hazard
                return self._ask(node, state, (), action="back:blocked")
            return self._back(state, node)
        if intent == "help":
            return self._ask(node, state, (self._line(state, "help"),), short=True, action="help")
        if intent == "silence":
            return self._retry(state, node, "silence", node.silence)
        key = answer_key(intent, node.expect)
        if heard.heard and (intent == "unclear" or (node.expect == "yes_no" and intent in ("yes", "no"))):
            # The question's own words ("it's rigid", "not charging") say more
            # than a bare yes or no found in the same sentence.
            key = phrases.match(heard.heard, self._catalog(state).words.get(node.id, {})) or key
        if key in node.on:
            if key == "released" and not heard.certain:
                return self._confirm(state)
            return self._go(node, state, key)
        if intent == "released" and "released" in self.flow.globals and node.id not in self.safety_nodes:
            # "It came out" while we asked something else: good news, but check.
            return self._confirm(state)
        return self._retry(state, node, "not_understood", node.not_understood)

    def ask(self, state: CallState, lead: tuple[Line, ...] = (), action: str = "ask") -> Reply:
        """The current question in full, with its lead-in: after a detour such as the station ID."""
        return self._ask(self.flow[state.node], state, tuple(lead), action=action, arriving=True)

    # -- the moves ---------------------------------------------------------------

    def _go(self, node: Node, state: CallState, key: str) -> Reply:
        if node.sets == "connector":
            state = replace(state, connector=key)
        elif node.sets == "adapter" and key in ("yes", "no"):
            state = replace(state, adapter=key == "yes")
        moved = replace(state, path=(state.path + (node.id,))[-MAX_PATH:])
        return self._enter(node.on[key], moved, (), action=f"answer:{key}")

    def _global(self, state: CallState, command: str) -> Reply:
        target = self.flow.globals[command]
        path = state.path if state.node == target else (state.path + (state.node,))[-MAX_PATH:]
        return self._enter(target, replace(state, path=path, mode="ask"), (), action=command)

    def _retry(self, state: CallState, node: Node, why: str, give_up_to: str | None) -> Reply:
        tries = state.tries + 1
        if tries > self.flow.retries and give_up_to:
            moved = replace(state, path=(state.path + (node.id,))[-MAX_PATH:])
            return self._enter(give_up_to, moved, (), action=f"{why}:give_up")
        lead = (self._line(state, why),)
        return self._ask(node, replace(state, tries=tries, mode="ask"), lead, short=True, action=f"{why}:reprompt")

    def _wait(self, state: CallState) -> Reply:
        waiting = replace(state, mode="wait")
        return Reply(lines=(self._line(state, "wait"),), action="wait", state=waiting,
                     question=Question("any", WAIT_SECONDS, waiting), node=state.node)

    def _after_wait(self, state: CallState, node: Node, heard: Heard) -> Reply:
        resumed = replace(state, mode="ask", tries=0)
        if heard.intent == "wait":
            return self._wait(state)
        if heard.intent == "released":
            return self._confirm(resumed)
        key = answer_key(heard.intent, node.expect)
        if heard.intent == "still_stuck" and key in node.on:
            return self._go(node, resumed, key)
        # Anything else ("continue", a key, silence): the same step again, in full.
        return self._ask(node, resumed, (self._line(state, "resume"),), action="resume")

    def _confirm(self, state: CallState) -> Reply:
        confirming = replace(state, mode="confirm")
        return Reply(lines=(self._line(state, "confirm_released"), self._line(state, "keys_yes_no")),
                     action="confirm", state=confirming,
                     question=Question("yes_no", CONFIRM_SECONDS, confirming), node=state.node)

    def _after_confirm(self, state: CallState, node: Node, heard: Heard) -> Reply:
        back_to_ask = replace(state, mode="ask", tries=0)
        if heard.intent in ("yes", "released"):
            target = node.on.get("released") or self.flow.globals["released"]
            moved = replace(back_to_ask, path=(state.path + (node.id,))[-MAX_PATH:])
            return self._enter(target, moved, (), action="confirmed:released")
        if heard.intent in ("no", "still_stuck"):
            if "still_stuck" in node.on:
                return self._go(node, back_to_ask, "still_stuck")
            return self._ask(node, back_to_ask, (self._line(state, "keep_going"),), action="confirmed:stuck")
        if heard.intent == "repeat":
            return self._confirm(state)
        if heard.intent == "wait":
            return self._wait(back_to_ask)
        # Unclear or silent: ask again; never end the call on a guess.
        tries = state.tries + 1
        if tries > self.flow.retries:
            return self._retry(replace(back_to_ask, tries=tries), node, "not_understood", node.not_understood)
        again = self._confirm(replace(state, tries=tries))
        return replace(again, lines=(self._line(state, "not_understood"),) + again.lines,
                       action="confirm:reprompt")

    def _back(self, state: CallState, node: Node) -> Reply:
        previous = [p for p in state.path if self.flow[p].kind == "ask"]
        if not previous:
            return self._ask(node, state, (self._line(state, "first_step"),), action="back:first")
        target = previous[-1]
        cut = len(state.path) - 1 - state.path[::-1].index(target)
        return self._ask(self.flow[target], replace(state, node=target, path=state.path[:cut], tries=0, repeats=0, mode="ask"), (), action="back")

    def _switch_language(self, state: CallState, node: Node, heard: Heard) -> Reply:
        wanted = "es-US" if heard.intent == "spanish" else heard.intent.removeprefix("language_")
        if wanted not in self.catalogs or wanted == state.lang:
            return self._retry(state, node, "not_understood", node.not_understood)
        switched = replace(state, lang=wanted, mode="ask", tries=0)
        return self._ask(node, switched, (self._line(switched, "language_switched"),), action=f"language:{wanted}")

    # -- speaking ----------------------------------------------------------------

    def _enter(self, node_id: str, state: CallState, lead: tuple[Line, ...], action: str) -> Reply:
        """Follow say and branch nodes to the next question or end."""
        lines = list(lead)
        for _ in range(MAX_HOPS):
            node = self.flow[node_id]
            if node.kind == "say":
                lines += self._lines(state, node.say)
                if node_id == self.flow.start:
                    lines += self._language_offers(state)
                node_id = node.next
            elif node.kind == "branch":
                node_id = node.cases.get(_variable(state, node.branch) or "", node.default)
            elif node.kind == "end":
                lines += self._lines(state, node.say)
                ended = replace(state, node=node_id, mode="ask", tries=0, repeats=0)
                return Reply(lines=tuple(lines), action=action, state=ended, outcome=node.end, node=node_id)
            else:
                fresh = replace(state, node=node_id, mode="ask", tries=0, repeats=0)
                return self._ask(node, fresh, tuple(lines), action=action, arriving=True)
        raise RuntimeError(f"flow {self.flow.name}: more than {MAX_HOPS} say/branch nodes in a row from {node_id!r}")

    def _ask(self, node: Node, state: CallState, lead: tuple[Line, ...], action: str,
             short: bool = False, arriving: bool = False) -> Reply:
        slow = state.repeats >= 2
        if short and node.reprompt:
            body = self._lines(state, (node.reprompt,))
        else:
            body = self._lines(state, (node.say if arriving else ()) + node.ask, slow=slow)
        keys = self._lines(state, (f"keys_{node.expect}",), slow=slow)
        asking = replace(state, node=node.id)
        return Reply(lines=tuple(lead) + body + keys, action=action, state=asking,
                     question=Question(node.expect, node.timeout, asking), node=node.id)

    def _language_offers(self, state: CallState) -> tuple[Line, ...]:
        """'Para español, oprima 9': each offered language speaks for itself."""
        offers = []
        for language in self.flow.settings.get("offer_languages", ()):
            catalog = self.catalogs.get(language)
            if catalog is not None and language != state.lang:
                offers.append(Line(catalog.text("language_offer"), voice=catalog.voice, language=language))
        return tuple(offers)

    def _catalog(self, state: CallState) -> Catalog:
        return self.catalogs.get(state.lang) or self.catalogs[self.default_language]

    def _line(self, state: CallState, key: str) -> Line:
        return Line(self._catalog(state).text(key))

    def _lines(self, state: CallState, keys, slow: bool = False) -> tuple[Line, ...]:
        catalog = self._catalog(state)
        texts = (catalog.text_for(k, state.connector) for k in keys)   # `key@connector` variants
        return tuple(Line(text, slow) for text in texts if text)


def _variable(state: CallState, name: str | None) -> str | None:
    """A flow variable's value as a branch's case: the connector, or yes/no for the adapter."""
    if name == "adapter":
        return None if state.adapter is None else ("yes" if state.adapter else "no")
    return state.connector


def answer_key(intent: str, expect: str | None) -> str | None:
    """Map an understood intent to the answer names a question's `on` uses."""
    if expect == "released":
        return {"yes": "released", "no": "still_stuck"}.get(intent, intent)
    if expect == "connector":
        return intent.removeprefix("connector_") if intent.startswith("connector_") else None
    return intent


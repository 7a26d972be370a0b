"""The call engine: given where a call is and what the caller meant, decide what
happens next.

Pure: no Flask, no XML, no database. A call's whole position is a CallState,
small enough to travel in the action URL that Twilio signs and sends back, so
any worker, before or after a restart, can take the next turn.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ivr.basics import ids
from ivr.basics.kinds import EndKind
from ivr.call import car_question
from ivr.call import vehicles as cars
from ivr.call.flow import CHARGING_STOPPED_NODE, Flow, Node
from ivr.language import phrases
from ivr.language.prompts import Catalog

# ask: the node's question; wait: "take your time"; confirm: "is it really out?";
# hot: "is the plug or the charger hot, smoking or sparking?"; resume: "welcome back,
# carry on from there?".
MODES = ("ask", "wait", "confirm", "hot", "resume")
# A hazard, once heard, holds for the rest of the call; fire outranks damage.
HAZARD_TIERS = {"f": "fire", "d": "damage"}
TIER_COMMAND = {"fire": "hazard", "damage": "damage"}
# How the caller left each question on the path: what the whisper reports.
RESULT_CODES = {"yes": "y", "no": "n", "released": "r", "still_stuck": "s", "agent": "a",
                "hazard": "h", "damage": "d", "emergency_stop": "e", "give_up": "g"}
RESULTS = {code: result for result, code in RESULT_CODES.items()}
CAR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .'-]{0,39}")
MAX_PATH = 40
MAX_HOPS = 64
WAIT_SECONDS = 30
CONFIRM_SECONDS = 8


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
    station: str | None = None     # the station ID the caller confirmed (ivr/call/station.py)
    hazard: str | None = None      # "fire" or "damage": once set, never cleared
    results: tuple[str, ...] = ()  # beside `path`: how each question was left (RESULTS)
    car: str | None = None         # the car the caller named ("Nissan Leaf")
    adapter: bool | None = None    # is there an adapter? None while unknown (flow variable `adapter`)
    answered_by: str = ""          # "k2": the last two answers were keys ("s" speech)

    def __post_init__(self) -> None:
        if len(self.results) != len(self.path):   # one result per step, "" when unknown
            padded = (self.results + ("",) * len(self.path))[:len(self.path)]
            object.__setattr__(self, "results", padded)

    def to_params(self) -> dict[str, str]:
        params = {"node": self.node, "lang": self.lang}
        if self.tries:
            params["tries"] = str(self.tries)
        if self.repeats:
            params["rep"] = str(self.repeats)
        if self.mode != "ask":
            params["mode"] = self.mode
        if self.path:
            params["path"] = ".".join(f"{node}-{result}" if result else node
                                      for node, result in zip(self.path, self.results))
        if self.connector:
            params["conn"] = self.connector
        if self.station:
            params["st"] = self.station
        if self.hazard:
            params["hz"] = self.hazard[0]
        if self.car:
            params["car"] = self.car
        if self.adapter is not None:
            params["ad"] = "1" if self.adapter else "0"
        if self.answered_by:
            params["by"] = self.answered_by
        return params

    def left(self, node_id: str, result: str) -> CallState:
        """The state after leaving question `node_id` with `result` (a RESULT_CODES key)."""
        return replace(self, path=(self.path + (node_id,))[-MAX_PATH:],
                       results=(self.results + (RESULT_CODES.get(result, ""),))[-MAX_PATH:])

    def result_of(self, node_id: str) -> str | None:
        """How the caller last left `node_id` ("still_stuck", "no", "agent"...), if they did."""
        for node, code in zip(reversed(self.path), reversed(self.results)):
            if node == node_id:
                return RESULTS.get(code)
        return None

    def with_hazard(self, tier: str) -> CallState:
        """Fire outranks damage; nothing lowers a hazard."""
        return self if self.hazard == "fire" else replace(self, hazard=tier)

    @classmethod
    def from_params(cls, params: Mapping[str, str], flow: Flow, languages: Iterable[str],
                    questions_only: bool = True) -> CallState:
        """Parse and check; the hand-off URLs may also name the end node reached."""
        node = params.get("node", "")
        if node not in flow or (questions_only and flow[node].kind != "ask"):
            raise BadState(f"no question {node!r} in flow {flow.name}")
        lang = params.get("lang", "")
        if lang not in languages:
            raise BadState(f"unknown language {lang!r}")
        steps = [p.partition("-") for p in params.get("path", "").split(".") if p]
        path = tuple(node for node, _, _ in steps)
        results = tuple(code for _, _, code in steps)
        if len(path) > MAX_PATH or any(p not in flow for p in path):
            raise BadState("path names nodes this flow does not have")
        if any(code and code not in RESULTS for code in results):
            raise BadState("path carries an unknown result")
        mode = params.get("mode", "ask")
        if mode not in MODES:
            raise BadState(f"unknown mode {mode!r}")
        connector = params.get("conn") or None
        if connector is not None and not re.fullmatch(r"[a-z0-9]{1,12}", connector):
            raise BadState("bad connector")
        station = params.get("st") or None
        if station is not None and not ids.is_station_id(station):
            raise BadState("bad station ID")
        hazard = HAZARD_TIERS.get(params.get("hz", "")) if params.get("hz") else None
        if params.get("hz") and hazard is None:
            raise BadState("bad hazard tier")
        car = params.get("car") or None
        if car is not None and not CAR_NAME.fullmatch(car):
            raise BadState("bad car name")
        answered_by = params.get("by", "")
        if answered_by and not re.fullmatch(r"[ks][12]", answered_by):
            raise BadState("bad answer counter")
        adapter = params.get("ad")
        if adapter not in (None, "", "0", "1"):
            raise BadState("bad adapter")
        return cls(node=node, lang=lang, tries=_small_int(params.get("tries")),
                   repeats=_small_int(params.get("rep")), mode=mode, path=path,
                   connector=connector, station=station, hazard=hazard, results=results,
                   car=car, adapter=None if not adapter else adapter == "1", answered_by=answered_by)


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
    outcome: EndKind | None = None
    node: str | None = None


@dataclass(frozen=True)
class Heard:
    """The engine's view of an answer; understanding.Understanding fits it."""

    intent: str
    certain: bool = True
    heard: str = ""
    car: str | None = None       # a car named in the same breath ("it's a Nissan Leaf")
    adapter: bool = False        # "with a CCS adapter"
    by: str = ""                 # "keys" or "speech": how the caller answered

    @classmethod
    def of(cls, understood: Any, by: str = "") -> Heard:
        """The engine's view of an ivr.call.understanding.Understanding."""
        return cls(understood.intent, understood.certain, understood.heard,
                   car=getattr(understood, "car", None), adapter=getattr(understood, "adapter", False), by=by)


class Engine:
    """Decides each turn. Every reply leaves through `_held`, which keeps a call that
    has reported a hazard in the hazard's nodes whatever the caller says next."""

    def __init__(self, flow: Flow, catalogs: Mapping[str, Catalog], default_language: str = "en-US",
                 vehicles: cars.Vehicles | None = None):
        self.flow = flow
        self.catalogs = catalogs
        self.vehicles = vehicles      # flows/vehicles.yaml: "What car is it?" (issue 15)
        self.default_language = default_language
        self.safety_nodes = flow.hazard_nodes if "hazard" in flow.globals else frozenset()

    # -- the entry points: each reply passes `_held` --------------------------------

    def start(self, lang: str | None = None) -> Reply:
        state = CallState(node=self.flow.start, lang=lang or self.default_language)
        return self._held(self._enter(self.flow.start, state, (), action="start"))

    def resume(self, earlier: CallState, lang: str | None = None) -> Reply:
        """A caller back within minutes of a call that dropped mid-flow: offer to carry on.

        A hazard in the earlier call is not forgotten: they hear the safety advice again."""
        state = replace(earlier, lang=lang or earlier.lang, mode="ask", tries=0, repeats=0)
        welcome = (self._line(state, "welcome_back"),)
        if state.hazard:
            return self._held(self._enter(self._hazard_node(state), state, welcome, action="resume:hazard"))
        node = self.flow[state.node]
        if node.kind != "ask":
            return self.start(state.lang)
        return self._held(self._resume_offer(replace(state, mode="resume"), welcome))

    def expecting(self, state: CallState) -> str:
        """Which kind of answer the current turn listens for."""
        if state.mode == "wait":
            return "any"
        if state.mode in ("confirm", "hot", "resume"):
            return "yes_no"
        expect = self.flow[state.node].expect
        assert expect is not None, "a question node always has expect (ivr.call.flow)"
        return expect

    def answer(self, state: CallState, heard: Any) -> Reply:
        """`heard` is a Heard, or anything shaped like ivr.call.understanding.Understanding."""
        if not isinstance(heard, Heard):
            heard = Heard.of(heard)
        return self._held(self._answer(self._noted(state, heard), heard))

    def ask(self, state: CallState, lead: tuple[Line, ...] = (), action: str = "ask") -> Reply:
        """The current question in full, with its lead-in: after a detour such as the station ID."""
        return self._held(self._ask(self.flow[state.node], state, tuple(lead), action=action, arriving=True))

    def unanswered(self, state: CallState, lead: tuple[Line, ...] = ()) -> Reply | None:
        """Nobody took the call from an end node with `unanswered: <node>`: back into the
        flow there (a rigid CCS button: the car's manual release). None: no way back."""
        node = self.flow.nodes.get(state.node)
        target = getattr(node, "unanswered", None) if node is not None else None
        if not target or state.hazard:
            return None
        return self._held(self._enter(target, replace(state, mode="ask"), tuple(lead), action="unanswered"))

    def hazard_reply(self, state: CallState, tier: str, lead: tuple[Line, ...] = ()) -> Reply:
        """A hazard heard outside the flow's questions (the hand-off's offers, the station ID)."""
        return self._held(self._hazard(state, tier, lead))

    # -- the invariant ------------------------------------------------------------------

    def _held(self, reply: Reply) -> Reply:
        """No release step, no "it's out" and no confirming question after a hazard.

        The one place that enforces it: a reply that would leave the hazard's nodes
        is replaced by the hazard's own question again."""
        state = reply.state
        if not state.hazard or not self.safety_nodes:
            return reply
        if reply.outcome == "agent":   # a person is always allowed
            return reply
        if reply.node in self.safety_nodes and reply.outcome != "released" and state.mode in ("ask", "wait"):
            return reply
        return self._enter(self._hazard_node(state), replace(state, mode="ask"), (), action="hazard:held")

    def _hazard_node(self, state: CallState) -> str:
        command = TIER_COMMAND.get(state.hazard or "fire", "hazard")
        return self.flow.globals.get(command) or self.flow.globals["hazard"]

    def _hazard(self, state: CallState, tier: str, lead: tuple[Line, ...] = ()) -> Reply:
        held = state.with_hazard(tier)
        here = self._hazard_node(held)
        moved = held if state.node == here or state.node in self.safety_nodes else held.left(state.node, TIER_COMMAND[tier])
        return self._enter(here, replace(moved, mode="ask"), lead, action=TIER_COMMAND[tier])

    # -- one answer ---------------------------------------------------------------------

    def _noted(self, state: CallState, heard: Heard) -> CallState:
        """What an answer tells us whatever the question: the car, an adapter."""
        if heard.car and CAR_NAME.fullmatch(heard.car):
            state = replace(state, car=heard.car)
        if heard.adapter:
            state = replace(state, adapter=True)
        return state

    def _answer(self, state: CallState, heard: Heard) -> Reply:
        node = self.flow[state.node]
        intent = heard.intent
        if intent == "hazard":
            return self._hazard(state, "fire")
        if intent == "damage":
            return self._hazard(state, "damage")
        if intent == "agent":
            return self._global(state, "agent")
        if intent == "emergency_stop":
            return self._global(state, "emergency_stop" if "emergency_stop" in self.flow.globals else "agent")
        if intent == "roadside":
            return self._again(state, (self._line(state, "roadside"),), action="roadside")
        if intent == "hot_unsure" and state.mode != "hot" and not state.hazard:
            return self._hot_check(state)
        if intent.startswith("language_"):
            return self._switch_language(state, node, heard)
        if state.mode == "wait":
            return self._after_wait(state, node, heard)
        if state.mode == "confirm":
            return self._after_confirm(state, node, heard)
        if state.mode == "hot":
            return self._after_hot_check(state, node, heard)
        if state.mode == "resume":
            return self._after_resume_offer(state, node, heard)
        if intent == "wait":
            return self._wait(state)
        if intent == "repeat":
            return self._ask(node, replace(state, repeats=state.repeats + 1), (), action="repeat")
        if intent == "explain" or (intent == "dont_know" and node.expect in ("yes_no", "released")):
            return self._explain(state, node, action=intent)
        if intent == "back":
            if node.id in self.safety_nodes:  # no release step after a hazard
                return self._ask(node, state, (), action="back:blocked")
            return self._back(state, node)
        if intent == "help":
            return self._ask(node, state, (self._line(state, "help"),), short=True, action="help")
        if intent == "silence":
            return self._retry(state, node, "silence", node.silence)
        if node.expect == "car":
            return self._car_answer(state, node, heard)
        if intent == "car" and heard.car:
            return self._ask(node, state, (self._line(state, "car_noted", car=heard.car),), short=True,
                             action="car")
        if intent in ("still_stuck", "no") and self.flow.globals.get("still_charging") not in state.path \
                and self._still_charging(state, node, heard):
            # "No, it's still charging", "sigue cargando" ("sigue" alone reads as still
            # stuck, and a yes-or-no question reads that as no), before the call has
            # been to the step that stops the session: that step first, the running
            # session holds the plug. After it, the questions' own answers lead on.
            return self._global(state, "still_charging")
        key = answer_key(intent, node.expect)
        if heard.heard and (intent in ("unclear", "dont_know", "car") or (node.expect == "yes_no" and intent in ("yes", "no"))):
            # The question's own words ("it's rigid", "not charging") say more
            # than a bare yes or no found in the same sentence.
            key = phrases.match(heard.heard, self._catalog(state).words.get(node.id, {})) or key
        if key is not None and key in node.on:
            if key == "released" and not heard.certain:
                return self._confirm(state)
            return self._go(node, self._counted(state, heard), key)
        if intent == "released" and "released" in self.flow.globals and node.id not in self.safety_nodes:
            # "It came out" while we asked something else: good news, but check.
            return self._confirm(state)
        if self._still_charging(state, node, heard):
            return self._global(state, "still_charging")
        return self._retry(state, node, "not_understood", node.not_understood)

    def _still_charging(self, state: CallState, node: Node, heard: Heard) -> bool:
        """"It's still charging" where the question is about something else: the session
        comes first (the plug stays locked while it runs), so on to the flow's step for it
        (globals.still_charging), where a station in the loop is read and stopped."""
        target = self.flow.globals.get("still_charging")
        if not target or not heard.heard or state.hazard or node.id == target or node.id in self.safety_nodes:
            return False
        vocabulary = self._catalog(state).vocabulary
        matcher = vocabulary.rx("still_charging") if vocabulary is not None else None
        return bool(matcher and matcher.search(heard.heard))

    def _counted(self, state: CallState, heard: Heard) -> CallState:
        """Count answers given the same way: after two, the keypad line is left out."""
        means = {"keys": "k", "speech": "s"}.get(heard.by, "")
        if not means:
            return replace(state, answered_by="")
        same = state.answered_by[:1] == means
        return replace(state, answered_by=f"{means}{2 if same else 1}")

    # -- the moves ---------------------------------------------------------------

    def _go(self, node: Node, state: CallState, key: str) -> Reply:
        if node.sets == "connector":
            state = replace(state, connector=key)
        elif node.sets == "adapter" and key in ("yes", "no"):
            state = replace(state, adapter=key == "yes")
        return self._enter(node.on[key], state.left(node.id, key), (), action=f"answer:{key}")

    def _global(self, state: CallState, command: str) -> Reply:
        target = self.flow.globals[command]
        moved = state if state.node == target else state.left(state.node, command)
        return self._enter(target, replace(moved, mode="ask"), (), action=command)

    def _retry(self, state: CallState, node: Node, why: str, give_up_to: str | None) -> Reply:
        tries = state.tries + 1
        if tries > self.flow.retries and give_up_to:
            return self._enter(give_up_to, state.left(node.id, "give_up"), (), action=f"{why}:give_up")
        lead = (self._line(state, why),)
        # Someone who is struggling hears the keypad alternative again.
        again = replace(state, tries=tries, mode="ask", answered_by="")
        return self._ask(node, again, lead, short=True, action=f"{why}:reprompt")

    def _again(self, state: CallState, lead: tuple[Line, ...], action: str) -> Reply:
        """The question of the moment again, whatever the mode, after `lead`."""
        node = self.flow[state.node]
        if state.mode == "wait":
            reply = self._wait(state)
        elif state.mode == "confirm":
            reply = self._confirm(state)
        elif state.mode == "hot":
            reply = self._hot_check(state)
        elif state.mode == "resume":
            reply = self._resume_offer(state, ())
        else:
            return self._ask(node, state, lead, action=action)
        return replace(reply, lines=lead + reply.lines, action=action)

    def _explain(self, state: CallState, node: Node, action: str) -> Reply:
        lead = self._lines(state, node.explain) or (self._line(state, "help"),)
        return self._ask(node, replace(state, answered_by=""), lead, action=action)

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
        if heard.intent == "still_stuck" and key is not None and key in node.on:
            return self._go(node, resumed, key)
        # Anything else ("continue", a key, silence): the same step again, in full.
        return self._ask(node, resumed, (self._line(state, "resume"),), action="resume")

    def _side_question(self, state: CallState, mode: str, lines: tuple[Line, ...], action: str) -> Reply:
        """A short yes/no question beside the step (is it out? is it hot? carry on?): the
        step stays where it is, and the mode says which question was asked."""
        asking = replace(state, mode=mode)
        return Reply(lines=lines + (self._line(state, "keys_yes_no"),), action=action, state=asking,
                     question=Question("yes_no", CONFIRM_SECONDS, asking), node=state.node)

    def _confirm(self, state: CallState) -> Reply:
        return self._side_question(state, "confirm", (self._line(state, "confirm_released"),), "confirm")

    def _after_confirm(self, state: CallState, node: Node, heard: Heard) -> Reply:
        back_to_ask = replace(state, mode="ask", tries=0)
        if heard.intent in ("yes", "released"):
            target = node.on.get("released") or self.flow.globals["released"]
            return self._enter(target, back_to_ask.left(node.id, "released"), (), action="confirmed:released")
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

    def _hot_check(self, state: CallState) -> Reply:
        """'It's hot out here': one short question decides whether it is a hazard."""
        return self._side_question(state, "hot", (self._line(state, "hot_check"),), "hot_check")

    def _after_hot_check(self, state: CallState, node: Node, heard: Heard) -> Reply:
        back = replace(state, mode="ask", tries=0)
        if heard.intent == "yes":
            return self._hazard(back, "fire")
        if heard.intent == "no":
            return self._ask(node, back, (self._line(state, "keep_going"),), action="hot:no", arriving=True)
        if heard.intent == "repeat" or state.tries < self.flow.retries:
            again = self._hot_check(replace(state, tries=state.tries + (heard.intent != "repeat")))
            return replace(again, lines=(self._line(state, "not_understood"),) + again.lines)
        # Still unsure whether something is burning: a person decides, not a guess.
        return self._global(back, "agent")

    def _resume_offer(self, state: CallState, lead: tuple[Line, ...]) -> Reply:
        node = self.flow[state.node]
        catalog = self._catalog(state)
        label = catalog.step_label(node) if node.step else None
        where = Line(catalog.text("resume_where", step=label)) if label else self._line(state, "resume_where_unknown")
        return self._side_question(state, "resume", lead + (where, self._line(state, "resume_offer")), "resume_offer")

    def _after_resume_offer(self, state: CallState, node: Node, heard: Heard) -> Reply:
        back = replace(state, mode="ask", tries=0)
        if heard.intent == "no":
            fresh = CallState(node=self.flow.start, lang=state.lang, station=state.station, car=state.car)
            return self._enter(self.flow.start, fresh, (self._line(state, "resume_fresh"),), action="resume:fresh")
        if heard.intent in ("yes", "silence") or state.tries >= self.flow.retries:
            # A silence carries on: the step they were on is the likeliest help.
            return self._ask(node, back, (self._line(state, "resume"),), action="resume:yes", arriving=True)
        again = self._resume_offer(replace(state, tries=state.tries + 1), (self._line(state, "not_understood"),))
        return again

    def _back(self, state: CallState, node: Node) -> Reply:
        previous = [p for p in state.path if self.flow[p].kind == "ask"]
        if not previous:
            return self._ask(node, state, (self._line(state, "first_step"),), action="back:first")
        target = previous[-1]
        cut = len(state.path) - 1 - state.path[::-1].index(target)
        back = replace(state, node=target, path=state.path[:cut], results=state.results[:cut],
                       tries=0, repeats=0, mode="ask")
        return self._ask(self.flow[target], back, (), action="back")

    def _switch_language(self, state: CallState, node: Node, heard: Heard) -> Reply:
        wanted = heard.intent.removeprefix("language_")
        if wanted not in self.catalogs or wanted == state.lang:
            return self._retry(state, node, "not_understood", node.not_understood)
        switched = replace(state, lang=wanted, tries=0)
        return self._again(switched, (self._line(switched, "language_switched"),), action=f"language:{wanted}")

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
                assert node.next is not None, "a say node always has next (ivr.call.flow)"
                node_id = node.next
            elif node.kind == "branch":
                assert node.default is not None, "a branch node always has a default (ivr.call.flow)"
                value = car_question.case(self.vehicles, state.car, node.branch, state.connector) \
                    if node.branch in ("car", "car_release") else _variable(state, node.branch)
                node_id = node.cases.get(value or "", node.default)
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
            tips = car_question.tips(self.vehicles, node.tips, state.car, state.connector,    # a car's (issue 15)
                                     state.result_of(CHARGING_STOPPED_NODE) == "yes", node.ask)
            body = self._lines(state, (node.say if arriving else ()) + tips + node.ask, slow=slow)
        # Two answers the same way: they know 1 and 2. A list (the cars) is always read.
        fluent = state.answered_by[1:] == "2" and node.expect != "car"
        keys = () if fluent else self._lines(state, (f"keys_{node.expect}",), slow=slow)
        asking = replace(state, node=node.id)
        assert node.expect is not None, "a question node always has expect (ivr.call.flow)"
        return Reply(lines=tuple(lead) + body + keys, action=action, state=asking,
                     question=Question(node.expect, node.timeout, asking), node=node.id)

    # -- "What car is it?" (issue 15; decided in ivr/call/car_question.py) ------

    def _car_answer(self, state: CallState, node: Node, heard: Heard) -> Reply:
        """A car named, a key of the keypad list, "other" or "I don't know" leads on, the car
        kept; words that name no car are asked again, then lead to `not_understood`."""
        got = car_question.heard(self.vehicles, self._catalog(state).words.get(node.id, {}), heard.heard,
                                 heard.intent, heard.by, heard.car, state.connector)
        if got is None or got[0] not in node.on:
            return self._retry(state, node, "not_understood", node.not_understood)
        return self._go(node, self._counted(replace(state, car=got[1]), heard), got[0])

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

    def _line(self, state: CallState, key: str, **params: str) -> Line:
        return Line(self._catalog(state).text(key, **params))

    def _lines(self, state: CallState, keys: Iterable[str], slow: bool = False) -> tuple[Line, ...]:
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


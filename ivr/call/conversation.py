"""The whole call, decided: `handle(place, event, context) -> Outcome`.

One engine for every webhook. It takes the call's state (ivr.call.codec.Place),
what happened (ivr.call.events) and what the decisions need (events.Context: the
time, the caller's numbers, the settings), and returns what the caller hears next
and the effects for the outer layer (ivr.call.outcomes). Pure: no Flask, Twilio,
database, clock or environment, so every path is testable with plain values.

It orchestrates the pure pieces: the release flow (ivr.call.engine.Engine), the
hand-off chain with its offers, voicemail and call-back (ivr.call.chain), the
station ID (ivr.call.station_dialogue), the greeting and the resume after a drop
(ivr.call.greeting). A text is an effect whose result comes back as an event.

Here: the dispatch, the arrival, the answers to the release steps, putting the
caller through and the chain. Each other dialogue is a mixin of its own module on
the shared helpers of ivr.call.turns: the hand-off's (handoff_turns), the station
ID's (station_id_turns), which charger (which_turns), the station in the loop
(station_turns).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from ivr.basics import phone
from ivr.call import chain, greeting, resume
from ivr.call import events as ev
from ivr.call import outcomes as out
from ivr.call import vehicles as cars
from ivr.call.codec import Place, encode
from ivr.call.engine import CallState, Engine, Heard, Reply
from ivr.call.escalation import Escalation
from ivr.call.handoff_turns import HandoffTurns
from ivr.call.outcomes import Spoken
from ivr.call.station_id_turns import StationIdTurns
from ivr.call.station_turns import StationTurns
from ivr.call.turns import carry
from ivr.call.understanding import Understanding, understand
from ivr.call.which_turns import WhichTurns

OUTCOME_RECORDS = {"released": "released", "hazard": "hazard", "agent": "transferred", "goodbye": "goodbye"}


class Conversation(StationIdTurns, WhichTurns, StationTurns, HandoffTurns):
    """Decides each webhook's answer. Built once per process from the loaded content."""

    def __init__(self, engine: Engine, esc: Escalation):
        self.engine = engine
        self.flow = engine.flow
        self.esc = esc

    # -- the entry point -------------------------------------------------------------------

    def handle(self, place: Place | None, event: ev.Event, ctx: ev.Context) -> out.Outcome:
        """`place` None: the URL's state could not be read (a damaged URL): the safe answer."""
        if isinstance(event, ev.Arrived):
            known = self._identified(event.lookup)
            arrived = carry(self._arrived(event, ctx), known)
            if event.lookup is not None and len(event.lookup.candidates) > 1:   # a whole site: which charger?
                return self._ask_which(arrived)
            return self._station_hooks(known, arrived, ctx, event)
        if place is None:
            return self._lost(event, ctx)
        if self._hazard_stop_unread(place, event):   # a hazard stop's result: the second alert first
            return out.Outcome(out.Pending(place), (out.ReadCommand(place.station.command_id or "", then=event),))
        handlers: dict[type, Callable[[Place, Any, ev.Context], out.Outcome]] = {
            ev.Answered: self._answered, ev.DialEnded: self._dial_ended, ev.QueueEnded: self._queue_ended,
            ev.QueueTick: self._queue_tick, ev.RecordingEnded: self._recording_ended, ev.TextResult: self._text_result,
            ev.StationFound: self._station_found, ev.StationRead: self._station_read,
            ev.StationCommandSent: self._command_sent,
            ev.StationCommandResult: self._command_result, ev.WhisperAsked: self._whisper,
            ev.WhisperAnswered: self._whisper_answered,
        }
        outcome = carry(handlers[type(event)](place, event, ctx), place.station.carried())
        if isinstance(event, (ev.StationFound, ev.StationRead, ev.StationCommandSent, ev.StationCommandResult)):
            return outcome    # a station round's own answer: no second look at the station
        return self._station_hooks(place.station, outcome, ctx, event)

    def _lost(self, event: ev.Event, ctx: ev.Context) -> out.Outcome:
        if isinstance(event, ev.WhisperAsked):
            agent = self._catalog(ctx.agent_language)
            return out.Outcome(out.Whisper((agent.text("whisper_steps_none"), agent.text("whisper_accept")),
                                           None, agent.language))
        if isinstance(event, ev.WhisperAnswered):
            return self._whisper_answered(None, event, ctx)
        if isinstance(event, ev.QueueTick):
            return out.Outcome(out.LeaveQueue())
        return out.Outcome(out.Apology(None))

    # -- the call arrives ------------------------------------------------------------------

    def _arrived(self, event: ev.Arrived, ctx: ev.Context) -> out.Outcome:
        if event.over_rate_limit:
            return self._rate_limited(event, ctx)
        welcome = greeting.greet(self.engine, self.flow.settings, event.lang, self._resumable(event), event.station)
        reply = welcome.reply
        record = self._turn_record(reply, None, None, answer=False)
        if welcome.ask_station:
            return self._ask_station(reply).after(record)
        return self._reply(reply, ctx).after(record)

    def _resumable(self, event: ev.Arrived) -> CallState | None:
        """The dropped call to carry on, if any (a hazard in it always counts: ivr.call.resume)."""
        earlier = event.earlier
        if earlier is None:
            return None
        return resume.earlier_state(earlier.last_state, earlier.hazard, earlier.outcome, self.flow, self.engine.catalogs)

    def _rate_limited(self, event: ev.Arrived, ctx: ev.Context) -> out.Outcome:
        """Too many calls from one number: no bot, but the safety line and a person; or,
        over IVR_AGENT_CAP too, the hand-off's fallback (a message, a call back, the number)."""
        default = self.engine.default_language
        earlier = self._resumable(event)
        state = CallState(node=self.flow.start, lang=event.lang or default, station=event.station,
                          hazard=earlier.hazard if earlier else None)
        catalog = self._catalog(event.lang)
        lines = (catalog.text("rate_limited"), catalog.text("rate_limited_danger"))
        if event.over_agent_cap:
            return self._run_next(Place(state), lines, ctx).after(out.RecordRateLimited())
        return self._put_through((*lines, catalog.text("rate_limited_connecting")), state, ctx,
                                 safety_said=True).after(out.RecordRateLimited())

    # -- an answer, to whichever question ---------------------------------------------------

    def _answered(self, place: Place, event: ev.Answered, ctx: ev.Context) -> out.Outcome:
        return {"step": self._step_answered, "station": self._station_answered, "offer": self._offer_answered,
                "callback": self._callback_answered, "station_wait": self._wait_answered, "hold": self._hold_answered,
                "pulled": self._pulled_answered, "which": self._which_answered}[event.asked](place, event, ctx)

    def _meaning(self, speech: str | None, confidence: float | None, digits: str | None, expecting: str,
                 lang: str) -> Understanding:
        """The one reader of the caller's words, with the language's own words (its catalog's
        vocabulary); `understand` is looked up here at call time (the fail-safe tests replace it)."""
        return understand(speech, confidence, digits, expecting, self._catalog(lang).vocabulary)

    def _step_answered(self, place: Place, event: ev.Answered, ctx: ev.Context) -> out.Outcome:
        """An answer to a step of the release flow."""
        state = place.state
        understood = self._understand(event, self.engine.expecting(state), state.lang, event.digits)
        by = "keys" if (event.digits or "").strip() else "speech" if (event.speech or "").strip() else ""
        heard = Heard.of(understood, by)
        reply = self.engine.answer(state, heard)
        effects: tuple[out.Effect, ...] = (self._turn_record(reply, heard, state.node), *self._alert(state.hazard, reply.state))
        if greeting.station_after_answer(self.flow.settings, state, reply):
            return self._ask_station(reply).after(*effects)   # after the caller's first try (station_id_before)
        return self._reply(reply, ctx).after(*effects)

    # -- putting the caller through, and the chain -------------------------------------------

    def _reply(self, reply: Reply, ctx: ev.Context) -> out.Outcome:
        """An engine reply: the next question, the hand-off, the release's offer, or a goodbye."""
        if reply.question is not None:
            question = reply.question
            return out.Outcome(self._ask(Place(question.state), reply.lines, "step", question.expecting, question.timeout))
        if reply.outcome == "agent":
            return self._put_through(reply.lines, reply.state, ctx)
        if reply.outcome == "released":   # the connector is out: offer the steps by text, then goodbye
            return self._run_next(Place(reply.state, chain="r"), reply.lines, ctx)
        return out.Outcome(out.Goodbye(reply.lines, self._language(reply.state.lang)))

    def _put_through(self, lines: Iterable[Spoken], state: CallState, ctx: ev.Context,
                     safety_said: bool = False) -> out.Outcome:
        """The agent line, the queue, back to the steps, or the chain (ivr.call.chain.put_through decides)."""
        step = chain.put_through(lines, state, is_open=self.esc.is_open(ctx.now), engine=self.engine,
                                 catalog=self._catalog(state.lang), esc=self.esc, agent_number=ctx.agent_number,
                                 dial_timeout=ctx.dial_timeout, safety_said=safety_said)
        if isinstance(step, chain.BackToFlow):
            return self._reply(step.reply, ctx)
        if isinstance(step, chain.RunChain):
            outcome = self._run_next(step.place, step.lines, ctx)
            if step.after_hours:
                return outcome.after(self._record("after_hours", node="agent", answer=False, suffix=":ah"))
            return outcome
        lang = self._language(state.lang)
        if isinstance(step, chain.Enqueue):
            return out.Outcome(out.Enqueue(step.lines, step.queue, Place(state), Place(state), lang))
        return out.Outcome(out.Dial(step.lines, step.number, step.timeout, Place(state, leg=1), Place(state), lang,
                                    self._caller_id(ctx)))

    def _run_next(self, place: Place, lead: Iterable[Spoken], ctx: ev.Context) -> out.Outcome:
        """The next link of the chain after `place.at`, or the goodbye with the support number."""
        lang = place.state.lang
        unavailable = set()
        if not ctx.can_text or phone.e164(ctx.caller) is None:
            unavailable.add("sms")
        if not self.esc.second_agent:
            unavailable.add("second_agent")
        step = chain.next_step(place, lead, self.esc, self._catalog(lang), unavailable, self._support_number(ctx))
        if isinstance(step, chain.Goodbye):
            return out.Outcome(out.Goodbye(step.lines, self._language(lang)))
        if isinstance(step, chain.RingSecondAgent):
            return out.Outcome(out.Dial(step.lines, step.number, step.timeout, replace(step.place, leg=2),
                                        Place(place.state), self._language(lang), self._caller_id(ctx)))
        return out.Outcome(self._yes_no(step.place, step.lines, "offer"))

    def _caller_id(self, ctx: ev.Context) -> str | None:
        """IVR_CALLER_ID; else the caller's own number (Twilio's default: the agent can call
        back), or our number when the caller's cannot be shown (anonymous, SIP)."""
        if ctx.caller_id:
            return ctx.caller_id
        if phone.e164(ctx.caller):
            return None
        return phone.e164(ctx.line)

    # -- the turn's record -------------------------------------------------------------------

    def _turn_record(self, reply: Reply, heard: Heard | None, node: str | None, answer: bool = True) -> out.RecordTurn:
        """A release-flow turn: its outcome (a hazard wins unless put through) and, mid-flow,
        the state a dropped call resumes from."""
        outcome = OUTCOME_RECORDS.get(reply.outcome or "")
        if reply.state.hazard and reply.outcome != "agent":
            outcome = "hazard"
        return out.RecordTurn(reply.action, node=node, intent=heard.intent if heard else None, next_node=reply.node,
                              language=reply.state.lang, connector=reply.state.connector, outcome=outcome,
                              hazard=reply.state.hazard, answer=answer,
                              car=cars.record_of(self.engine.vehicles, reply.state.car),
                              state=encode(Place(reply.state)) if reply.outcome is None else None)

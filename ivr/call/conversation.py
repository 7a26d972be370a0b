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
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from ivr.basics import phone
from ivr.call import chain, greeting, handoff, resume, station, station_dialogue
from ivr.call import events as ev
from ivr.call import outcomes as out
from ivr.call import vehicles as cars
from ivr.call.codec import Place, encode
from ivr.call.engine import CallState, Engine, Heard, Line, Reply
from ivr.call.escalation import Escalation
from ivr.call.understanding import Understanding, hints, understand
from ivr.language.prompts import Catalog

OFFER_SECONDS = 8
STATION_SECONDS = 8
NUMBER_SECONDS = 10
TEXT_REPLIES = {"sent": "sms_sent", "invalid_number": "sms_invalid_number",
                "unsubscribed": "sms_unsubscribed", "unavailable": "sms_unavailable"}
OUTCOME_RECORDS = {"released": "released", "hazard": "hazard", "agent": "transferred", "goodbye": "goodbye"}
Spoken = str | Line


class Conversation:
    """Decides each webhook's answer. Built once per process from the loaded content."""

    def __init__(self, engine: Engine, esc: Escalation):
        self.engine = engine
        self.flow = engine.flow
        self.esc = esc

    # -- the entry point -------------------------------------------------------------------

    def handle(self, place: Place | None, event: ev.Event, ctx: ev.Context) -> out.Outcome:
        """`place` None: the URL's state could not be read (a damaged URL): the safe answer."""
        if isinstance(event, ev.Arrived):
            return self._arrived(event, ctx)
        if place is None:
            return self._lost(event, ctx)
        handlers: dict[type, Callable[[Place, Any, ev.Context], out.Outcome]] = {
            ev.Answered: self._answered, ev.DialEnded: self._dial_ended, ev.QueueEnded: self._queue_ended,
            ev.QueueTick: self._queue_tick, ev.RecordingEnded: self._recording_ended, ev.TextResult: self._text_result,
            ev.StationCommandResult: self._command_result, ev.WhisperAsked: self._whisper,
            ev.WhisperAnswered: self._whisper_answered,
        }
        return handlers[type(event)](place, event, ctx)

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
                "callback": self._callback_answered}[event.asked](place, event, ctx)

    def _understand(self, event: ev.Answered, expecting: str, lang: str, digits: str | None) -> Understanding:
        """The caller's answer read with the language's own words (its catalog's vocabulary)."""
        return understand(event.speech, event.confidence, digits, expecting, self._catalog(lang).vocabulary)

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

    def _station_answered(self, place: Place, event: ev.Answered, ctx: ev.Context) -> out.Outcome:
        """The station ID, keyed or spoken, confirmed by reading it back. Never blocks the
        steps: after two failed tries, or "skip", the call goes on without it."""
        state, candidate = place.state, place.candidate
        heard = self._understand(event, "yes_no", state.lang, station_dialogue.keys_to_understand(event.digits, candidate))
        decision = station_dialogue.answer(self.flow.settings, heard.intent, event.speech, event.digits, candidate,
                                           place.tries, self._catalog(state.lang).vocabulary)
        record = self._record(decision.record, node="station")
        settled = Place(state, tries=place.tries)
        if isinstance(decision, station_dialogue.Command):
            reply = self.engine.answer(state, Heard.of(heard))
            return self._reply(reply, ctx).after(record, *self._alert(state.hazard, reply.state))
        if isinstance(decision, station_dialogue.Confirmed):
            thanked = self._go_on(Place(replace(state, station=decision.station_id)), "station_thanks", ctx)
            return thanked.after(record, out.SaveStation(decision.station_id))
        if isinstance(decision, station_dialogue.GoOn):
            return self._go_on(settled, decision.lead, ctx).after(record)
        say = self._catalog(state.lang).text
        if isinstance(decision, station_dialogue.ReadBack):
            lines = (say(decision.prompt, station=station.read_back(decision.station_id)), say("keys_yes_no"))
            asking = replace(settled, candidate=decision.station_id)
            return out.Outcome(self._ask(asking, lines, "station", "yes_no", STATION_SECONDS), (record,))
        why = (say(decision.why, **decision.params),) if decision.why else ()
        return out.Outcome(self._station_entry(replace(settled, tries=decision.tries), (*why, say("station_ask_short"))),
                           (record,))

    def _offer_answered(self, place: Place, event: ev.Answered, ctx: ev.Context) -> out.Outcome:
        """The caller's yes or no to a link of the chain (a message, a call back, a text)."""
        link = place.link(self.esc)
        if link not in ("voicemail", "callback", "sms"):
            return self._run_next(place, (), ctx)
        heard = self._understand(event, "yes_no", place.state.lang, event.digits)
        record = self._record(f"offer:{link}:{heard.intent}")
        answer = chain.answer_offer(place, link, heard.intent, self._catalog(place.state.lang))
        if isinstance(answer, chain.Start):
            start = {"voicemail": self._start_voicemail, "callback": self._start_callback, "sms": self._send_text}[link]
            return start(place, ctx).after(record)
        if isinstance(answer, chain.AskAgain):
            alert = self._alert(place.state.hazard, answer.place.state) if answer.alert else ()
            return out.Outcome(self._yes_no(answer.place, answer.lines, "offer"), (record, *alert))
        return self._run_next(answer.place, (), ctx).after(record)

    # -- the hand-off's messages ----------------------------------------------------------------

    def _start_voicemail(self, place: Place, ctx: ev.Context) -> out.Outcome:
        lang = place.state.lang
        return out.Outcome(out.RecordVoicemail(
            (self._catalog(lang).text("voicemail_prompt"),), place, replace(place, empty=True),
            self.esc.voicemail_max_length, self.esc.transcribe, self._language(lang)))

    def _recording_ended(self, place: Place, event: ev.RecordingEnded, ctx: ev.Context) -> out.Outcome:
        say = self._catalog(place.state.lang).text
        if place.empty or event.sid is None:
            return self._run_next(place.settled(), (say("voicemail_empty"),), ctx).after(
                self._record("voicemail:empty", node="voicemail"))
        return self._run_next(place.settled().did("voicemail"), (say("voicemail_thanks"),), ctx).after(
            out.SaveVoicemail(event.sid, event.url, event.duration),
            self._record("voicemail", node="voicemail", speech=event.url))

    def _start_callback(self, place: Place, ctx: ev.Context) -> out.Outcome:
        own = phone.e164(ctx.caller)
        if own:
            return out.Outcome(self._confirm_number(place, own))
        return out.Outcome(self._enter_number(place, ()))

    def _confirm_number(self, place: Place, number: str, lead: Iterable[Spoken] = ()) -> out.Ask:
        question = self._catalog(place.state.lang).text("callback_confirm", number=phone.spoken(number))
        return self._yes_no(replace(place, step="confirm", callback=number), (*lead, question), "callback")

    def _enter_number(self, place: Place, lead: Iterable[Spoken]) -> out.Ask:
        lines = (*lead, self._catalog(place.state.lang).text("callback_enter"))
        return self._ask(replace(place, step="enter", callback=None), lines, "callback", None, NUMBER_SECONDS, keyed=True)

    def _callback_answered(self, place: Place, event: ev.Answered, ctx: ev.Context) -> out.Outcome:
        """Confirm the number to call back (the caller's own, or one keyed in), then keep the request."""
        if place.step == "confirm":
            heard = self._understand(event, "yes_no", place.state.lang, event.digits)
            record = self._record(f"callback:confirm:{heard.intent}")
            step = chain.confirm_answer(place.callback, heard.intent, place.tries)
        else:
            keys = event.digits or station.from_speech(event.speech, self._catalog(place.state.lang).vocabulary)
            number = phone.callback_number(keys, ctx.caller, ctx.line, international=ctx.callback_international)
            record = self._record("callback:entered" if number else "callback:invalid")
            step = chain.number_entered(number, place.tries, station.MAX_TRIES)
        return self._callback_step(place.settled(), step, ctx).after(record)

    def _callback_step(self, place: Place, step: chain.CallbackStep, ctx: ev.Context) -> out.Outcome:
        say = self._catalog(place.state.lang).text
        if isinstance(step, chain.Save):
            state = place.state
            save = out.SaveCallback(step.number, state.station, state.connector,
                                    handoff.steps_record(self.flow, state) or None)
            return self._run_next(place.did("callback"), (say("callback_saved"),), ctx).after(save)
        lead = (say(step.lead),) if step.lead else ()
        if isinstance(step, chain.ConfirmNumber):
            return out.Outcome(self._confirm_number(replace(place, tries=step.tries), step.number, lead))
        if isinstance(step, chain.EnterNumber):
            return out.Outcome(self._enter_number(replace(place, tries=step.tries), lead))
        return self._run_next(place, lead, ctx)

    def _send_text(self, place: Place, ctx: ev.Context) -> out.Outcome:
        """The steps by text: an effect; its result comes back as a TextResult for the place after it."""
        done = place.did("sms")
        to = phone.e164(ctx.caller)
        if not ctx.can_text or to is None:   # offered only when both exist; a stale URL lands here
            return self._run_next(done, (self._catalog(place.state.lang).text("sms_unavailable"),), ctx)
        body = handoff.text_message(self._catalog(place.state.lang), self.flow, place.state,
                                    self._support_number(ctx), released=place.chain == "r")
        return out.Outcome(out.Pending(done), (out.SendText(to, body),))

    def _text_result(self, place: Place, event: ev.TextResult, ctx: ev.Context) -> out.Outcome:
        return self._run_next(place, (self._catalog(place.state.lang).text(TEXT_REPLIES[event.reason]),), ctx)

    def _command_result(self, place: Place, event: ev.StationCommandResult, ctx: ev.Context) -> out.Outcome:
        """A station command's result (issue 14 will decide more): back to the step in full."""
        return self._reply(self.engine.ask(place.state, action=f"command:{event.command}"), ctx)

    # -- a dial, the queue, the whisper ---------------------------------------------------

    def _dial_ended(self, place: Place, event: ev.DialEnded, ctx: ev.Context) -> out.Outcome:
        """How a Dial ended. A leg the whisper hung up (nobody pressed 1: a voicemail box
        answered) reports completed, not bridged: nobody spoke; the fallback chain runs."""
        status = event.status
        record = self._record(f"dial:{status or 'unknown'}" + ("" if event.bridged else ":not-bridged")
                              + (":second" if place.leg == 2 else ""), node="agent")
        if chain.dial_connected(status, event.bridged):
            return self._connected(place).after(record)
        return self._nobody_answered(place, ctx, back_to_flow=place.leg != 2).after(record)

    def _queue_ended(self, place: Place, event: ev.QueueEnded, ctx: ev.Context) -> out.Outcome:
        record = self._record(f"queue:{event.result or 'unknown'}", node="agent")
        if event.result == "bridged":
            return self._connected(place).after(record)
        if event.result == "hangup":
            return out.Outcome(out.Hangup(), (record,))
        return self._nobody_answered(place, ctx, back_to_flow=True).after(record)

    def _connected(self, place: Place) -> out.Outcome:
        lang = place.state.lang
        bye = self._catalog(lang).text(chain.connected_goodbye(place.state))
        return out.Outcome(out.Goodbye((bye,), self._language(lang)), (out.SetOutcome("transferred"),))

    def _nobody_answered(self, place: Place, ctx: ev.Context, back_to_flow: bool) -> out.Outcome:
        failed = (self._catalog(place.state.lang).text("dial_failed"),)
        place = place.settled()
        if back_to_flow:
            back = self.engine.unanswered(place.state, tuple(Line(text) for text in failed))
            if back is not None:
                return self._reply(back, ctx)
            place = chain.from_the_start(place)
        return self._run_next(place, failed, ctx)

    def _queue_tick(self, place: Place, event: ev.QueueTick, ctx: ev.Context) -> out.Outcome:
        """Reassure, keep safe, say where they are; after queue_max_wait, leave the queue."""
        hazard = place.state.hazard[0] if place.state.hazard else None
        lines = chain.queue_wait(event.waited, event.position, hazard, self.esc.queue_max_wait,
                                 self._catalog(place.state.lang))
        if lines is None:
            return out.Outcome(out.LeaveQueue())
        return out.Outcome(out.QueueWait(lines, self._language(place.state.lang)))

    def _whisper(self, place: Place, event: ev.WhisperAsked, ctx: ev.Context) -> out.Outcome:
        agent = self._catalog(ctx.agent_language)
        lines = handoff.whisper_lines(agent, self.flow, place.state, caller_language=self._catalog(place.state.lang))
        return out.Outcome(out.Whisper(tuple(lines), place, agent.language))

    def _whisper_answered(self, place: Place | None, event: ev.WhisperAnswered, ctx: ev.Context) -> out.Outcome:
        return out.Outcome(out.Accepted() if event.digits == "1" else out.Hangup())

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

    # -- the station ID's questions -----------------------------------------------------------

    def _ask_station(self, reply: Reply) -> out.Outcome:
        """Before the first step: the welcome, then 'key in the station ID'."""
        first = self.engine.ask(reply.state)
        welcome = reply.lines[:len(reply.lines) - len(first.lines)]
        ask = self._catalog(reply.state.lang).text("station_ask")
        return out.Outcome(self._station_entry(Place(reply.state), (*welcome, ask)))

    def _station_entry(self, place: Place, lines: Iterable[Spoken]) -> out.Ask:
        return self._ask(place, tuple(lines), "station", None, STATION_SECONDS, keyed=True)

    def _go_on(self, place: Place, lead_key: str, ctx: ev.Context) -> out.Outcome:
        """Back to the release steps: the first question in full."""
        lead = (Line(self._catalog(place.state.lang).text(lead_key)),)
        return self._reply(self.engine.ask(place.state, lead, action="station"), ctx)

    # -- small helpers ------------------------------------------------------------------------

    def _ask(self, place: Place, lines: Iterable[Spoken], asked: ev.Asked, expecting: str | None, timeout: int,
             keyed: bool = False) -> out.Ask:
        lang = place.state.lang
        words = hints(expecting, self._catalog(lang).vocabulary) if expecting else ()
        return out.Ask(tuple(lines), place, asked, timeout, self._language(lang), words, keyed)

    def _yes_no(self, place: Place, lines: Iterable[Spoken], asked: ev.Asked) -> out.Ask:
        keys = self._catalog(place.state.lang).text("keys_yes_no")
        return self._ask(place, (*lines, keys), asked, "yes_no", OFFER_SECONDS)

    def _catalog(self, lang: str | None) -> Catalog:
        catalogs = self.engine.catalogs
        return catalogs.get(lang or "") or catalogs[self.engine.default_language]

    def _language(self, lang: str | None) -> str:
        return self._catalog(lang).language

    def _support_number(self, ctx: ev.Context) -> str | None:
        return self.esc.support_number or ctx.support_number

    def _caller_id(self, ctx: ev.Context) -> str | None:
        """IVR_CALLER_ID; else the caller's own number (Twilio's default: the agent can call
        back), or our number when the caller's cannot be shown (anonymous, SIP)."""
        if ctx.caller_id:
            return ctx.caller_id
        if phone.e164(ctx.caller):
            return None
        return phone.e164(ctx.line)

    def _alert(self, before: str | None, state: CallState) -> tuple[out.RaiseAlert, ...]:
        """The operator hears of every hazard at once: a new or higher tier raises an alert."""
        if not state.hazard or state.hazard == before:
            return ()
        return (out.RaiseAlert(state.hazard, state.station, state.connector),)

    @staticmethod
    def _record(action: str, node: str = "handoff", speech: str | None = None, answer: bool = True,
                suffix: str = "") -> out.RecordTurn:
        return out.RecordTurn(action, node=node, speech=speech, answer=answer, suffix=suffix)

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

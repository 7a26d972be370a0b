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
from typing import Any, cast

from ivr.basics import ids, phone
from ivr.call import chain, greeting, handoff, resume, station, station_actions, station_dialogue, station_whisper
from ivr.call import events as ev
from ivr.call import outcomes as out
from ivr.call import vehicles as cars
from ivr.call.codec import Place, StationPlace, Waiting, encode
from ivr.call.engine import CallState, Engine, Heard, Line, Reply
from ivr.call.escalation import Escalation
from ivr.call.station_model import Evse, Outcome, label_key
from ivr.call.station_policy import unlock_policy
from ivr.call.understanding import Understanding, hints, understand
from ivr.language import phrases
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
            known = self._identified(event.lookup)
            arrived = _carry(self._arrived(event, ctx), known)
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
        outcome = _carry(handlers[type(event)](place, event, ctx), place.station.carried())
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
            thanked = thanked.after(record, out.SaveStation(decision.station_id))
            if ctx.station_backend and not place.station.identified and _has_place(thanked.reply):
                return _pending(thanked, out.FindStation(decision.station_id, "label", then=thanked.reply))
            return thanked
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
        here = place.station
        state = place.state
        if here.identified and here.label and ids.is_station_id(label_key(here.label)):
            state = replace(state, station=label_key(here.label))   # the charger itself, not its site
        lines = handoff.whisper_lines(agent, self.flow, state, caller_language=self._catalog(place.state.lang))
        result = station_actions.StationResult.from_param(here.result)
        offer = (station_actions.OfferToAgent(here.unlock_connector, here.label or here.evse_uid or "")
                 if here.unlock_connector and here.location_id and here.evse_uid else None)
        extra, accept = station_whisper.whisper_extra(agent, result, offer)
        lines = [*lines[:1], *extra, *lines[1:-1], accept or lines[-1]]   # the result early: the agent acts on it
        unlock = (out.UnlockOffer(here.location_id, here.evse_uid, here.unlock_connector, here.label)
                  if offer is not None and here.location_id and here.evse_uid and here.unlock_connector else None)
        return out.Outcome(out.Whisper(tuple(lines), place, agent.language, unlock))

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

    # -- the station in the loop (issue 14: ivr/call/station_actions.py has the six steps) ----

    @staticmethod
    def _identified(lookup: Any) -> StationPlace:
        """The EVSE the called number names, if it names exactly one (several: a whole
        site; the call goes on without one rather than act on a charger not identified)."""
        if lookup is None:
            return StationPlace()
        decision = station_actions.start_which(lookup.candidates or ((lookup.evse,) if lookup.evse else ()))
        if isinstance(decision, station_actions.Identified):
            evse = decision.evse
            return StationPlace(evse.location_id, evse.uid, _label(evse))
        return StationPlace()

    def _station_hooks(self, here: StationPlace, outcome: out.Outcome, ctx: ev.Context,
                       event: ev.Event | None = None) -> out.Outcome:
        """Where the identified station changes what comes next: the connector question it
        answers, a session question it reads the status for, a hazard while current may
        flow, a hand-off where the station holds the lock. Each is an effect whose result
        comes back as an events.StationRead."""
        if not here.identified or here.command_id:
            return outcome
        reply = outcome.reply
        loc, uid = here.location_id or "", here.evse_uid or ""
        if not _has_place(reply):
            return outcome
        if any(isinstance(effect, out.RaiseAlert) for effect in outcome.effects) and here.result != "stop-ok":
            return _pending(outcome, out.ReadStation(loc, uid, True, "hazard", then=reply))
        if isinstance(reply, out.Ask) and reply.asked == "step":
            state = reply.place.state
            node = self.flow.nodes.get(state.node)
            if node is None or state.mode != "ask" or state.hazard:
                return outcome
            if node.expect == "connector" and state.connector is None:
                return _pending(outcome, out.ReadStation(loc, uid, False, "connector", then=reply))
            if station_actions.reads_status(node.id) and (
                    here.result is None or (_stop_failed(here.result) and node.id in station_actions.SCREEN_QUESTIONS)):
                index = str(station_actions.SESSION_QUESTIONS.index(node.id))
                if index not in here.read:
                    marked = replace(reply, place=replace(reply.place, station=replace(here, read=here.read + index)))
                    said = event.speech if isinstance(event, ev.Answered) else None
                    return _pending(outcome, out.ReadStation(loc, uid, True, "session", then=marked, said=said))
        if (isinstance(reply, (out.Dial, out.Enqueue)) and reply.place.state.connector and not reply.place.state.hazard
                and not here.unlock_connector and not here.hold_asked
                and (here.result is None or here.result.startswith("stop-"))):
            return _pending(outcome, out.ReadStation(loc, uid, True, "unlock", then=reply))
        return outcome

    def _ask_which(self, outcome: out.Outcome, prompt: str = "station_which", tries: int = 0,
                   lead: tuple[Spoken, ...] | None = None) -> out.Outcome:
        """Which charger of the site (its own label): asked instead of the question `outcome` asks."""
        ask = outcome.reply
        if not isinstance(ask, out.Ask) or ask.asked != "step":
            return outcome
        before = self._lead(ask) if lead is None else lead
        lines = (*before, self._catalog(ask.place.state.lang).text(prompt))
        place = Place(ask.place.state, tries=tries)
        return out.Outcome(self._ask(place, lines, "which", None, STATION_SECONDS, keyed=True), outcome.effects)

    def _which_answered(self, place: Place, event: ev.Answered, ctx: ev.Context) -> out.Outcome:
        """The caller's label for "which charger", or their yes or no to its read-back."""
        state, here = place.state, place.station
        heard = self._understand(event, "yes_no", state.lang, event.digits if here.candidate else None)
        record = self._record(f"station:which:{heard.intent}", node="station")
        if heard.intent in ("hazard", "damage", "agent", "emergency_stop"):
            reply = self.engine.answer(state, Heard.of(heard))
            return self._reply(reply, ctx).after(record, *self._alert(state.hazard, reply.state))
        if here.candidate:
            loc, uid = here.candidate.split("~", 1)
            evse = Evse(loc, uid, None, here.label, "UNKNOWN")
            return self._which_decided(place, station_actions.confirm_which(evse, heard.intent, place.tries), ctx
                                       ).after(record)
        if not state.station:
            return self._which_decided(place, station_actions.NotIdentified("no site"), ctx).after(record)
        return out.Outcome(out.Pending(place), (record, out.FindStation(state.station, "which", speech=event.speech,
                                                                        digits=event.digits)))

    def _station_found(self, place: Place, event: ev.StationFound, ctx: ev.Context) -> out.Outcome:
        lookup = event.lookup
        if event.purpose == "which":
            site = lookup.candidates or ((lookup.evse,) if lookup.evse else ())
            decision = station_actions.answer_which(site, event.speech, event.digits, place.tries)
            return self._which_decided(place, decision, ctx)
        then = out.Outcome(event.then)     # the station ID confirmed mid-call: its charger, if one
        if len(lookup.candidates) > 1:
            return self._ask_which(then, lead=())
        known = self._identified(lookup)
        if not known.identified:
            return then
        return self._station_hooks(known, _carry(then, known, force=True), ctx)

    def _which_decided(self, place: Place, decision: station_actions.WhichDecision, ctx: ev.Context) -> out.Outcome:
        state = place.state
        say = self._catalog(state.lang).text
        if isinstance(decision, station_actions.Identified):
            evse = decision.evse
            here = StationPlace(evse.location_id, evse.uid, _label(evse) or place.station.label)
            lead = (Line(say(decision.said)),) if decision.said else ()
            outcome = _carry(self._reply(self.engine.ask(state, lead, action="station"), ctx), here, force=True)
            return self._station_hooks(here, outcome, ctx)
        if isinstance(decision, station_actions.ReadBackEvse):
            evse = decision.evse
            asking = Place(state, tries=decision.tries,
                           station=StationPlace(label=_label(evse), candidate=f"{evse.location_id}~{evse.uid}"))
            label = station_whisper.spoken_label(evse.label)
            return out.Outcome(self._yes_no(asking, (say(decision.prompt, label=label),), "which"))
        if isinstance(decision, station_actions.AskWhich):
            asking = Place(state, tries=decision.tries)
            return out.Outcome(self._ask(asking, (say(decision.prompt),), "which", None, STATION_SECONDS, keyed=True))
        lead = (Line(say(decision.lead)),) if decision.lead else ()
        return self._reply(self.engine.ask(state, lead, action="station"), ctx)

    def _station_read(self, place: Place, event: ev.StationRead, ctx: ev.Context) -> out.Outcome:
        then = event.then
        if event.evse is None:   # no longer in the index: on as without a station
            return out.Outcome(then)
        return {"connector": self._connector_read, "session": self._session_read, "unlock": self._unlock_read,
                "hazard": self._hazard_read}[event.purpose](place, event, ctx)

    def _connector_read(self, place: Place, event: ev.StationRead, ctx: ev.Context) -> out.Outcome:
        """The EVSE answers the connector question (one standard), or narrows it (its own)."""
        then: out.Ask = event.then
        state = then.place.state
        lead = self._lead(then)
        decision = station_actions.connector_question(event.evse)
        if isinstance(decision, station_actions.ConnectorKnown):
            reply = self.engine.answer(state, Heard(f"connector_{decision.key}"))
            said = tuple(line if isinstance(line, Line) else Line(line) for line in lead)
            return self._reply(replace(reply, lines=(*said, *reply.lines)), ctx).after(
                self._record(f"station:connector:{decision.key}", node=state.node, answer=False, suffix=":st"))
        if isinstance(decision, station_actions.AskAmong):
            choices = station_whisper.connector_choice_lines(self._catalog(state.lang), decision)
            return out.Outcome(replace(then, lines=(*lead, *choices)))
        return out.Outcome(then)

    def _session_read(self, place: Place, event: ev.StationRead, ctx: ev.Context) -> out.Outcome:
        """At a question about the running session: the line reads the station itself."""
        then: out.Ask = event.then
        state = then.place.state
        said_running = (bool(state.path) and state.path[-1] in station_actions.SESSION_QUESTIONS
                        and state.result_of(state.path[-1]) == "no") or self._says_running(state.lang, event.said)
        decision = station_actions.on_status(event.evse, event.status, caller_said_running=said_running)
        if isinstance(decision, station_actions.AsToday):
            return out.Outcome(then)
        say = self._catalog(state.lang).text
        if _stop_failed(then.place.station.result):
            # The remote stop failed a moment ago and the station still shows the session:
            # the line answers its own screen question ("no, not stopped") rather than ask
            # the caller to read it, and goes on to the caller's own ways to stop it.
            reply = self.engine.answer(state, Heard("no"))
            shown = (*(line if isinstance(line, Line) else Line(line) for line in self._lead(then)),
                     Line(say("station_still_shows_running")))
            return self._reply(replace(reply, lines=(*shown, *reply.lines)), ctx).after(
                self._record("station:status:still-running", node=state.node, answer=False, suffix=":st"))
        lead = (*self._lead(then), *(say(key) for key in decision.lines))
        here = then.place.station
        return out.Outcome(out.Pending(then.place), (out.RunStationCommand(
            "STOP_SESSION", here.location_id or "", here.evse_uid or "", "s", session_id=decision.session_id,
            lead=tuple(str(_text(line)) for line in lead), then=then),))

    def _says_running(self, lang: str, speech: str | None) -> bool:
        """"It's still charging", in the caller's words (the stop question's own "no" words)."""
        if not speech:
            return False
        catalog = self._catalog(lang)
        if understand(speech, None, None, "yes_no", catalog.vocabulary).intent == "dont_know":
            return False
        return phrases.match(speech.lower(), catalog.words.get("stop_session", {})) == "no"

    def _unlock_read(self, place: Place, event: ev.StationRead, ctx: ev.Context) -> out.Outcome:
        """Before the hand-off, where the station holds the plug: the agent's 2 (the
        whisper offers it), or with `automatic`, the caller holds the handle and the line unlocks."""
        then = event.then
        state = then.place.state
        here = then.place.station if isinstance(then.place, Place) else place.station
        policy = unlock_policy(self.flow.settings, event.evse)
        decision = station_actions.unlock_step(policy, event.evse, state.connector, event.status, holding_handle=False)
        if isinstance(decision, station_actions.OfferToAgent):
            offered = replace(here, unlock_connector=decision.connector_id)
            if isinstance(then, out.Dial):
                return out.Outcome(replace(then, whisper=replace(then.whisper, station=offered)))
            return out.Outcome(replace(then, place=replace(then.place, station=offered),
                                       wait=replace(then.wait, station=offered)))
        if isinstance(decision, station_actions.AskHold):
            connector = station_actions.connector_of(event.evse, state.connector)
            asking = Place(state, station=replace(here, hold_asked=True,
                                                  unlock_connector=connector.id if connector else None))
            return out.Outcome(self._yes_no(asking, (self._catalog(state.lang).text("station_hold_handle"),), "hold"))
        return out.Outcome(then)

    def _hazard_read(self, place: Place, event: ev.StationRead, ctx: ev.Context) -> out.Outcome:
        """A hazard with current flowing: STOP_SESSION at once, no question; the hazard's
        own words follow as they are (never a release step)."""
        decision = station_actions.on_hazard(event.evse, event.status)
        if decision is None:
            return out.Outcome(event.then)
        then = event.then
        here = place.station
        state = _place_of(then).state
        say = self._catalog(state.lang).text
        return out.Outcome(out.Pending(place), (out.RunStationCommand(
            "STOP_SESSION", here.location_id or "", here.evse_uid or "", "h", session_id=decision.session_id,
            lead=tuple(say(key) for key in decision.lines), then=then),))

    def _command_sent(self, place: Place, event: ev.StationCommandSent, ctx: ev.Context) -> out.Outcome:
        then = event.then
        here = _place_of(then).station if then is not None else place.station
        command = event.state
        sent_at = int(ctx.now.timestamp())
        if event.purpose == "h":
            return self._hazard_sent(place, event, here, sent_at)
        waiting = replace(here, command_id=command.command_id, sent_at=sent_at, turn=0,
                          waiting=cast("Waiting | None", event.purpose if command.command_id else None))
        if not command.command_id:
            waiting = replace(waiting, command_id=None, waiting=None, sent_at=None)
        state = _place_of(then).state if then is not None else place.state
        at = Place(state, station=waiting)
        decision = station_actions.wait_turn(command, sent_at=sent_at, now=ctx.now.timestamp(), turn=0,
                                             hazard=bool(state.hazard))
        return self._wait_decision(at, decision, event.lead, ctx)

    def _hazard_sent(self, place: Place, event: ev.StationCommandSent, here: StationPlace, sent_at: int) -> out.Outcome:
        """The stop is on its way: the hazard's reply with the stop's line first; its result
        makes the second alert on the next webhook (or now, if it already failed)."""
        then = event.then
        command = event.state
        if command.outcome is Outcome.PENDING and command.command_id:
            waiting = replace(here, command_id=command.command_id, waiting="h", sent_at=sent_at, turn=0)
            return out.Outcome(_with_lead(_carry_reply(then, waiting, force=True), event.lead))
        result = station_actions.result_of(command)
        done = replace(here, result=result.to_param())
        state = _place_of(then).state
        return out.Outcome(_with_lead(_carry_reply(then, done, force=True), event.lead), self._second_alert(state, done, result))

    def _second_alert(self, state: CallState, here: StationPlace, result: station_actions.StationResult
                      ) -> tuple[out.Effect, ...]:
        effects: list[out.Effect] = [out.RaiseAlert("stop", state.station or here.label, state.connector,
                                                    note=station_actions.alert_note(result, here.label))]
        evse = Evse(here.location_id or "", here.evse_uid or "", None, here.label, "UNKNOWN")
        if station_actions.out_of_service_after(state.hazard, evse if here.identified else None):
            effects.append(out.TakeOutOfService(here.location_id or "", here.evse_uid or ""))
        return tuple(effects)

    def _hazard_stop_unread(self, place: Place, event: ev.Event) -> bool:
        return (place.station.waiting == "h" and bool(place.station.command_id)
                and isinstance(event, (ev.Answered, ev.DialEnded, ev.QueueEnded)))   # the caller's leg only

    def _command_result(self, place: Place, event: ev.StationCommandResult, ctx: ev.Context) -> out.Outcome:
        """A command read from the database: a hazard stop's second alert, or one turn of the wait."""
        here = place.station
        if event.then is not None:    # the hazard stop, read on the webhook after it
            result = station_actions.result_of(event.state)
            done = replace(here.carried(), result=result.to_param())
            after = self.handle(replace(place, station=done), event.then, ctx)
            return after.after(*self._second_alert(place.state, done, result))
        decision = station_actions.wait_turn(event.state, sent_at=float(here.sent_at or ctx.now.timestamp()),
                                             now=ctx.now.timestamp(), turn=here.turn, hazard=bool(place.state.hazard))
        return self._wait_decision(place, decision, (), ctx)

    def _wait_decision(self, place: Place, decision: station_actions.WaitDecision, lead: tuple[Spoken, ...],
                       ctx: ev.Context) -> out.Outcome:
        say = self._catalog(place.state.lang).text
        if isinstance(decision, station_actions.Listen):
            lines = (*lead, *((say(decision.line),) if decision.line else ()))
            listening = replace(place, station=replace(place.station, turn=place.station.turn + 1))
            return out.Outcome(self._ask(listening, lines, "station_wait", "released", decision.seconds))
        if isinstance(decision, station_actions.Interrupted):
            return self._interrupted(place, decision, ctx)
        return self._finished(place, decision, lead, ctx)

    def _wait_answered(self, place: Place, event: ev.Answered, ctx: ev.Context) -> out.Outcome:
        """A turn of the listening wait: the caller's words first (a hazard, a person, "it
        came out"), else the command as the database has it now (any worker)."""
        heard = self._understand(event, "released", place.state.lang, event.digits)
        here = place.station
        if heard.intent in station_actions.WAIT_INTERRUPTS or not here.command_id:
            result = station_actions.StationResult("unlock" if here.waiting == "u" else "stop", "pending")
            return self._interrupted(place, station_actions.Interrupted(heard.intent, result), ctx)
        return out.Outcome(out.Pending(place), (out.ReadCommand(here.command_id),))

    def _interrupted(self, place: Place, decision: station_actions.Interrupted, ctx: ev.Context) -> out.Outcome:
        state = place.state
        here = replace(place.station.carried(), result=decision.result.to_param())
        if decision.intent in ("hazard", "damage") and place.station.waiting == "s" and place.station.command_id:
            # The stop is already on its way: its result makes the hazard's second alert, next webhook.
            here = replace(place.station.carried(), command_id=place.station.command_id, waiting="h",
                           sent_at=place.station.sent_at)
        record = self._record(f"station:wait:{decision.intent}", node=state.node)
        node = self.flow.nodes.get(state.node)
        if node is not None and node.kind == "ask":
            reply = self.engine.answer(state, Heard(decision.intent, by="speech"))
            return _carry(self._reply(reply, ctx), here, force=True).after(record, *self._alert(state.hazard, reply.state))
        if decision.intent in ("hazard", "damage"):
            reply = self.engine.hazard_reply(state, "fire" if decision.intent == "hazard" else "damage")
            return _carry(self._reply(reply, ctx), here, force=True).after(record, *self._alert(state.hazard, reply.state))
        if decision.intent == "released":
            return self._released(Place(state, station=here), ctx).after(record)
        return _carry(self._put_through((), state, ctx), here, force=True).after(record)

    def _finished(self, place: Place, decision: station_actions.Finished, lead: tuple[Spoken, ...],
                  ctx: ev.Context) -> out.Outcome:
        """The command's end: one sentence says what happened, then the steps, or a person."""
        state = place.state
        here = replace(place.station.carried(), result=decision.result.to_param())
        say = self._catalog(state.lang).text
        lines = tuple(Line(str(_text(line))) for line in lead) + tuple(Line(say(key)) for key in decision.lines)
        record = self._record(f"station:{decision.result.to_param()}", node=state.node, answer=False, suffix=":sr")
        if place.station.waiting == "u":
            here = replace(here, unlock_connector=None)
            if decision.result.succeeded:
                asking = Place(state, station=here)
                return out.Outcome(self._yes_no(asking, (*lines, say("did_it_come_out")), "pulled"), (record,))
            return _carry(self._put_through(lines, state, ctx), here, force=True).after(record)
        if decision.answer == "yes":
            reply = self.engine.answer(state, Heard("yes"))
            reply = replace(reply, lines=(*lines, *reply.lines))
        elif (decision.result.command == "stop" and decision.result.result in station_actions.STOP_NOT_DONE
              and state.node in station_actions.SCREEN_QUESTIONS and not state.hazard):
            # The stop was refused: the session still runs. The caller is not asked to read
            # the screen the line has just read; on to their own ways to stop it.
            reply = self.engine.answer(state, Heard("no"))
            reply = replace(reply, lines=(*lines, *reply.lines))
        else:
            reply = self.engine.ask(state, lines, action="station")
        return _carry(self._reply(reply, ctx), here, force=True).after(record)

    def _hold_answered(self, place: Place, event: ev.Answered, ctx: ev.Context) -> out.Outcome:
        """Automatic unlock: the caller holds the handle with the cable's weight off (OCPI:
        tension keeps a lock stuck), then the line sends UNLOCK_CONNECTOR itself."""
        state, here = place.state, place.station
        heard = self._understand(event, "yes_no", state.lang, event.digits)
        record = self._record(f"station:hold:{heard.intent}", node=state.node)
        if heard.intent in ("hazard", "damage"):
            reply = self.engine.hazard_reply(state, "fire" if heard.intent == "hazard" else "damage")
            return self._reply(reply, ctx).after(record, *self._alert(state.hazard, reply.state))
        if heard.intent not in ("yes", "no", "agent") and place.tries < 1:   # a mumble or silence: once more
            say = self._catalog(state.lang).text
            return out.Outcome(self._yes_no(replace(place, tries=place.tries + 1),
                                            (say("not_understood"), say("station_hold_handle")), "hold"), (record,))
        decision = station_actions.on_hold_answer(heard.intent, here.unlock_connector or "")
        if isinstance(decision, station_actions.NoUnlock) or not here.unlock_connector:
            return self._put_through((), state, ctx).after(record)
        say = self._catalog(state.lang).text
        return out.Outcome(out.Pending(place), (record, out.RunStationCommand(
            "UNLOCK_CONNECTOR", here.location_id or "", here.evse_uid or "", "u", connector_id=decision.connector_id,
            lead=tuple(say(key) for key in decision.lines), then=out.Pending(place)),))

    def _pulled_answered(self, place: Place, event: ev.Answered, ctx: ev.Context) -> out.Outcome:
        """After the station unlocked: did it come out? Yes: released; anything else: a person."""
        state = place.state
        heard = self._understand(event, "yes_no", state.lang, event.digits)
        record = self._record(f"station:pulled:{heard.intent}", node=state.node)
        if heard.intent in ("yes", "released"):
            return self._released(place, ctx).after(record)
        if heard.intent in ("hazard", "damage"):
            reply = self.engine.hazard_reply(state, "fire" if heard.intent == "hazard" else "damage")
            return self._reply(reply, ctx).after(record, *self._alert(state.hazard, reply.state))
        return self._put_through((), state, ctx).after(record)

    def _released(self, place: Place, ctx: ev.Context) -> out.Outcome:
        """The plug is out: the flow's release, as its last question's "it came out" leads."""
        state = place.state
        asked = next((node for node in reversed(state.path) if getattr(self.flow.nodes.get(node), "kind", "") == "ask"), None)
        if asked is None:
            return self._put_through((), state, ctx)
        reply = self.engine.answer(replace(state, node=asked, mode="confirm"), Heard("yes"))
        return self._reply(reply, ctx)

    def _lead(self, ask: out.Ask) -> tuple[Spoken, ...]:
        """What an Ask says before its question (a welcome, a lead-in)."""
        first = self.engine.ask(ask.place.state)
        return ask.lines[:max(0, len(ask.lines) - len(first.lines))]

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


# -- the station's place, carried through every reply ----------------------------------------

def _has_place(reply: Any) -> bool:
    return any(isinstance(getattr(reply, name, None), Place) for name in ("place", "accept"))


def _place_of(reply: Any) -> Place:
    for name in ("place", "accept"):
        found = getattr(reply, name, None)
        if isinstance(found, Place):
            return found
    raise TypeError(f"no place in {reply!r}")


def _carry_reply(reply: Any, here: StationPlace, force: bool = False) -> Any:
    """`reply` with the station on each of its places (unless a place has its own, or `force`)."""
    changes = {}
    for name in ("place", "whisper", "wait", "empty", "accept"):
        found = getattr(reply, name, None)
        if isinstance(found, Place) and (force or found.station == StationPlace()):
            changes[name] = replace(found, station=here)
    return replace(reply, **changes) if changes else reply


def _carry(outcome: out.Outcome, here: StationPlace, force: bool = False) -> out.Outcome:
    if here == StationPlace():
        return outcome
    return replace(outcome, reply=_carry_reply(outcome.reply, here, force))


def _pending(outcome: out.Outcome, effect: out.Effect) -> out.Outcome:
    """Hold the reply: its effects first, then `effect`, whose result decides it."""
    return out.Outcome(out.Pending(_place_of(outcome.reply)), (*outcome.effects, effect))


def _with_lead(reply: Any, lead: tuple[str, ...]) -> Any:
    lines = getattr(reply, "lines", None)
    return replace(reply, lines=(*lead, *lines)) if lines is not None and lead else reply


def _text(line: Spoken) -> str:
    return line.text if isinstance(line, Line) else line


def _label(evse: Evse) -> str | None:
    import re
    label = evse.physical_reference or evse.evse_id
    return label if label and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 *._:-]{0,47}", label) else None


def _stop_failed(result: str | None) -> bool:
    """A remote stop was sent and did not end the session (refused, failed, timed out, not
    supported): the session may still run, so the line reads the station again itself."""
    return result is not None and result.startswith("stop-") and result not in ("stop-ok", "stop-pending")

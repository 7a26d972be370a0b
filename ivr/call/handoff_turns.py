"""The hand-off's dialogues: the chain's offers, a message, a call back, the steps by
text, how a dial or the queue ended, the queue's wait and the agent's whisper.

A mixin of the Conversation (ivr.call.conversation); ivr.call.chain decides each step,
these turns ask, record and hand the results on (ivr.call.turns has the shared helpers).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ivr.basics import ids, phone
from ivr.call import chain, handoff, station, station_actions, station_whisper
from ivr.call import events as ev
from ivr.call import outcomes as out
from ivr.call.codec import Place
from ivr.call.engine import Line
from ivr.call.outcomes import Spoken
from ivr.call.station_model import label_key
from ivr.call.turns import Turns

NUMBER_SECONDS = 10
TEXT_REPLIES = {"sent": "sms_sent", "invalid_number": "sms_invalid_number",
                "unsubscribed": "sms_unsubscribed", "unavailable": "sms_unavailable"}


class HandoffTurns(Turns):
    """The turns after the release steps: offers, messages, dials, the queue, the whisper."""

    # -- the chain's offers --------------------------------------------------------------------

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

"""The station in the loop (issue 14; ivr.call.station_actions has the six steps): the
connector question the charger answers, the running session read and stopped, the
listening wait for a command, the caller holding the handle before an unlock, "did it
come out?", and a hazard's stop with its second alert. Each reading or command is an
effect whose result comes back as an event.

A mixin of the Conversation (ivr.call.conversation); ivr.call.turns has the shared helpers.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from ivr.call import events as ev
from ivr.call import outcomes as out
from ivr.call import station_actions, station_whisper
from ivr.call.codec import Place, StationPlace, Waiting
from ivr.call.engine import CallState, Heard, Line
from ivr.call.outcomes import Spoken
from ivr.call.station_model import Evse, Outcome
from ivr.call.station_policy import unlock_policy
from ivr.call.turns import Turns, carry, carry_reply, has_place, pending, place_of
from ivr.language import phrases


class StationTurns(Turns):
    """The turns the identified station takes part in."""

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
        if not has_place(reply):
            return outcome
        if any(isinstance(effect, out.RaiseAlert) for effect in outcome.effects) and here.result != "stop-ok":
            return pending(outcome, out.ReadStation(loc, uid, True, "hazard", then=reply))
        if isinstance(reply, out.Ask) and reply.asked == "step":
            state = reply.place.state
            node = self.flow.nodes.get(state.node)
            if node is None or state.mode != "ask" or state.hazard:
                return outcome
            if node.expect == "connector" and state.connector is None:
                return pending(outcome, out.ReadStation(loc, uid, False, "connector", then=reply))
            if station_actions.reads_status(node.id) and (
                    here.result is None or (_stop_failed(here.result) and node.id in station_actions.SCREEN_QUESTIONS)):
                index = str(station_actions.SESSION_QUESTIONS.index(node.id))
                if index not in here.read:
                    marked = replace(reply, place=replace(reply.place, station=replace(here, read=here.read + index)))
                    said = event.speech if isinstance(event, ev.Answered) else None
                    return pending(outcome, out.ReadStation(loc, uid, True, "session", then=marked, said=said))
        if (isinstance(reply, (out.Dial, out.Enqueue)) and reply.place.state.connector and not reply.place.state.hazard
                and not here.unlock_connector and not here.hold_asked
                and (here.result is None or here.result.startswith("stop-"))):
            return pending(outcome, out.ReadStation(loc, uid, True, "unlock", then=reply))
        return outcome

    # -- the station read ---------------------------------------------------------------------

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
        if self._meaning(speech, None, None, "yes_no", lang).intent == "dont_know":
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
        state = place_of(then).state
        say = self._catalog(state.lang).text
        return out.Outcome(out.Pending(place), (out.RunStationCommand(
            "STOP_SESSION", here.location_id or "", here.evse_uid or "", "h", session_id=decision.session_id,
            lead=tuple(say(key) for key in decision.lines), then=then),))

    # -- a command sent, and its listening wait ------------------------------------------------

    def _command_sent(self, place: Place, event: ev.StationCommandSent, ctx: ev.Context) -> out.Outcome:
        then = event.then
        here = place_of(then).station if then is not None else place.station
        command = event.state
        sent_at = int(ctx.now.timestamp())
        if event.purpose == "h":
            return self._hazard_sent(place, event, here, sent_at)
        waiting = replace(here, command_id=command.command_id, sent_at=sent_at, turn=0,
                          waiting=cast("Waiting | None", event.purpose if command.command_id else None))
        if not command.command_id:
            waiting = replace(waiting, command_id=None, waiting=None, sent_at=None)
        state = place_of(then).state if then is not None else place.state
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
            return out.Outcome(_with_lead(carry_reply(then, waiting, force=True), event.lead))
        result = station_actions.result_of(command)
        done = replace(here, result=result.to_param())
        state = place_of(then).state
        return out.Outcome(_with_lead(carry_reply(then, done, force=True), event.lead), self._second_alert(state, done, result))

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
            return carry(self._reply(reply, ctx), here, force=True).after(record, *self._alert(state.hazard, reply.state))
        if decision.intent in ("hazard", "damage"):
            reply = self.engine.hazard_reply(state, "fire" if decision.intent == "hazard" else "damage")
            return carry(self._reply(reply, ctx), here, force=True).after(record, *self._alert(state.hazard, reply.state))
        if decision.intent == "released":
            return self._released(Place(state, station=here), ctx).after(record)
        return carry(self._put_through((), state, ctx), here, force=True).after(record)

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
            return carry(self._put_through(lines, state, ctx), here, force=True).after(record)
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
        return carry(self._reply(reply, ctx), here, force=True).after(record)

    # -- the unlock ---------------------------------------------------------------------------

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


# -- small helpers --------------------------------------------------------------------------

def _with_lead(reply: Any, lead: tuple[str, ...]) -> Any:
    lines = getattr(reply, "lines", None)
    return replace(reply, lines=(*lead, *lines)) if lines is not None and lead else reply


def _text(line: Spoken) -> str:
    return line.text if isinstance(line, Line) else line


def _stop_failed(result: str | None) -> bool:
    """A remote stop was sent and did not end the session (refused, failed, timed out, not
    supported): the session may still run, so the line reads the station again itself."""
    return result is not None and result.startswith("stop-") and result not in ("stop-ok", "stop-pending")

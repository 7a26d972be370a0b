"""The station in the conversation (issue 14), pure: events in, replies and effects out.
A small fake world answers the station effects as the web layer's effect loop would
(ivr/web/views/converse.py), so every path runs without Flask, a CPO or a clock."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

import pytest
from conftest import CONTENT

from ivr.call import codec
from ivr.call import events as ev
from ivr.call import outcomes as out
from ivr.call.codec import Place, StationPlace
from ivr.call.conversation import Conversation
from ivr.call.engine import BadState, CallState, Engine
from ivr.call.escalation import Escalation
from ivr.call.station_model import CommandState, Connector, Evse, Lookup, Outcome, Session, StationStatus

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)
ESC = Escalation(path="test", fallback=("voicemail", "callback", "sms"))
CTX = ev.Context(now=NOW, caller="+14155550188", line="+18005550100", agent_number="+15005550006", dial_timeout=25)
TALK = Conversation(CONTENT.engine, ESC)
CCS = Evse("LOC1", "EVSE-1", "US*CPO*E12345", "E12345", "CHARGING", (Connector("1", "IEC_62196_T1_COMBO", "CABLE"),))
BOTH = replace(CCS, connectors=(*CCS.connectors, Connector("2", "CHADEMO", "CABLE")))
CHADEMO = Evse("LOC9", "EVSE-9", None, "E99999", "BLOCKED", (Connector("1", "CHADEMO", "CABLE"),))
ACTIVE = StationStatus(Outcome.OK, "CHARGING", Session("SES-1", "ACTIVE", "1"))
IDLE = StationStatus(Outcome.OK, "BLOCKED", None)
PENDING = CommandState(Outcome.PENDING, "cmd-0123456789", "STOP_SESSION", "ACCEPTED")


@dataclass
class World:
    """What the station back end answers, and what the line asked of it."""

    evse: Evse | None = CCS
    status: StationStatus = ACTIVE
    sent: CommandState = PENDING
    now: CommandState = PENDING
    asked: list = field(default_factory=list)
    talk: Conversation = TALK
    site: tuple = ()

    def run(self, place, outcome: out.Outcome, ctx=CTX) -> out.Outcome:
        """The effect loop: each station effect's result handed back as its event."""
        effects = list(outcome.effects)
        while isinstance(outcome.reply, out.Pending):
            effect = next(e for e in outcome.effects if isinstance(e, (out.FindStation, out.ReadStation,
                                                                        out.RunStationCommand, out.ReadCommand)))
            self.asked.append(effect)
            if isinstance(effect, out.FindStation):
                event: ev.Event = ev.StationFound(Lookup(Outcome.UNKNOWN, candidates=self.site), effect.purpose,
                                                  effect.then, effect.speech, effect.digits)
            elif isinstance(effect, out.ReadStation):
                event = ev.StationRead(self.evse, self.status if effect.status else None, effect.purpose,
                                       effect.then, effect.said)
            elif isinstance(effect, out.RunStationCommand):
                event = ev.StationCommandSent(replace(self.sent, command=effect.command), effect.purpose, effect.lead,
                                              effect.then)
            else:
                event = ev.StationCommandResult(self.now, then=effect.then)
            outcome = self.talk.handle(outcome.reply.place, event, ctx)
            effects += outcome.effects
        return out.Outcome(outcome.reply, tuple(effects))

    def start(self, lookup_of: Evse | None = None) -> out.Outcome:
        evse = lookup_of or self.evse
        return self.run(None, self.talk.handle(None, ev.Arrived(station="E12345", lookup=Lookup(Outcome.OK, evse)), CTX))

    def answer(self, outcome: out.Outcome, ctx=CTX, **fields) -> out.Outcome:
        ask = outcome.reply
        assert isinstance(ask, out.Ask), ask
        place = codec.decode(codec.encode(ask.place), CONTENT.flow, CONTENT.catalogs)   # through the URL and back
        return self.run(place, self.talk.handle(place, ev.Answered(ask.asked, **fields), ctx), ctx)


def said(outcome: out.Outcome) -> list[str]:
    return [line if isinstance(line, str) else line.text for line in getattr(outcome.reply, "lines", ())]


def of(outcome: out.Outcome, kind: type) -> list:
    return [e for e in outcome.effects if isinstance(e, kind)]


def node(outcome: out.Outcome) -> str:
    return outcome.reply.place.state.node


def later(seconds: float) -> ev.Context:
    return replace(CTX, now=NOW + timedelta(seconds=seconds))


# -- which plug ---------------------------------------------------------------------------

def test_an_evse_with_one_standard_answers_the_connector_question():
    world = World()
    first = world.start()
    assert node(first) == "ccs_button" and first.reply.place.state.connector == "ccs"
    assert first.reply.place.station.location_id == "LOC1" and first.reply.place.station.evse_uid == "EVSE-1"
    assert "Charging help line. Let's free the connector." in said(first)


def test_an_evse_with_two_standards_is_asked_among_its_own():
    world = World(evse=BOTH)
    first = world.start()
    assert node(first) == "connector"
    assert "This charger has C C S and Chademo. Which one are you using?" in said(first)
    assert node(world.answer(first, digits="2")) == "chademo_light"


SITE = (CCS, replace(CHADEMO, location_id="LOC1"))


def at_the_site(world: World) -> out.Outcome:
    lookup = Lookup(Outcome.UNKNOWN, candidates=SITE)
    return world.run(None, TALK.handle(None, ev.Arrived(station="LOC1", lookup=lookup), CTX))


def test_a_whole_site_asks_which_charger_reads_it_back_once_then_knows_its_plug():
    world = World(evse=CHADEMO, status=IDLE, site=SITE)
    which = at_the_site(world)
    assert which.reply.asked == "which" and which.reply.place.station == StationPlace()
    assert said(which)[-1] == "Which charger are you at? Read me the label on it, or key in its numbers and press pound."
    assert "Charging help line. Let's free the connector." in said(which)
    back = world.answer(which, speech="E 9 9 9 9 9", confidence=0.9)
    assert said(back)[0] == "You're at charger E, 9 9 9, 9 9. Is that right?" and back.reply.asked == "which"
    assert not back.reply.place.station.identified            # never acted on before the caller's yes
    known = world.answer(back, speech="yes", confidence=0.9)
    assert said(known)[0] == "Thank you." and node(known) == "chademo_light"
    assert known.reply.place.station.evse_uid == "EVSE-9"


def test_a_site_whose_charger_is_not_found_goes_on_without_it():
    world = World(site=SITE)
    which = at_the_site(world)
    again = world.answer(which, speech="Z 1", confidence=0.9)
    assert said(again) == ["Sorry, I can't find that charger here. Please read its label once more."]
    on = world.answer(again, digits="777#")
    assert "Let's go on with the steps." in said(on) and node(on) == "connector"
    assert on.reply.place.station == StationPlace()


def test_a_no_to_the_read_back_asks_again_and_never_acts():
    world = World(site=SITE)
    back = world.answer(at_the_site(world), digits="12345#")
    assert back.reply.place.station.candidate == "LOC1~EVSE-1"
    again = world.answer(back, digits="2")
    assert again.reply.asked == "which" and not again.reply.place.station.identified


# -- is it still charging? ----------------------------------------------------------------

def stop_sent(world: World) -> out.Outcome:
    first = world.start()
    return world.answer(first, speech="it's still stuck", confidence=0.9)


def test_a_running_session_is_stopped_in_the_same_webhook_then_a_listening_wait():
    world = World()
    wait = stop_sent(world)
    assert [type(e).__name__ for e in world.asked] == ["ReadStation", "ReadStation", "RunStationCommand"]
    command = world.asked[-1]
    assert (command.command, command.session_id, command.purpose) == ("STOP_SESSION", "SES-1", "s")
    assert said(wait)[-2:] == ["The station shows your session is still running. I'll stop it now.",
                               "This takes a few seconds. Stay on the line."]
    assert wait.reply.asked == "station_wait" and wait.reply.timeout == 3
    assert wait.reply.place.station.command_id == "cmd-0123456789" and node(wait) == "session_screen"


def test_the_wait_listens_then_says_stopped_and_goes_on_with_the_release_steps():
    world = World()
    wait = stop_sent(world)
    again = world.answer(wait, later(3))
    assert again.reply.asked == "station_wait" and again.reply.timeout == 5
    world.now = replace(world.now, outcome=Outcome.OK, result="ACCEPTED")
    done = world.answer(again, later(6))
    assert said(done)[0] == "It's stopped. Now let's free the plug."
    assert done.reply.asked == "step" and node(done) not in ("session_screen", "stop_session")
    assert done.reply.place.station.result == "stop-ok" and done.reply.place.station.command_id is None


def test_a_result_that_never_comes_ends_the_wait_at_the_cap():
    world = World()
    wait = stop_sent(world)
    done = world.answer(wait, later(31))
    assert said(done)[:2] == ["The station didn't answer in time.", "Let's go on with the steps."]
    assert node(done) == "session_screen" and done.reply.place.station.result == "stop-timeout"


@pytest.mark.parametrize("word, sentence", [("REJECTED", "The station didn't accept the request."),
                                        ("FAILED", "The station tried, but it didn't work.")])
def test_a_failed_stop_says_what_happened_then_the_steps_and_the_whisper_has_it(word, sentence):
    world = World()
    wait = stop_sent(world)
    world.now = replace(world.now, outcome=Outcome.REJECTED, result=word)
    done = world.answer(wait, later(3))
    assert said(done)[0] == sentence
    person = world.answer(done, speech="agent", confidence=0.9)
    assert isinstance(person.reply, out.Dial)
    whisper = TALK.handle(person.reply.whisper, ev.WhisperAsked(), CTX)
    assert any(text.startswith("Remote stop:") for text in said(whisper))


@pytest.mark.parametrize("word", ["REJECTED", "NOT_SUPPORTED", "FAILED"])
def test_after_a_refused_stop_the_caller_is_not_asked_to_read_the_screen(word):
    """The session still runs (the stop was not done): the line does not ask "is the
    screen ready for a new session?", it goes on to the caller's own ways to stop it."""
    world = World()
    wait = stop_sent(world)
    world.now = replace(world.now, outcome=Outcome.REJECTED, result=word)
    done = world.answer(wait, later(3))
    assert node(done) == "stop_session" and done.reply.asked == "step"
    assert not any("ready for a new session?" in line for line in said(done)[:-1])
    assert done.reply.place.station.result.startswith("stop-")


def test_after_a_stop_that_timed_out_the_screen_question_is_asked_as_today():
    """No answer from the station says nothing of the session: ask the caller."""
    world = World()
    done = world.answer(stop_sent(world), later(31))
    assert node(done) == "session_screen"


def test_it_came_out_during_the_wait_is_heard():
    world = World()
    wait = stop_sent(world)
    heard = world.answer(wait, speech="it came out", confidence=0.9)
    assert "Just to be sure, is the connector out of your car?" in said(heard)


def test_the_back_end_down_asks_the_caller_as_today():
    world = World(status=StationStatus(Outcome.DOWN, detail="refused"))
    asked = stop_sent(world)
    assert asked.reply.asked == "step" and node(asked) == "session_screen"
    assert not [e for e in world.asked if isinstance(e, out.RunStationCommand)]


def test_no_session_seen_is_unknown_never_stopped():
    world = World(status=IDLE)
    asked = stop_sent(world)
    assert node(asked) == "session_screen" and "stopped" not in " ".join(said(asked)).lower()


# -- a hazard while current flows ---------------------------------------------------------

def test_a_hazard_stops_the_session_at_once_then_a_second_alert_with_the_result():
    world = World()
    first = world.start()
    hazard = world.answer(first, speech="there's smoke", confidence=0.9)
    assert said(hazard)[0] == "I'm stopping the charger's power now."
    assert [a.tier for a in of(hazard, out.RaiseAlert)] == ["fire"]            # the first alert at once
    assert node(hazard) == "hazard" and hazard.reply.place.station.waiting == "h"
    assert not any("pull" in line.lower() for line in said(hazard))
    world.now = replace(world.now, outcome=Outcome.OK, result="ACCEPTED")
    after = world.answer(hazard, speech="yes", confidence=0.9)
    second = [a for a in of(after, out.RaiseAlert) if a.tier == "stop"]
    assert second and second[0].note == "Remote stop at E12345 after the hazard: the station confirmed the stop."
    assert of(after, out.TakeOutOfService) == [out.TakeOutOfService("LOC1", "EVSE-1")]
    assert not any("pull" in line.lower() for line in said(after))


def test_a_hazard_during_the_wait_holds():
    world = World()
    wait = stop_sent(world)
    heard = world.answer(wait, speech="it's on fire", confidence=0.9)
    assert node(heard) == "hazard" and [a.tier for a in of(heard, out.RaiseAlert)] == ["fire"]
    assert not any("pull" in line.lower() for line in said(heard))
    assert heard.reply.place.station.waiting == "h"            # the stop on its way: its result, next webhook
    world.now = replace(world.now, outcome=Outcome.OK, result="ACCEPTED")
    after = world.answer(heard, speech="yes", confidence=0.9)
    assert [a.tier for a in of(after, out.RaiseAlert)] == ["stop"]
    assert len([e for e in world.asked if isinstance(e, out.RunStationCommand)]) == 1   # never sent twice


# -- the unlock ---------------------------------------------------------------------------

def chademo_to_the_hand_off(world: World, talk: Conversation = TALK) -> out.Outcome:
    first = world.start()
    assert node(first) == "chademo_light"
    lit = world.answer(first, speech="yes", confidence=0.9)
    return world.answer(lit, speech="no", confidence=0.9)


def test_the_agent_is_offered_the_unlock_in_the_whisper():
    world = World(evse=CHADEMO, status=IDLE)
    dial = chademo_to_the_hand_off(world)
    assert isinstance(dial.reply, out.Dial) and dial.reply.whisper.station.unlock_connector == "1"
    whisper = TALK.handle(dial.reply.whisper, ev.WhisperAsked(), CTX)
    assert said(whisper)[-1] == "Press 1 to take the call, or 2 to unlock connector 1 at E, 9 9 9, 9 9 first."
    assert whisper.reply.unlock == out.UnlockOffer("LOC9", "EVSE-9", "1", "E99999")


def test_no_offer_while_a_session_runs_or_for_a_car_side_lock():
    world = World(evse=CHADEMO, status=replace(ACTIVE))
    dial = chademo_to_the_hand_off(world)
    assert isinstance(dial.reply, out.Dial) and dial.reply.whisper.station.unlock_connector is None


def test_automatic_unlock_asks_the_caller_to_hold_the_handle_first():
    flow = replace(CONTENT.flow, settings={**CONTENT.flow.settings, "stations": {"unlock": "automatic"}})
    talk = Conversation(Engine(flow, CONTENT.catalogs, CONTENT.default_language), ESC)
    world = World(evse=CHADEMO, status=IDLE, talk=talk,
                  sent=CommandState(Outcome.PENDING, "cmd-0123456789", "UNLOCK_CONNECTOR", "ACCEPTED"),
                  now=CommandState(Outcome.OK, "cmd-0123456789", "UNLOCK_CONNECTOR", "ACCEPTED"))
    hold = chademo_to_the_hand_off(world)
    assert hold.reply.asked == "hold" and not [e for e in world.asked if isinstance(e, out.RunStationCommand)]
    wait = world.answer(hold, speech="yes", confidence=0.9)
    unlock = world.asked[-1]
    assert (unlock.command, unlock.connector_id, unlock.purpose) == ("UNLOCK_CONNECTOR", "1", "u")
    assert said(wait)[:2] == ["I'll ask the station to unlock it now.", "This takes a few seconds. Stay on the line."]
    done = world.answer(wait, later(3))
    assert said(done)[0] == "The station has released the lock. Pull the plug straight out now."
    out_now = world.answer(done, speech="yes", confidence=0.9)
    assert "Great, it's out." in " ".join(said(out_now))


# -- the codec ----------------------------------------------------------------------------

def test_the_station_keys_go_through_the_url_and_back():
    here = StationPlace("LOC1", "EVSE-1", "E12345", "stop-ok", "01", "cmd-0123456789", "s", 1790000000, 2, "2", True)
    place = Place(CallState(node="session_screen"), station=here)
    params = codec.encode(place)
    assert {k: params[k] for k in ("ev", "el", "sr", "rd", "cmd", "wf", "ws", "wt", "uc", "ua")} == {
        "ev": "LOC1~EVSE-1", "el": "E12345", "sr": "stop-ok", "rd": "01", "cmd": "cmd-0123456789", "wf": "s",
        "ws": "1790000000", "wt": "2", "uc": "2", "ua": "1"}
    assert codec.decode(params, CONTENT.flow, CONTENT.catalogs) == place


@pytest.mark.parametrize("bad", [{"ev": "LOC1"}, {"ev": "LOC1~EVSE 1"}, {"sr": "stop-maybe"}, {"rd": "x"},
                                 {"ev": "L~E", "cmd": "short"}, {"ev": "L~E", "wf": "s"},
                                 {"ev": "L~E", "cmd": "cmd-0123456789", "wf": "x"}, {"cmd": "cmd-0123456789", "wf": "s"},
                                 {"uc": "1"}, {"ev": "L~E", "ws": "12"}, {"ev": "L~E", "ua": "2"},
                                 {"ev": "L~E", "el": "<Say>"}])
def test_the_station_keys_are_read_strictly(bad):
    with pytest.raises(BadState):
        codec.decode({"node": "session_screen", "lang": "en-US", **bad}, CONTENT.flow, CONTENT.catalogs)


# -- a hazard holds with the station in the loop (hypothesis walks random calls) ----------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

MOVES = st.sampled_from(
    [{"digits": d} for d in "0129#"] + [{}] + [
        {"speech": s, "confidence": 0.9} for s in ("it came out", "still stuck", "there's smoke", "yes", "no",
                                                   "cable is cracked", "agent", "it's still charging")])
RESULTS = st.sampled_from([Outcome.PENDING, Outcome.OK, Outcome.REJECTED, Outcome.TIMEOUT, Outcome.DOWN])
RELEASE_WORDS = ("free the plug", "Pull the plug", "Great, it's out")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(MOVES, RESULTS, st.integers(0, 40)), max_size=20), st.sampled_from([CCS, BOTH, CHADEMO]))
def test_once_a_hazard_is_heard_no_release_step_follows_with_the_station(moves, evse):
    world = World(evse=evse)
    outcome = world.start()
    hazard = None
    for move, result, seconds in moves:
        if not isinstance(outcome.reply, out.Ask):
            break
        world.now = replace(world.now, outcome=result, result="ACCEPTED" if result is Outcome.OK else "REJECTED")
        outcome = world.answer(outcome, later(seconds), **move)
        place = getattr(outcome.reply, "place", None)
        if place is None:
            continue
        hazard = hazard or place.state.hazard
        if hazard:
            assert place.state.hazard, "a hazard was dropped"
            assert not any(word in line for line in said(outcome) for word in RELEASE_WORDS), said(outcome)
            if isinstance(outcome.reply, out.Ask) and outcome.reply.asked == "step":
                assert place.state.node in CONTENT.engine.safety_nodes


@pytest.mark.parametrize("words, first", [
    ("it won't come out, it's still charging", "Yes, the station shows your session is still running. I'll stop it now."),
    ("it's still stuck", "The station shows your session is still running. I'll stop it now.")])
def test_the_caller_who_says_it_is_still_charging_hears_yes(words, first):
    world = World()
    wait = world.answer(world.start(), speech=words, confidence=0.9)
    assert first in said(wait)

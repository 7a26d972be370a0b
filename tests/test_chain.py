"""ivr.call.chain: the hand-off chain decided without Flask, a network or a clock."""
from __future__ import annotations

import pytest
from conftest import CONTENT

from ivr.call import chain, codec
from ivr.call.codec import Place
from ivr.call.engine import BadState, CallState
from ivr.call.escalation import Escalation

EN = CONTENT.catalogs["en-US"]
ESC = Escalation(path="test", fallback=("voicemail", "callback", "sms"))


def place(**kwargs) -> Place:
    return Place(CallState(node="agent", lang="en-US", **kwargs))


def decode(params, **kwargs) -> Place:
    return codec.decode(params, CONTENT.flow, CONTENT.catalogs, **kwargs)


def test_the_place_travels_in_the_url_and_back():
    here = Place(CallState(node="agent", lang="en-US", hazard="fire"), chain="a", at=1, done="v", tries=1)
    assert decode(codec.encode(here)) == here
    waiting = Place(CallState(node="reseat", lang="es-US"), candidate="EA45077", step="confirm",
                    callback="+14155550188", leg=2, empty=True)
    assert decode(codec.encode(waiting)) == waiting
    assert codec.encode(waiting)["cb"] == "14155550188"


@pytest.mark.parametrize("damage", [
    {"node": "nowhere"}, {"ch": "x"}, {"at": "999"}, {"done": "zv"}, {"ot": "12"}, {"sc": "<Dial>"},
    {"step": "later"}, {"cb": "+1415"}, {"step": "confirm"}, {"leg": "3"}, {"empty": "yes"},
])
def test_a_damaged_url_is_bad_state(damage):
    with pytest.raises(BadState):
        decode({"node": "agent", "lang": "en-US", **damage})


def test_the_answer_url_names_a_question():
    with pytest.raises(BadState):
        decode({"node": "agent", "lang": "en-US"}, questions_only=True)
    assert decode({"node": "reseat", "lang": "en-US"}, questions_only=True).state.node == "reseat"


def test_links_are_offered_in_order_then_the_support_number():
    step = chain.next_step(place(), [], ESC, EN, (), "+18005550199")
    assert isinstance(step, chain.Offer) and step.place.at == 0 and EN.text("voicemail_offer") in step.lines
    last = chain.next_step(Place(place().state, at=2), [], ESC, EN, (), "+18005550199")
    assert isinstance(last, chain.Goodbye) and "8 0 0" in last.lines[-1]


def test_a_left_message_skips_the_call_back():
    step = chain.next_step(place().did("voicemail"), [], ESC, EN, ("sms",), None)
    assert isinstance(step, chain.Goodbye)


def test_a_hazard_during_an_offer_holds_and_the_caller_is_told_to_stay_clear():
    offered = Place(place().state, at=0)
    answer = chain.answer_offer(offered, "voicemail", "hazard", EN)
    assert isinstance(answer, chain.AskAgain) and answer.alert
    assert answer.place.state.hazard == "fire"
    assert answer.lines[0] == EN.text("after_hours_hazard")
    # Every later step keeps it: the goodbye never sends them back to the unit.
    later = chain.next_step(answer.place, [], ESC, EN, ("sms", "voicemail", "callback"), "+18005550199")
    assert isinstance(later, chain.Goodbye) and later.lines[-1].startswith(EN.text("goodbye_hazard", number="")[:10])


def test_a_second_silence_is_no():
    offered = Place(place().state, at=0)
    first = chain.answer_offer(offered, "callback", "silence", EN)
    assert isinstance(first, chain.AskAgain) and first.place.tries == 1
    assert isinstance(chain.answer_offer(first.place, "callback", "silence", EN), chain.GoOn)


# -- the station ID ---------------------------------------------------------------------------

def test_station_read_back_then_confirmed():
    from ivr.call import station_dialogue as sd
    heard = sd.answer({}, "unclear", None, "45077", None, 0)
    assert isinstance(heard, sd.ReadBack) and heard.station_id == "45077" and heard.prompt == "station_confirm_keyed"
    confirmed = sd.answer({}, "yes", None, "1", heard.station_id, 0)
    assert isinstance(confirmed, sd.Confirmed) and confirmed.station_id == "45077"


def test_station_confirm_retry_then_the_call_goes_on():
    from ivr.call import station_dialogue as sd
    first = sd.answer({}, "no", None, "2", "45077", 0)
    assert isinstance(first, sd.AskAgain) and first.tries == 1 and first.record == "station:confirm:no"
    second = sd.answer({}, "no", None, "2", "45077", first.tries)
    assert isinstance(second, sd.GoOn) and second.lead == "station_skipped"


def test_station_commands_and_silence():
    from ivr.call import station_dialogue as sd
    assert isinstance(sd.answer({}, "hazard", "there's smoke", None, None, 0), sd.Command)
    silent = sd.answer({}, "silence", None, None, None, 0)
    assert isinstance(silent, sd.AskAgain) and silent.why == "silence"
    assert sd.keys_to_understand("4", None) is None and sd.keys_to_understand("0", None) == "0"


# -- a call back ----------------------------------------------------------------------------

def test_callback_confirm_and_entry():
    assert chain.confirm_answer("+14155550188", "yes", 0) == chain.Save("+14155550188")
    assert chain.confirm_answer("+14155550188", "unclear", 0) == chain.ConfirmNumber("+14155550188", 1, "not_understood")
    assert chain.confirm_answer("+14155550188", "unclear", 1) == chain.EnterNumber(0)
    assert chain.confirm_answer("+14155550188", "no", 0) == chain.EnterNumber(0)
    assert chain.number_entered("+14155550188", 1, 2) == chain.ConfirmNumber("+14155550188", 0)
    assert chain.number_entered(None, 0, 2) == chain.EnterNumber(1, "callback_invalid")
    assert chain.number_entered(None, 1, 2) == chain.GiveUp()


def test_a_dial_the_whisper_hung_up_is_not_a_connection():
    assert chain.dial_connected("completed", bridged=True)
    assert not chain.dial_connected("completed", bridged=False)
    assert not chain.dial_connected("no-answer", bridged=True)
    assert chain.connected_goodbye(CallState(node="agent", lang="en-US", hazard="damage")) == "dial_completed_hazard"


# -- putting the caller through -----------------------------------------------------------------

def test_put_through_rings_the_agent_or_the_queue_with_the_safety_line():
    state = CallState(node="agent", lang="en-US")
    dial = chain.put_through([], state, is_open=True, engine=CONTENT.engine, catalog=EN, esc=ESC,
                             agent_number="+15005550006", dial_timeout=25)
    assert isinstance(dial, chain.DialAgent) and dial.timeout == 25 and EN.text("dont_drive_off") in dial.lines
    queued = chain.put_through([], state, is_open=True, engine=CONTENT.engine, catalog=EN,
                               esc=Escalation(path="test", queue="stuck"), agent_number=None, dial_timeout=25)
    assert isinstance(queued, chain.Enqueue) and queued.queue == "stuck"


def test_a_closed_line_runs_the_after_hours_chain_and_a_hazard_is_told_to_stay_clear():
    state = CallState(node="agent", lang="en-US", hazard="fire")
    closed = chain.put_through([], state, is_open=False, engine=CONTENT.engine, catalog=EN, esc=ESC,
                               agent_number="+15005550006", dial_timeout=25)
    assert isinstance(closed, chain.RunChain) and closed.after_hours and closed.place.chain == "a"
    assert closed.lines[-1] == EN.text("after_hours_hazard")
    assert EN.text("dont_drive_off") not in closed.lines


# -- how a call begins ------------------------------------------------------------------------------

def test_a_call_begins_with_the_station_id_when_the_flow_asks_for_it():
    from ivr.call import greeting
    plain = greeting.greet(CONTENT.engine, {}, None, None, None)
    assert not plain.ask_station and plain.reply.question is not None
    asked = greeting.greet(CONTENT.engine, {"ask_station_id": True}, None, None, None)
    assert asked.ask_station
    known = greeting.greet(CONTENT.engine, {"ask_station_id": True}, None, None, "45077")
    assert not known.ask_station and known.reply.state.station == "45077"
    assert known.reply.question is not None and known.reply.question.state.station == "45077"


def test_a_dropped_call_with_a_hazard_resumes_with_the_hazard_held():
    from ivr.call import greeting
    earlier = CallState(node=CONTENT.flow.start, lang="en-US", hazard="fire")
    welcome = greeting.greet(CONTENT.engine, {"ask_station_id": True}, None, earlier, None)
    assert welcome.reply.state.hazard == "fire" and not welcome.ask_station


@pytest.mark.parametrize(("chain_name", "why"), [("f", "dial_failed"), ("a", "after_hours")])
def test_asking_for_a_person_at_an_offer_hears_why_not_then_the_offer_again(chain_name, why):
    offered = Place(place().state, chain=chain_name, at=0)
    answer = chain.answer_offer(offered, "voicemail", "agent", EN)
    assert isinstance(answer, chain.AskAgain) and not answer.alert
    assert answer.lines == (EN.text(why), EN.text("voicemail_offer")) and answer.place.tries == 1
    assert isinstance(chain.answer_offer(answer.place, "voicemail", "agent", EN), chain.GoOn)   # asked twice: on


def test_asking_for_a_person_after_a_release_is_not_told_nobody_is_free():
    offered = Place(place().state, chain="r", at=0)
    answer = chain.answer_offer(offered, "sms", "agent", EN)
    assert isinstance(answer, chain.AskAgain) and answer.lines[0] == EN.text("not_understood")

"""ivr.call.conversation: whole calls as events in, replies and effects out. No Flask,
no network, no clock: the time and the settings are passed in."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from conftest import CONTENT
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.call import codec
from ivr.call import events as ev
from ivr.call import outcomes as out
from ivr.call.codec import Place
from ivr.call.conversation import Conversation
from ivr.call.engine import CallState
from ivr.call.escalation import Escalation

EN = CONTENT.catalogs["en-US"]
AGENT = "+15005550006"
CALLER = "+14155550188"
ESC = Escalation(path="test", fallback=("voicemail", "callback", "sms"))
CTX = ev.Context(now=datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc), caller=CALLER, line="+18005550100",
                 agent_number=AGENT, dial_timeout=25, support_number="+18005550199", can_text=True)
TALK = Conversation(CONTENT.engine, ESC)


def said(outcome: out.Outcome) -> str:
    lines = getattr(outcome.reply, "lines", ())
    return " ".join(line if isinstance(line, str) else line.text for line in lines)


def effects(outcome: out.Outcome, kind: type) -> list:
    return [effect for effect in outcome.effects if isinstance(effect, kind)]


def answer(outcome: out.Outcome, ctx: ev.Context = CTX, **fields) -> out.Outcome:
    """Answer the question `outcome` asked, as Twilio would post it to that question's webhook."""
    ask = outcome.reply
    assert isinstance(ask, out.Ask), ask
    place = codec.decode(codec.encode(ask.place), CONTENT.flow, CONTENT.catalogs)   # through the URL and back
    return TALK.handle(place, ev.Answered(ask.asked, **fields), ctx)


def to_the_agent() -> out.Outcome:
    first = TALK.handle(None, ev.Arrived(), CTX)
    assert isinstance(first.reply, out.Ask) and first.reply.asked == "step"
    assert effects(first, out.RecordTurn)[0].action == "start"
    return answer(first, digits="0")


def failed_dial(ctx: ev.Context = CTX) -> out.Outcome:
    dial = to_the_agent()
    assert isinstance(dial.reply, out.Dial) and dial.reply.number == AGENT and dial.reply.place.leg == 1
    return TALK.handle(dial.reply.place, ev.DialEnded("no-answer"), ctx)


def test_a_whole_call_from_arrival_through_a_failed_dial_to_the_support_number():
    offer = failed_dial()
    assert effects(offer, out.RecordTurn)[0].action == "dial:no-answer"
    assert isinstance(offer.reply, out.Ask) and offer.reply.asked == "offer"
    assert EN.text("dial_failed") in said(offer) and EN.text("voicemail_offer") in said(offer)
    while isinstance(offer.reply, out.Ask):       # no to every offer
        offer = answer(offer, digits="2")
    assert isinstance(offer.reply, out.Goodbye) and "1, 8 0 0, 5 5 5, 0 1 9 9" in said(offer)


def test_a_connected_dial_says_goodbye_and_sets_the_outcome():
    dial = to_the_agent()
    done = TALK.handle(dial.reply.place, ev.DialEnded("completed"), CTX)
    assert isinstance(done.reply, out.Goodbye) and out.SetOutcome("transferred") in done.effects
    hung_up = TALK.handle(dial.reply.place, ev.DialEnded("completed", bridged=False), CTX)
    assert isinstance(hung_up.reply, out.Ask)      # the whisper hung up: nobody spoke, the chain runs


def test_an_offer_accepted_records_a_message_and_goes_on():
    record = answer(failed_dial(), digits="1")
    assert isinstance(record.reply, out.RecordVoicemail) and record.reply.empty.empty
    sid = "RE" + "a" * 32
    kept = TALK.handle(record.reply.place, ev.RecordingEnded(sid, "https://api.twilio.com/rec", 12), CTX)
    assert out.SaveVoicemail(sid, "https://api.twilio.com/rec", 12) in kept.effects
    assert EN.text("voicemail_thanks") in said(kept) and kept.reply.place.done == "v"
    assert EN.text("callback_offer") not in said(kept)      # a message left: no call back offered
    empty = TALK.handle(record.reply.empty, ev.RecordingEnded(None), CTX)
    assert EN.text("voicemail_empty") in said(empty) and not empty.reply.place.empty


def test_a_callback_confirmed_is_saved():
    callback_offer = answer(failed_dial(), digits="2")
    assert EN.text("callback_offer") in said(callback_offer)
    confirm = answer(callback_offer, digits="1")
    assert confirm.reply.place.step == "confirm" and confirm.reply.place.callback == CALLER
    assert "4 1 5" in said(confirm)
    saved = answer(confirm, digits="1")
    [save] = effects(saved, out.SaveCallback)
    assert save.number == CALLER and EN.text("callback_saved") in said(saved)
    assert saved.reply.place.step is None and "c" in saved.reply.place.done


def test_a_callback_number_keyed_in_is_read_back():
    confirm = answer(answer(failed_dial(), digits="2"), digits="1")
    enter = answer(confirm, digits="2")
    assert isinstance(enter.reply, out.Ask) and enter.reply.keyed and enter.reply.place.step == "enter"
    again = answer(enter, digits="4155550123")
    assert again.reply.place.callback == "+14155550123" and again.reply.place.step == "confirm"


def test_a_hazard_during_an_offer_alerts_and_holds():
    offer = failed_dial()
    hazard = answer(offer, speech="there's smoke coming out of the charger", confidence=0.9)
    [alert] = effects(hazard, out.RaiseAlert)
    assert alert.tier == "fire"
    assert said(hazard).startswith(EN.text("after_hours_hazard")) and hazard.reply.place.state.hazard == "fire"
    again = answer(hazard, speech="smoke", confidence=0.9)
    assert not effects(again, out.RaiseAlert)           # no higher tier: no second alert
    while isinstance(again.reply, out.Ask):
        again = answer(again, digits="2")
    assert EN.text("goodbye_hazard", number="")[:10] in said(again)


def test_the_text_effect_loop():
    sms = answer(answer(answer(failed_dial(), digits="2"), digits="2"), digits="1")
    assert isinstance(sms.reply, out.Pending)
    [send] = effects(sms, out.SendText)
    assert send.to == CALLER and send.body
    sent = TALK.handle(sms.reply.place, ev.TextResult("sent"), CTX)
    assert EN.text("sms_sent") in said(sent) and isinstance(sent.reply, out.Goodbye)
    invalid = TALK.handle(sms.reply.place, ev.TextResult("invalid_number"), CTX)
    assert EN.text("sms_invalid_number") in said(invalid)


def test_no_text_is_offered_without_a_sender():
    offer = failed_dial(replace(CTX, can_text=False))
    lines = []
    while isinstance(offer.reply, out.Ask):
        lines.append(said(offer))
        offer = answer(offer, replace(CTX, can_text=False), digits="2")
    assert not any(EN.text("sms_offer") in line for line in lines)


def test_station_id_read_back_and_retry_then_confirmed():
    state = CallState(node="session_screen", lang="en-US")
    entry = out.Outcome(out.Ask((), Place(state), "station", 8, "en-US", keyed=True))
    heard = answer(entry, digits="45077")
    assert heard.reply.place.candidate == "45077" and "4 5 0, 7 7" in said(heard)
    retry = answer(heard, digits="2")
    assert retry.reply.keyed and retry.reply.place.tries == 1 and retry.reply.place.candidate is None
    heard = answer(retry, digits="45077")
    confirmed = answer(heard, digits="1")
    assert out.SaveStation("45077") in confirmed.effects
    assert confirmed.reply.asked == "step" and confirmed.reply.place.state.station == "45077"
    assert EN.text("station_thanks") in said(confirmed)


def test_a_hazard_while_keying_the_station_id():
    state = CallState(node="session_screen", lang="en-US")
    entry = out.Outcome(out.Ask((), Place(state), "station", 8, "en-US", keyed=True))
    hazard = answer(entry, speech="it's on fire", confidence=0.9)
    assert hazard.reply.place.state.hazard == "fire" and effects(hazard, out.RaiseAlert)


def test_resume_after_a_drop_with_a_hazard_held():
    earlier = ev.EarlierCall({"node": "reseat", "lang": "en-US", "path": "connector"}, hazard="fire", outcome="hazard")
    back = TALK.handle(None, ev.Arrived(earlier=earlier), CTX)
    assert EN.text("welcome_back") in said(back) and back.reply.place.state.hazard == "fire"
    later = answer(back, digits="1")
    assert later.reply.place.state.hazard == "fire"      # whatever they say, the hazard holds
    done = ev.EarlierCall({"node": "reseat", "lang": "en-US", "path": "connector"}, outcome="released")
    fresh = TALK.handle(None, ev.Arrived(earlier=done), CTX)
    assert EN.text("welcome_back") not in said(fresh)      # ended well: a new call starts afresh
    limited = TALK.handle(None, ev.Arrived(earlier=earlier, over_rate_limit=True), CTX)
    assert limited.reply.place.state.hazard == "fire"    # over the rate limit, the hazard still holds


def test_over_the_rate_limit_a_person_or_the_fallback():
    limited = TALK.handle(None, ev.Arrived(over_rate_limit=True), CTX)
    assert isinstance(limited.reply, out.Dial) and out.RecordRateLimited() in limited.effects
    capped = TALK.handle(None, ev.Arrived(over_rate_limit=True, over_agent_cap=True), CTX)
    assert isinstance(capped.reply, out.Ask) and capped.reply.asked == "offer"


def test_a_closed_line_runs_the_after_hours_chain():
    closed = Conversation(CONTENT.engine, replace(ESC, hours=_never_open()))
    first = closed.handle(None, ev.Arrived(), CTX)
    reply = closed.handle(first.reply.place, ev.Answered("step", digits="0"), CTX)
    assert reply.reply.place.chain == "a" and EN.text("after_hours") in said(reply)
    assert any(effect.action == "after_hours" and effect.suffix == ":ah" for effect in effects(reply, out.RecordTurn))


def test_the_whisper_the_queue_and_a_damaged_url():
    state = CallState(node="agent", lang="en-US", path=("session_screen",), results=("s",))
    whisper = TALK.handle(Place(state), ev.WhisperAsked(), CTX)
    assert isinstance(whisper.reply, out.Whisper) and whisper.reply.accept == Place(state)
    assert isinstance(TALK.handle(None, ev.WhisperAnswered("1"), CTX).reply, out.Accepted)
    assert isinstance(TALK.handle(None, ev.WhisperAnswered(""), CTX).reply, out.Hangup)
    wait = TALK.handle(Place(state), ev.QueueTick("30", "2"), CTX)
    assert isinstance(wait.reply, out.QueueWait) and "2" in said(wait)
    assert isinstance(TALK.handle(Place(state), ev.QueueTick("9999", "2"), CTX).reply, out.LeaveQueue)
    assert isinstance(TALK.handle(None, ev.QueueTick(), CTX).reply, out.LeaveQueue)
    assert isinstance(TALK.handle(None, ev.Answered("offer", digits="1"), CTX).reply, out.Apology)


def _never_open():
    class Never:
        def open_at(self, _moment):
            return False
    return Never()


# -- a hazard holds, whatever comes after (hypothesis walks random calls) ----------------------

ANSWERS = st.sampled_from([
    {"digits": d} for d in "0123456789*#"] + [{}] + [
    {"speech": s, "confidence": 0.9} for s in ("it came out", "still stuck", "there's smoke", "yes", "no", "cable is cracked")])
EVENTS = st.sampled_from([ev.DialEnded("no-answer"), ev.DialEnded("completed", bridged=False), ev.QueueEnded("leave"),
                          ev.RecordingEnded(None), ev.TextResult("sent")])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(ANSWERS, EVENTS), max_size=25))
def test_once_a_hazard_is_heard_no_release_step_follows(moves):
    outcome = TALK.handle(None, ev.Arrived(), CTX)
    hazard = None
    safety = CONTENT.engine.safety_nodes
    for move in moves:
        reply = outcome.reply
        place = getattr(reply, "place", None)
        if place is None:
            break
        if isinstance(move, dict):
            if not isinstance(reply, out.Ask):
                continue
            outcome = TALK.handle(place, ev.Answered(reply.asked, **move), CTX)
        else:
            outcome = TALK.handle(place, move, CTX)
        state = getattr(outcome.reply, "place", None) and outcome.reply.place.state
        if state is not None:
            assert not hazard or state.hazard, "a hazard was dropped"
            hazard = hazard or state.hazard
            if hazard and isinstance(outcome.reply, out.Ask) and outcome.reply.asked == "step":
                assert state.node in safety, f"a release step after a hazard: {state.node}"

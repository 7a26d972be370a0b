"""The station in the dialogue, decided (ivr/call/station_actions.py, station_whisper.py):
pure, so no app, no network, no clock: times are numbers passed in."""
from __future__ import annotations

from pathlib import Path

import pytest

from ivr import content
from ivr.call import station_actions as sa
from ivr.call import station_whisper as sw
from ivr.call.station_model import CommandState, Connector, Evse, Outcome, Session, StationStatus
from ivr.call.station_policy import UnlockPolicy, settings_problems, unlock_policy
from ivr.call.understanding import _key_intent
from ivr.language.prompts import STATION_KEYS

ROOT = Path(__file__).resolve().parent.parent
CCS = Connector("1", "IEC_62196_T1_COMBO", "CABLE")
CHADEMO = Connector("2", "CHADEMO", "CABLE")
T2_SOCKET = Connector("3", "IEC_62196_T2", "SOCKET")
DUAL = Evse("LOC1", "U1", "US*CPO*E12345", "E12345", "CHARGING", (CCS, CHADEMO))
SINGLE = Evse("LOC1", "U2", "US*CPO*E12346", "E12346", "AVAILABLE", (CCS,))
AC = Evse("LOC1", "U3", "US*CPO*EA777", "EA777", "AVAILABLE", (T2_SOCKET,))
SITE = (DUAL, SINGLE, AC)
RUNNING = StationStatus(Outcome.OK, evse_status="CHARGING", session=Session("S1", "ACTIVE", "2"))
IDLE = StationStatus(Outcome.OK, evse_status="AVAILABLE")
T0 = 1_000_000.0


@pytest.fixture(scope="module")
def catalogs():
    return content.load_prompts(ROOT / "prompts")


# -- which charger ------------------------------------------------------------------

def test_a_site_asks_which_charger_one_evse_needs_no_question():
    assert sa.start_which(SITE) == sa.AskWhich("station_which", 0)
    assert sa.start_which((SINGLE,)) == sa.Identified(SINGLE)
    assert isinstance(sa.start_which(()), sa.NotIdentified)


@pytest.mark.parametrize("speech, digits, expected", [
    ("E 1 2 3 4 5", None, DUAL),
    ("echo one two three four six", None, SINGLE),
    ("it's e a seven seven seven", None, AC),
    (None, "12345#", DUAL),                 # keys carry no letters
    ("us cpo e12345", None, DUAL),          # the whole evse_id, spaces and case ignored
    (None, "777", AC),
])
def test_the_label_is_matched_by_speech_or_keys_ignoring_case_spaces_and_stars(speech, digits, expected):
    decision = sa.answer_which(SITE, speech, digits, 0)
    assert decision == sa.ReadBackEvse(expected, 0)


def test_a_miss_is_asked_again_once_then_the_call_goes_on_without_the_station():
    assert sa.answer_which(SITE, "nine nine nine nine", None, 0) == sa.AskWhich("station_which_again", 1)
    assert isinstance(sa.answer_which(SITE, "nine nine nine nine", None, 1), sa.NotIdentified)
    assert sa.answer_which(SITE, "", None, 0) == sa.AskWhich("station_which", 1)


def test_only_a_confirmed_read_back_identifies_the_evse():
    assert sa.confirm_which(DUAL, "yes", 0) == sa.Identified(DUAL, said="station_thanks")
    assert sa.confirm_which(DUAL, "no", 0) == sa.AskWhich("station_which", 1)
    assert isinstance(sa.confirm_which(DUAL, "no", 1), sa.NotIdentified)


# -- which plug -----------------------------------------------------------------------

def test_one_standard_answers_the_connector_question_several_ask_among_their_own():
    assert sa.connector_question(SINGLE) == sa.ConnectorKnown("ccs")
    assert sa.connector_question(DUAL) == sa.AskAmong((("ccs", "1"), ("chademo", "2")))
    assert sa.connector_question(AC) == sa.ConnectorKnown("unsure")
    assert sa.connector_question(None) == sa.AskAsToday()


def test_the_choices_use_the_connector_questions_own_keys():
    for key, digit in sa.CONNECTOR_DIGITS.items():
        assert _key_intent(digit, "connector") == f"connector_{key}"


def test_the_connector_choices_are_said_in_each_language(catalogs):
    lines = sw.connector_choice_lines(catalogs["en-US"], sa.AskAmong((("ccs", "1"), ("chademo", "2"))))
    assert lines[0] == "This charger has C C S and Chademo. Which one are you using?"
    assert lines[1:] == ["Press 1 for C C S.", "Press 2 for Chademo."]
    assert "y Chademo" in sw.connector_choice_lines(catalogs["es-US"], sa.AskAmong((("ccs", "1"), ("chademo", "2"))))[0]


# -- still charging -------------------------------------------------------------------

def test_an_active_session_seen_is_stopped_with_the_callers_words():
    decision = sa.on_status(DUAL, RUNNING, caller_said_running=True)
    assert decision == sa.StopNow("S1", ("station_still_running", "station_wait"))
    assert sa.on_status(DUAL, RUNNING, caller_said_running=False).lines[0] == "station_shows_running"


@pytest.mark.parametrize("evse, status", [
    (DUAL, IDLE),                                          # none seen: unknown, never "stopped"
    (DUAL, StationStatus(Outcome.OK, evse_status="CHARGING")),   # another party's session
    (DUAL, StationStatus(Outcome.DOWN)),
    (DUAL, None),
    (None, RUNNING),                                       # never act on an EVSE not identified
])
def test_anything_else_goes_on_as_today(evse, status):
    assert isinstance(sa.on_status(evse, status, caller_said_running=True), sa.AsToday)


def test_the_session_questions_read_the_station():
    assert sa.reads_status("session_screen") and sa.reads_status("confirm_stopped")
    assert not sa.reads_status("ccs_button")


# -- the wait ---------------------------------------------------------------------------

def pending(deadline=T0 + 20):
    return CommandState(Outcome.PENDING, "c1", "STOP_SESSION", "ACCEPTED", deadline)


def test_the_wait_listens_in_short_turns_until_the_deadline():
    first = sa.wait_turn(pending(), sent_at=T0, now=T0 + 1, turn=0)
    assert first == sa.Listen(3, None)                       # most stations stop within seconds
    assert sa.wait_turn(pending(), sent_at=T0, now=T0 + 4, turn=1) == sa.Listen(5, None)
    assert sa.wait_turn(pending(), sent_at=T0, now=T0 + 9, turn=2) == sa.Listen(5, "station_still_waiting")
    assert sa.wait_turn(pending(), sent_at=T0, now=T0 + 18, turn=3) == sa.Listen(2, None)
    assert sa.wait_turn(pending(), sent_at=T0, now=T0 + 20, turn=4).result.result == "timeout"
    assert all(sa.wait_turn(pending(T0 + 600), sent_at=T0, now=T0 + t, turn=n).seconds <= 10
               for n, t in enumerate(range(0, 29, 5)))


def test_the_wait_is_capped_at_thirty_seconds_whatever_the_cpo_says():
    long = pending(deadline=T0 + 600)
    assert isinstance(sa.wait_turn(long, sent_at=T0, now=T0 + 29, turn=3), sa.Listen)
    done = sa.wait_turn(long, sent_at=T0, now=T0 + 30, turn=4)
    assert isinstance(done, sa.Finished) and done.lines == ("station_fail_timeout", "station_go_on")


def test_a_stop_that_worked_goes_on_with_the_release_steps():
    ok = CommandState(Outcome.OK, "c1", "STOP_SESSION", "ACCEPTED", T0 + 20)
    assert sa.wait_turn(ok, sent_at=T0, now=T0 + 3, turn=0) == sa.Finished(
        ("station_stopped",), "yes", sa.StationResult("stop", "ok"))


@pytest.mark.parametrize("state, word", [
    (CommandState(Outcome.REJECTED, "c", "STOP_SESSION", "REJECTED"), "rejected"),
    (CommandState(Outcome.UNKNOWN, "c", "STOP_SESSION", "UNKNOWN_SESSION"), "unknown_session"),
    (CommandState(Outcome.REJECTED, "c", "STOP_SESSION", "NOT_SUPPORTED"), "not_supported"),
    (CommandState(Outcome.REJECTED, "c", "STOP_SESSION", "FAILED"), "failed"),
    (CommandState(Outcome.REJECTED, "c", "STOP_SESSION", "EVSE_OCCUPIED"), "rejected"),
    (CommandState(Outcome.TIMEOUT, "c", "STOP_SESSION", "ACCEPTED"), "timeout"),
    (CommandState(Outcome.TIMEOUT, "c", "STOP_SESSION", "TIMEOUT"), "timeout"),
    (CommandState(Outcome.DOWN, None, "STOP_SESSION"), "down"),
    (CommandState(Outcome.UNKNOWN, None, "STOP_SESSION", detail="no station back end"), "down"),
])
def test_every_failure_says_one_sentence_then_the_steps_with_the_result_for_the_whisper(state, word):
    done = sa.wait_turn(state, sent_at=T0, now=T0 + 1, turn=0)
    assert done == sa.Finished((f"station_fail_{word}", "station_go_on"), None, sa.StationResult("stop", word))


@pytest.mark.parametrize("heard", ["hazard", "agent", "released", "damage"])
def test_the_wait_hears_hazards_a_person_and_it_came_out(heard):
    assert sa.wait_turn(pending(), sent_at=T0, now=T0 + 1, turn=0, heard=heard) == sa.Interrupted(
        heard, sa.StationResult("stop", "pending"))


def test_the_result_travels_in_the_url_state():
    for word in sa.RESULT_WORDS:
        result = sa.StationResult("unlock", word)
        assert sa.StationResult.from_param(result.to_param()) == result
    assert sa.StationResult.from_param("stop-whatever") is None
    assert sa.StationResult.from_param(None) is None


# -- the unlock ---------------------------------------------------------------------------

def test_by_default_the_unlock_is_offered_to_the_agent_for_a_station_lock_only():
    assert sa.unlock_step(UnlockPolicy.AGENT, DUAL, "chademo", IDLE, holding_handle=False) == sa.OfferToAgent("2", "E12345")
    assert isinstance(sa.unlock_step(UnlockPolicy.AGENT, DUAL, "ccs", IDLE, holding_handle=True), sa.NoUnlock)
    assert isinstance(sa.unlock_step(UnlockPolicy.AGENT, DUAL, "chademo", RUNNING, holding_handle=True), sa.NoUnlock)
    assert sa.unlock_step(UnlockPolicy.AGENT, AC, None, IDLE, holding_handle=False) == sa.OfferToAgent("3", "EA777")
    assert isinstance(sa.unlock_step(UnlockPolicy.OFF, DUAL, "chademo", IDLE, holding_handle=True), sa.NoUnlock)
    assert isinstance(sa.unlock_step(UnlockPolicy.AGENT, None, "chademo", IDLE, holding_handle=True), sa.NoUnlock)


def test_automatic_unlock_waits_for_the_handle_held_with_the_weight_off():
    assert sa.unlock_step(UnlockPolicy.AUTOMATIC, DUAL, "chademo", IDLE, holding_handle=False) == sa.AskHold()
    assert sa.unlock_step(UnlockPolicy.AUTOMATIC, DUAL, "chademo", IDLE, holding_handle=True) == sa.UnlockNow("2")
    assert sa.on_hold_answer("yes", "2") == sa.UnlockNow("2")
    assert isinstance(sa.on_hold_answer("no", "2"), sa.NoUnlock)
    assert isinstance(sa.unlock_step(UnlockPolicy.AUTOMATIC, DUAL, "chademo", RUNNING, holding_handle=True), sa.NoUnlock)
    assert isinstance(sa.unlock_step(UnlockPolicy.AUTOMATIC, DUAL, "chademo", StationStatus(Outcome.DOWN),
                                     holding_handle=True), sa.NoUnlock)


def test_an_unlock_that_worked_asks_for_the_pull_and_one_that_failed_goes_on():
    ok = sa.finish(sa.StationResult("unlock", "ok"))
    assert ok.lines == ("station_unlocked",) and ok.answer is None
    assert sa.finish(sa.StationResult("unlock", "failed")).lines == ("station_fail_failed", "station_go_on")


def test_the_policy_is_per_flow_or_per_station_and_agent_by_default():
    assert unlock_policy({}) is UnlockPolicy.AGENT
    assert unlock_policy({"stations": {"unlock": "automatic"}}) is UnlockPolicy.AUTOMATIC
    assert unlock_policy({"stations": {"unlock": "manual"}}) is UnlockPolicy.AGENT
    assert unlock_policy({"stations": {"unlock": False}}) is UnlockPolicy.OFF       # YAML's bare `off`
    per_station = {"stations": {"unlock": "agent", "by_station": {"e 12345": {"unlock": "automatic"}}}}
    assert unlock_policy(per_station, DUAL) is UnlockPolicy.AUTOMATIC
    assert unlock_policy(per_station, SINGLE) is UnlockPolicy.AGENT
    assert unlock_policy({"stations": {"unlock": "always"}}) is UnlockPolicy.AGENT   # the safe side
    assert settings_problems({"stations": {"unlock": "always"}})
    assert not settings_problems(per_station)


# -- a hazard -------------------------------------------------------------------------------

def test_a_hazard_with_current_flowing_stops_at_once_and_never_says_pull():
    assert sa.on_hazard(DUAL, RUNNING) == sa.HazardStop("S1")
    assert sa.on_hazard(DUAL, IDLE) is None and sa.on_hazard(None, RUNNING) is None
    for word in sa.RESULT_WORDS:
        done = sa.finish(sa.StationResult("stop", word), hazard=True)
        assert done.answer is None and not any("unlocked" in line or line == "station_stopped" for line in done.lines)
    ok = CommandState(Outcome.OK, "c1", "STOP_SESSION", "ACCEPTED")
    assert sa.wait_turn(ok, sent_at=T0, now=T0 + 2, turn=0, hazard=True).lines == ("station_hazard_stopped",)
    assert "confirmed the stop" in sa.alert_note(sa.StationResult("stop", "ok"), "E12345")
    assert "failed (rejected)" in sa.alert_note(sa.StationResult("stop", "rejected"), None)


# -- the words -------------------------------------------------------------------------------

def test_every_key_the_decisions_name_is_in_every_language(catalogs):
    named = {"station_which", "station_which_again", "station_evse_confirm", "station_go_on", "station_thanks",
             "station_still_running", "station_shows_running", "station_wait", "station_still_waiting",
             "station_stopped", "station_unlocked", "station_hold_handle", "station_unlocking",
             "station_hazard_stopping", "station_hazard_stopped", "station_hazard_not_stopped"}
    named |= {f"station_fail_{w}" for w in sa.RESULT_WORDS if w != "ok"}
    assert named - {"station_thanks"} <= set(STATION_KEYS)
    for catalog in catalogs.values():
        for key in named | set(STATION_KEYS):
            assert catalog.text(key, label="x", choices="x", digit="1", name="x", result="x", connector="1", why="x")


def test_the_whisper_carries_the_result_and_the_offer(catalogs):
    english = catalogs["en-US"]
    lines, accept = sw.whisper_extra(english, sa.StationResult("stop", "rejected"), sa.OfferToAgent("2", "US*CPO*E12345"))
    assert lines == ["Remote stop: refused."]
    assert accept == "Press 1 to take the call, or 2 to unlock connector 2 at E, 1 2 3, 4 5 first."
    assert sw.whisper_extra(english, None, None) == ([], None)
    assert sw.agent_unlock_line(english, sa.StationResult("unlock", "ok")) == "Unlocked. Connecting you now."
    assert "no answer in time" in sw.agent_unlock_line(english, sa.StationResult("unlock", "timeout"))
    assert sw.result_line(catalogs["es-US"], sa.StationResult("stop", "ok")) == "Paro remoto: funcionó."


def test_a_charger_is_taken_out_of_service_after_damage_or_fire_where_the_back_end_can():
    from ivr.ocpi.backend import NoBackend, take_out_of_service
    assert sa.out_of_service_after("damage", DUAL) and sa.out_of_service_after("fire", DUAL)
    assert not sa.out_of_service_after(None, DUAL) and not sa.out_of_service_after("fire", None)
    assert take_out_of_service(NoBackend(), DUAL).outcome is Outcome.UNKNOWN      # OCPI 2.2.1: no command

    class Csms:
        def out_of_service(self, evse, *, call_sid=None):
            return CommandState(Outcome.OK, command="OUT_OF_SERVICE", detail=evse.label)

    class Broken:
        def out_of_service(self, evse, *, call_sid=None):
            raise RuntimeError("boom")
    assert take_out_of_service(Csms(), DUAL, call_sid="CA1").detail == "E12345"
    assert take_out_of_service(Broken(), DUAL).outcome is Outcome.DOWN

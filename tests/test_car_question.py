"""'What car is it?' (issue 15), played through the webhooks.

Each call posts Twilio's own fields (CallSid, SpeechResult, Confidence, Digits) to the
action URL of the last <Gather> and reads the TwiML back as XML. The car question comes
once charging is confirmed stopped and the generic steps have failed; its tips come in
the safe order (the manual release last, the don'ts before it); a CHAdeMO call never
hears it; a car named earlier is not asked about again; the keypad list, "other", "I
don't know" and cars without notes all lead on; and the call records the car.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from helpers import fields, said, twiml
from ivr.records import db

GENERIC_STEPS = 5     # unlock five times, lock-unlock, reseat, charge-port lock, schedule


class Caller:
    """Twilio's side of one call: post the answer to the last question's action URL."""

    def __init__(self, client, sid: str = "CA" + "c" * 32):
        self.client, self.sid = client, sid
        self.heard: list[str] = []
        self.root = self._post("/voice", {"CallStatus": "ringing"})

    def _post(self, url: str, form: dict):
        parts = urlsplit(url)
        self.root = twiml(self.client.post(parts.path + ("?" + parts.query if parts.query else ""),
                                           data=fields(CallSid=self.sid, **form)))
        self.heard.append(said(self.root))
        return self.root

    @property
    def node(self) -> str:
        gather = self.root.find("Gather")
        return parse_qs(urlsplit(gather.get("action")).query).get("node", [""])[0] if gather is not None else ""

    @property
    def last(self) -> str:
        return self.heard[-1]

    def say(self, text: str, confidence: str = "0.9"):
        gather = self.root.find("Gather")
        assert gather is not None, self.last
        return self._post(gather.get("action"), {"SpeechResult": text, "Confidence": confidence})

    def press(self, digits: str):
        gather = self.root.find("Gather")
        assert gather is not None, self.last
        return self._post(gather.get("action"), {"Digits": digits})

    def silence(self):
        gather = self.root.find("Gather")
        return self._post(gather.get("action"), {})

    def to_car_question(self, connector: str = "J1772", first: str = "still stuck"):
        """The generic steps, all failing, then charging confirmed stopped."""
        self.say(connector)
        if connector == "CCS":
            self.say("no")             # the button is rigid
        else:
            self.say(first)            # unlock and pull
        self.say("yes")                # the screen is ready for a new session
        self.say("no")                 # no adapter
        if connector == "CCS":
            self.say("still stuck")    # unlock the car and pull
        for _ in range(GENERIC_STEPS):
            self.say("still stuck")
        assert self.node == "confirm_stopped", self.last
        self.say("yes")                # charging has stopped
        return self


def ordered(text: str, *parts: str) -> bool:
    """Each part is said, in this order."""
    at = 0
    for part in parts:
        found = text.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return True


def the_call(app, sid):
    engine = app.extensions["ivr"].recorder.engine
    return {c.call_sid: c for c in db.load_calls(engine)}[sid]


# -- five makes in English, each reaching its tips -------------------------------------

def test_a_leaf_caller_hears_the_lock_switch_then_the_release_under_the_hood(client, app):
    call = Caller(client).to_car_question("J1772")
    assert call.node == "car_question" and "What car is it?" in call.last
    call.say("it's a nissan leaf")
    assert call.node == "car_tips"                 # its tips first: one try before the release
    assert ordered(call.last, "charge connector lock switch", "Hold the handle first. Then unlock the car.",
                   "Did the connector come out?")
    assert "under the hood" not in call.last
    call.say("still stuck")
    assert call.node == "car_release"
    release = call.last
    assert ordered(release, "under the hood", "flat screwdriver", "pull the plug straight out",
                   "Did the connector come out?")
    assert "Don't use tools" not in release        # the Leaf's own release needs a screwdriver
    call.say("it came out")
    assert call.root.find("Gather") is None and "it's out" in call.last
    record = the_call(app, call.sid)
    assert (record.car_make, record.car_model, record.outcome) == ("Nissan", "Leaf", "released")


def test_a_tesla_caller_hears_the_trunk_cord_before_the_plug_never_both(client, app):
    call = Caller(client).to_car_question("Tesla")
    call.say("Tesla Model Y")
    assert "tap Unlock" in call.last and "trunk" not in call.last
    call.say("still stuck")
    assert ordered(call.last, "Open the trunk. The release cord is on the left wall.",
                   "Don't pull the cord and the plug together.", "Pull the cord down once",
                   "pull the plug straight out")
    record = the_call(app, call.sid)
    assert record.car_make == "Tesla" and record.car_model == "Model Y"


def test_a_bolt_has_no_manual_release_so_a_person_is_offered(client, app):
    call = Caller(client).to_car_question("CCS")
    assert call.node == "ccs_recheck"
    call.say("yes")                                  # the button is soft now
    assert call.node == "car_question"
    call.say("a chevy bolt")
    assert call.node == "car_tips" and "fast-charge plug unlocks once charging has stopped" in call.last
    call.say("still stuck")
    assert call.node == "car_no_release"
    assert ordered(call.last, "gives no manual release", "roadside assistance", "Shall I put you through?")
    call.say("yes")
    assert call.root.find("Dial") is not None
    assert the_call(app, call.sid).car_make == "Chevrolet"


def test_a_bolt_caller_who_declines_a_person_is_told_about_roadside_help(client):
    call = Caller(client).to_car_question("J1772")
    call.say("Bolt EUV")
    assert call.node == "car_no_release"            # J1772: nothing to try first
    call.say("no")
    assert "roadside assistance" in call.last and call.node == "car_roadside"   # never hung up on
    call.say("still stuck")
    assert call.root.find("Dial") is not None and "drive off" in call.last


def test_an_ioniq_5_caller_is_pointed_to_the_owners_manual_for_the_release(client, app):
    call = Caller(client).to_car_question("J1772")
    call.say("hyundai ionic five")
    assert call.node == "car_release"                # nothing sourced to try first
    assert "owner's manual shows where this car's manual release is" in call.last
    record = the_call(app, call.sid)
    assert record.car_make == "Hyundai"


def test_a_mach_e_caller_hears_the_port_button_the_dont_then_the_frunk_release(client):
    call = Caller(client).to_car_question("CCS")
    call.say("no")                                   # still rigid: a person is offered first
    assert call.node == "rigid_offer"
    call.say("no")                                   # declined: now the car
    assert call.node == "car_question"
    call.say("mustang mock e")
    assert ordered(call.last, "unlock button beside the charge port", "Don't use a tool on the plug")
    call.say("still stuck")
    assert "under the front hood" in call.last


def test_a_kia_ev6_caller_hears_hand_on_the_handle_first(client):
    call = Caller(client).to_car_question("J1772")
    call.say("kia e v 6")
    assert ordered(call.last, "Lock While Charging", "Hold the handle first. Then unlock the car.",
                   "Unlock all the doors", "Don't lock the doors again")
    call.say("still stuck")
    assert ordered(call.last, "cargo area", "Twist the cover off", "Pull the lever")


# -- where the question is, and where it is not ----------------------------------------

def test_a_chademo_call_is_never_asked_the_car(client):
    call = Caller(client)
    call.say("CHAdeMO")
    call.say("no")                                   # the handle's light is off
    call.say("still stuck")                          # push, release, pull: the station's lock
    assert call.root.find("Dial") is not None        # a person, not the car's tips
    assert not any("What car is it?" in line for line in call.heard)


def test_a_car_named_early_is_not_asked_again(client, app):
    call = Caller(client)
    call.say("it's J1772, on my Nissan Leaf")
    assert "Leaf" not in (call.node or "")
    call.say("still stuck")
    call.say("yes")
    call.say("no")
    for _ in range(GENERIC_STEPS):
        call.say("still stuck")
    call.say("yes")
    assert call.node == "car_tips"
    assert not any("What car is it?" in line for line in call.heard)
    assert "charge connector lock switch" in call.last
    assert the_call(app, call.sid).car_make == "Nissan"


# -- how the answer is heard -----------------------------------------------------------

def test_the_keypad_list_is_read_and_a_key_picks_the_car(client, app):
    call = Caller(client, sid="CA" + "d" * 32)
    call.press("3")                                  # J1772, all by keypad
    call.press("2")
    call.press("1")
    call.press("2")
    for _ in range(GENERIC_STEPS):
        call.press("2")
    call.press("1")
    assert call.node == "car_question"
    assert "press 1 for Tesla" in call.last and "3 Nissan Leaf" in call.last and "7 for another car" in call.last
    assert "Press 1 for yes" not in call.last       # after two keys the yes/no line is left out, never the list
    call.press("3")
    assert "charge connector lock switch" in call.last
    assert the_call(app, call.sid).car_make == "Nissan"


@pytest.mark.parametrize("answer", ["I don't know", "other", "7"])
def test_dont_know_and_other_lead_to_the_owners_manual_then_the_manual_release(client, app, answer):
    call = Caller(client).to_car_question("J1772")
    call.press(answer) if answer.isdigit() else call.say(answer)
    assert ordered(call.last, "I don't have notes for that car", "owner's manual",
                   "the car's manual release", "Did it come out?")
    assert call.node == "manual_release"
    record = the_call(app, call.sid)
    assert record.car_make == "unknown" and record.car_model is None


@pytest.mark.parametrize("car", ["Polestar 2", "Kia Niro", "Cadillac Lyriq"])
def test_a_car_without_notes_gets_the_owners_manual_advice(client, app, car):
    call = Caller(client).to_car_question("J1772")
    call.say(car)
    assert call.node == "manual_release"
    assert "I don't have notes for that car" in call.last
    record = the_call(app, call.sid)
    assert record.car_make == "unknown" and record.car_model == car


def test_a_mumble_is_asked_again_then_treated_as_unknown(client):
    call = Caller(client).to_car_question("J1772")
    call.say("uh hmm")
    assert call.node == "car_question" and "What car is it?" in call.last
    call.silence()
    assert call.node == "car_question"
    call.say("blah blah")
    assert call.node == "manual_release" and "I don't have notes for that car" in call.last


def test_hazard_at_the_car_question_holds(client):
    call = Caller(client).to_car_question("J1772")
    call.say("there's smoke coming out")
    assert "9 1 1" in call.last or "911" in call.last
    call.say("nissan leaf")
    assert "lock switch" not in call.last


# -- Spanish ---------------------------------------------------------------------------

def spanish_to_car_question(client, sid):
    call = Caller(client, sid=sid)
    call.say("español")
    call.say("J1772")
    call.say("sigue atascado")
    call.say("sí")
    call.say("no")
    for _ in range(GENERIC_STEPS):
        call.say("sigue atascado")
    call.say("sí")
    assert call.node == "car_question" and "¿Qué carro es?" in call.last, call.last
    return call


def test_spanish_a_leaf_caller_hears_the_tips_in_spanish(client, app):
    call = spanish_to_car_question(client, "CA" + "e" * 32)
    call.say("es un Nissan Leaf")
    assert call.node == "car_tips"
    assert "Leaf" in call.last and "What" not in call.last
    assert the_call(app, call.sid).car_make == "Nissan"


def test_spanish_a_tesla_caller_hears_the_trunk_cord_in_spanish(client, app):
    call = spanish_to_car_question(client, "CA" + "a" * 31 + "b")
    call.say("un Tesla modelo tres")
    assert call.node == "car_tips"
    call.say("sigue atascado")
    assert call.node == "car_release"
    assert "maletero" in call.last or "cajuela" in call.last, call.last


def test_spanish_otro_is_an_answer(client):
    call = spanish_to_car_question(client, "CA" + "b" * 32)
    call.say("otro")
    assert call.node == "manual_release"


# -- hearing the answer (ivr.call.understanding, expect "car") -------------------------

@pytest.mark.parametrize("speech, digits, intent, heard", [
    ("a Tesla Model Y", None, "car", "a tesla model y"),
    ("I think it's an ionic 5", None, "car", "i think it's an ionic 5"),
    ("agent please", None, "agent", None),
    ("there's smoke", None, "hazard", None),
    ("say that again", None, "repeat", None),
    (None, "3", "car", "3"),
    (None, "7", "car", "7"),
    (None, "0", "agent", "0"),
    (None, "9", "language_es-US", "9"),       # a language's switch key wins, as at every question
    (None, None, "silence", ""),
])
def test_the_car_answer_is_heard(speech, digits, intent, heard):
    from ivr.call.understanding import understand
    got = understand(speech, 0.9 if speech else None, digits, "car")
    assert got.intent == intent
    if heard is not None:
        assert got.heard == heard


# -- the whisper and the report ----------------------------------------------------------

def test_the_whisper_names_the_car_or_says_it_is_not_known():
    from conftest import CONTENT

    from ivr.call import handoff
    from ivr.call.engine import CallState
    catalog = CONTENT.catalogs["en-US"]
    named = handoff.whisper_lines(catalog, CONTENT.flow, CallState(node="out_of_steps", car="Nissan Leaf"))
    assert "Car: Nissan Leaf." in named
    unknown = handoff.whisper_lines(catalog, CONTENT.flow, CallState(node="out_of_steps", car="unknown"))
    assert "Car: not known." in unknown
    assert len(" ".join(named).split()) <= handoff.WHISPER_WORDS


def test_report_per_make_counts_calls_releases_and_the_step_that_freed_it(client, app, database_url):
    from click.testing import CliRunner

    from ivr.tools import cli
    leaf = Caller(client, sid="CA" + "1" * 32).to_car_question("J1772")
    leaf.say("nissan leaf")
    leaf.say("it came out")
    other = Caller(client, sid="CA" + "2" * 32).to_car_question("J1772")
    other.say("polestar 2")
    other.say("it came out")
    bolt = Caller(client, sid="CA" + "3" * 32).to_car_question("J1772")
    bolt.say("chevy bolt")
    from ivr.records import reports
    section = reports.by_car(db.load_calls(app.extensions["ivr"].recorder.engine))
    assert section["Nissan"] == {"calls": 1, "released": 1, "released_share": 1.0,
                                 "freed_at_step": {"car_tips": 1}, "models": {"Leaf": 1}}
    assert section["unknown"]["freed_at_step"] == {"manual_release": 1}
    assert section["unknown"]["models"] == {"Polestar 2": 1}
    assert section["Chevrolet"]["calls"] == 1 and section["Chevrolet"]["released"] == 0
    text = reports.by_car_text(section)
    assert "Nissan: 1 calls, 1 released (100%), freed at car_tips 1" in text
    result = CliRunner().invoke(cli.main, ["report"], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert "by car make:" in result.output and "Nissan: 1 calls, 1 released" in result.output
    as_json = CliRunner().invoke(cli.main, ["report", "--json"], env={"DATABASE_URL": database_url})
    assert '"by_car"' in as_json.output


@pytest.mark.parametrize("said, model", [("a chevy volt", "Chevrolet Volt"), ("Rivian R2", "rivian r2"),
                                         ("hyundai ioniq 9", "hyundai ioniq 9")])
def test_a_near_neighbour_without_notes_is_never_given_the_neighbours_tips(client, app, said, model):
    call = Caller(client).to_car_question("J1772")
    call.say(said)
    assert call.node == "manual_release" and "I don't have notes for that car" in call.last
    record = the_call(app, call.sid)
    assert record.car_make == "unknown" and record.car_model == model


def test_the_decisions_are_pure_functions():
    from conftest import CONTENT

    from ivr.call import car_question
    cars = CONTENT.vehicles
    words = CONTENT.catalogs["en-US"].words["car_question"]
    assert car_question.heard(cars, words, "an ionic 5", "car", "speech", None, "ccs") == ("release", "Hyundai Ioniq 5")
    assert car_question.heard(cars, words, "3", "car", "keys", None, "j1772") == ("tips", "Nissan Leaf")
    assert car_question.heard(cars, words, "7", "car", "keys", None, "j1772") == ("unknown", "unknown")
    assert car_question.heard(cars, words, "something else", "car", "speech", None, None) == ("unknown", "unknown")
    assert car_question.heard(cars, words, "um well", "car", "speech", None, None) is None
    assert car_question.case(cars, "Chevrolet Bolt EV", "car_release", "ccs") == "no_release"
    assert car_question.case(cars, None, "car", "ccs") is None
    stopped = car_question.tips(cars, "car_release", "Tesla", "tesla", True, ())
    assert stopped[0] == "car_tesla_release_where" and car_question.tips(cars, "car_release", "Tesla", "tesla", False, ()) == ()

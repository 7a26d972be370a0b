"""ivr.understanding, issue 11: the gaps drivers hit.

The two hazard tiers, the emergency stop, the roadside, ambiguous heat, explain,
"I don't know", a release said with a wait, car names and adapters, in English and in
Spanish, through `understand()`; the held-out phrasings written for them (with their car
and adapter columns); and a long input that must come back quickly (every reader path is
linear in the input's length).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from bench.understanding import dangerous, load_labelled
from ivr.call.understanding import EXPECTATIONS, INTENTS, Understanding, hints, is_intent, understand
from ivr.content.yamlfile import load
from ivr.language.prompts import parse

DATA = Path(__file__).parent / "data"
ES = parse(load(ROOT / "prompts" / "es-US.yaml"), str(ROOT / "prompts" / "es-US.yaml")).vocabulary
GOOD = 0.9
NEW = ("damage", "emergency_stop", "roadside", "hot_unsure", "explain", "dont_know", "car")


def en(speech: str, expecting: str = "released", confidence: float | None = GOOD) -> Understanding:
    return understand(speech, confidence, None, expecting)


def es(speech: str, expecting: str = "released", confidence: float | None = GOOD) -> Understanding:
    return understand(speech, confidence, None, expecting, ES)


def test_the_contract():
    assert set(NEW) <= set(INTENTS)
    got = en("it's a tesla with a ccs adapter", "connector")
    assert got == Understanding("connector_ccs", True, "it's a tesla with a ccs adapter", "Tesla", True)
    assert Understanding("yes", True, "yes") == Understanding("yes", True, "yes", car=None, adapter=False)


# --- the held-out phrasings -------------------------------------------------------------

SETS = {"en": (load_labelled(DATA / "heldout_en.tsv"), en), "es": (load_labelled(DATA / "heldout_es.tsv"), es),
        "en round 2": (load_labelled(DATA / "heldout2_en.tsv"), en),
        "es round 2": (load_labelled(DATA / "heldout2_es.tsv"), es)}


@pytest.mark.parametrize("name", SETS)
def test_held_out_accuracy_with_cars_and_adapters(name):
    rows, read = SETS[name]
    assert len(rows) >= 30
    misses, danger = [], []
    for utt, expecting, truth, car, adapter in rows:
        assert is_intent(truth), utt
        got = read(utt, expecting)
        if (got.intent != truth or (car is not None and (got.car or "") != car)
                or (adapter is not None and got.adapter != adapter)):
            misses.append((utt, expecting, truth, car, adapter, got))
        if dangerous(truth, expecting, got):
            danger.append((utt, expecting, got))
    assert not danger, danger
    assert len(misses) <= 0.03 * len(rows), misses
    for must in ("hazard", "damage", "agent"):
        assert not [m for m in misses if m[2] == must]


@pytest.mark.parametrize("name,row", [(n, r) for n, (rows, _) in SETS.items() for r in rows
                                      if r[2] in ("hazard", "damage", "hot_unsure", "agent", "released")])
def test_held_out_dangerous_rows_one_by_one(name, row):
    utt, expecting, truth, *_ = row
    read = SETS[name][1]
    for confidence in (GOOD, 0.3, None):
        got = read(utt, expecting, confidence)
        assert not dangerous(truth, expecting, got), (utt, confidence, got)


# --- the two hazard tiers ---------------------------------------------------------------

@pytest.mark.parametrize("utt", ["there's smoke", "it's sparking", "i smell something burning", "it smells hot",
                                 "the plug is melting", "the battery is hissing", "my battery is swelling",
                                 "the battery looks swollen", "i got an electric shock", "there's fire",
                                 "it's too hot to touch", "it's overheating",
                                 # a hazard outranks everything said with it
                                 "the cable is cracked and smoking", "i hit the emergency stop because of the sparks",
                                 "i'm on the shoulder and it's smoking", "it's hot and there's smoke"])
@pytest.mark.parametrize("expecting", EXPECTATIONS)
def test_fire_tier(utt, expecting):
    assert en(utt, expecting).intent == "hazard"


@pytest.mark.parametrize("utt", ["huele a quemado", "sale humo", "echa chispas", "se está derritiendo",
                                 "la batería está hinchada", "la batería está silbando", "me dio una descarga",
                                 "está muy caliente", "hay fuego", "there's smoke"])
@pytest.mark.parametrize("expecting", EXPECTATIONS)
def test_fire_tier_es(utt, expecting):
    assert es(utt, expecting).intent == "hazard"


@pytest.mark.parametrize("utt", ["the cable is cracked", "the handle's cracked", "there's a crack in the plug",
                                 "the plug is broken", "broken cable", "i can see bare wires",
                                 "there are exposed wires", "the cord is frayed", "there's water in the port",
                                 "water got in the plug", "the pins are bent",
                                 # damage outranks the commands and the answers said with it
                                 "the cable is cracked, transfer me", "wait the handle is broken",
                                 "no it's still stuck and the plug is cracked", "the cable isn't cracked is it"])
@pytest.mark.parametrize("expecting", EXPECTATIONS)
def test_damage_tier(utt, expecting):
    assert en(utt, expecting).intent == "damage"


@pytest.mark.parametrize("utt", ["el cable está roto", "la manija está agrietada", "el conector está quebrado",
                                 "se ven los cables", "hay cables pelados", "hay agua en el puerto",
                                 "le entró agua al conector", "el puerto está mojado", "the cable is cracked",
                                 "espere, el cable está roto"])
@pytest.mark.parametrize("expecting", EXPECTATIONS)
def test_damage_tier_es(utt, expecting):
    assert es(utt, expecting).intent == "damage"


@pytest.mark.parametrize("utt", ["the charger is broken", "the screen won't work", "it's raining out here",
                                 "i pressed the latch and it's still stuck"])
def test_not_damage(utt):
    assert en(utt, "any").intent != "damage"


# --- the commands under the hazards -----------------------------------------------------

@pytest.mark.parametrize("utt,intent", [
    ("transfer me", "agent"), ("just transfer me please", "agent"), ("operator", "agent"),
    ("a real person please", "agent"), ("transfer me, I'm blocking traffic", "agent"),
    ("I pressed the emergency stop", "emergency_stop"), ("I hit the red button", "emergency_stop"),
    ("somebody hit the e-stop", "emergency_stop"), ("I pushed the emergency stop button", "emergency_stop"),
    ("it's an emergency", "hazard"),
    ("I'm blocking traffic", "roadside"), ("I'm on the shoulder", "roadside"),
    ("cars are flying by", "roadside"), ("I'm on the side of the highway", "roadside"),
    ("I'm on the shoulder, hold on", "roadside"),
    ("it's hot out here", "hot_unsure"), ("it's hot", "hot_unsure"), ("the handle feels warm", "hot_unsure"),
    ("not hot", "hot_unsure"), ("it's really hot out here", "hot_unsure"), ("hang on, it's warm", "hot_unsure"),
    ("what do you mean", "explain"), ("I don't understand", "explain"), ("explain that please", "explain"),
    ("what does latch mean", "explain"), ("I didn't catch that", "repeat"), ("say that again", "repeat"),
    ("I don't know what to do", "help"),
])
@pytest.mark.parametrize("expecting", EXPECTATIONS)
def test_commands_in_priority_order(utt, intent, expecting):
    assert en(utt, expecting).intent == intent


@pytest.mark.parametrize("utt,intent", [
    ("transfiérame", "agent"), ("me puede transferir con un operador", "agent"), ("operador", "agent"),
    ("apreté el paro de emergencia", "emergency_stop"), ("le di al botón rojo", "emergency_stop"),
    ("es una emergencia", "hazard"),
    ("estoy bloqueando el tráfico", "roadside"), ("estoy en el acotamiento", "roadside"),
    ("los carros pasan muy rápido", "roadside"),
    ("hace calor", "hot_unsure"), ("está caliente", "hot_unsure"), ("no está caliente", "hot_unsure"),
    ("¿qué quiere decir?", "explain"), ("no entiendo", "explain"), ("explíqueme", "explain"),
])
@pytest.mark.parametrize("expecting", EXPECTATIONS)
def test_commands_in_priority_order_es(utt, intent, expecting):
    assert es(utt, expecting).intent == intent


@pytest.mark.parametrize("utt", ["I pressed the emergency stop", "le di al botón rojo", "estoy en el acotamiento",
                                 "I'm blocking traffic", "it's hot out here"])
def test_safety_commands_are_acted_on_at_any_confidence(utt):
    read = es if " " in utt and utt.split()[0] in ("le", "estoy") else en
    for confidence in (None, 0.1):
        assert read(utt, "any", confidence).certain


# --- I don't know -------------------------------------------------------------------------

@pytest.mark.parametrize("utt", ["I don't know", "not sure", "no idea", "I'm not really sure", "dunno",
                                 "I can't tell", "I don't know if it stopped"])
@pytest.mark.parametrize("expecting", ["yes_no", "released"])
def test_dont_know_at_a_yes_no_question(utt, expecting):
    assert en(utt, expecting).intent == "dont_know"


@pytest.mark.parametrize("utt", ["no sé", "no estoy seguro", "ni idea", "la verdad no sé"])
@pytest.mark.parametrize("expecting", ["yes_no", "released"])
def test_dont_know_at_a_yes_no_question_es(utt, expecting):
    assert es(utt, expecting).intent == "dont_know"


def test_dont_know_at_the_connector_question_is_connector_unsure():
    assert en("I don't know", "connector").intent == "connector_unsure"
    assert es("no sé", "connector").intent == "connector_unsure"


@pytest.mark.parametrize("utt,intent", [("I don't know, it's still stuck", "still_stuck"),
                                        ("no, I don't think so", "still_stuck"),
                                        ("i don't know if it's out", "unclear")])
def test_dont_know_never_hides_an_answer(utt, intent):
    assert en(utt, "released").intent == intent


# --- a release in the same breath as a wait -----------------------------------------------

@pytest.mark.parametrize("utt", ["wait, yes! it came out", "hang on, it's out", "hold on hold on it came out",
                                 "oh wait it popped out", "one sec, yeah I got it out"])
@pytest.mark.parametrize("expecting", ["released", "yes_no", "any"])
def test_a_release_with_a_wait_is_a_release_never_certain(utt, expecting):
    for confidence in (0.99, GOOD, None):
        got = en(utt, expecting, confidence)
        assert got.intent == "released" and not got.certain, (got, confidence)


@pytest.mark.parametrize("utt", ["espere, ya salió", "un momento, ya se soltó", "aguante, ya está fuera"])
def test_a_release_with_a_wait_is_a_release_never_certain_es(utt):
    got = es(utt, "released", 0.99)
    assert got.intent == "released" and not got.certain


@pytest.mark.parametrize("utt", ["wait", "hang on", "hold on, let me try to pull it out", "hang on I'm gonna pull it out",
                                 "hold on, let me see if it came out", "wait, it's not out", "wait, is it out?",
                                 "wait, did it come out?",
                                 "wait, it will come out"])
def test_a_wait_alone_stays_a_wait(utt):
    assert en(utt, "released").intent == "wait"


@pytest.mark.parametrize("utt", ["espere", "espere, a ver si sale", "deje ver si ya salió", "un momento, voy a intentar"])
def test_a_wait_alone_stays_a_wait_es(utt):
    assert es(utt, "released").intent == "wait"


def test_a_question_about_the_plug_is_no_release():
    got = en("is it out?", "released", 0.99)
    assert not (got.intent == "released" and got.certain)


# --- cars and adapters ---------------------------------------------------------------------

@pytest.mark.parametrize("utt,car", [
    ("it's a Chevy Bolt", "Chevrolet Bolt"), ("Hyundai Ioniq 5", "Hyundai Ioniq 5"),
    ("it's an ionic five", "Hyundai Ioniq 5"), ("Ioniq", "Hyundai Ioniq"), ("Ionic", "Hyundai Ioniq"),
    ("Nissan Leaf", "Nissan Leaf"), ("a Model Y", "Tesla Model Y"), ("Tesla Model 3", "Tesla Model 3"),
    ("the mach e", "Ford Mustang Mach-E"), ("a Kia EV6", "Kia EV6"), ("VW ID.4", "Volkswagen ID.4"),
])
@pytest.mark.parametrize("expecting", EXPECTATIONS)
def test_a_car_named_alone_is_the_intent_car(utt, car, expecting):
    got = en(utt, expecting)
    assert (got.intent, got.car) == ("car", car)


@pytest.mark.parametrize("utt,car", [("es un Chevy Bolt", "Chevrolet Bolt"), ("un Nissan Leaf", "Nissan Leaf"),
                                     ("es un tesla modelo 3", "Tesla Model 3"), ("un modelo Y", "Tesla Model Y"),
                                     ("tengo un Ioniq 5", "Hyundai Ioniq 5")])
def test_a_car_named_alone_is_the_intent_car_es(utt, car):
    got = es(utt, "connector")
    assert (got.intent, got.car) == ("car", car)


@pytest.mark.parametrize("utt,intent,car", [
    ("it's a Nissan Leaf, the J1772", "connector_j1772", "Nissan Leaf"),
    ("Leaf, chademo", "connector_chademo", "Nissan Leaf"),
    ("Chevy Bolt, the CCS one", "connector_ccs", "Chevrolet Bolt"),
    ("a model 3 at a tesla plug", "connector_tesla", "Tesla Model 3"),
    ("tesla", "connector_tesla", None),
    ("it's a Tesla", "connector_tesla", "Tesla"),
    ("it's not a tesla", "unclear", None),
    ("I don't know, it's a Kia Niro", "connector_unsure", "Kia Niro"),
    ("it's a Nissan Leaf and there's smoke", "hazard", "Nissan Leaf"),
])
def test_a_car_is_never_a_connector(utt, intent, car):
    got = en(utt, "connector")
    assert (got.intent, got.car) == (intent, car)


@pytest.mark.parametrize("utt,expecting,intent,car", [
    ("no, it's still stuck, it's a Chevy Bolt", "released", "still_stuck", "Chevrolet Bolt"),
    ("yes, it's a Kia Niro", "yes_no", "yes", "Kia Niro"),
    ("sigue atorado, es un Ioniq", "released", "still_stuck", "Hyundai Ioniq"),
])
def test_a_car_with_an_answer_is_the_answer(utt, expecting, intent, car):
    got = (es if "sigue" in utt else en)(utt, expecting)
    assert (got.intent, got.car) == (intent, car)


@pytest.mark.parametrize("utt", ["the station ID is 4 5 6", "I pressed the button on the handle", "it's a leaf blower",
                                 "the plug won't come out", "combo", "J1772"])
def test_no_car_where_none_was_named(utt):
    assert en(utt, "connector").car is None or utt == "it's a leaf blower"


@pytest.mark.parametrize("utt,intent,car,adapter", [
    ("it's a Tesla with a CCS adapter", "connector_ccs", "Tesla", True),
    ("I'm using a CCS adapter on my Tesla", "connector_ccs", "Tesla", True),
    ("a J1772 adapter", "connector_j1772", None, True),
    ("I'm using an adapter", "unclear", None, True),
    ("CCS, no adapter", "connector_ccs", None, False),
    ("I'm not using an adapter, it's CHAdeMO", "connector_chademo", None, False),
    ("Tesla and CCS", "unclear", None, False),
])
def test_adapters(utt, intent, car, adapter):
    got = en(utt, "connector")
    assert (got.intent, got.car, got.adapter) == (intent, car, adapter)


@pytest.mark.parametrize("utt,intent,car,adapter", [
    ("es un Tesla con adaptador CCS", "connector_ccs", "Tesla", True),
    ("Tesla con un adaptador de CCS", "connector_ccs", "Tesla", True),
    ("estoy usando un adaptador", "unclear", None, True),
    ("no uso adaptador, es CCS", "connector_ccs", None, False),
    ("sin adaptador, es chademo", "connector_chademo", None, False),
])
def test_adapters_es(utt, intent, car, adapter):
    got = es(utt, "connector")
    assert (got.intent, got.car, got.adapter) == (intent, car, adapter)


def test_an_adapter_at_another_question():
    got = en("yes I'm using an adapter", "yes_no")
    assert (got.intent, got.adapter) == ("yes", True)
    assert en("the adapter is stuck", "released").adapter


# --- hints ---------------------------------------------------------------------------------

def test_hints_have_the_new_short_phrases():
    for language, vocabulary, words in (("en-US", None, {"transfer me", "what do you mean", "emergency stop",
                                                         "blocking traffic", "cracked"}),
                                        ("es-US", ES, {"transfiérame", "qué quiere decir", "paro de emergencia",
                                                       "acotamiento", "cable roto"})):
        for expecting in EXPECTATIONS:
            h = hints(expecting, vocabulary)
            assert words <= set(h), (language, expecting)
            assert len(h) == len(set(h)) and all(0 < len(x) <= 40 for x in h)
    assert "I don't know" in hints("yes_no") and "adapter" in hints("connector")


# --- long input ----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("unit", ["it ", "no ", "wait ", "not ", "please ", "so ", "the cable is ", "tesla model ",
                                  "tesla model 3 ", "a tesla with a ccs adapter ", "a ", "no sé ", "hot ",
                                  "i do not know "])
def test_a_long_input_returns(unit):
    """60 kB of one word: every reader path is linear (the web layer caps the input too)."""
    text = unit * (60_000 // len(unit))
    for expecting in EXPECTATIONS:
        assert is_intent(en(text, expecting).intent)
    assert is_intent(es(text, "released").intent)

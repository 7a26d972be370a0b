"""The operators' console (issue 17), through its HTTP interface: a call's story,
words not IDs, filters, stations, the funnel's order, the live JSON, exports,
the recordings proxy, and the password on all of it."""
from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
import responses
from conftest import ROOT, TOKEN

from ivr.app import create_app
from ivr.content import load
from ivr.tools.simulator import Call
from ivr.web.views.console import funnel, words

PASSWORD = "correct horse battery staple"
AUTH = {"Authorization": "Basic b3BlcmF0b3I6Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ=="}  # operator:PASSWORD
RECORDING = "RE" + "7" * 32
ACCOUNT = "AC" + "a" * 32


def keypad(*keys):
    pending = list(keys)
    return lambda event: ({"Digits": pending.pop(0)} if pending else None) if event.kind == "listen" else None


def answers(*fields):
    pending = list(fields)
    return lambda event: (pending.pop(0) if pending else None) if event.kind == "listen" else None


@pytest.fixture
def console(env):
    app = create_app({**env, "IVR_DASHBOARD_PASSWORD": PASSWORD, "TWILIO_ACCOUNT_SID": ACCOUNT,
                      "TWILIO_AUTH_TOKEN": TOKEN})
    yield app
    app.extensions["ivr"].recorder.engine.dispose()


@pytest.fixture
def calls(console):
    """Four played calls: freed at the first step (station SF-0042), a person after a mumble
    (with a voicemail, a call-back and a text), hung up at the connector, and one whose
    caller said something that looks like markup."""
    client, recorder = console.test_client(), console.extensions["ivr"].recorder
    freed = Call(client, TOKEN, caller="+15555550111")
    freed.run(keypad("3", "1"))
    recorder.station(freed.sid, "SF-0042")
    person = Call(client, TOKEN)
    person.run(keypad("1", "7", "0"))
    recorder.station(person.sid, "SF-0042")
    recorder.voicemail(person.sid, RECORDING, "https://api.twilio.com/2010-04-01/Accounts/x/Recordings/" + RECORDING,
                       12, "I'm at the <b>mall</b>, bay 4", "completed")
    recorder.callback(person.sid, "+15555550177", station_id="SF-0042", connector="ccs", steps=None)
    recorder.text_message(person.sid, "+15555550177", "sent", message_sid="SM" + "1" * 32)
    gone = Call(client, TOKEN)
    gone.run(keypad())
    recorder.station(gone.sid, "LA-0007")
    markup = Call(client, TOKEN, confidence=0.41)
    markup.run(answers({"SpeechResult": "<script>alert(1)</script> J1772", "Confidence": "0.41"}, {"Digits": "1"}))
    return {"freed": freed.sid, "person": person.sid, "gone": gone.sid, "markup": markup.sid, "client": client}


def get(client, url):
    return client.get(url, headers=AUTH)


URLS = ["/dashboard", "/dashboard/calls", "/dashboard/stations", "/dashboard/cars", "/dashboard/funnel", "/dashboard/live.json",
        "/dashboard/calls.csv", "/dashboard/calls.json", "/dashboard/calls/CA" + "0" * 32,
        f"/dashboard/recordings/{RECORDING}.mp3", "/dashboard/static/console.js"]


@pytest.mark.parametrize("url", URLS)
def test_nothing_without_the_password(console, url):
    client = console.test_client()
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Basic b3BlcmF0b3I6d3Jvbmc="}).status_code == 401


@pytest.mark.parametrize("url", URLS)
def test_no_password_set_no_console(client, url):
    assert client.get(url).status_code == 404


def test_a_calls_story(calls):
    page = get(calls["client"], f"/dashboard/calls/{calls['person']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    turns = re.findall(r'<div class="step">([^<]+)</div>', text)
    assert turns[:3] == ["Call start", "Which connector", "Felt the CCS release button"]   # in order, labelled
    assert "Press the release button on top of the handle." in text      # what the bot said, in words
    assert "pressed <kbd>7</kbd>" in text and "not understood" in text and "a person" in text
    assert "Stuck connector call." in text and "C C S connector." in text  # the whisper the agent heard
    assert "no answer" in text                                             # the dial result
    assert f"/dashboard/recordings/{RECORDING}.mp3" in text
    assert "I&#39;m at the &lt;b&gt;mall&lt;/b&gt;, bay 4" in text      # the transcription, escaped
    assert "***0177" in text and "5555550177" not in text and "5555550123" not in text
    assert "ccs_button" not in text


def test_callers_words_are_escaped(calls):
    text = get(calls["client"], f"/dashboard/calls/{calls['markup']}").get_data(as_text=True)
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "confidence 41%" in text


def test_a_spanish_turn_is_told_in_spanish(console):
    client = console.test_client()
    call = Call(client, TOKEN)
    call.run(keypad("9", "3", "1"))
    text = get(client, f"/dashboard/calls/{call.sid}").get_data(as_text=True)
    assert "(es-US)" in text


def test_hazard_alerts_and_station_commands_are_in_the_story(calls, console):
    from datetime import datetime, timezone

    from ivr.records import stations
    recorder = console.extensions["ivr"].recorder
    recorder.alert_pending(calls["gone"], "fire", {"tier": "fire"}, ["webhook"])
    with recorder.engine.begin() as conn:
        conn.execute(stations.station_actions.insert().values(
            call_sid=calls["gone"], at=datetime.now(timezone.utc), action="unlock_connector", target="SF-0042/1",
            outcome="ok", detail="ACCEPTED"))
    text = get(calls["client"], f"/dashboard/calls/{calls['gone']}").get_data(as_text=True)
    assert 'id="alerts"' in text and "webhook" in text and "pending" in text
    assert 'id="station-actions"' in text and "unlock connector" in text and "ACCEPTED" in text


def test_labels_survive_a_renamed_node():
    content = load(ROOT / "flows", ROOT / "prompts")
    catalog = content.catalogs["en-US"]
    assert words.node_label(content.flow, catalog, "unlock_fob") == "Unlocked the car and pulled"
    assert words.node_label(content.flow, catalog, "old_unlock_step") == "Old unlock step"
    assert words.node_label(content.flow, content.catalogs["es-US"], "reseat") == "Volvió a asentar el conector"


def test_filter_by_station_outcome_and_connector(calls):
    client = calls["client"]
    text = get(client, "/dashboard/calls?station=SF-0042").get_data(as_text=True)
    assert calls["freed"] in text and calls["person"] in text and calls["gone"] not in text
    text = get(client, "/dashboard/calls?station=SF-0042&outcome=released").get_data(as_text=True)
    assert calls["freed"] in text and calls["person"] not in text
    text = get(client, "/dashboard/calls?connector=ccs").get_data(as_text=True)
    assert calls["person"] in text and calls["freed"] not in text
    bad = get(client, "/dashboard/calls?since=yesterday&station=%3Cscript%3E")
    assert bad.status_code == 200 and "is not a date like" in bad.get_data(as_text=True)


def test_stations_worst_first_and_linked(calls):
    text = get(calls["client"], "/dashboard/stations").get_data(as_text=True)
    assert text.index(">SF-0042<") < text.index(">LA-0007<")              # most calls first
    assert "/dashboard/calls?station=SF-0042" in text
    text = get(calls["client"], "/dashboard/stations?sort=release_rate").get_data(as_text=True)
    assert text.index(">LA-0007<") < text.index(">SF-0042<")              # lowest release rate first


def test_the_funnel_follows_the_flow():
    content = load(ROOT / "flows", ROOT / "prompts")
    paths = funnel.branches(content.flow)
    assert set(paths) == {"ccs", "chademo", "j1772", "tesla", "unsure"}
    assert paths["ccs"][:3] == ["connector", "ccs_button", "ccs_soft"]
    assert paths["j1772"][:3] == ["connector", "unlock_fob", "session_screen"]
    assert paths["j1772"] != sorted(paths["j1772"])
    assert not set(paths["ccs"]) & content.flow.hazard_nodes


def test_the_funnel_page_counts_per_step(calls):
    text = get(calls["client"], "/dashboard/funnel").get_data(as_text=True)
    assert 'id="branch-j1772"' in text and 'id="branch-ccs"' in text
    assert "Unlocked the car and pulled" in text and "unlock_fob</td>" not in text


def test_live_calls_come_and_go(console):
    client = console.test_client()
    call = Call(client, TOKEN)
    call.post("/voice", {"CallStatus": "ringing"})
    live = get(client, "/dashboard/live.json").get_json()
    assert [c["call_sid"] for c in live["calls"]] == [call.sid]
    assert live["calls"][0]["step"] == "Which connector" and live["calls"][0]["caller"] == "***0123"
    call.status("completed")
    assert get(client, "/dashboard/live.json").get_json()["calls"] == []


def test_exports_csv_and_json(calls):
    response = get(calls["client"], "/dashboard/calls.csv?station=SF-0042")
    assert response.mimetype == "text/csv" and response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["call_sid"] for r in rows} == {calls["freed"], calls["person"]}
    assert {r["outcome_words"] for r in rows} == {"Connector freed", "Put through to a person"}
    assert all(r["caller"].startswith("***") for r in rows)
    data = json.loads(get(calls["client"], "/dashboard/calls.json").get_data(as_text=True))
    assert len(data["calls"]) == 4 and "5555550111" not in json.dumps(data)


@responses.activate
def test_a_recording_is_fetched_through_the_console(calls):
    url = f"https://api.twilio.com/2010-04-01/Accounts/x/Recordings/{RECORDING}.mp3"
    responses.get(url, body=b"ID3fake-mp3", content_type="audio/mpeg")
    response = get(calls["client"], f"/dashboard/recordings/{RECORDING}.mp3")
    assert response.status_code == 200 and response.mimetype == "audio/mpeg" and response.data == b"ID3fake-mp3"
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")   # the account's credentials
    assert get(calls["client"], "/dashboard/recordings/RE" + "1" * 32 + ".mp3").status_code == 404


def test_migration_0007_gives_old_calls_their_path(database_url):
    from alembic import command
    from sqlalchemy import insert, select, text

    from ivr.records import db

    engine = db.connect(database_url)
    sid = "CA" + "8" * 32
    with engine.begin() as conn:                       # a database as it was before the console
        command.upgrade(db._alembic_config(conn), "0006")
        conn.execute(text("INSERT INTO calls (call_sid, started_at, outcome) VALUES (:s, :t, 'released')"),
                     {"s": sid, "t": db.now()})              # the calls table had no path yet
        for n, (node, next_node) in enumerate([(None, "connector"), ("connector", "unlock_fob"),
                                               ("unlock_fob", "unlock_fob"), ("unlock_fob", "released")]):
            conn.execute(insert(db.events).values(call_sid=sid, request_key=f"k{n}", at=db.now(), node=node,
                                                  action="x", next_node=next_node))
    db.migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(select(db.calls.c.path).where(db.calls.c.call_sid == sid)).scalar() == \
            "connector.unlock_fob.released"
    engine.dispose()


def test_each_turn_grows_the_path(calls, console):
    from sqlalchemy import select

    from ivr.records import db
    with console.extensions["ivr"].recorder.engine.connect() as conn:
        path = conn.execute(select(db.calls.c.path).where(db.calls.c.call_sid == calls["person"])).scalar()
    assert path == "connector.ccs_button.agent"          # the reprompt at ccs_button counts once


@pytest.mark.parametrize("url", ["/dashboard", "/dashboard/calls", "/dashboard/stations", "/dashboard/cars",
                                 "/dashboard/funnel", "/dashboard/live.json"])
def test_unreadable_records_say_so(console, monkeypatch, url):
    from ivr.records import console as records

    def broken(*_args, **_kwargs):
        raise RuntimeError("database down")
    for name in ("figures", "list_calls", "stations_table", "cars_table", "funnel_counts", "live_calls"):
        monkeypatch.setattr(records, name, broken)
    response = get(console.test_client(), url)
    assert response.status_code == 503
    assert "cannot be read" in response.get_data(as_text=True)


def test_operator_language_spanish(env):
    app = create_app({**env, "IVR_DASHBOARD_PASSWORD": PASSWORD, "IVR_AGENT_LANGUAGE": "es-US"})
    client = app.test_client()
    Call(client).run(keypad("3", "1"))
    text = get(client, "/dashboard/calls?since=all").get_data(as_text=True)
    assert "Conector liberado" in text and "Conector fuera" in text
    app.extensions["ivr"].recorder.engine.dispose()


def test_csv_cells_never_start_a_formula():
    from ivr.web.views.console.export import _csv_cell

    assert _csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _csv_cell("=1+2") == "'=1+2"
    assert _csv_cell("@SUM(A1)") == "'@SUM(A1)" and _csv_cell("-1+1") == "'-1+1"
    assert _csv_cell("SF-0042") == "SF-0042" and _csv_cell(None) == "" and _csv_cell(60) == "60"


def test_side_questions_and_unknown_nodes_are_told():
    from datetime import datetime, timezone

    from ivr.records.reports import Turn
    from ivr.web.views.console import story

    content = load(ROOT / "flows", ROOT / "prompts")
    at = datetime(2026, 11, 30, tzinfo=timezone.utc)

    def turn(node, action, next_node, **kw):
        return Turn(at=at, node=node, speech=kw.get("speech"), digits=kw.get("digits"), confidence=None,
                    intent=kw.get("intent"), action=action, next_node=next_node)
    entries = story.tell(content.flow, content.catalogs, content.catalogs["en-US"], [
        turn(None, "start", "connector"),
        turn("connector", "answer:ccs", "ccs_button", digits="1", intent="connector_ccs"),
        turn("ccs_button", "confirm", "ccs_button", speech="it came out", intent="released"),
        turn("gone_node", "answer:yes", "another_gone_node", digits="1", intent="yes"),
    ], at, "en-US")
    assert entries[2].said == (content.catalogs["en-US"].text("confirm_released"),)
    assert entries[2].heard == "it came out" and entries[2].took_for == "it came out"
    assert entries[3].step == "Gone node" and entries[3].said == ()      # renamed since: readable, nothing guessed


# -- cars (issue 15) ----------------------------------------------------------------

@pytest.fixture
def cars(env):
    """Six played calls that reach "What car is it?" and one that names no car: three
    Leafs (two freed by the car's own tips, one by its manual release), a Tesla put
    through to a person, a Polestar freed by the general manual release, an "I don't
    know" put through to a person, and a call hung up at the connector question."""
    from test_car_question import Caller

    app = create_app({**env, "IVR_DASHBOARD_PASSWORD": PASSWORD})   # unsigned webhooks: the Caller's
    client = app.test_client()
    sids: dict[str, str] = {}

    def car(name, sid, answer, *then, connector="J1772"):
        call = Caller(client, "CA" + sid * 32).to_car_question(connector)
        call.say(answer)
        for said in then:
            call.say(said)
        sids[name] = call.sid
    car("leaf1", "1", "nissan leaf", "it came out")
    car("leaf2", "2", "nissan leaf", "it came out")
    car("leaf3", "3", "nissan leaf", "still stuck", "it came out")
    car("tesla", "4", "tesla model y", "agent", connector="Tesla")
    car("polestar", "5", "Polestar 2", "it came out")
    car("dunno", "6", "I don't know", "agent")
    gone = Call(client)
    gone.run(keypad())
    sids["gone"] = gone.sid
    yield {**sids, "client": client}
    app.extensions["ivr"].recorder.engine.dispose()


def car_rows(text: str) -> list[list[str]]:
    """The cars table's make rows, as the cells' text."""
    rows = re.findall(r'<tr class="make-row">(.*?)</tr>', text, re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in rows]


def test_cars_per_make_worst_first(cars):
    text = get(cars["client"], "/dashboard/cars").get_data(as_text=True)
    rows = car_rows(text)
    #        car, calls, released, release rate, hazards, to a person, freed most often at
    assert rows == [["Nissan", "3", "3", "100%", "0", "0", "The car's own tips (2)"],
                    ["Unknown car", "2", "1", "50%", "0", "1", "The car's manual release (1)"],
                    ["Tesla", "1", "0", "0%", "0", "1", "-"]]
    assert "Leaf" in text and "Polestar 2" in text and "model not said" in text        # models underneath
    assert "car_tips" not in text and "manual_release" not in text                        # words, never node IDs
    assert "/dashboard/calls?car=Nissan" in text and "/dashboard/calls?car=unknown" in text
    assert re.search(r'id="no-car"><a href="/dashboard/calls\?car=-">1 calls', text)
    text = get(cars["client"], "/dashboard/cars?sort=release_rate").get_data(as_text=True)
    assert [r[0] for r in car_rows(text)] == ["Tesla", "Unknown car", "Nissan"]


def test_cars_follow_the_filters(cars):
    rows = car_rows(get(cars["client"], "/dashboard/cars?connector=tesla").get_data(as_text=True))
    assert [r[:2] for r in rows] == [["Tesla", "1"]]
    rows = car_rows(get(cars["client"], "/dashboard/cars?outcome=released").get_data(as_text=True))
    assert [r[:3] for r in rows] == [["Nissan", "3", "3"], ["Unknown car", "1", "1"]]
    text = get(cars["client"], "/dashboard/cars?since=2000-01-01&until=2000-01-31").get_data(as_text=True)
    assert car_rows(text) == [] and "No caller named a car" in text


def test_the_car_filter_on_calls_and_exports(cars):
    client = cars["client"]
    text = get(client, "/dashboard/calls?car=Nissan").get_data(as_text=True)
    assert all(cars[k] in text for k in ("leaf1", "leaf2", "leaf3"))
    assert cars["tesla"] not in text and cars["polestar"] not in text and "about a Nissan car" in text
    assert "car=Nissan" in re.search(r'id="export-csv" href="([^"]+)"', text).group(1)   # kept in the URL
    text = get(client, "/dashboard/calls?car=unknown").get_data(as_text=True)
    assert cars["polestar"] in text and cars["dunno"] in text and cars["leaf1"] not in text
    text = get(client, "/dashboard/calls?car=-").get_data(as_text=True)
    assert cars["gone"] in text and cars["leaf1"] not in text
    rows = list(csv.DictReader(io.StringIO(get(client, "/dashboard/calls.csv?car=unknown").get_data(as_text=True))))
    assert {r["call_sid"] for r in rows} == {cars["polestar"], cars["dunno"]}
    assert {(r["car_make"], r["car_model"]) for r in rows} == {("unknown", "Polestar 2"), ("unknown", "")}
    data = json.loads(get(client, "/dashboard/calls.json?car=Tesla").get_data(as_text=True))
    assert [(c["call_sid"], c["car_model"]) for c in data["calls"]] == [(cars["tesla"], "Model Y")]
    bad = get(client, "/dashboard/cars?car=%3Cscript%3E")
    assert bad.status_code == 200 and "the car filter was not understood" in bad.get_data(as_text=True)


def test_a_car_heard_as_markup_is_escaped(console):
    from sqlalchemy import update

    from ivr.records import db
    client = console.test_client()
    call = Call(client, TOKEN)
    call.run(keypad("3", "1"))
    with console.extensions["ivr"].recorder.engine.begin() as conn:
        conn.execute(update(db.calls).where(db.calls.c.call_sid == call.sid)
                     .values(car_make="unknown", car_model="<img src=x onerror=alert(1)>"))
    text = get(client, "/dashboard/cars?since=all").get_data(as_text=True)
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


def test_car_words_in_the_operators_language():
    content = load(ROOT / "flows", ROOT / "prompts")
    en, es = content.catalogs["en-US"], content.catalogs["es-US"]
    assert words.car_words(en, "Nissan") == "Nissan" and words.car_words(es, "Nissan") == "Nissan"
    assert words.car_words(en, "unknown") == "Unknown car" and words.car_words(es, "unknown") == "Coche desconocido"
    assert words.model_words(es, None) == "modelo no dicho" and words.model_words(en, "Leaf") == "Leaf"


def test_cars_sum_a_long_tail_of_models():
    from ivr.web.views.console import cars

    rows = [{"make": "unknown", "model": f"Car {n:02d}", "calls": 20 - n, "released": 1, "hazards": 0,
             "transfers": 0, "freed_at": {"manual_release": 1}} for n in range(14)]
    made = cars.makes(rows, lambda node: node.replace("_", " "))
    assert made[0]["calls"] == sum(20 - n for n in range(14)) and made[0]["freed"] == {"label": "manual release",
                                                                                       "calls": 14}
    models = made[0]["models"]
    assert len(models) == cars.MODELS_SHOWN and models[-1]["others"] == 14 - cars.MODELS_SHOWN + 1
    assert sum(m["calls"] for m in models) == made[0]["calls"]

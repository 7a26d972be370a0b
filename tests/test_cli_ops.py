"""The operators' commands: ivr calls, report, purge, graph, configure-number."""
from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from click.testing import CliRunner
from conftest import ROOT
from responses import matchers
from sqlalchemy import insert

from helpers import keypad
from ivr import content
from ivr.records import db
from ivr.tools.cli import main

ACCOUNT = "AC" + "a" * 32
TOKEN = "12345678901234567890123456789012"
NUMBER = "+14155550123"
PN = "PN" + "b" * 32
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}"


def run(args, database_url=None, **env):
    base = {"IVR_FLOWS_DIR": str(ROOT / "flows"), "IVR_PROMPTS_DIR": str(ROOT / "prompts")}
    if database_url:
        base["DATABASE_URL"] = database_url
    return CliRunner().invoke(main, args, env={**base, **env}, catch_exceptions=False)


@pytest.fixture
def three_calls(app, new_call, database_url):
    """Released (J1772, first step), abandoned at the connector question, transferred."""
    released, abandoned, transferred = new_call(caller="+15555550111"), new_call(), new_call()
    released.run(keypad("3", "1"))              # J1772: unlocked and pulled, it came out
    abandoned.run(keypad())
    transferred.run(keypad("0"))
    return released, abandoned, transferred


# -- ivr calls / ivr report --------------------------------------------------------------

def test_calls_json_lists_every_call_with_its_steps(three_calls, database_url):
    released, abandoned, transferred = three_calls
    result = run(["calls", "--json"], database_url)
    assert result.exit_code == 0, result.output
    by_sid = {c["call_sid"]: c for c in json.loads(result.output)}
    assert set(by_sid) == {released.sid, abandoned.sid, transferred.sid}
    assert by_sid[released.sid]["outcome"] == "released"
    assert by_sid[released.sid]["connector"] == "j1772"
    assert by_sid[released.sid]["steps"] == ["connector", "unlock_fob", "released"]
    assert by_sid[released.sid]["duration_s"] == 60       # from the status callback
    assert by_sid[abandoned.sid]["outcome"] == "abandoned"
    assert by_sid[transferred.sid]["outcome"] == "transferred"
    assert by_sid[released.sid]["caller"] == "***0111"


def test_calls_text_masks_callers(three_calls, database_url):
    result = run(["calls"], database_url)
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) == 3
    assert "***0111" in result.output and "5555550111" not in result.output


def test_calls_since_a_date(three_calls, database_url):
    assert json.loads(run(["calls", "--json", "--since", "2999-01-01"], database_url).output) == []
    assert len(json.loads(run(["calls", "--json", "--since", "2000-01-01"], database_url).output)) == 3
    bad = run(["calls", "--since", "yesterday"], database_url)
    assert bad.exit_code == 2 and "yesterday" in bad.output


def test_report_json(three_calls, database_url):
    result = run(["report", "--json"], database_url)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["calls"] == 3
    assert report["outcomes"]["released"] == 1 and report["outcomes"]["abandoned"] == 1
    assert report["outcomes"]["transferred"] == 1
    assert report["released_at_step"] == {"unlock_fob": 1}
    assert report["hung_up_at"] == {"connector": 1}
    assert report["by_connector"]["j1772"]["released"] == 1


def test_report_text(three_calls, database_url):
    result = run(["report"], database_url)
    assert result.exit_code == 0
    assert "calls: 3" in result.output and "released 33%" in result.output
    assert "unlock_fob: 1" in result.output


def test_an_unreachable_database_is_one_clear_line():
    result = run(["calls"], "postgresql://nobody@127.0.0.1:1/nothing")
    assert result.exit_code == 1
    assert "cannot open the call records at DATABASE_URL" in result.output
    assert "Traceback" not in result.output


# -- ivr purge ------------------------------------------------------------------------------

def test_purge_keeps_recent_calls(three_calls, database_url):
    engine = db.connect(database_url)
    with engine.begin() as conn:
        conn.execute(insert(db.calls).values(call_sid="CA" + "0" * 32, outcome="released",
                                             started_at=db.now() - timedelta(days=400)))
    engine.dispose()
    result = run(["purge", "--days", "365"], database_url)
    assert result.exit_code == 0 and "deleted 1 call older than 365 days" in result.output
    assert len(json.loads(run(["calls", "--json"], database_url).output)) == 3
    assert "deleted 0 calls" in run(["purge"], database_url, IVR_RETENTION_DAYS="30").output


def test_purge_needs_a_number_of_days(database_url):
    result = run(["purge"], database_url, IVR_RETENTION_DAYS="")
    assert result.exit_code == 1 and "--days" in result.output


# -- ivr graph ---------------------------------------------------------------------------------

def flow():
    return content.load(ROOT / "flows", ROOT / "prompts", content.DEFAULT_FLOW).flow


def test_graph_mermaid_has_every_node_and_edge():
    result = run(["graph"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("flowchart TD\n")
    loaded = flow()
    for node in loaded.nodes.values():
        assert f"n_{node.id}" in text
        for target in node.targets().values():
            assert f"n_{node.id} -->" in text and f"| n_{target}" in text
    assert "-.->|hazard| n_hazard" in text


def test_graph_svg_draws_every_node(tmp_path):
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("Graphviz's dot is missing in CI: .ci/run installs graphviz")
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    out = tmp_path / "flow.svg"
    result = run(["graph", "--format", "svg", "-o", str(out)])
    assert result.exit_code == 0, result.output
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    titles = {t.text for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node"
              for t in g.iter("{http://www.w3.org/2000/svg}title")}
    assert titles == set(flow().nodes) | {"any_question"}


# -- ivr configure-number ------------------------------------------------------------------------

def number_json(**overrides):
    record = {"sid": PN, "account_sid": ACCOUNT, "phone_number": NUMBER, "friendly_name": "(415) 555-0123",
              "voice_url": "https://old.example.com/voice", "voice_method": "GET",
              "voice_fallback_url": None, "voice_fallback_method": "POST",
              "status_callback": "", "status_callback_method": "POST",
              "uri": f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers/{PN}.json"}
    return {**record, **overrides}


def page(*numbers):
    return {"incoming_phone_numbers": list(numbers), "page": 0, "page_size": 2, "start": 0, "end": 0,
            "first_page_uri": "", "next_page_uri": None, "previous_page_uri": None, "uri": ""}


def twilio_env():
    return {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN}


@responses.activate
def test_configure_number_sets_the_webhooks_and_prints_the_changes():
    responses.get(f"{API}/IncomingPhoneNumbers.json", json=page(number_json()),
                  match=[matchers.query_param_matcher({"PhoneNumber": NUMBER}, strict_match=False)])
    update = responses.post(f"{API}/IncomingPhoneNumbers/{PN}.json", json=number_json(
        voice_url="https://ivr.example.com/voice", voice_method="POST"))
    result = run(["configure-number", NUMBER, "--url", "https://ivr.example.com/"], **twilio_env())
    assert result.exit_code == 0, result.output
    sent = {k: v[0] for k, v in parse_qs(update.calls[0].request.body).items()}
    assert sent == {
        "VoiceUrl": "https://ivr.example.com/voice", "VoiceMethod": "POST",
        "VoiceFallbackUrl": "https://ivr.example.com/voice/fallback", "VoiceFallbackMethod": "POST",
        "StatusCallback": "https://ivr.example.com/voice/status", "StatusCallbackMethod": "POST",
    }
    assert f"{NUMBER}: voice_url: https://old.example.com/voice -> https://ivr.example.com/voice" in result.output
    assert "voice_method: GET -> POST" in result.output
    assert "status_callback: (none) -> https://ivr.example.com/voice/status" in result.output
    assert "voice_fallback_method" not in result.output      # unchanged, so not listed


@responses.activate
def test_configure_number_with_a_station_id():
    responses.get(f"{API}/IncomingPhoneNumbers.json", json=page(number_json()))
    update = responses.post(f"{API}/IncomingPhoneNumbers/{PN}.json", json=number_json())
    result = run(["configure-number", NUMBER, "--url", "https://ivr.example.com", "--station", "SF-0042"],
                 **twilio_env())
    assert result.exit_code == 0, result.output
    assert parse_qs(update.calls[0].request.body)["VoiceUrl"] == ["https://ivr.example.com/voice?station=SF-0042"]


@responses.activate
def test_configure_number_already_set_changes_nothing():
    wanted = number_json(voice_url="https://ivr.example.com/voice", voice_method="POST",
                         voice_fallback_url="https://ivr.example.com/voice/fallback",
                         status_callback="https://ivr.example.com/voice/status")
    responses.get(f"{API}/IncomingPhoneNumbers.json", json=page(wanted))
    result = run(["configure-number", NUMBER, "--url", "https://ivr.example.com"], **twilio_env())
    assert result.exit_code == 0 and "already set, nothing changed" in result.output
    assert len(responses.calls) == 1                       # no update sent


@responses.activate
def test_configure_number_not_on_the_account():
    responses.get(f"{API}/IncomingPhoneNumbers.json", json=page())
    result = run(["configure-number", NUMBER, "--url", "https://ivr.example.com"], **twilio_env())
    assert result.exit_code == 1 and "not a phone number on this Twilio account" in result.output


@responses.activate
def test_configure_number_twilio_refuses():
    responses.get(f"{API}/IncomingPhoneNumbers.json", status=401,
                  json={"code": 20003, "message": "Authenticate", "more_info": "", "status": 401})
    result = run(["configure-number", NUMBER, "--url", "https://ivr.example.com"], **twilio_env())
    assert result.exit_code == 1 and "Twilio refused: Authenticate (code 20003)" in result.output


@pytest.mark.parametrize("args, message", [
    (["4155550123", "--url", "https://ivr.example.com"], "E.164"),
    ([NUMBER, "--url", "http://ivr.example.com"], "https base URL"),
    ([NUMBER, "--url", "https://ivr.example.com", "--station", "no spaces"], "station ID"),
])
@responses.activate
def test_configure_number_bad_input_sends_nothing(args, message):
    result = run(["configure-number", *args], **twilio_env())
    assert result.exit_code == 1 and message in result.output
    assert len(responses.calls) == 0


def test_configure_number_needs_credentials():
    result = run(["configure-number", NUMBER, "--url", "https://ivr.example.com"],
                 TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="")
    assert result.exit_code == 1 and "TWILIO_ACCOUNT_SID" in result.output


def test_the_terminal_simulator_is_never_rate_limited(database_url):
    for _ in range(3):
        result = run(["call", "--say", "0"], DATABASE_URL=database_url, IVR_RATE_LIMIT="1/10m")
        assert result.exit_code == 0 and "Which plug is it?" in result.output

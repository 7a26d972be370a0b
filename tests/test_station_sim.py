"""The operator's simulated station (ivr/tools/station_sim.py): the line's OCPI back end
against it, each scenario, and `ivr call --station-sim` playing a call in the terminal."""
from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from helpers import keypad
from ivr.app import create_app
from ivr.ocpi import store
from ivr.ocpi.backend import Outcome
from ivr.tools import cli, station_sim
from ocpi_peer import wait_for


@pytest.fixture
def attached(request, env):
    scenario = getattr(request, "param", "all")
    sim = station_sim.Attached(scenario, stop_delay=0.5)
    app = create_app({**env, **sim.env})
    sim.known = sim.serve(app)
    sim.app = app
    yield sim
    sim.stop()
    app.extensions["ivr"].recorder.engine.dispose()


def test_the_site_has_the_three_chargers_and_the_line_must_ask_which(attached):
    backend = attached.app.extensions["ivr.station"]
    assert attached.known == 3
    site = backend.find_evse("SIM1")
    assert site.evse is None and {e.label for e in site.candidates} == {"S100", "S200", "S300"}
    assert backend.find_evse("s 100").evse.uid == "EVSE-RUN"


def test_a_running_session_is_seen_and_stops_with_a_stations_timing(attached):
    backend = attached.app.extensions["ivr.station"]
    evse = backend.find_evse("S100").evse
    status = backend.status(evse, call_sid="CA-sim")
    assert status.session.id == "SIM-SESSION-RUN" and status.charging
    sent = time.monotonic()
    state = backend.stop_session(evse, status.session.id, call_sid="CA-sim")
    assert state.outcome is Outcome.PENDING
    assert wait_for(lambda: backend.command(state.command_id).outcome is Outcome.OK, seconds=10)
    assert 0.4 < time.monotonic() - sent < 5
    assert backend.status(evse).session is None                       # completed now
    stop = [a for a in store.actions_of(backend.engine, "CA-sim") if a["action"] == "result"]
    assert stop and stop[0]["session_id"] == "SIM-SESSION-RUN"          # for an idle-fee refund


def test_a_session_that_wont_stop_is_refused(attached):
    backend = attached.app.extensions["ivr.station"]
    evse = backend.find_evse("S200").evse
    state = backend.stop_session(evse, backend.status(evse).session.id)
    assert wait_for(lambda: backend.command(state.command_id).result == "REJECTED", seconds=10)


def test_a_chademo_handle_the_station_holds_is_unlocked(attached):
    backend = attached.app.extensions["ivr.station"]
    evse = backend.find_evse("S300").evse
    assert evse.connectors[0].station_lock and backend.status(evse).session is None
    state = backend.unlock_connector(evse, "1")
    assert wait_for(lambda: backend.command(state.command_id).outcome is Outcome.OK, seconds=10)


@pytest.mark.parametrize("attached", ["down"], indirect=True)
def test_a_back_end_that_is_down_knows_nothing_and_says_so(attached):
    backend = attached.app.extensions["ivr.station"]
    assert attached.known == 0
    assert backend.find_evse("S100").outcome in (Outcome.DOWN, Outcome.UNKNOWN)


def test_a_single_scenario_is_one_charger_the_number_names():
    assert station_sim.station_label("chademo-locked") == "S300"
    assert station_sim.station_label("all") == "SIM1"
    with pytest.raises(ValueError):
        station_sim.Simulation("everything")


def test_ivr_call_plays_a_call_against_the_simulated_station(env, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli.main, ["call", "--station-sim", "running", "--say", "1", "--say", "0"])
    assert result.exit_code == 0, result.output
    assert "simulated station: running; chargers known: 1; the call comes in for S100" in result.output
    assert "call ended" in result.output


def test_ivr_report_counts_calls_freed_and_failed_and_lists_stops_and_stations(attached, env):
    """A released call whose stop worked, a transferred one whose stop was refused."""
    from ivr.tools.simulator import Call
    backend = attached.app.extensions["ivr.station"]
    freed, failed = Call(attached.app.test_client()), Call(attached.app.test_client())
    freed.run(keypad("3", "1"))                  # released
    failed.run(keypad("0"))                      # put through
    for call, label in ((freed, "S100"), (failed, "S200")):
        evse = backend.find_evse(label, call_sid=call.sid).evse
        state = backend.stop_session(evse, backend.status(evse, call_sid=call.sid).session.id, call_sid=call.sid)
        assert wait_for(lambda state=state: backend.command(state.command_id).finished, seconds=10)
    result = CliRunner().invoke(cli.main, ["report"], env={**env}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "remote stop: sent 2, worked 1, failed 1" in result.output
    assert "calls it freed 1, calls it failed 1" in result.output
    assert "SIM-SESSION-RUN at SIM1/EVSE-RUN, stopped 20" in result.output
    assert "S100: 1 calls" in result.output and "S200: 1 calls" in result.output
    as_json = CliRunner().invoke(cli.main, ["report", "--json"], env={**env}, catch_exceptions=False)
    import json
    stops = json.loads(as_json.output)["station_back_end"]["stops"]
    assert [s["session_id"] for s in stops] == ["SIM-SESSION-RUN"] and stops[0]["call_sid"] == freed.sid

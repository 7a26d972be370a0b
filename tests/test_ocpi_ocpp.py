"""The whole chain with a charge point behind the test CPO (OCPP 1.6J, mobilityhouse
`ocpp`): the line's OCPI command, the CPO's OCPP call, the charger's answer, the
CommandResult back at the line, with the charger's own timing."""
from __future__ import annotations

import time

import pytest

pytest.importorskip("ocpp")

from ivr.ocpi.backend import Outcome
from ocpi_peer import CPO_TOKEN, LINE_TOKEN, Cpo, Line, backend_of, wait_for


@pytest.fixture
def site():
    peer = Cpo("--token", CPO_TOKEN, "--line-token", LINE_TOKEN, "--ocpp")
    yield peer
    peer.stop()


@pytest.fixture
def backend(env, site):
    line = Line({**env, "IVR_OCPI_VERSIONS_URL": site.versions_url, "IVR_OCPI_TOKEN": CPO_TOKEN,
                 "IVR_OCPI_INBOUND_TOKEN": LINE_TOKEN, "IVR_STATION_TIMEOUT": "3"})
    backend = backend_of(line.app())
    backend.sync(full=True)
    yield backend
    line.stop()


def test_still_charging_to_stopped_through_the_charger(backend, site):
    """From "it's still charging" (the line reads the station) to "it's stopped"."""
    site.control(charger={"stop": "Accepted", "stop_delay": 0.8}, command={"timeout": 30})
    started = time.monotonic()
    evse = backend.find_evse("E12345").evse
    status = backend.status(evse)
    assert status.session.id == "SES-1"
    state = backend.stop_session(evse, status.session.id)
    assert state.outcome is Outcome.PENDING
    assert wait_for(lambda: backend.command(state.command_id).outcome is Outcome.OK, seconds=10)
    took = time.monotonic() - started
    log = site.read("ocpp")
    assert [entry[0] for entry in log] == ["RemoteStopTransaction", "StopTransaction"]
    assert log[0][1] == log[1][1] and log[0][2] == "Accepted" and log[1][2] == "Remote"
    assert 0.8 < took < 5, took
    assert backend.status(evse).session is None          # the CPO's session is COMPLETED now
    print(f"\nstill charging -> stopped: {took:.2f} s (charger stop 0.8 s)")


def test_a_charger_that_refuses_to_stop(backend, site):
    site.control(charger={"stop": "Rejected"})
    evse = backend.find_evse("E12345").evse
    state = backend.stop_session(evse, "SES-1")
    assert wait_for(lambda: backend.command(state.command_id).finished)
    now = backend.command(state.command_id)
    assert (now.outcome, now.result) == (Outcome.REJECTED, "REJECTED")
    assert [entry[0] for entry in site.read("ocpp")] == ["RemoteStopTransaction"]


@pytest.mark.parametrize("charger, outcome, result", [
    ("Unlocked", Outcome.OK, "ACCEPTED"),
    ("UnlockFailed", Outcome.REJECTED, "FAILED"),
    ("NotSupported", Outcome.REJECTED, "NOT_SUPPORTED"),
])
def test_unlock_through_the_charger(backend, site, charger, outcome, result):
    site.control(charger={"unlock": charger})
    evse = backend.find_evse("EA 222").evse                  # a CHAdeMO handle: the station's lock
    assert evse.connectors[0].station_lock
    state = backend.unlock_connector(evse, "1")
    assert wait_for(lambda: backend.command(state.command_id).finished)
    now = backend.command(state.command_id)
    assert (now.outcome, now.result) == (outcome, result)
    assert site.read("ocpp") == [["UnlockConnector", 1, charger]]

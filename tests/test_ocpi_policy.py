"""The unlock policy and the hazard stop: pure rules (ivr/ocpi/policy.py)."""
from __future__ import annotations

import pytest

from ivr.ocpi.backend import Connector, Evse, Outcome, Session, StationStatus
from ivr.ocpi.policy import UnlockPolicy, hazard_stop, may_unlock

CHADEMO = Connector("2", "CHADEMO", "CABLE")
CCS = Connector("1", "IEC_62196_T1_COMBO", "CABLE")
SOCKET = Connector("1", "IEC_62196_T2", "SOCKET")
IDLE = StationStatus(Outcome.OK, evse_status="AVAILABLE")
RUNNING = StationStatus(Outcome.OK, evse_status="CHARGING", session=Session("S1", "ACTIVE", "2"))


@pytest.mark.parametrize("policy, by_agent, allowed", [
    (UnlockPolicy.AGENT, True, True), (UnlockPolicy.AGENT, False, False),
    (UnlockPolicy.AUTOMATIC, False, True), (UnlockPolicy.AUTOMATIC, True, True),
    (UnlockPolicy.OFF, True, False),
])
def test_who_may_send_an_unlock(policy, by_agent, allowed):
    assert may_unlock(policy, CHADEMO, IDLE, holding_handle=True, by_agent=by_agent).allowed is allowed


@pytest.mark.parametrize("connector, status, holding, reason", [
    (CCS, IDLE, True, "the car holds this plug"),
    (None, IDLE, True, "not identified"),
    (CHADEMO, RUNNING, True, "a session is active"),
    (CHADEMO, StationStatus(Outcome.DOWN), True, "cannot be read"),
    (CHADEMO, IDLE, False, "weight off"),
])
def test_an_unlock_only_for_a_station_lock_with_no_session_and_the_handle_held(connector, status, holding, reason):
    decision = may_unlock(UnlockPolicy.AUTOMATIC, connector, status, holding_handle=holding, by_agent=True)
    assert not decision.allowed and reason in decision.reason


def test_socketed_ac_is_the_stations_lock():
    assert may_unlock(UnlockPolicy.AGENT, SOCKET, IDLE, holding_handle=True, by_agent=True).allowed


def test_the_policy_is_agent_unless_the_operator_says_otherwise():
    assert UnlockPolicy.parse(None) is UnlockPolicy.AGENT
    assert UnlockPolicy.parse("Automatic") is UnlockPolicy.AUTOMATIC
    with pytest.raises(ValueError, match="expected agent, automatic or off"):
        UnlockPolicy.parse("always")


def test_a_hazard_stops_only_an_active_session_seen_on_an_identified_evse():
    evse = Evse("L", "U", None, "E1", "CHARGING")
    assert hazard_stop(evse, RUNNING) == "S1"
    assert hazard_stop(None, RUNNING) is None
    assert hazard_stop(evse, StationStatus(Outcome.OK, evse_status="CHARGING")) is None   # another party's

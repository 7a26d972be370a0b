"""The station back end against a test CPO in its own process (tests/ocpi_cpo.py),
over HTTP on 127.0.0.1, with the line served over HTTP for its CommandResults."""
from __future__ import annotations

import base64
import time

import pytest
import requests

from ivr.app import create_app
from ivr.ocpi import init_app, store
from ivr.ocpi.backend import NoBackend, Outcome, StationBackend, label_key
from ivr.ocpi.service import OcpiBackend
from ocpi_peer import CPO_TOKEN, LINE_TOKEN, backend_of, cpo, engine_of, line, ocpi_env, wait_for

CCS1, CHADEMO = "IEC_62196_T1_COMBO", "CHADEMO"


def token_header(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


@pytest.fixture
def backend(line) -> OcpiBackend:
    """Worker A's back end, index synced."""
    worker_a = line.app()
    backend = backend_of(worker_a)
    assert backend.sync(full=True) == 6
    return backend


# -- the interface and `none` ----------------------------------------------------------

def test_without_a_cpo_the_back_end_is_none_and_knows_nothing(env):
    app = create_app(env)
    init_app(app, env)
    backend = backend_of(app)
    assert isinstance(backend, NoBackend) and isinstance(backend, StationBackend)
    assert backend.find_evse("E12345").outcome is Outcome.UNKNOWN
    assert backend.command("anything").outcome is Outcome.UNKNOWN
    # and none of the line's OCPI endpoints answers without a token it knows
    client = app.test_client()
    assert client.get("/ocpi/versions").status_code == 401
    app.extensions["ivr"].recorder.engine.dispose()


def test_a_label_is_matched_ignoring_case_spaces_and_stars():
    assert label_key("us*cpo*e 12345") == label_key("US*CPO*E12345") == "USCPOE12345"
    assert label_key(" ea 222 ") == "EA222"


# -- Locations: the index, pagination, date_from ----------------------------------------

def test_the_index_pages_through_locations_with_our_token_and_ids(backend, cpo):
    seen = [r for r in cpo.read("seen") if r["path"] == "/ocpi/2.2.1/locations"]
    assert len(seen) == 3                                           # 5 locations, 2 a page
    assert [r["query"] for r in seen] == ["", "offset=2&limit=2", "offset=4&limit=2"]
    assert all(r["authorization"] == token_header(CPO_TOKEN) for r in seen)
    assert len({r["request_id"] for r in seen}) == 3                # a new X-Request-ID each
    assert len({r["correlation_id"] for r in seen}) == 1            # one X-Correlation-ID for the walk
    assert store.count_evses(backend.engine) == 6


@pytest.mark.parametrize("said, uid", [
    ("E12345", "EVSE-1"), ("e 1 2 3 4 5", "EVSE-1"), ("us*cpo*e12345", "EVSE-1"),
    ("EA 222", "EVSE-3"), ("ea222", "EVSE-3"), ("E33333", "EVSE-4"), ("US CPO E33333", "EVSE-4"),
])
def test_an_id_said_or_keyed_finds_its_evse(backend, said, uid):
    lookup = backend.find_evse(said, call_sid="CA1")
    assert lookup.outcome is Outcome.OK and lookup.evse.uid == uid


def test_the_evse_tells_the_connectors_and_who_holds_the_lock(backend):
    site = backend.find_evse("E12345").evse
    assert site.standards == (CCS1, CHADEMO)
    assert [c.station_lock for c in site.connectors] == [False, True]
    socket = backend.find_evse("E33333").evse
    assert socket.connectors[0].station_lock        # socketed AC: the station holds the cable


def test_a_miss_refreshes_the_index_with_date_from_once_a_minute(backend, cpo):
    cpo.add_evse(location_id="LOC9", uid="EVSE-9", physical_reference="N999", standard=CHADEMO)
    before = len(cpo.read("seen"))
    lookup = backend.find_evse("N 999")
    assert lookup.outcome is Outcome.OK and lookup.evse.location_id == "LOC9"
    asked = [r for r in cpo.read("seen")[before:] if r["path"] == "/ocpi/2.2.1/locations"]
    assert len(asked) == 1 and "date_from=" in asked[0]["query"]   # only what changed: one page
    before = len(cpo.read("seen"))
    assert backend.find_evse("NOPE1").outcome is Outcome.UNKNOWN
    assert len(cpo.read("seen")) == before                           # not again within the minute


# -- Sessions: filtered on our side; others' are not visible ----------------------------

def test_status_reads_the_evse_and_its_active_session_across_pages(backend, cpo):
    evse = backend.find_evse("E12345").evse
    status = backend.status(evse, call_sid="CA1")
    assert status.outcome is Outcome.OK and status.evse_status == "CHARGING"
    assert status.session.id == "SES-1" and status.charging is True
    pages = [r for r in cpo.read("seen") if r["path"] == "/ocpi/2.2.1/sessions"]
    assert len(pages) >= 3 and all("date_from=" in r["query"] for r in pages)


def test_another_partys_session_is_unknown_never_stopped(backend):
    status = backend.status(backend.find_evse("E44444").evse)
    assert status.outcome is Outcome.OK and status.session is None and status.session_known is False
    idle = backend.status(backend.find_evse("E12346").evse)          # its only session is days old
    assert idle.session is None and idle.charging is None            # unknown, not "not charging"


# -- Commands: the synchronous answer and the asynchronous result -------------------------

def stop(backend):
    evse = backend.find_evse("E12345").evse
    return backend.stop_session(evse, "SES-1", call_sid="CA-stop")


def test_a_stop_accepted_then_its_result_read_by_another_worker(backend, line, cpo):
    state = stop(backend)
    assert state.outcome is Outcome.PENDING and state.result == "ACCEPTED"
    assert 0 < state.seconds_left() <= 5
    body = cpo.read("commands")[0]["body"]
    assert set(body) == {"response_url", "session_id"} and body["session_id"] == "SES-1"
    assert body["response_url"].startswith(f"{line.url}/ocpi/2.2.1/commands/STOP_SESSION/")
    assert len(body["response_url"].rsplit("/", 1)[1]) >= 32          # unguessable
    # The CPO posts to the served worker (B); worker A and a third worker read it.
    worker_c = line.app()
    done = wait_for(lambda: backend.command(state.command_id).finished)
    assert done
    assert backend.command(state.command_id).outcome is Outcome.OK
    assert backend_of(worker_c).command(state.command_id).outcome is Outcome.OK
    assert backend_of(line.served).command(state.command_id).result == "ACCEPTED"
    actions = store.actions_of(backend.engine, "CA-stop")
    assert [a["action"] for a in actions] == ["stop_session", "result"]
    assert actions[0]["session_id"] == actions[1]["session_id"] == "SES-1"   # for a refund
    assert all(a["duration_ms"] is not None for a in actions)
    assert cpo.read("violations") == []


@pytest.mark.parametrize("response, outcome", [
    ("REJECTED", Outcome.REJECTED), ("NOT_SUPPORTED", Outcome.REJECTED), ("UNKNOWN_SESSION", Outcome.UNKNOWN)])
def test_every_command_response_that_is_not_accepted(backend, cpo, response, outcome):
    cpo.control(command={"response": response})
    state = stop(backend)
    assert state.outcome is outcome and state.result == response and state.finished
    assert backend.command(state.command_id).outcome is outcome
    assert cpo.read("posted") == []


def test_every_command_result_for_stop_and_unlock(backend, cpo):
    evse = backend.find_evse("E12345").evse
    expected = {"ACCEPTED": Outcome.OK, "TIMEOUT": Outcome.TIMEOUT, "FAILED": Outcome.REJECTED,
                "REJECTED": Outcome.REJECTED, "NOT_SUPPORTED": Outcome.REJECTED,
                "EVSE_OCCUPIED": Outcome.REJECTED, "EVSE_INOPERATIVE": Outcome.REJECTED}
    sent = []
    for result in expected:
        cpo.control(command={"result": result, "delay": 0.05})
        sent.append((result, backend.stop_session(evse, "SES-1")))
        sent.append((result, backend.unlock_connector(evse, "2")))
    assert all(state.outcome is Outcome.PENDING for _, state in sent)
    assert len(cpo.wait_posted(len(sent))) == len(sent)
    for result, state in sent:
        now = backend.command(state.command_id)
        assert (now.outcome, now.result) == (expected[result], result), state.command
    unlock = next(c["body"] for c in cpo.read("commands") if c["command"] == "UNLOCK_CONNECTOR")
    assert {k: unlock[k] for k in ("location_id", "evse_uid", "connector_id")} == \
        {"location_id": "LOC1", "evse_uid": "EVSE-1", "connector_id": "2"}
    assert cpo.read("violations") == []


def test_a_result_that_never_comes_times_out_at_the_cpos_timeout(backend, cpo):
    cpo.control(command={"posts": 0, "timeout": 1})
    state = stop(backend)
    assert state.outcome is Outcome.PENDING and state.seconds_left() <= 1
    assert wait_for(lambda: backend.command(state.command_id).outcome is Outcome.TIMEOUT, seconds=3)


def test_a_long_cpo_timeout_is_capped_at_thirty_seconds(backend, cpo):
    cpo.control(command={"posts": 0, "timeout": 600})
    state = stop(backend)
    assert 25 < state.seconds_left() <= 30


def test_a_result_posted_twice_counts_once(backend, cpo):
    cpo.control(command={"posts": 2, "result": "ACCEPTED"})
    state = stop(backend)
    posted = cpo.wait_posted(2)
    assert [p["status"] for p in posted] == [200, 200]                 # idempotent, not an error
    row = store.command_row(backend.engine, state.command_id)
    assert row["result"] == "ACCEPTED" and row["results_received"] == 2
    assert [a["action"] for a in store.actions_of(backend.engine, "CA-stop")].count("result") == 1


def test_a_forged_or_unknown_result_is_refused(backend, cpo, line):
    cpo.control(command={"posts": 0})
    state = stop(backend)
    url = f"{line.url}/ocpi/2.2.1/commands/STOP_SESSION/{state.command_id}"
    good = {"Authorization": token_header(LINE_TOKEN)}
    assert requests.post(url, json={"result": "ACCEPTED"}, timeout=5).status_code == 401
    assert requests.post(url, json={"result": "ACCEPTED"}, timeout=5,
                         headers={"Authorization": token_header(CPO_TOKEN)}).status_code == 401
    assert requests.post(f"{line.url}/ocpi/2.2.1/commands/STOP_SESSION/{'x' * 32}", json={"result": "ACCEPTED"},
                         headers=good, timeout=5).status_code == 404
    assert requests.post(url.replace("STOP_SESSION", "UNLOCK_CONNECTOR"), json={"result": "ACCEPTED"},
                         headers=good, timeout=5).status_code == 404
    assert requests.post(url, json={"result": "DONE"}, headers=good, timeout=5).status_code == 400
    assert backend.command(state.command_id).outcome is Outcome.PENDING   # nothing forged got in
    answer = requests.post(url, json={"result": "FAILED", "message": [{"language": "en", "text": "stuck relay"}]},
                           headers={**good, "X-Request-ID": "r1", "X-Correlation-ID": "c1"}, timeout=5)
    assert answer.status_code == 200 and answer.json()["status_code"] == 1000
    assert answer.headers["X-Request-ID"] == "r1" and answer.headers["X-Correlation-ID"] == "c1"
    now = backend.command(state.command_id)
    assert (now.outcome, now.result, now.detail) == (Outcome.REJECTED, "FAILED", "stuck relay")


# -- a CPO that is slow, down, or refuses us ----------------------------------------------

def test_a_cpo_that_stalls_costs_the_webhook_the_timeout_and_no_more(backend, cpo):
    evse = backend.find_evse("E12345").evse
    cpo.control(command={"stall": 6}, stall_reads=6)
    started = time.monotonic()
    state = backend.stop_session(evse, "SES-1")
    assert state.outcome is Outcome.TIMEOUT and time.monotonic() - started < 4
    started = time.monotonic()
    assert backend.status(evse).outcome is Outcome.TIMEOUT and time.monotonic() - started < 4


def test_a_cpo_that_is_down_answers_down_quickly(line, ocpi_env):
    app = line.app(IVR_OCPI_VERSIONS_URL="http://127.0.0.1:9/ocpi/versions")
    backend = backend_of(app)
    started = time.monotonic()
    assert backend.find_evse("E12345").outcome is Outcome.DOWN
    from ivr.ocpi.backend import Evse
    evse = Evse("LOC1", "EVSE-1", None, "E12345", "CHARGING")
    assert backend.status(evse).outcome is Outcome.DOWN
    assert backend.stop_session(evse, "SES-1").outcome is Outcome.DOWN
    assert time.monotonic() - started < 3


def test_a_wrong_token_is_down_with_the_reason(line):
    backend = backend_of(line.app(IVR_OCPI_TOKEN="not-the-token"))
    lookup = backend.find_evse("E12345")
    assert lookup.outcome is Outcome.DOWN and "refused our token" in lookup.detail


def test_a_missing_commands_module_is_down_not_a_crash(backend, cpo, line):
    cpo.control(hide_module="commands")
    fresh = backend_of(line.app())
    store.drop_state(fresh.engine, "endpoints")
    state = fresh.stop_session(backend.find_evse("E12345").evse, "SES-1")
    assert state.outcome is Outcome.DOWN and "commands module is missing" in state.detail


def test_without_a_public_url_no_command_is_sent(backend, cpo, line):
    app = line.app(IVR_PUBLIC_URL="")
    state = backend_of(app).stop_session(backend.find_evse("E12345").evse, "SES-1")
    assert state.outcome is Outcome.DOWN and cpo.read("commands") == []


def test_an_operators_own_back_end_is_named_in_the_environment(env):
    from ivr.ocpi.custom import CsmsBackend
    extra = {**env, "IVR_STATION_BACKEND": "ivr.ocpi.custom:CsmsBackend"}
    app = create_app(extra)
    init_app(app, extra)
    backend = backend_of(app)
    assert isinstance(backend, CsmsBackend) and isinstance(backend, StationBackend)
    assert backend.find_evse("E1").outcome is Outcome.UNKNOWN
    app.extensions["ivr"].recorder.engine.dispose()


@pytest.mark.parametrize("setting, words", [
    ({"IVR_STATION_BACKEND": "ocpi"}, "IVR_OCPI_VERSIONS_URL"),
    ({"IVR_STATION_BACKEND": "nosuch.module:X"}, "cannot be loaded"),
    ({"IVR_STATION_BACKEND": "builtins:slice"}, "lacks the StationBackend methods"),
    ({"IVR_STATION_BACKEND": "soap"}, "expected none, ocpi"),
    ({"IVR_OCPI_VERSIONS_URL": "http://x/v", "IVR_STATION_TIMEOUT": "14"}, "Twilio waits 15 s"),
])
def test_a_wrong_back_end_setting_stops_start_up_with_its_name(env, setting, words):
    from ivr.config import ConfigError
    app = create_app(env)
    with pytest.raises(ConfigError, match=words):
        init_app(app, {**env, **setting})
    app.extensions["ivr"].recorder.engine.dispose()


def test_inside_a_webhook_the_back_end_ends_before_twilios_fifteen_seconds(backend, cpo):
    from ivr.records import deadline
    evse = backend.find_evse("E12345").evse
    cpo.control(stall_reads=6)
    deadline._started.set(time.monotonic() - 11.0)      # the webhook is 11 s old: 1 s left of 12
    try:
        started = time.monotonic()
        assert backend.status(evse).outcome is Outcome.TIMEOUT
        assert time.monotonic() - started < 1.5
    finally:
        deadline.stop()


def test_the_figures_count_stops_that_freed_a_call_and_the_stations_called_about(backend, cpo):
    from ivr.records import db
    engine = backend.engine
    recorder = db.Recorder(engine)
    for sid in ("CA-a", "CA-b", "CA-c"):
        recorder.call_started(sid, None, None, "en-US")
    evse = backend.find_evse("E12345", call_sid="CA-a").evse
    backend.find_evse("E 12345", call_sid="CA-b")
    backend.find_evse("EA222", call_sid="CA-c")
    freed = backend.stop_session(evse, "SES-1", call_sid="CA-a")
    cpo.control(command={"response": "REJECTED"})
    backend.stop_session(evse, "SES-1", call_sid="CA-b")
    assert wait_for(lambda: backend.command(freed.command_id).outcome is Outcome.OK)
    recorder.outcome("CA-a", "released")
    figures = store.figures(engine)
    assert figures["commands"]["STOP_SESSION"] == {"sent": 2, "succeeded": 1, "failed": 1, "timed_out": 0,
                                                   "pending": 0, "calls_freed": 1}
    assert figures["stations"][:2] == [{"label": "E12345", "calls": 2}, {"label": "EA222", "calls": 1}]

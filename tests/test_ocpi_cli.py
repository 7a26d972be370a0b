"""`ivr ocpi register` (the credentials handshake) and `ivr stations check|sync|find`,
against the test CPO in its own process."""
from __future__ import annotations

import base64

import pytest
import requests
from click.testing import CliRunner

from ivr.ocpi import store
from ivr.ocpi.backend import Outcome
from ivr.tools.cli import main
from ocpi_peer import CPO_TOKEN, Cpo, Line, backend_of, cpo, engine_of, line, ocpi_env, wait_for

TOKEN_A = "token-a-from-the-operator"


def run(args, env):
    keep = {k: v for k, v in env.items() if k.startswith(("IVR_", "DATABASE_URL"))}
    result = CliRunner().invoke(main, args, env=keep, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def fresh_cpo():
    """A CPO that knows no token of ours yet: only TOKEN_A, for the handshake."""
    peer = Cpo("--token-a", TOKEN_A)
    yield peer
    peer.stop()


def test_register_exchanges_tokens_and_the_line_works_on_token_c(env, fresh_cpo):
    line_env = {**env, "IVR_OCPI_VERSIONS_URL": fresh_cpo.versions_url, "IVR_STATION_TIMEOUT": "3"}
    served = Line(line_env)
    try:
        code, out = run(["ocpi", "register", "--token-a", TOKEN_A], served.env)
        assert code == 0, out
        assert "TOKEN_C stored" in out
        engine = engine_of(served.served)
        token_c = store.get_state(engine, "token_c")["token"]
        token_b = store.get_state(engine, "token_b")["token"]
        assert token_c in fresh_cpo.read("tokens") and token_b != TOKEN_A
        # The CPO read our versions and details with TOKEN_B, as the spec has it.
        assert [e["identifier"] for e in fresh_cpo.read("line_endpoints")] == ["credentials", "credentials", "commands"]
        assert fresh_cpo.read("violations") == []
        # TOKEN_A is spent; the back end (no IVR_OCPI_TOKEN at all) works with TOKEN_C.
        old = {"Authorization": "Token " + base64.b64encode(TOKEN_A.encode()).decode()}
        assert requests.get(fresh_cpo.versions_url, headers=old, timeout=5).status_code == 401
        backend = backend_of(served.app())
        lookup = backend.find_evse("E12345")
        assert lookup.outcome is Outcome.OK
        state = backend.stop_session(lookup.evse, "SES-1")
        assert state.outcome is Outcome.PENDING
        # ...and the CommandResult comes back with TOKEN_B, which the line accepts.
        assert wait_for(lambda: backend.command(state.command_id).outcome is Outcome.OK)
        # Registering again with the spent TOKEN_A: one line.
        code, out = run(["ocpi", "register", "--token-a", TOKEN_A], served.env)
        assert code == 1 and "wrong token" in out and len(out.strip().splitlines()) == 1
    finally:
        served.stop()


def test_stations_check_prints_version_modules_and_evses(ocpi_env, line):
    code, out = run(["stations", "check"], line.env)
    assert code == 0, out
    assert "OCPI 2.2.1 at http://127.0.0.1" in out
    for module in ("commands", "credentials", "locations", "sessions"):
        assert f"  {module}" in out
    assert "EVSE E12345 at LOC1: CHARGING, IEC_62196_T1_COMBO/CHADEMO" in out
    assert "5 locations in all" in out
    code, out = run(["stations", "sync"], line.env)
    assert code == 0 and "6 EVSEs written" in out
    code, out = run(["stations", "find", "e 12345"], line.env)
    assert code == 0 and "active session: SES-1" in out


@pytest.mark.parametrize("change, words", [
    ({"IVR_OCPI_VERSIONS_URL": "http://127.0.0.1:9/ocpi/versions"}, "cannot be reached"),
    ({"IVR_OCPI_TOKEN": "wrong"}, "wrong token"),
])
def test_stations_check_says_what_is_wrong_in_one_line(ocpi_env, line, change, words):
    code, out = run(["stations", "check"], {**line.env, **change})
    assert code == 1 and words in out and len(out.strip().splitlines()) == 1, out


def test_stations_check_wrong_url_on_a_live_server(ocpi_env, line, cpo):
    code, out = run(["stations", "check"], {**line.env, "IVR_OCPI_VERSIONS_URL": f"{cpo.url}/nothing-here"})
    assert code == 1 and "check IVR_OCPI_VERSIONS_URL" in out and len(out.strip().splitlines()) == 1, out


def test_stations_check_names_a_missing_module(ocpi_env, line, cpo):
    cpo.control(hide_module="sessions")
    code, out = run(["stations", "check"], line.env)
    assert code == 1 and "offers no sessions module" in out and len(out.strip().splitlines()) == 1, out


def test_stations_check_without_a_cpo_says_how_to_set_one(env):
    code, out = run(["stations", "check"], env)
    assert code == 1 and "IVR_OCPI_VERSIONS_URL" in out

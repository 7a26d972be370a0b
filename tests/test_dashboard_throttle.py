"""Issue 12: 300 wrong dashboard passwords took 0.3 s. Failures are throttled per
client (its address from a trusted proxy only) and in all, and logged."""
from __future__ import annotations

import base64
import logging

import pytest

from ivr.app import create_app
from ivr.web.views.throttle import Throttle

PASSWORD = "correct horse battery staple"


def basic(password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"operator:{password}".encode()).decode()}


@pytest.fixture
def client(env):
    app = create_app({**env, "IVR_DASHBOARD_PASSWORD": PASSWORD})
    yield app.test_client()
    app.extensions["ivr"].recorder.engine.dispose()


def get(client, password=None, remote="198.51.100.7", forwarded=None):
    headers = basic(password) if password is not None else {}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    return client.get("/dashboard/plotly.min.js", headers=headers, environ_base={"REMOTE_ADDR": remote})


def test_guessing_is_throttled_per_client_and_logged(client, caplog):
    with caplog.at_level(logging.WARNING, logger="ivr.dashboard"):
        answers = [get(client, f"guess{n}").status_code for n in range(300)]
    assert answers.count(401) == Throttle.PER_CLIENT
    assert answers[Throttle.PER_CLIENT:] == [429] * (300 - Throttle.PER_CLIENT)
    assert get(client, PASSWORD).status_code == 429             # even the right one, until the window moves
    assert "Retry-After" in get(client, PASSWORD).headers
    assert get(client, PASSWORD, remote="198.51.100.8").status_code == 200   # another operator is not locked out
    assert caplog.text.count("wrong password from 198.51.100.7") == Throttle.PER_CLIENT


def test_no_password_at_all_is_not_a_guess(client):
    assert all(get(client).status_code == 401 for _ in range(20))
    assert get(client, PASSWORD).status_code == 200


def test_a_forged_forwarded_for_does_not_get_more_guesses(client):
    answers = [get(client, "guess", forwarded=f"192.0.2.{n}").status_code for n in range(20)]
    assert answers.count(401) == Throttle.PER_CLIENT     # one client: its real address


def test_guesses_from_many_clients_hit_the_global_cap(client):
    # Through a trusted proxy (this host), each guess names a different client.
    answers = [get(client, "guess", remote="127.0.0.1", forwarded=f"192.0.2.{n}").status_code for n in range(100)]
    assert answers.count(401) == Throttle.GLOBAL
    assert get(client, PASSWORD, remote="127.0.0.1", forwarded="192.0.2.250").status_code == 429

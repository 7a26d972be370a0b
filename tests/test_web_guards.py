"""The web layer's guards (issue 12): fail-safes valid where they are used,
forwarded headers trusted only from configured proxies, phone numbers masked
in every log record."""
from __future__ import annotations

import logging

import pytest

from conftest import ROOT, TOKEN
from helpers import fields, twiml
from ivr.app import create_app
from ivr.simulator import Call
from ivr.views import handoff as handoff_views

# What Twilio allows in a queue's waitUrl answer (TwiML <Enqueue> docs).
WAIT_URL_VERBS = {"Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"}


@pytest.fixture
def queue_app(tmp_path, env):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "stuck_connector.yaml").write_text((ROOT / "flows" / "stuck_connector.yaml").read_text())
    (flows / "escalation.yaml").write_text("agent: {queue: stuck-connector, queue_max_wait: 120}\n")
    app = create_app({**env, "IVR_FLOWS_DIR": str(flows)})
    yield app
    app.extensions["ivr"].recorder.engine.dispose()


def test_the_queue_wait_fail_safe_answers_what_a_wait_url_may_hold(queue_app, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("injected fault")

    monkeypatch.setattr(handoff_views, "_catalog", broken)
    call = Call(queue_app.test_client())
    root = twiml(call.post("/voice/queue/wait?lang=en-US", {"QueuePosition": "2", "QueueTime": "30"}))
    verbs = {element.tag for element in root}
    assert verbs and verbs <= WAIT_URL_VERBS, verbs
    assert root.find("Leave") is not None     # out of the queue: its action URL runs the fallback chain


def test_the_fallback_log_masks_a_call_back_number_in_error_url(app, caplog):
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        twiml(client.post("/voice/fallback", data=fields(
            ErrorCode="11200", ErrorUrl="https://ivr.example.com/voice/callback?cb=15559876543&c4=0123")))
    assert "15559876543" not in caplog.text and "***6543" in caplog.text


def test_numbers_are_masked_in_any_logger_and_in_tracebacks(app, caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("somebody.else").warning("dialled %s", "+14155550123")
        try:
            raise ValueError("bad number +14155550123")
        except ValueError:
            logging.getLogger("ivr.test").exception("failed for %%2B14155550123")
    assert "4155550123" not in caplog.text
    assert "+***0123" in caplog.text

"""The web layer's guards (issue 12): fail-safes valid where they are used,
forwarded headers trusted only from configured proxies, phone numbers masked
in every log record."""
from __future__ import annotations

import logging

import pytest
from conftest import ROOT, TOKEN

from helpers import fields, twiml
from ivr.app import create_app
from ivr.call import chain
from ivr.tools.simulator import Call

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

    monkeypatch.setattr(chain, "queue_wait", broken)
    call = Call(queue_app.test_client())
    root = twiml(call.post("/voice/queue/wait?node=agent&lang=en-US", {"QueuePosition": "2", "QueueTime": "30"}))
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


# -- forwarded headers -------------------------------------------------------------------------

def signed_post(client, signed_url, remote, headers):
    from twilio.request_validator import RequestValidator

    data = fields(CallStatus="ringing")
    signature = RequestValidator(TOKEN).compute_signature(signed_url, data)
    return client.post("/voice", data=data, environ_base={"REMOTE_ADDR": remote},
                       headers={"X-Twilio-Signature": signature, **headers})


PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "ivr.example.com"}


def test_forwarded_headers_from_a_stranger_are_ignored(signed_env):
    client = create_app(signed_env).test_client()
    assert signed_post(client, "https://ivr.example.com/voice", "127.0.0.1", PROXY).status_code == 200
    # The same headers straight from the internet: the URL is what the connection says.
    assert signed_post(client, "https://ivr.example.com/voice", "203.0.113.9", PROXY).status_code == 403
    assert signed_post(client, "http://localhost/voice", "203.0.113.9", PROXY).status_code == 200


def test_trusted_proxies_are_configurable(signed_env):
    client = create_app({**signed_env, "IVR_TRUSTED_PROXIES": "10.0.0.0/8"}).test_client()
    assert signed_post(client, "https://ivr.example.com/voice", "10.1.2.3", PROXY).status_code == 200
    assert signed_post(client, "https://ivr.example.com/voice", "127.0.0.1", PROXY).status_code == 403


def test_a_malformed_trusted_proxy_stops_start_up(signed_env):
    from ivr.config import ConfigError

    with pytest.raises(ConfigError, match="IVR_TRUSTED_PROXIES"):
        create_app({**signed_env, "IVR_TRUSTED_PROXIES": "my-router"})

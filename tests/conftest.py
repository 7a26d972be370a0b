"""Fixtures: an app on a fresh SQLite file (or TEST_DATABASE_URL), a client, a caller."""
from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ivr import content
from ivr.app import create_app
from ivr.records.db import normalize_url
from ivr.tools.simulator import Call

ROOT = Path(__file__).resolve().parent.parent


def _parse_prompts_once(load_prompts):
    """The prompts files are parsed once per session: most apps the tests build read the
    same files (their parsing is most of an app's start-up), and the catalogs are frozen.
    Keyed by each file's path and bytes, so a copy that a test changes is parsed anew."""
    parsed: dict = {}

    def load(directory):
        key = tuple((str(p.resolve()), p.read_bytes()) for p in sorted(Path(directory).glob("*.yaml")))
        if key not in parsed:
            parsed[key] = load_prompts(directory)
        return dict(parsed[key])
    return load


content.load_prompts = _parse_prompts_once(content.load_prompts)
# Loaded once, at collection: English's vocabulary (ivr.call.understanding.english)
# is the loaded content's, and some tests read it to build their cases.
CONTENT = content.load(ROOT / "flows", ROOT / "prompts")
AGENT = "+14155550100"
SUPPORT = "+18005550199"
TOKEN = "12345678901234567890123456789012"


# A caller's number as it could appear in a log line, unmasked (+15555550123,
# 15559876543, %2B15555550123); ivr.logs masks them as ***0123.
UNMASKED_NUMBER = re.compile(r"(?:(?<=%2B)|(?<![\w*+]))\+?\d{10,15}(?!\w)")


class _Everything(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


# Fixtures that start a real server or browser: a test using one is a `server` test, left
# out of the unit suite (`pytest`) and run by `pytest -m "server or slow"` (.ci/run).
SERVER_FIXTURES = {
    "cpo", "fresh_cpo", "site", "line",      # the OCPI test CPO (tests/ocpi_cpo.py), the line served
    "server_env",                            # the Procfile's gunicorn (tests/faults.py, test_restart.py)
    "server", "browser",                     # the dashboard in Chromium
    "private_postgres",                      # a PostgreSQL cluster of its own
}


def pytest_collection_modifyitems(items):
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)


@pytest.fixture(autouse=True)
def _no_phone_number_in_any_log():
    """Every log record of every test is scanned for a phone number left unmasked (issue 12)."""
    handler = _Everything()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    # ivr.settings quotes the operator's own settings when start-up is refused (ivr/web/logs.py).
    leaked = [line for line in handler.lines
              if UNMASKED_NUMBER.search(line) and not line.startswith("ivr.settings ")]
    assert not leaked, f"unmasked phone numbers in the log: {leaked[:3]}"


@pytest.fixture(autouse=True)
def _no_twilio_region(monkeypatch):
    """TWILIO_REGION/TWILIO_EDGE change the REST host that `responses` mocks."""
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)


@pytest.fixture
def database_url(tmp_path):
    """A fresh SQLite file, or TEST_DATABASE_URL; on PostgreSQL a fresh schema per test."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path}/ivr-test.db"
        return
    url = normalize_url(url)
    if not url.startswith("postgresql"):
        yield url
        return
    schema = "test_" + uuid.uuid4().hex[:16]
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    # libpq's `options` puts every connection of the test, in any process, in the schema.
    yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def env(database_url) -> dict:
    """A development environment: no signatures, a fake agent line."""
    return {
        "IVR_DEV": "1",
        "IVR_AGENT_NUMBER": AGENT,
        "IVR_SUPPORT_NUMBER": SUPPORT,
        "DATABASE_URL": database_url,
        "IVR_FLOWS_DIR": str(ROOT / "flows"),
        "IVR_PROMPTS_DIR": str(ROOT / "prompts"),
        # Tests play many calls from one number; tests/test_security.py sets its own limits.
        "IVR_RATE_LIMIT": "off",
    }


@pytest.fixture
def signed_env(env) -> dict:
    """Production-like: every webhook must carry a valid X-Twilio-Signature."""
    return {**env, "IVR_DEV": "", "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_ACCOUNT_SID": "AC" + "a" * 32}


@pytest.fixture(scope="session")
def loaded() -> content.Content:
    """The shipped flow and prompts, loaded once for the session (CONTENT)."""
    return CONTENT


@pytest.fixture
def app(env, loaded):
    texts = {language: catalog.texts for language, catalog in loaded.catalogs.items()}
    app = create_app(env, content=loaded)
    yield app
    app.extensions["ivr"].recorder.engine.dispose()
    # The content is shared by the session: a test that changes it needs an app of its own.
    assert {language: catalog.texts for language, catalog in loaded.catalogs.items()} == texts, \
        "this test changed the session's shared content: give it its own app (create_app(env))"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def new_call(client):
    """Make simulated calls through the real webhooks."""
    def make(**kwargs) -> Call:
        return Call(client, **kwargs)
    return make


def pytest_terminal_summary(terminalreporter):
    """The fault suite's note (tests/test_faults.py): per fault, webhooks answered with
    valid TwiML, calls and turns recorded, and what the server logged."""
    import sys

    faults = sys.modules.get("faults")
    if faults is None or not faults.NOTES:
        return
    database = "PostgreSQL" if os.environ.get("TEST_DATABASE_URL") else "SQLite"
    terminalreporter.section(f"fault suite ({database})")
    for item in faults.NOTES:
        terminalreporter.write_line(
            f"{item['fault']}: {item['answered']}/{item['webhooks']} webhooks answered with valid TwiML; "
            f"recorded {item['calls']} calls, {item['turns']} turns")
        for message, count in sorted(item["logged"].items(), key=lambda kv: -kv[1])[:4]:
            terminalreporter.write_line(f"    logged {count}x: {message}")


@pytest.fixture
def tree(tmp_path):
    """A copy of the real flows/ and prompts/ to change or break."""
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    shutil.copytree(ROOT / "prompts", tmp_path / "prompts")
    return tmp_path

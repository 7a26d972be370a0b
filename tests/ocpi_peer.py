"""Fixtures for the station back-end tests: a test CPO in its own process
(tests/ocpi_cpo.py) and the line served over HTTP on 127.0.0.1, so the CPO can
post CommandResults to it. Import the fixtures into a test module by name."""
from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from ivr.app import create_app
from ivr.ocpi import init_app

HERE = Path(__file__).resolve().parent
CPO_TOKEN = "cpo-token-for-the-line"        # TOKEN_C agreed out of band
LINE_TOKEN = "line-token-for-the-cpo"       # what the CPO calls the line with


class Cpo:
    def __init__(self, *args: str):
        self.process = subprocess.Popen([sys.executable, str(HERE / "ocpi_cpo.py"), *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], 20)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("port "):
            self.stop()
            raise RuntimeError(f"the test CPO did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.versions_url = f"{self.url}/ocpi/versions"

    def control(self, **changes) -> None:
        requests.post(f"{self.url}/_control", json=changes, timeout=5).raise_for_status()

    def read(self, name: str):
        return requests.get(f"{self.url}/_control/{name}", timeout=5).json()

    def add_evse(self, **spec) -> None:
        requests.post(f"{self.url}/_control/evse", json=spec, timeout=5).raise_for_status()

    def wait_posted(self, count: int, seconds: float = 10.0) -> list:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            posted = self.read("posted")
            if len(posted) >= count:
                return posted
            time.sleep(0.05)
        return self.read("posted")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            stream.close()


class Line:
    """The line over HTTP: worker B serves (receives CommandResults); worker A,
    a second app on the same database, is where the tests send commands from."""

    def __init__(self, env: dict):
        holder = {}
        self.server = make_server("127.0.0.1", 0, lambda e, s: holder["app"](e, s), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.env = {**env, "IVR_PUBLIC_URL": self.url}
        self.apps = []
        self.served = self.app()
        holder["app"] = self.served
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def app(self, **extra):
        app = create_app({**self.env, **extra})
        init_app(app, {**self.env, **extra})
        self.apps.append(app)
        return app

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        for app in self.apps:
            app.extensions["ivr"].recorder.engine.dispose()


@pytest.fixture
def cpo():
    peer = Cpo("--token", CPO_TOKEN, "--line-token", LINE_TOKEN)
    yield peer
    peer.stop()


@pytest.fixture
def ocpi_env(env, cpo) -> dict:
    return {**env, "IVR_OCPI_VERSIONS_URL": cpo.versions_url, "IVR_OCPI_TOKEN": CPO_TOKEN,
            "IVR_OCPI_INBOUND_TOKEN": LINE_TOKEN, "IVR_STATION_TIMEOUT": "3"}


@pytest.fixture
def line(ocpi_env):
    served = Line(ocpi_env)
    yield served
    served.stop()


def backend_of(app):
    return app.extensions["ivr.station"]


def engine_of(app):
    return app.extensions["ivr"].recorder.engine


def wait_for(predicate, seconds: float = 10.0, step: float = 0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

"""GET /dashboard: basic auth, the report as a page, charts that render in a real Chromium."""
from __future__ import annotations

import base64

import pytest
from browser import chromium, serve
from conftest import ROOT

from ivr.app import create_app

PASSWORD = "correct horse battery staple"


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def dashboard_app(env):
    app = create_app({**env, "IVR_DASHBOARD_PASSWORD": PASSWORD})
    yield app
    app.extensions["ivr"].recorder.engine.dispose()


def keypad(*keys):
    pending = list(keys)
    return lambda event: ({"Digits": pending.pop(0)} if pending else None) if event.kind == "listen" else None


@pytest.fixture
def with_calls(dashboard_app):
    from ivr.tools.simulator import Call

    client = dashboard_app.test_client()
    Call(client, caller="+15555550111").run(keypad("3", "1"))          # released at unlock_fob
    Call(client).run(keypad("3", "2", "1", "2", "1"))                    # released a few steps later
    Call(client).run(keypad())                                           # hung up at the connector
    Call(client).run(keypad("1", "7", "0"))                              # not understood, then a person
    return dashboard_app


def test_no_password_no_dashboard(client):
    assert client.get("/dashboard").status_code == 404
    assert client.get("/dashboard/plotly.min.js").status_code == 404


def test_password_required(dashboard_app):
    client = dashboard_app.test_client()
    refused = client.get("/dashboard")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Basic")
    assert client.get("/dashboard", headers=basic("operator", "wrong")).status_code == 401
    assert client.get("/dashboard/plotly.min.js").status_code == 401


def test_page_shows_the_report(with_calls):
    response = with_calls.test_client().get("/dashboard", headers=basic("operator", PASSWORD))
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'id="outcomes-chart"' in page and 'id="chart-data"' in page
    assert '<b id="calls">4</b>' in page
    assert "Connector out" in page and "unlock_fob" not in page     # labels, never node IDs
    assert "***0111" in page and "5555550111" not in page
    assert "keys 7" in page                          # what the bot did not understand
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy and "unsafe-eval" not in policy
    assert 'src="http' not in page and "cdn" not in page.lower()
    # No inline script: every <script> names a file, or is a JSON data block.
    import re
    for tag in re.findall(r"<script[^>]*>", page):
        assert 'src="/dashboard/' in tag or 'type="application/json"' in tag, tag


def test_bad_since_date_is_explained(with_calls):
    response = with_calls.test_client().get("/dashboard?since=last-week", headers=basic("x", PASSWORD))
    assert response.status_code == 200
    assert "is not a date like" in response.get_data(as_text=True)


def test_plotly_is_served_from_the_package(dashboard_app):
    response = dashboard_app.test_client().get("/dashboard/plotly.min.js", headers=basic("x", PASSWORD))
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert b"plotly" in response.data[:2000].lower()
    response.close()


# -- in a real browser -----------------------------------------------------------------------

@pytest.fixture
def server(with_calls):
    yield from serve(with_calls)


@pytest.fixture
def browser():
    yield from chromium(1800)


def test_dashboard_renders_its_charts_in_chromium(server, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": basic("operator", PASSWORD)})
    browser.get(server + "/dashboard")
    count = "return document.querySelectorAll(arguments[0]).length"
    WebDriverWait(browser, 20).until(lambda d: d.execute_script(count, "#outcomes-chart .main-svg") > 0)

    assert browser.find_element("id", "calls").text == "4"
    # Plotly drew real marks: stacked bars per outcome, in plain words.
    assert browser.execute_script(count, "#outcomes-chart .trace.bars .point path") >= 3
    legend = browser.execute_script("return [...document.querySelectorAll('#outcomes-chart .legendtext')]"
                                    ".map(e => e.textContent)")
    assert {"Connector freed", "Hung up", "Put through to a person"} <= set(legend)

    browser.get(server + "/dashboard/funnel")   # one funnel per connector branch, a bar per step reached
    WebDriverWait(browser, 20).until(lambda d: d.execute_script(count, "#funnel-j1772 .main-svg") > 0)
    assert browser.execute_script(count, "#funnel-j1772 .trace .point path") >= 3

    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched and all(url.startswith(server) for url in fetched), fetched
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []

    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(out / "dashboard.png"))

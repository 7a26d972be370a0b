"""The console in a real Chromium (issue 17): open a call's story, filter by station,
watch a call come and go in the live panel, export CSV, rank the cars (issue 15); screenshots of each view at
desktop and phone (390 px) widths go to test-output/."""
from __future__ import annotations

import base64
import csv
import io

import pytest
from browser import chromium, serve
from conftest import ROOT, TOKEN
from test_console import AUTH, PASSWORD, keypad

from ivr.app import create_app
from ivr.tools.simulator import Call

SHOTS = ROOT / "test-output"
WIDTHS = {"desktop": (1280, 1000), "phone": (390, 844)}


@pytest.fixture
def app(env):
    app = create_app({**env, "IVR_DASHBOARD_PASSWORD": PASSWORD, "TWILIO_AUTH_TOKEN": TOKEN,
                      "TWILIO_ACCOUNT_SID": "AC" + "a" * 32})
    client, recorder = app.test_client(), app.extensions["ivr"].recorder
    for station, keys in (("SF-0042", ("3", "1")), ("SF-0042", ("1", "7", "0")), ("LA-0007", ()),
                          ("LA-0007", ("3", "2", "1", "2", "1")), ("OAK-0003", ("2", "2"))):
        call = Call(client, TOKEN)
        call.run(keypad(*keys))
        recorder.station(call.sid, station)
    yield app
    app.extensions["ivr"].recorder.engine.dispose()


@pytest.fixture
def server(app):
    yield from serve(app)


@pytest.fixture
def browser():
    yield from chromium(1000, AUTH)


def wait(browser, condition, seconds=15):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(browser, seconds, poll_frequency=0.2).until(condition)


def shoot(browser, name: str) -> None:
    """The view at both widths, the whole page's height (capped), for the README and review."""
    SHOTS.mkdir(exist_ok=True)
    settle = ("const done = arguments[0]; window.dispatchEvent(new Event('resize'));"   # Plotly follows the width
              "requestAnimationFrame(() => setTimeout(done, 300))")
    for kind, (width, height) in WIDTHS.items():
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": kind == "phone"}
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        browser.execute_async_script(settle)
        full = browser.execute_script("return document.documentElement.scrollHeight")
        if kind == "phone":   # readable at 390 px: nothing wider than the screen but the scrolling tables
            wide = browser.execute_script(
                "return [...document.querySelectorAll('body *')].filter(e => !e.closest('.scroll')"
                " && e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName + '.' + e.className)")
            assert wide == [], f"{name}: wider than the phone: {wide[:5]}"
        shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": min(full, 2400), "scale": 1}})
        (SHOTS / f"console-{name}-{kind}.png").write_bytes(base64.b64decode(shot["data"]))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def no_errors(browser):
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe                    # a CSP violation is logged here too


def test_open_a_calls_story(server, browser):
    browser.get(server + "/dashboard")
    wait(browser, lambda d: d.execute_script("return document.querySelectorAll('#outcomes-chart .main-svg').length"))
    shoot(browser, "overview")
    browser.find_element("css selector", "#calls-table tbody tr:nth-child(4) td a").click()
    wait(browser, lambda d: "/dashboard/calls/CA" in d.current_url)
    steps = [e.text for e in browser.find_elements("css selector", "#story .step")]
    assert steps[:2] == ["Call start", "Which connector"] and "Felt the CCS release button" in steps
    assert "Stuck connector call." in browser.find_element("id", "handoff").text
    shoot(browser, "call")
    no_errors(browser)


def test_filter_by_station(server, browser):
    from selenium.webdriver.support.ui import Select

    browser.get(server + "/dashboard/calls")
    assert len(browser.find_elements("css selector", "#calls-table tbody tr")) == 5
    box = browser.find_element("name", "station")
    box.send_keys("LA-0007")
    Select(browser.find_element("name", "outcome")).select_by_visible_text("Connector freed")
    browser.find_element("css selector", "#filters button").click()
    wait(browser, lambda d: "station=LA-0007" in d.current_url)       # kept in the URL, to share
    rows = browser.find_elements("css selector", "#calls-table tbody tr")
    assert len(rows) == 1 and "LA-0007" in rows[0].text and "Connector freed" in rows[0].text
    browser.get(server + "/dashboard/stations")
    shoot(browser, "stations")
    browser.find_element("link text", "SF-0042").click()
    wait(browser, lambda d: "station=SF-0042" in d.current_url)
    assert len(browser.find_elements("css selector", "#calls-table tbody tr")) == 2
    browser.get(server + "/dashboard/funnel")
    wait(browser, lambda d: d.execute_script("return document.querySelectorAll('#funnel-j1772 .main-svg').length"))
    shoot(browser, "funnel")
    no_errors(browser)


def test_live_panel_shows_a_call_in_progress(app, server, browser):
    browser.get(server + "/dashboard")
    rows = "return [...document.querySelectorAll('#live-table tbody tr')].map(r => r.dataset.callSid || '')"
    wait(browser, lambda d: d.execute_script(rows) == [""])       # "Nobody is on the line."
    call = Call(app.test_client(), TOKEN, caller="+15555550199")
    call.post("/voice", {"CallStatus": "ringing"})
    wait(browser, lambda d: d.execute_script(rows) == [call.sid], seconds=12)   # no reload: polling
    assert "Which connector" in browser.find_element("id", "live-table").text
    assert "***0199" in browser.find_element("id", "live-table").text
    shoot(browser, "live")
    call.status("completed")
    wait(browser, lambda d: d.execute_script(rows) == [""], seconds=12)
    no_errors(browser)


def test_export_csv(server, browser):
    browser.get(server + "/dashboard/calls?station=SF-0042&since=all")
    href = browser.find_element("id", "export-csv").get_attribute("href")
    assert "station=SF-0042" in href
    text = browser.execute_async_script(
        "const done = arguments[1]; fetch(arguments[0]).then(r => r.text()).then(done)", href)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2 and {r["station_id"] for r in rows} == {"SF-0042"}
    assert {r["outcome_words"] for r in rows} == {"Connector freed", "Put through to a person"}


def test_cars_rank_and_link_to_their_calls(env, browser):
    """Cars named through the webhooks; the table ranks them and a make opens its calls."""
    from test_car_question import Caller

    app = create_app({**env, "IVR_DASHBOARD_PASSWORD": PASSWORD})   # the Caller posts unsigned
    client = app.test_client()
    for n, (connector, car, *then) in enumerate([("J1772", "nissan leaf", "it came out"),
                                                 ("J1772", "nissan leaf", "still stuck", "it came out"),
                                                 ("Tesla", "tesla model y", "agent"),
                                                 ("J1772", "Polestar 2", "it came out"),
                                                 ("J1772", "I don't know", "agent")]):
        call = Caller(client, f"CA{n:032x}").to_car_question(connector)
        for said in (car, *then):
            call.say(said)
    running = serve(app)
    server = next(running)
    try:
        browser.get(server + "/dashboard")
        browser.find_element("link text", "Cars").click()
        wait(browser, lambda d: "/dashboard/cars" in d.current_url)
        makes = [e.text for e in browser.find_elements("css selector", "#cars-table .make-row th")]
        assert makes == ["Unknown car", "Nissan", "Tesla"]   # 2 calls at 50% before 2 at 100%
        assert "Polestar 2" in browser.find_element("id", "cars-table").text
        shoot(browser, "cars")
        browser.find_element("link text", "release rate").click()
        wait(browser, lambda d: "sort=release_rate" in d.current_url)
        assert browser.find_element("css selector", "#cars-table .make-row th").text == "Tesla"
        browser.find_element("link text", "Nissan").click()
        wait(browser, lambda d: "car=Nissan" in d.current_url)
        assert len(browser.find_elements("css selector", "#calls-table tbody tr")) == 2
        assert browser.find_element("name", "car").get_attribute("value") == "Nissan"   # kept in the filters
        no_errors(browser)
    finally:
        next(running, None)   # shuts the server down
        app.extensions["ivr"].recorder.engine.dispose()

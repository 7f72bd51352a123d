"""The console page at /__admin/, in headless Chromium (Debian's chromium and chromium-driver;
`make test` installs them): requests made over HTTP appear with why they got their answer, the
reset button resets the mock, and a delay set from the page slows the next answer."""

from __future__ import annotations

import time

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from mockserver.app import Settings

SLUG = "namak"
HEADERS = {"Authorization": "Bearer YOUR_API_KEY"}
SETTINGS = Settings(validate_responses=True, rate_limits={"limit": 3})  # a 429 to show, within a few requests
WAIT = 10  # seconds: the page polls the journal every second, the store and rules every three


@pytest.fixture
def page(browser, mock, client):
    """The console of a freshly reset mock, loaded."""
    browser.get(mock.root + "/__admin/")
    WebDriverWait(browser, WAIT).until(lambda d: d.find_element(By.ID, "api").text == "namak")
    return browser


def _text(browser, element_id):
    return browser.find_element(By.ID, element_id).text


def _until(browser, condition, what):
    try:
        return WebDriverWait(browser, WAIT, poll_frequency=0.1,  # the page re-renders what changed
                             ignored_exceptions=(StaleElementReferenceException,)).until(condition)
    except TimeoutException as exc:
        shown = {name: _text(browser, name) for name in ("journal", "faults", "store", "f-error")}
        raise AssertionError(f"the console never showed {what}; it shows {shown}") from exc


def _click(browser, selector):
    """Click the element, found afresh if the page re-rendered it in between."""
    def clicked(d):
        try:
            d.find_element(By.CSS_SELECTOR, selector).click()
            return True
        except StaleElementReferenceException:
            return False

    _until(browser, clicked, f"a clickable {selector}")


def _rows(browser):
    return browser.find_elements(By.CSS_SELECTOR, "#journal tr.entry")


def test_requests_appear_with_why_they_got_their_answer(page, client, anon):
    assert client.get("/v1/events").status_code == 200
    assert anon.get("/v1/events").status_code == 401
    assert client.get("/v1/events?limit=abc").status_code == 400
    assert client.get("/v1/evnts/evt_123").status_code == 404
    assert client.get("/v1/events/evt_123").status_code == 200
    assert client.get("/v1/events").status_code == 429
    _until(page, lambda d: len(_rows(d)) == 6, "six requests")
    rows = [row.text for row in _rows(page)]  # newest first
    statuses = [row.find_element(By.CSS_SELECTOR, ".status").text for row in _rows(page)]
    assert statuses == ["429", "200", "404", "400", "401", "200"]
    assert "GET" in rows[0] and "listEvents" in rows[0] and "Rate limit exceeded: 3 requests per hour" in rows[0]
    assert "getEvent" in rows[1] and "/v1/events/evt_123" in rows[1]
    assert "/v1/evnts/evt_123" in rows[2] and "No route for GET /v1/evnts/evt_123" in rows[2]
    assert "nearest: GET /v1/events/{id} (getEvent): path: 'evnts' where /v1/events/{id} has 'events'" in rows[2]
    assert "limit=abc" in rows[3] and "query parameter limit: 'abc' is not of type" in rows[3]
    assert "Missing API key" in rows[4]
    assert "listEvents" in rows[5]


def test_the_store_by_collection_and_the_reset_button(page, client):
    events = len(client.get("/__admin/state").json()["events"])
    created = client.post("/v1/events", json={"title": "Console", "date": "2025-01-01T00:00:00Z", "location": {}})
    assert created.status_code == 201
    count = 'details[data-name="events"] .count'
    _until(page, lambda d: d.find_element(By.CSS_SELECTOR, count).text == str(events + 1), "the new event")
    _until(page, lambda d: len(_rows(d)) == 1, "the POST")
    _click(page, "#reset")
    _until(page, lambda d: not _rows(d) and d.find_element(By.CSS_SELECTOR, count).text == str(events),
           "the reset state")
    assert client.get(f"/v1/events/{created.json()['id']}").status_code == 404


def test_a_delay_set_from_the_page_takes_effect(page, client):
    Select(page.find_element(By.ID, "f-operation")).select_by_value("getEvent")
    Select(page.find_element(By.ID, "f-delay-type")).select_by_value("fixed")
    page.find_element(By.ID, "f-a").send_keys("600")
    _click(page, "#f-set")
    _until(page, lambda d: "getEvent" in _text(d, "faults") and "600" in _text(d, "faults"), "the rule")
    assert client.get("/__admin/faults").json()["faults"] == [{"operation": "getEvent", "fixedDelayMilliseconds": 600}]
    started = time.monotonic()
    assert client.get("/v1/events/evt_123").status_code == 200
    assert time.monotonic() - started >= 0.6
    _until(page, lambda d: "delayed 600 ms" in _text(d, "journal"), "the delay in the journal")
    # a bad rule: the page says what was wrong, and the rule in force stays
    page.find_element(By.ID, "f-a").clear()
    page.find_element(By.ID, "f-a").send_keys("90000")
    _click(page, "#f-set")
    _until(page, lambda d: "milliseconds from 0 to 60000" in _text(d, "f-error"), "the error")
    _click(page, "#faults .clear-rule")
    _until(page, lambda d: "getEvent" not in _text(d, "faults"), "the rule cleared")
    assert client.get("/__admin/faults").json()["faults"] == []
    started = time.monotonic()
    assert client.get("/v1/events/evt_123").status_code == 200 and time.monotonic() - started < 0.6


def test_the_page_is_self_contained(mock):
    answer = httpx.get(mock.root + "/__admin/", timeout=10)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in answer.headers["content-security-policy"]  # nothing from elsewhere
    assert "http://" not in answer.text and "https://" not in answer.text and "src=" not in answer.text

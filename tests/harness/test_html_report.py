"""The HTML report as a person sees it: rendered by headless Chromium (Debian's `chromium` and
`chromium-driver`; `make test` installs them), read back from the DOM.

No skip when Chromium is missing: the report's promise is that it renders offline in a browser.
"""

from __future__ import annotations

import pathlib

from selenium.webdriver.common.by import By

from contract_tests.cli import main as contract_test
from mockserver.app import Settings
from mockserver.testing import running

from .broken import Broken, server_error_when

RUN = ["--include", "listEvents", "--include", "getEvent", "--phases", "examples,fuzzing", "--max-examples", "5",
       "--seed", "1", "--quiet"]


def _open(browser, path: pathlib.Path):
    browser.get(path.resolve().as_uri())
    return browser


def _cell(browser, operation: str, rule: str):
    return browser.find_element(
        By.CSS_SELECTOR, f'table.matrix tr[data-operation="{operation}"] td[data-rule="{rule}"]')


def test_report_of_a_failing_run(browser, tmp_path, capsys):
    report = tmp_path / "namak.html"
    wrap = lambda app: Broken(app, after=server_error_when("status", lambda v: True))  # noqa: E731
    with running("namak", settings=Settings(), wrap=wrap) as server:
        code = contract_test(["namak", "--base-url", server.base_url, "--html", str(report), *RUN])
    assert code == 1, capsys.readouterr().out
    page = _open(browser, report)
    verdict = page.find_element(By.ID, "verdict-namak")
    assert verdict.text == "VIOLATES THE CONTRACT" and verdict.get_attribute("data-exit-code") == "1"
    assert "Exit code 1: violates the document" in page.find_element(By.CSS_SELECTOR, "p.exit").text
    rows = page.find_elements(By.CSS_SELECTOR, "table.coverage tbody tr")
    assert [r.get_attribute("data-operation") for r in rows] == ["GET /v1/events", "GET /v1/events/{id}"]
    cells = rows[0].find_elements(By.TAG_NAME, "td")
    assert cells[0].text == "GET /v1/events" and int(cells[1].text) > 0 and int(cells[5].text) > 0  # 5xx seen
    failed = _cell(page, "GET /v1/events", "not_a_server_error")
    assert failed.get_attribute("data-state") == "failed" and "failed" in failed.text
    assert _cell(page, "GET /v1/events/{id}", "not_a_server_error").get_attribute("data-state") == "passed"
    curls = [c.text for c in page.find_elements(By.CSS_SELECTOR, "details.violation pre.curl")]
    assert curls and all(c.startswith("curl -X GET") for c in curls)
    assert any("status=" in c and server.base_url.split("//")[1] in c for c in curls)
    assert page.find_element(By.CSS_SELECTOR, "span.seed").text == "1"
    assert page.find_element(By.CSS_SELECTOR, "span.phases").text == "examples, fuzzing"
    # self-contained: the page loaded nothing besides itself
    assert page.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_report_of_a_conforming_run(browser, tmp_path, capsys):
    report = tmp_path / "ecoevents.html"
    with running("ecoevents", settings=Settings(validate_responses=True, rate_limits={"limit": 10**9})) as server:
        code = contract_test(["ecoevents", "--base-url", server.base_url, "--html", str(report), *RUN])
    assert code == 0, capsys.readouterr().out
    page = _open(browser, report)
    verdict = page.find_element(By.ID, "verdict-ecoevents")
    assert verdict.text == "conforms" and verdict.get_attribute("data-exit-code") == "0"
    rows = page.find_elements(By.CSS_SELECTOR, "table.coverage tbody tr")
    assert len(rows) == 2 and all(r.get_attribute("class") == "tested" for r in rows)
    states = {c.get_attribute("data-state") for c in page.find_elements(By.CSS_SELECTOR, "table.matrix td[data-rule]")}
    assert "passed" in states and "failed" not in states
    assert _cell(page, "GET /api/events", "page_within_limit").get_attribute("data-state") == "passed"
    assert page.find_elements(By.CSS_SELECTOR, "details.violation") == []

"""specdiff from the command line: each output format checked for its structure (JSON, YAML, Markdown,
JUnit parsed as XML, HTML rendered in headless Chromium, GitHub annotations at the real lines of the
changed spec), the gates (--changelog, --fail-on, --ignore in oasdiff's format, --severity) and the
inputs (files, URLs, git revisions, `$ref`s across files)."""

from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import threading
import xml.etree.ElementTree as ET

import pytest
import yaml
from diffpairs import BODY, OK, STR, api, obj
from selenium.webdriver.common.by import By

from specdiff.cli import main

OLD = api(obj({"name": STR, "note": STR}))                          # `note` is removed in NEW
NEW = api(obj({"name": {**STR, "pattern": "^a|b$"}, "tag": STR}))   # a pattern and a new field


def write(tmp_path, name: str, doc) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return str(path)


@pytest.fixture
def pair(tmp_path):
    return write(tmp_path, "old.yaml", OLD), write(tmp_path, "new.yaml", NEW)


def run(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def line_of(path: str, text: str) -> int:
    """The number of the first line of `path` that contains `text`."""
    with open(path, encoding="utf-8") as f:
        return next(i for i, line in enumerate(f, 1) if text in line)


# --- formats -------------------------------------------------------------------------------------

def test_text_lists_errors_and_warnings_and_the_changelog_everything(pair, capsys):
    code, out = run(capsys, *pair)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"3 change(s): 1 error(s), 2 warning(s), 0 info ({pair[0]} -> {pair[1]})"
    assert lines[1].startswith(f"ERR   {BODY}: name  [request-property-pattern-added]")
    assert {line.split()[0] for line in lines[1:4]} == {"ERR", "WARN"}
    assert lines[-1] == "(3 INFO change(s) not shown: --changelog lists them)"
    code, out = run(capsys, *pair, "--changelog")
    assert code == 1 and "INFO  " + f"{OK}: tag  [response-optional-property-added]" in out
    assert out.splitlines()[0].startswith("6 change(s): 1 error(s), 2 warning(s), 3 info")


def test_markdown_has_a_summary_line_and_a_table(pair, capsys):
    code, out = run(capsys, *pair, "--format", "markdown", "--changelog")
    lines = out.splitlines()
    assert code == 1 and lines[0] == f"### API contract diff: `{pair[1]}`"
    assert lines[2] == ":x: **1 error(s), 2 warning(s)** of 6 change(s): clients of the old version may break."
    assert lines[4:6] == ["| Level | Location | Rule | Change |", "|---|---|---|---|"]
    rows = lines[6:]
    assert len(rows) == 6 and all(r.startswith("| ") and r.endswith(" |") for r in rows)
    assert rows[0].startswith(f"| :x: ERR | `{BODY}: name` | `request-property-pattern-added` |")
    assert "'^a\\|b$'" in rows[0]                          # a | inside a cell is escaped
    assert rows[-1].startswith("| :information_source: INFO |")


def test_markdown_without_breaking_changes_and_without_changes(tmp_path, capsys):
    old, new = write(tmp_path, "old.yaml", api()), write(tmp_path, "new.yaml", api(get={"summary": "x"}))
    assert run(capsys, old, new, "--format", "markdown")[1].splitlines()[2] == \
        ":white_check_mark: **No breaking changes** (1 compatible change(s))."
    assert run(capsys, old, old, "--format", "markdown")[1].splitlines()[2] == \
        ":white_check_mark: **No changes** to the contract."


def test_json_and_yaml_are_the_same_list_of_changes(pair, capsys):
    code, out = run(capsys, *pair, "--format", "json", "--changelog")
    changes = json.loads(out)
    assert code == 1 and len(changes) == 6
    assert set(changes[0]) == {"id", "level", "text", "reason", "operation", "path", "location", "pointer", "side",
                               "source"}
    removed = next(c for c in changes if c["id"] == "request-property-removed")
    assert (removed["level"], removed["operation"], removed["path"], removed["side"]) == \
        ("WARN", "POST", "/api/things", "old")
    added = next(c for c in changes if c["id"] == "new-optional-request-property")
    assert added["pointer"] == "/components/schemas/Thing/properties/tag"
    assert added["source"] == {"file": pair[1], "line": line_of(pair[1], "tag:")}
    assert yaml.safe_load(run(capsys, *pair, "--format", "yaml", "--changelog")[1]) == changes
    assert json.loads(run(capsys, pair[0], pair[0], "--format", "json")[1]) == []


def test_junit_is_xml_with_a_failing_case_per_error_and_warning(pair, capsys):
    code, out = run(capsys, *pair, "--format", "junit", "--changelog")
    root = ET.fromstring(out)
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert code == 1 and root.tag == "testsuites" and suite.get("tests") == "6" and suite.get("failures") == "3"
    failed = [c for c in cases if c.find("failure") is not None]
    assert sorted(c.find("failure").get("type") for c in failed) == ["ERR", "WARN", "WARN"]
    assert {c.get("name") for c in failed} >= {f"request-property-pattern-added {BODY}: name"}
    assert all(c.get("file") == pair[1] and int(c.get("line")) > 0 for c in cases)
    empty = ET.fromstring(run(capsys, pair[0], pair[0], "--format", "junit")[1])
    assert [c.get("name") for c in empty.iter("testcase")] == ["no changes"]


def test_githubactions_annotates_the_changed_lines(pair, capsys):
    code, out = run(capsys, *pair, "--format", "githubactions", "--changelog")
    lines = out.splitlines()
    pattern = re.compile(r"^::(error|warning|notice) file=([^,]+),line=(\d+),title=([a-z0-9-]+)::(.+)$")
    assert code == 1 and len(lines) == 6 and all(pattern.match(line) for line in lines)
    found = {m.group(4): (m.group(1), m.group(2), int(m.group(3))) for m in map(pattern.match, lines)}
    pattern_line = line_of(pair[1], "pattern:")
    assert found["request-property-pattern-added"] == ("error", pair[1], pattern_line - 2)   # `name:`, its schema
    assert found["new-optional-request-property"] == ("notice", pair[1], line_of(pair[1], "tag:"))
    # what is gone is shown at its nearest place still there: the properties of Thing
    assert found["request-property-removed"] == ("warning", pair[1], line_of(pair[1], "properties:"))


def test_html_renders_in_chromium(browser, pair, tmp_path, capsys):
    code, out = run(capsys, *pair, "--format", "html", "--changelog")
    page = tmp_path / "diff.html"
    page.write_text(out, encoding="utf-8")
    assert code == 1 and "<script" not in out and "http" not in out.split("<body>")[1]   # self-contained
    browser.get(page.resolve().as_uri())
    assert browser.find_element(By.TAG_NAME, "h1").text == "API contract diff"
    assert browser.find_element(By.ID, "summary").text.startswith("6 change(s): 1 error(s), 2 warning(s), 3 info")
    rows = browser.find_elements(By.CSS_SELECTOR, "#changes tbody tr")
    assert [r.get_attribute("class") for r in rows] == ["ERR", "WARN", "WARN", "INFO", "INFO", "INFO"]
    cells = [c.text for c in rows[0].find_elements(By.TAG_NAME, "td")]
    assert cells[:3] == ["ERR", "request-property-pattern-added", f"{BODY}: name"]
    assert cells[4] == f"{pair[1]}:{line_of(pair[1], 'pattern:') - 2}"


def test_singleline_is_a_line_a_change(pair, capsys):
    code, out = run(capsys, *pair, "--format", "singleline")
    assert code == 1 and out.splitlines()[0] == \
        f"ERR request-property-pattern-added POST /api/things {BODY}: name: pattern '^a|b$' added"
    assert len(out.splitlines()) == 3


# --- gates ---------------------------------------------------------------------------------------

def test_fail_on_sets_the_level_that_fails(tmp_path, capsys):
    old = write(tmp_path, "old.yaml", api(obj({"name": STR, "note": STR})))
    new = write(tmp_path, "new.yaml", api())                           # only WARN changes
    assert run(capsys, old, new)[0] == 1
    assert run(capsys, old, new, "--fail-on", "ERR")[0] == 0
    info = write(tmp_path, "info.yaml", api(obj({"name": STR, "note": STR, "x": STR})))
    assert run(capsys, old, info)[0] == 0
    assert run(capsys, old, info, "--fail-on", "INFO")[0] == 1


def test_the_singleline_output_is_an_ignore_file(pair, tmp_path, capsys):
    accepted = tmp_path / "accepted.md"
    accepted.write_text(run(capsys, *pair, "--format", "singleline")[1], encoding="utf-8")
    code, out = run(capsys, *pair, "--ignore", str(accepted))
    assert code == 0 and out.startswith("no breaking changes") and "3 accepted by --ignore" in out


def test_an_ignore_file_in_oasdiffs_words(pair, tmp_path, capsys):
    accepted = tmp_path / "BREAKING.md"
    accepted.write_text(
        "# Accepted\n"
        " - 12.01.2025 GET /api/things/{id} removed the optional property 'note' from the response with the "
        "'200' status\n"
        " - POST /api/things request-property-removed: note is no longer read\n", encoding="utf-8")
    code, out = run(capsys, *pair, "--format", "json", "--ignore", str(accepted))
    assert code == 1 and [c["id"] for c in json.loads(out)] == ["request-property-pattern-added"]
    accepted.write_text("GET /api/things/{id} removed the optional property 'other' from the response\n",
                        encoding="utf-8")
    assert len(json.loads(run(capsys, *pair, "--format", "json", "--ignore", str(accepted))[1])) == 3


def test_severity_overrides(pair, tmp_path, capsys):
    code, out = run(capsys, *pair, "--format", "json", "--severity", "request-property-pattern-added=INFO",
                    "--severity", "request-property-removed=none")
    assert code == 1 and [c["id"] for c in json.loads(out)] == ["response-optional-property-removed"]
    levels = tmp_path / "levels.txt"
    levels.write_text("request-property-pattern-added info\nrequest-property-removed    info\n"
                      "response-optional-property-removed info\n", encoding="utf-8")
    assert run(capsys, *pair, "--severity-levels", str(levels))[0] == 0
    for bad in (["--severity", "no-such-rule=ERR"], ["--severity", "request-property-removed=FATAL"],
                ["--severity", "request-property-removed"]):
        assert main([*pair, *bad]) == 2
        assert capsys.readouterr().err.count("\n") == 1


def test_a_removal_before_its_sunset_date_fails_after_it_passes(tmp_path, capsys):
    def spec(sunset):
        doc = api()
        doc["paths"]["/api/things/{id}"]["get"].update({"deprecated": True, "x-sunset": sunset})
        return doc
    gone = api()
    del gone["paths"]["/api/things/{id}"]
    new = write(tmp_path, "new.yaml", gone)
    code, out = run(capsys, write(tmp_path, "before.yaml", spec("2999-01-01")), new)
    assert code == 1 and "[api-path-removed-before-sunset]" in out
    code, out = run(capsys, write(tmp_path, "after.yaml", spec("2001-01-01")), new, "--changelog")
    assert code == 0 and "[api-path-removed-with-deprecation]" in out


def test_deprecation_days_ask_for_a_sunset(tmp_path, capsys):
    old = write(tmp_path, "old.yaml", api())
    doc = api()
    doc["paths"]["/api/things/{id}"]["get"]["deprecated"] = True
    new = write(tmp_path, "new.yaml", doc)
    assert run(capsys, old, new)[0] == 0
    code, out = run(capsys, old, new, "--deprecation-days-stable", "90")
    assert code == 1 and "[api-deprecated-sunset-missing]" in out


# --- inputs --------------------------------------------------------------------------------------

def test_a_git_revision_is_an_input(tmp_path, monkeypatch, capsys):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    git("init", "-q", "-b", "main")
    write(tmp_path, "specs/things.yaml", OLD)
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "old")
    write(tmp_path, "specs/things.yaml", NEW)
    monkeypatch.chdir(tmp_path)
    code, out = run(capsys, "main:specs/things.yaml", "specs/things.yaml", "--format", "githubactions")
    assert code == 1 and "file=specs/things.yaml,line=" in out
    assert main(["nobranch:specs/things.yaml", "specs/things.yaml"]) == 2
    assert capsys.readouterr().err.startswith("specdiff: cannot read nobranch:specs/things.yaml")


def test_a_url_is_an_input(pair, tmp_path, capsys):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.log_message = lambda *a: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        code, out = run(capsys, f"{url}/old.yaml", pair[1], "--format", "json")
        assert code == 1 and len(json.loads(out)) == 3
        assert main([f"{url}/missing.yaml", pair[1]]) == 2
        assert "cannot read" in capsys.readouterr().err
    finally:
        server.shutdown()


def test_refs_across_files_are_followed_and_shown_in_their_file(tmp_path, capsys):
    def version(name, thing):
        doc = api()
        for op in (doc["paths"]["/api/things"]["post"]["requestBody"]["content"]["application/json"],
                   doc["paths"]["/api/things/{id}"]["get"]["responses"]["200"]["content"]["application/json"]):
            op["schema"] = {"$ref": "common/thing.yaml#/Thing"}
        del doc["components"]["schemas"]["Thing"]
        write(tmp_path, f"{name}/common/thing.yaml", {"Thing": thing, "Other": {"$ref": "#/Thing"}})
        return write(tmp_path, f"{name}/api.yaml", doc)
    old = version("old", obj({"name": STR, "note": STR}))
    new = version("new", obj({"name": STR}))
    code, out = run(capsys, old, new, "--format", "githubactions")
    common = str(tmp_path / "new" / "common" / "thing.yaml")
    assert code == 1 and f"file={common},line={line_of(common, 'properties:')},title=request-property-removed" in out
    assert run(capsys, old, old)[0] == 0
    write(tmp_path, "new/common/thing.yaml", {"Other": {}})
    assert main([old, new]) == 2 and "unresolved $ref" in capsys.readouterr().err

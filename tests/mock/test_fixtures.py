"""Fixtures are checked before a mock starts: the layout, every collection one the API keeps, every
record against its schema. A problem names the file, collection, record and field, and the mock
does not start."""

from __future__ import annotations

import httpx
import pytest
import yaml

from apispec.load import SLUGS
from mockserver.app import create_app, load_fixtures
from mockserver.fixtures import FIXTURES_DIR, FixtureError, kept_collections
from mockserver.testing import ServedProcess, running

EVENT = {"id": "evt_1", "title": "T", "date": "2024-07-15T09:00:00Z", "location": {"venue": "Hall"},
         "attendees": 0, "capacity": 10, "status": "active"}
KEY = {"id": "YOUR_API_KEY", "owner": "demo"}


@pytest.mark.parametrize("slug", SLUGS)
def test_the_shipped_fixtures_pass(slug):
    data = load_fixtures(slug)
    assert set(data["collections"]) <= set(kept_collections(slug))


def test_amar_event_20_has_its_description_back(tmp_path):
    """The comma in `description: Three bands, one night.` inside a YAML flow mapping made a key
    `"one night."`; the check finds such a key, and the seed data quotes the text."""
    with running("amarevents") as mock:
        event = httpx.get(mock.root + "/api/events/20", headers={"Authorization": "Bearer ae_u_demo"}).json()
    assert event["data"]["description"] == "Three bands, one night."
    assert "one night." not in event["data"]
    broken = (FIXTURES_DIR / "amarevents.yaml").read_text(encoding="utf-8").replace(
        '"Three bands, one night."', "Three bands, one night.")
    path = tmp_path / "amarevents.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(FixtureError) as found:
        load_fixtures("amarevents", path)
    assert "collection 'events', record 4 (id 20): field 'one night.': not a field" in str(found.value)


@pytest.mark.parametrize("data, says", [
    (None, "expected a mapping with `collections:`"),
    ([EVENT], "expected a mapping with `collections:`"),
    ({"events": [EVENT]}, "unknown top-level key 'events'"),
    ({"credentials": []}, "no `collections:`"),
    ({"collections": [EVENT]}, "collections: expected a mapping"),
    ({"collections": {"event": [EVENT]}},
     "collection 'event': namak keeps no such collection (did you mean 'events'?)"),
    ({"collections": {"events": {"evt_1": EVENT}}}, "collection 'events': expected a list of records"),
    ({"collections": {"events": ["evt_1"]}}, "collection 'events', record 1: expected a mapping"),
    ({"collections": {"events": [{**EVENT, "title": 7}]}},
     "collection 'events', record 1 (id 'evt_1'): field 'title': 7 is not of type 'string'"),
    ({"collections": {"events": [{k: v for k, v in EVENT.items() if k != "title"}]}},
     "collection 'events', record 1 (id 'evt_1'): field 'title': required, missing"),
    ({"collections": {"events": [{**EVENT, "titel": "x"}]}},
     "collection 'events', record 1 (id 'evt_1'): field 'titel': not a field of this record"),
    ({"collections": {"events": [{**EVENT, "status": "open"}]}},
     "collection 'events', record 1 (id 'evt_1'): field 'status': 'open' is not one of"),
    ({"collections": {"events": [{**EVENT, "location": {"venue": 3}}]}},
     "collection 'events', record 1 (id 'evt_1'): field 'location.venue': 3 is not of type 'string'"),
    ({"collections": {"events": [EVENT, EVENT]}},
     "collection 'events', record 2 (id 'evt_1'): field 'id': another record of 'events' has this id"),
    ({"collections": {"api_keys": [{"owner": "demo"}]}},
     "collection 'api_keys', record 1: field 'id': required, missing"),
])
def test_a_problem_names_file_collection_record_and_field(tmp_path, data, says):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(FixtureError) as found:
        create_app("namak", fixtures=path)
    assert f"{path}: {says}" in str(found.value)


def test_an_unquoted_date_is_explained(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("collections:\n  events:\n    - {id: evt_1, title: T, date: 2024-07-15, location: {},"
                    " attendees: 0, capacity: 1, status: active}\n", encoding="utf-8")
    with pytest.raises(FixtureError) as found:
        load_fixtures("namak", path)
    assert "field 'date'" in str(found.value) and "quote it" in str(found.value)


def test_private_fields_are_the_mocks_own(tmp_path):
    """A leading underscore marks what the mock keeps and never shows (a password, a token)."""
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"collections": {"api_keys": [KEY], "events": [{**EVENT, "_note": "x"}]}}),
                    encoding="utf-8")
    assert load_fixtures("namak", path)["collections"]["events"][0]["_note"] == "x"


def test_bad_fixtures_stop_the_mock_from_starting(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"collections": {"api_keys": [KEY], "evnets": [EVENT],
                                                    "events": [{**EVENT, "capacity": "ten"}]}}, sort_keys=False),
                    encoding="utf-8")
    process = ServedProcess("namak", "--port", "0", "--fixtures", str(path)).launch()
    assert process.finish(60) == 1
    assert process.stdout == []  # no table: nothing served
    assert process.stderr == [
        f"mockserver: {path}: collection 'evnets': namak keeps no such collection (did you mean 'events'?); "
        f"it keeps api_keys, bookings, events",
        f"mockserver: {path}: collection 'events', record 1 (id 'evt_1'): field 'capacity': 'ten' is not of type "
        f"'integer', 'null'",
    ]


def test_good_fixtures_of_your_own_are_served(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"collections": {"api_keys": [KEY], "events": [EVENT]}}), encoding="utf-8")
    with running("namak", fixtures=path) as mock:
        listed = httpx.get(mock.base_url + "/events", headers={"Authorization": "Bearer YOUR_API_KEY"}).json()
    assert [e["id"] for e in listed["data"]] == ["evt_1"]

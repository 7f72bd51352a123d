"""Store lookups by field come from an index kept by insert, update and delete; each answer must be
the one a scan of the collection gives (the first record in the table's order)."""

from __future__ import annotations

import httpx
import pytest

from mockserver.app import Settings
from mockserver.sources import FixedClock, Ids
from mockserver.store import Store
from mockserver.testing import running

USERS = {"users": [{"id": 1, "email": "a@x.test", "_token": "t1", "tags": ["x"]},
                   {"id": 2, "email": "b@x.test", "_token": "t2"},
                   {"id": 3, "email": "b@x.test", "_token": None}]}


@pytest.fixture
def store():
    return Store(USERS)


def ids(record):
    return record["id"] if record else None


def test_find_by_a_field_through_every_change(store):
    assert ids(store.find("users", _token="t1")) == 1
    assert ids(store.find("users", email="b@x.test")) == 2        # two hold it: the first in order
    store.update("users", 1, {"_token": "t9"})
    assert store.find("users", _token="t1") is None
    assert ids(store.find("users", _token="t9")) == 1
    store.insert("users", {"email": "c@x.test", "_token": "t1"})  # the freed token, taken again
    assert ids(store.find("users", _token="t1")) == 4
    store.delete("users", 2)
    assert store.find("users", _token="t2") is None
    assert ids(store.find("users", email="b@x.test")) == 3
    store.delete_where("users", lambda r: r["email"] == "b@x.test")
    assert store.find("users", email="b@x.test") is None
    store.insert("users", {"id": 4, "email": "d@x.test", "_token": "t4"})  # the same id, replaced
    assert store.find("users", _token="t1") is None
    assert ids(store.find("users", _token="t4")) == 4
    store.reset()
    assert ids(store.find("users", _token="t1")) == 1
    assert store.find("users", _token="t9") is None


def test_unhashable_values_and_missing_fields_are_found_as_a_scan_finds_them(store):
    assert ids(store.find("users", tags=["x"])) == 1
    assert ids(store.find("users", _token=None)) == 3               # an explicit null
    assert ids(store.find("users", nickname=None)) == 1             # a field no record has
    assert ids(store.find("users", email="b@x.test", _token=None)) == 3


def test_a_record_changed_in_place_is_caught_when_indexes_are_verified():
    store = Store(USERS, verify_indexes=True)
    store.find("users", _token="t2")                                # the index is built
    store.get("users", 2)["_token"] = "changed behind the store's back"
    with pytest.raises(AssertionError, match="stale index of users._token"):
        store.find("users", _token="t2")


def test_index_verification_is_a_setting_of_one_store_not_of_the_process():
    checked, unchecked = Store(USERS, verify_indexes=True), Store(USERS)
    for store in (checked, unchecked):
        store.find("users", _token="t2")
        store.get("users", 2)["_token"] = "changed behind the store's back"
    assert ids(unchecked.find("users", _token="t2")) == 2          # the stale index answers, unchecked
    with pytest.raises(AssertionError):
        checked.find("users", _token="t2")


def test_new_ids_come_from_the_store_s_own_id_source():
    styles = {"events": {"style": "random", "prefix": "evt_", "alphabet": "hex", "length": 12},
              "tickets": {"style": "uuid"}}
    first, second = (Store({}, styles, ids=Ids.seeded(3)) for _ in range(2))
    drawn = [(s.insert("events", {})["id"], s.insert("tickets", {})["id"]) for s in (first, second)]
    assert drawn[0] == drawn[1]                                     # the same seed, the same ids
    assert drawn[0][0].startswith("evt_") and len(drawn[0][0]) == 16
    assert Store({}, styles).insert("events", {})["id"] != drawn[0][0]  # unseeded: the system's randomness


def test_a_mock_stamps_and_dates_by_the_clock_it_is_given():
    """`Settings(clock=...)`: created records carry its time, and rules that compare with "today" (an
    Amar key's expiry) use its date, not the machine's."""
    clock = FixedClock("2031-03-04T05:06:07Z")
    with running("amarevents", settings=Settings(validate_responses=True, clock=clock, ids=Ids.seeded(1))) as mock:
        admin = {"Authorization": "Bearer ae_a_demo"}
        key = httpx.post(mock.base_url + "/keys", headers=admin, timeout=10,
                         json={"name": "k", "key_type": "user", "expires_at": "2031-03-04"}).json()["data"]
        assert key["key"].startswith("ae_u_")
        created = mock.store.get("keys", key["id"])
        assert created["created_at"] == "2031-03-04T05:06:07Z"
        past = httpx.post(mock.base_url + "/keys", headers=admin, timeout=10,
                          json={"name": "k", "key_type": "user", "expires_at": "2031-03-03"})
        assert past.status_code == 400 and "expires_at" in past.json()["error"]   # yesterday, by that clock
        clock.at = clock.at.replace(year=2032)
        assert httpx.get(mock.base_url + "/auth/me", timeout=10,
                         headers={"Authorization": f"Bearer {key['key']}"}).status_code == 401  # expired

"""Store lookups by field come from an index kept by insert, update and delete; each answer must be
the one a scan of the collection gives (the first record in the table's order)."""

from __future__ import annotations

import httpx
import pytest

from mockserver.app import Settings
from mockserver.redisstore import RedisStore
from mockserver.sources import FixedClock, Ids
from mockserver.store import Store
from mockserver.testing import running

USERS = {"users": [{"id": 1, "email": "a@x.test", "_token": "t1", "tags": ["x"]},
                   {"id": 2, "email": "b@x.test", "_token": "t2"},
                   {"id": 3, "email": "b@x.test", "_token": None}]}


@pytest.fixture(params=["memory", "redis"])
def backend(request):
    """`make(fixtures, styles, **options)`: a store of this backend (Redis: a fresh prefix each)."""
    if request.param == "memory":
        return lambda fixtures, styles=None, **options: Store(fixtures, styles, **options)
    server = request.getfixturevalue("redis_server")
    prefix = request.getfixturevalue("redis_prefix")
    return lambda fixtures, styles=None, **options: RedisStore(server.url, fixtures, styles, prefix=prefix, **options)


@pytest.fixture
def store(backend):
    return backend(USERS)


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


def test_new_ids_come_from_the_store_s_own_id_source(backend):
    styles = {"events": {"style": "random", "prefix": "evt_", "alphabet": "hex", "length": 12},
              "tickets": {"style": "uuid"}}
    first = backend({}, styles, ids=Ids.seeded(3))
    second = Store({}, styles, ids=Ids.seeded(3))
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


def test_pages_come_in_insertion_order(store):
    store.insert("users", {"id": 0, "email": "z@x.test"})
    store.update("users", 1, {"email": "a2@x.test"})                # an update keeps the place
    assert [r["id"] for r in store.all("users")] == [1, 2, 3, 0]
    assert store.count("users") == 4
    assert [r["id"] for r in store.window("users", 1, 3)] == [2, 3]
    assert store.window("users", 4, 9) == [] and store.window("nothing", 0, 5) == []
    assert store.snapshot()["users"][0]["email"] == "a2@x.test"


def test_ids_of_both_kinds_stay_apart(store):
    store.insert("things", {"id": 5, "kind": "int"})
    store.insert("things", {"id": "5", "kind": "str"})
    assert store.get("things", 5)["kind"] == "int" and store.get("things", "5")["kind"] == "str"
    assert store.insert("things", {})["id"] == 6                    # the sequence goes past the highest


# --- Redis: one state for every process that names the same Redis and prefix ------------------------

def shared(redis_server, prefix, **options):
    return RedisStore(redis_server.url, USERS, prefix=prefix, **options)


def test_two_stores_on_one_prefix_are_one_state_and_prefixes_are_apart(redis_server, redis_prefix):
    one, two = shared(redis_server, redis_prefix), shared(redis_server, redis_prefix)
    other = shared(redis_server, redis_prefix + "-other")
    made = one.insert("users", {"email": "new@x.test", "_token": "tn"})
    assert two.get("users", made["id"]) == made
    assert ids(two.find("users", _token="tn")) == made["id"]
    two.update("users", made["id"], {"_token": "tm"})
    assert one.find("users", _token="tn") is None and ids(one.find("users", _token="tm")) == made["id"]
    assert other.get("users", made["id"]) is None and other.count("users") == 3
    assert two.insert("users", {})["id"] == made["id"] + 1          # one id sequence


def test_a_restart_keeps_the_data_unless_told_to_reset(redis_server, redis_prefix):
    shared(redis_server, redis_prefix).insert("users", {"id": 9, "email": "kept@x.test"})
    assert shared(redis_server, redis_prefix).get("users", 9)["email"] == "kept@x.test"
    assert shared(redis_server, redis_prefix, reset=True).get("users", 9) is None
    assert shared(redis_server, redis_prefix).count("users") == 3


def test_check_then_write_under_the_lock_is_atomic_across_stores(redis_server, redis_prefix):
    """16 threads, each with its own connection and store (as separate processes would be), take
    places of a capacity of 10 and register one email: exactly 10 places, one registration."""
    import concurrent.futures

    stores = [shared(redis_server, redis_prefix) for _ in range(16)]

    def take(store):
        taken = 0
        for _ in range(5):
            with store.lock:
                if store.count("places") < 10:
                    store.insert("places", {"by": id(store)})
                    taken += 1
            with store.lock:
                if store.find("users", email="same@x.test") is None:
                    store.insert("users", {"email": "same@x.test"})
        return taken

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        assert sum(pool.map(take, stores)) == 10
    assert stores[0].count("places") == 10
    assert len([u for u in stores[0].all("users") if u["email"] == "same@x.test"]) == 1


def test_redis_unreachable_is_a_503_and_the_store_recovers(redis_server, redis_prefix):
    from mockserver.redisstore import StoreUnavailable

    store = shared(redis_server, redis_prefix)
    store.insert("users", {"id": 7})
    redis_server.stop()
    try:
        for call in (lambda: store.get("users", 1), lambda: store.insert("users", {}), store.snapshot):
            with pytest.raises(StoreUnavailable) as caught:
                call()
            assert caught.value.status == 503 and "Redis" in caught.value.message
    finally:
        redis_server.start()
    assert store.get("users", 7) is None                            # no persistence: a new, empty Redis
    store.reset()
    assert ids(store.get("users", 1)) == 1

"""Amar Events mock over real HTTP: the document's examples, accounts, keys and sessions, the
key-type and permission matrix, organizer ownership, every resource's life cycle, validation,
paging and filters, capacity, stats, rate limiting and concurrency."""

from __future__ import annotations

import concurrent.futures
import datetime as dt

import httpx
import pytest

from apispec import ext
from apispec.model import contract
from mockserver.app import Settings, load_fixtures
from mockserver.testing import running

SLUG = "amarevents"
STORES = ("memory", "redis")  # the richest rules (capacity, keys, sessions) on both backends in `make test`
USER = {"Authorization": "Bearer ae_u_demo"}        # karim, karim@email.com
ORGANIZER = {"Authorization": "Bearer ae_o_demo"}   # techsociety, owns organization 3 (events 10, 11, 12)
ADMIN = {"Authorization": "Bearer ae_a_demo"}
SPEC = contract(SLUG)
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Type")


def request_example(operation_id):
    return SPEC.operations[operation_id].spec["requestBody"]["content"]["application/json"]["example"]


def response_example(operation_id):
    return SPEC.operations[operation_id].response_example()


def error(response, status, *words):
    """The API's error body `{success: false, error}` with `status`, its message naming `words`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"success", "error"} and body["success"] is False, body
    for word in words:
        assert word in body["error"], body
    return body["error"]


def data(response, status=200):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True, body
    return body["data"]


def ids(response):
    return [item["id"] for item in data(response)]


def login(client, email, password):
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response


# --- the document's examples -----------------------------------------------------------------

def test_register_example_creates_the_account_once(anon, client):
    example = request_example("registerUser")  # john, john@email.com: not seeded
    created = data(anon.post("/api/auth/register", json=example), 201)
    assert (created["username"], created["email"], created["number"]) == ("john", "john@email.com", "01700000000")
    assert (created["type"], created["admin"]) == ("user", 0)
    assert "password" not in created and "_password" not in created
    assert created["id"] in ids(client.get("/api/admin/users", headers=ADMIN, params={"search": "john"}))
    again = anon.post("/api/auth/register", json=example)
    error(again, 409, "username", "john")
    error(anon.post("/api/auth/register", json={**example, "username": "johnny"}), 409, "email")


def test_verify_example_answers_as_documented(client):
    response = client.post("/api/tickets/42/verify", headers=ORGANIZER)
    assert data(response) == response_example("verifyTicket")["data"]
    assert data(response) == {"ticket_id": 42, "name": "Karim Rahman", "email": "karim@email.com",
                              "status": "Success", "event": "Tech Summit 2025", "event_date": "2025-06-10",
                              "valid": True}


def test_key_creation_example_returns_the_raw_key_once(client):
    created = data(client.post("/api/keys", headers=ORGANIZER, json=request_example("createKey")), 201)
    documented = response_example("createKey")["data"]
    assert {k: created[k] for k in ("key_type", "permissions", "rate_limit", "name", "expires_at")} == \
           {k: documented[k] for k in ("key_type", "permissions", "rate_limit", "name", "expires_at")}
    assert created["key"].startswith("ae_o_") and len(created["key"]) > len("ae_o_") + 16
    new_key = {"Authorization": f"Bearer {created['key']}"}
    identity = data(client.get("/api/auth/me", headers=new_key))
    assert (identity["auth_method"], identity["key_type"], identity["rate_limit"]) == ("api_key", "organizer", 120)
    assert identity["permissions"] == ["events:read", "tickets:read", "tickets:write"]
    assert identity["user"]["username"] == "techsociety"
    for path in ("/api/keys", "/api/users/me/keys"):
        listed = {k["id"]: k for k in data(client.get(path, headers=ORGANIZER))}
        assert created["id"] in listed and "key" not in listed[created["id"]] and "_key" not in listed[created["id"]]
        assert listed[created["id"]]["is_active"] is True


def test_stats_have_the_documented_shape_and_follow_the_tickets(client):
    stats = data(client.get("/api/events/10/stats", headers=ORGANIZER))
    assert set(stats) == set(response_example("getEventStats")["data"])
    figures = (stats["total"], stats["approved"], stats["pending"], stats["failed"], stats["revenue"])
    assert figures == (3, 1, 1, 1, 300.0)
    by_type = {row["ticket_type_id"]: row for row in stats["by_ticket_type"]}
    assert by_type[4] == {"ticket_type_id": 4, "name": "General", "total": 2, "approved": 1, "revenue": 300.0}
    assert by_type[5]["total"] == 1 and by_type[5]["approved"] == 0
    data(client.put("/api/tickets/43", headers=ORGANIZER, json={"status": "Success"}))
    after = data(client.get("/api/events/10/stats", headers=ORGANIZER))
    assert (after["approved"], after["pending"], after["revenue"]) == (2, 0, 600.0)


# --- authentication, sessions, keys ------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer ae_u_"},
                                     {"Authorization": "Basic eA=="}, {"Cookie": "session=forged"}])
def test_missing_or_wrong_credentials_get_401_without_rate_headers(anon, headers):
    response = anon.get("/api/auth/me", headers=headers)
    error(response, 401)
    assert not any(name in response.headers for name in RATE_HEADERS)


@pytest.mark.parametrize("headers, method, path, body, status", [
    (USER, "GET", "/api/users/me/tickets", None, 200),
    (USER, "POST", "/api/events", {"name": "x", "organization_id": 3}, 403),
    (USER, "GET", "/api/donations", None, 403),
    (USER, "DELETE", "/api/tickets/42", None, 403),
    (USER, "GET", "/api/admin/stats", None, 403),
    (USER, "PUT", "/api/users/me", {"country": "Nepal"}, 200),
    (ORGANIZER, "POST", "/api/events", {"name": "x", "organization_id": 3}, 201),
    (ORGANIZER, "GET", "/api/donations", None, 200),
    (ORGANIZER, "GET", "/api/users/me/tickets", None, 403),   # badge: User only
    (ORGANIZER, "PUT", "/api/users/me", {"country": "Nepal"}, 403),  # an organizer key never holds users:write
    (ORGANIZER, "GET", "/api/admin/stats", None, 403),
    (ORGANIZER, "POST", "/api/organizations", {"name": "x", "user_id": 7000005}, 403),
    (ADMIN, "GET", "/api/admin/stats", None, 200),
    (ADMIN, "POST", "/api/organizations", {"name": "x", "user_id": 7000005}, 201),
    (ADMIN, "DELETE", "/api/tickets/43", None, 200),
    (ADMIN, "PUT", "/api/users/me", {"country": "Nepal"}, 403),      # badge: User, Organizer
    (ADMIN, "GET", "/api/users/me/tickets", None, 403),
])
def test_key_type_and_permission_matrix(client, headers, method, path, body, status):
    response = client.request(method, path, headers=headers, json=body)
    assert response.status_code == status, response.text
    assert all(name in response.headers for name in RATE_HEADERS)  # authenticated: 2xx and 403 alike
    if status == 403:
        error(response, 403)


def test_public_operations_need_no_key_and_carry_no_rate_headers(anon, client):
    response = anon.get("/api/events")
    assert response.status_code == 200 and "X-RateLimit-Limit" not in response.headers
    assert data(anon.post("/api/donations", json=request_example("createDonation")), 201)["status"] == "pending"


def test_rate_limit_headers_per_key_type(client):
    for headers, limit, kind in ((USER, "60", "user"), (ORGANIZER, "120", "organizer"), (ADMIN, "300", "admin")):
        first, second = client.get("/api/auth/me", headers=headers), client.get("/api/auth/me", headers=headers)
        assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Type"]) == (limit, kind)
        assert int(second.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
        assert int(first.headers["X-RateLimit-Reset"]) > 1_700_000_000


def test_a_keys_permissions_are_enforced(client):
    key = data(client.post("/api/keys", headers=ORGANIZER,
                           json={"name": "read only", "key_type": "organizer", "permissions": ["events:read"]}), 201)
    reader = {"Authorization": f"Bearer {key['key']}"}
    assert data(client.get("/api/events/10/stats", headers=reader))["total"] == 3
    error(client.post("/api/events", headers=reader, json={"name": "x", "organization_id": 3}), 403, "events:write")
    error(client.get("/api/events/10/tickets", headers=reader), 403, "tickets:read")


def test_key_types_and_permissions_an_account_may_create(client):
    error(client.post("/api/keys", headers=USER, json={"name": "k", "key_type": "organizer"}), 403, "key_type")
    error(client.post("/api/keys", headers=USER, json={"name": "k", "key_type": "admin"}), 403, "key_type")
    error(client.post("/api/keys", headers=ORGANIZER, json={"name": "k", "key_type": "admin"}), 403, "key_type")
    error(client.post("/api/keys", headers=USER, json={"name": "k", "key_type": "user",
                                                        "permissions": ["tickets:read", "events:write"]}),
          403, "permissions", "events:write")
    default = data(client.post("/api/keys", headers=USER, json={"name": "k", "key_type": "user"}), 201)
    documented = ext.credentials.key_types(SPEC.security_scheme("bearerAuth"))
    assert default["permissions"] == documented["user"]["permissions"]
    assert default["key"].startswith("ae_u_") and default["rate_limit"] == 60
    lesser = data(client.post("/api/keys", headers=ORGANIZER, json={"name": "k", "key_type": "user"}), 201)
    assert lesser["key_type"] == "user"
    for kind in ("user", "organizer", "admin"):
        created = data(client.post("/api/keys", headers=ADMIN, json={"name": kind, "key_type": kind}), 201)
        assert created["key"].startswith(f"ae_{kind[0]}_")
    error(client.post("/api/keys", headers=USER, json={"name": "k", "key_type": "root"}), 400, "key_type")
    error(client.post("/api/keys", headers=USER, json={"key_type": "user"}), 400, "name")


def test_keys_can_be_deactivated_revoked_and_expire(client):
    def new_key(**extra):
        created = data(client.post("/api/keys", headers=USER, json={"name": "app", "key_type": "user", **extra}), 201)
        return created["id"], {"Authorization": f"Bearer {created['key']}"}

    key_id, key = new_key()
    assert client.get("/api/auth/me", headers=key).status_code == 200
    assert data(client.put(f"/api/keys/{key_id}", headers=USER, json={"is_active": False}))["is_active"] is False
    error(client.get("/api/auth/me", headers=key), 401)
    data(client.put(f"/api/keys/{key_id}", headers=USER, json={"is_active": True, "name": "renamed"}))
    assert client.get("/api/auth/me", headers=key).status_code == 200
    error(client.put(f"/api/keys/{key_id}", headers=USER, json={"permissions": ["admin"]}), 403, "permissions")
    response = client.delete(f"/api/keys/{key_id}", headers=USER)
    assert response.status_code == 200 and response.json() == {"success": True, "message": "API key revoked"}
    error(client.get("/api/auth/me", headers=key), 401)
    error(client.delete(f"/api/keys/{key_id}", headers=USER), 404, str(key_id))
    assert key_id not in ids(client.get("/api/keys", headers=USER))

    key_id, key = new_key()
    assert client.delete(f"/api/admin/revoke-key/{key_id}", headers=ADMIN).status_code == 200
    error(client.get("/api/auth/me", headers=key), 401)

    error(client.post("/api/keys", headers=USER, json={"name": "app", "key_type": "user", "expires_at": "2020-01-01"}),
          400, "expires_at", "past")
    _, last_day = new_key(expires_at=dt.date.today().isoformat())  # works through its expires_at day
    assert client.get("/api/auth/me", headers=last_day).status_code == 200

    error(client.put("/api/keys/7100001", headers=USER, json={"name": "mine now"}), 403, "another account")
    error(client.delete("/api/keys/7100002", headers=USER), 403)


def new_key(client, creator, **body):
    """A key created by `creator`: (id, its Authorization header)."""
    created = data(client.post("/api/keys", headers=creator, json={"name": "k", **body}), 201)
    return created["id"], {"Authorization": f"Bearer {created['key']}"}


def test_a_key_grants_and_manages_only_what_it_holds(client):
    reader_id, reader = new_key(client, USER, key_type="user", permissions=["events:read"])
    # it creates no key with a permission it lacks, named or left out (all the type's: only what it holds)
    error(client.post("/api/keys", headers=reader, json={"name": "more", "key_type": "user",
                                                         "permissions": ["events:read", "tickets:write"]}),
          403, "permissions", "tickets:write")
    assert data(client.post("/api/keys", headers=reader, json={"name": "same", "key_type": "user"}),
                201)["permissions"] == ["events:read"]
    # it does not widen itself, may narrow or rename itself
    error(client.put(f"/api/keys/{reader_id}", headers=reader, json={"permissions": ["events:read", "users:write"]}),
          403, "permissions", "users:write")
    assert data(client.put(f"/api/keys/{reader_id}", headers=reader, json={"name": "mine"}))["name"] == "mine"
    # it does not touch the account's keys that hold more (the demo key holds all five)
    for method, body in (("PUT", {"is_active": False}), ("PUT", {"name": "x"}), ("DELETE", None)):
        error(client.request(method, "/api/keys/7100003", headers=reader, json=body), 403, "7100003", "users:write")
    assert client.get("/api/auth/me", headers=USER).status_code == 200
    assert data(client.get("/api/auth/me", headers=reader))["permissions"] == ["events:read"]
    # a key that holds at least as much manages it; a key deletes itself
    lesser_id, _ = new_key(client, USER, key_type="user", permissions=["events:read"])
    assert data(client.put(f"/api/keys/{lesser_id}", headers=reader, json={"is_active": False}))["is_active"] is False
    assert client.delete(f"/api/keys/{lesser_id}", headers=reader).status_code == 200
    assert data(client.put(f"/api/keys/{reader_id}", headers=USER, json={"permissions": ["events:read", "users:read"]}))
    assert client.delete(f"/api/keys/{reader_id}", headers=reader).status_code == 200
    error(client.get("/api/auth/me", headers=reader), 401)


def test_a_key_creates_no_key_of_a_higher_type_nor_manages_one(client):
    # a user key of an organizer account holds events:read, as organizer keys may: still no organizer key
    user_key_id, user_key = new_key(client, ORGANIZER, key_type="user", permissions=["events:read", "tickets:read"])
    error(client.post("/api/keys", headers=user_key, json={"name": "up", "key_type": "organizer",
                                                           "permissions": ["events:read"]}), 403, "key_type")
    organizer_id, _ = new_key(client, ORGANIZER, key_type="organizer", permissions=["events:read"])
    error(client.delete(f"/api/keys/{organizer_id}", headers=user_key), 403, str(organizer_id), "organizer")
    # the organizer key holds no users:write, so it gives none: the user key it creates lacks it
    created = data(client.post("/api/keys", headers=ORGANIZER, json={"name": "u", "key_type": "user"}), 201)
    assert created["permissions"] == ["events:read", "tickets:read", "tickets:write", "users:read"]
    assert client.delete(f"/api/keys/{user_key_id}", headers=ORGANIZER).status_code == 200


def test_a_session_manages_every_key_of_its_account(mock):
    httpx.post(mock.root + "/__admin/reset", json={}, timeout=10).raise_for_status()
    with httpx.Client(base_url=mock.root, timeout=10) as browser:
        login(browser, "karim@email.com", "karim123")
        created = data(browser.post("/api/keys", json={"name": "all", "key_type": "user"}), 201)
        assert "users:write" in created["permissions"]
        assert data(browser.put("/api/keys/7100003", json={"permissions": ["events:read"]}))["permissions"] == \
            ["events:read"]
        assert data(browser.put("/api/keys/7100003", json={"permissions": ["events:read", "users:write"]}))
        error(browser.put("/api/keys/7100003", json={"permissions": ["events:write"]}), 403, "events:write")
        assert browser.delete(f"/api/keys/{created['id']}").status_code == 200


def test_demotion_reaches_the_accounts_keys(client):
    _, organizer_key = new_key(client, ORGANIZER, key_type="organizer")
    assert data(client.put("/api/events/10", headers=organizer_key, json={"notice": "before"}))["notice"] == "before"
    data(client.put("/api/admin/users/7000005", headers=ADMIN, json={"demote_organizer": True}))
    for headers in (ORGANIZER, organizer_key):
        error(client.put("/api/events/10", headers=headers, json={"notice": "after"}), 403, "no longer")
        error(client.get("/api/events/10/tickets", headers=headers), 403)
        error(client.get("/api/tickets", headers=headers, params={"event_id": 10}), 403)
        error(client.post("/api/keys", headers=headers, json={"name": "k", "key_type": "organizer"}), 403, "key_type")
        response = client.get("/api/auth/me", headers=headers)  # still the account's key: worth a user key
        identity = data(response)
        assert identity["user"]["type"] == "user" and response.headers["X-RateLimit-Type"] == "user"
        assert (identity["key_type"], identity["rate_limit"]) == ("user", 60)
        assert identity["permissions"] == ["events:read", "tickets:read", "tickets:write", "users:read"]
    assert data(client.get("/api/admin/users/7000005", headers=ADMIN))["api_keys"]  # kept, not revoked
    data(client.put("/api/admin/users/7000005", headers=ADMIN, json={"promote_organizer": True}))
    assert data(client.put("/api/events/10", headers=organizer_key, json={"notice": "again"}))["notice"] == "again"


def test_admin_zero_takes_the_admin_keys_access(client):
    _, second_admin = new_key(client, ADMIN, key_type="admin")
    assert data(client.get("/api/admin/users", headers=second_admin))
    data(client.put("/api/admin/users/7000001", headers=ADMIN, json={"admin": 0}))
    for headers in (ADMIN, second_admin):
        error(client.get("/api/admin/users", headers=headers), 403, "no longer")
        error(client.get("/api/admin/stats", headers=headers), 403)
        error(client.put("/api/admin/users/7000001", headers=headers, json={"admin": 1}), 403)
        error(client.post("/api/organizations", headers=headers, json={"name": "x", "user_id": 7000005}), 403)


def test_a_new_password_ends_the_accounts_other_sessions(mock):
    httpx.post(mock.root + "/__admin/reset", json={}, timeout=10).raise_for_status()
    clients = [httpx.Client(base_url=mock.root, timeout=10) for _ in range(4)]
    try:
        changer, other, admin_session, bystander = clients
        for c in (changer, other):
            login(c, "karim@email.com", "karim123")
        login(bystander, "org@techsociety.com.bd", "organizer123")
        data(changer.put("/api/users/me", json={"password": "newpass1", "current_password": "karim123"}))
        assert data(changer.get("/api/auth/me"))["user"]["username"] == "karim"  # the one that changed it stays
        error(other.get("/api/auth/me"), 401)
        assert data(bystander.get("/api/auth/me"))["user"]["username"] == "techsociety"  # other accounts' stay
        assert httpx.get(mock.root + "/api/auth/me", headers=USER, timeout=10).status_code == 200  # keys stay
        # an admin reset ends them all, the admin's own session aside
        login(admin_session, "admin@amarevents.zone.id", "admin123")
        data(admin_session.put("/api/admin/users/7000006", json={"password": "reset123"}))
        error(changer.get("/api/auth/me"), 401)
        assert data(admin_session.get("/api/admin/stats"))
        data(admin_session.put("/api/admin/users/7000001", json={"password": "admin456"}))  # its own: it stays
        assert data(admin_session.get("/api/admin/stats"))
    finally:
        for c in clients:
            c.close()


def test_a_key_past_its_expiry_date_gets_401():
    seed = load_fixtures(SLUG)
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    for key in seed["collections"]["keys"]:
        if key["id"] == 7100003:  # the demo user key, expired yesterday
            key["expires_at"] = yesterday
    with running(SLUG, fixtures=seed) as expired, httpx.Client(base_url=expired.root, timeout=10) as c:
        error(c.get("/api/auth/me", headers=USER), 401)
        assert c.get("/api/auth/me", headers=ORGANIZER).status_code == 200


def test_session_login_creates_keys_and_logout_destroys_it(mock):
    with httpx.Client(base_url=mock.root, timeout=10) as browser:
        httpx.post(mock.root + "/__admin/reset", json={}, timeout=10).raise_for_status()
        error(browser.post("/api/auth/login", json={"email": "karim@email.com", "password": "nope"}), 401)
        response = login(browser, "KARIM@email.com", "karim123")
        assert "session=" in response.headers["set-cookie"] and "HttpOnly" in response.headers["set-cookie"]
        assert data(response)["username"] == "karim"
        identity = data(browser.get("/api/auth/me"))
        assert identity["auth_method"] == "session"
        assert (identity["key_type"], identity["permissions"], identity["rate_limit"]) == (None, None, None)
        assert browser.get("/api/auth/me").headers["X-RateLimit-Type"] == "user"
        key = data(browser.post("/api/keys", json={"name": "from session", "key_type": "user"}), 201)
        bearer = {"Authorization": f"Bearer {key['key']}"}
        assert httpx.get(mock.root + "/api/auth/me", headers=bearer, timeout=10).status_code == 200
        error(browser.post("/api/keys", json={"name": "k", "key_type": "organizer"}), 403, "key_type")
        error(browser.get("/api/admin/stats"), 403)
        assert browser.post("/api/auth/logout").json() == {"success": True, "message": "Logged out"}
        error(browser.get("/api/auth/me"), 401)
        assert browser.post("/api/auth/logout").status_code == 200  # no session: still fine


def test_sessions_act_for_the_account_type(mock):
    httpx.post(mock.root + "/__admin/reset", json={}, timeout=10).raise_for_status()
    with httpx.Client(base_url=mock.root, timeout=10) as organizer, \
            httpx.Client(base_url=mock.root, timeout=10) as admin:
        login(organizer, "org@techsociety.com.bd", "organizer123")
        # the document: organizers update their profile through a session (no organizer key has users:write)
        assert data(organizer.put("/api/users/me", json={"country": "India"}))["country"] == "India"
        assert data(organizer.post("/api/events", json={"name": "Session event", "organization_id": 3}), 201)
        error(organizer.get("/api/admin/users"), 403)
        login(admin, "admin@amarevents.zone.id", "admin123")
        assert data(admin.get("/api/admin/stats"))["users"] == 4


# --- ownership ---------------------------------------------------------------------------------

def test_organizers_act_only_on_their_own_organization(client):
    for method, path, body in [("PUT", "/api/events/20", {"name": "mine"}), ("DELETE", "/api/events/20", None),
                               ("GET", "/api/events/20/stats", None), ("GET", "/api/events/20/tickets", None),
                               ("POST", "/api/events", {"name": "x", "organization_id": 4}),
                               ("POST", "/api/ticket-types", {"event_id": 20, "name": "x"}),
                               ("PUT", "/api/ticket-types/7", {"price": 1}), ("DELETE", "/api/ticket-types/7", None),
                               ("PUT", "/api/tickets/45", {"status": "Failed"}),
                               ("POST", "/api/tickets/45/verify", None), ("DELETE", "/api/tickets/45", None),
                               ("PUT", "/api/organizations/4", {"notice": "x"}),
                               ("PUT", "/api/donations/7", {"status": "approved"})]:
        error(client.request(method, path, headers=ORGANIZER, json=body), 403, "organization you do not own")
    assert data(client.get("/api/events/20", headers=ORGANIZER))["name"] == "Rock Night"  # reading is public
    assert data(client.get("/api/events/20/stats", headers=ADMIN))["total"] == 1          # admins act on all


def test_users_see_only_their_own_tickets(client):
    assert sorted(ids(client.get("/api/tickets", headers=USER))) == [42, 45]
    assert sorted(ids(client.get("/api/users/me/tickets", headers=USER))) == [42, 45]
    detail = data(client.get("/api/tickets/42", headers=USER))
    assert detail["custom_fields"] == {"T-shirt size": "M"}
    error(client.get("/api/tickets/43", headers=USER), 403, "43")
    error(client.get("/api/tickets", headers=USER, params={"event_id": 10}), 403, "event_id")
    assert sorted(ids(client.get("/api/tickets", headers=ORGANIZER, params={"event_id": 10}))) == [42, 43, 44]
    assert ids(client.get("/api/tickets", headers=ORGANIZER, params={"event_id": 10, "status": "Failed"})) == [44]
    error(client.get("/api/tickets", headers=ORGANIZER, params={"event_id": 20}), 403)
    error(client.get("/api/tickets", headers=ORGANIZER, params={"event_id": 999}), 404, "event_id", "999")
    assert data(client.get("/api/tickets/43", headers=ORGANIZER))["name"] == "Nusrat Jahan"  # their event
    assert ids(client.get("/api/tickets", headers=ORGANIZER)) == []  # no tickets under the organizer's email


# --- life cycles -------------------------------------------------------------------------------

def test_event_life_cycle(client, anon):
    body = {"name": "Data Day", "organization_id": 3, "date": "2025-10-01", "category": "Workshop",
            "ticket_types": [{"name": "Standard", "price": 150, "capacity": 40}, {"name": "Free"}]}
    event = data(client.post("/api/events", headers=ORGANIZER, json=body), 201)
    assert event["privacy"] == "public" and event["location"] is None and event["deadline"] is None
    assert "ticket_types" not in event
    detail = data(anon.get(f"/api/events/{event['id']}"))
    types = {t["name"]: t for t in detail["ticket_types"]}
    assert (types["Standard"]["price"], types["Standard"]["sold"], types["Standard"]["available"]) == (150, 0, 40)
    assert (types["Free"]["price"], types["Free"]["capacity"], types["Free"]["available"]) == (0, 0, None)
    assert detail["fields"] == []
    assert event["id"] in ids(anon.get("/api/events", params={"organization_id": 3}))
    updated = data(client.put(f"/api/events/{event['id']}", headers=ORGANIZER,
                              json={"location": "Dhaka", "socials": {"x": "https://x.com/ts"}, "unknown": 1}))
    assert updated["location"] == "Dhaka" and updated["name"] == "Data Day" and "unknown" not in updated
    assert data(anon.get(f"/api/events/{event['id']}"))["socials"] == {"x": "https://x.com/ts"}
    response = client.delete(f"/api/events/{event['id']}", headers=ORGANIZER)
    assert response.json() == {"success": True, "message": "Event deleted"}
    error(anon.get(f"/api/events/{event['id']}"), 404, str(event["id"]))
    error(client.put(f"/api/events/{event['id']}", headers=ORGANIZER, json={"name": "x"}), 404)
    assert not [t for t in data(anon.get("/api/ticket-types", params={"event_id": 10}))
                if t["event_id"] == event["id"]]


def test_event_delete_cascades(client, anon, mock):
    assert anon.get("/api/events/10/gallery").json()["data"] and anon.get("/api/events/10/fields").json()["data"]
    assert client.delete("/api/events/10", headers=ORGANIZER).status_code == 200
    state = httpx.get(mock.root + "/__admin/state", timeout=10).json()
    for collection in ("tickets", "ticket_types", "custom_fields", "gallery"):
        assert not [r for r in state[collection] if r["event_id"] == 10], collection
    assert [r for r in state["tickets"] if r["event_id"] == 20]  # other events keep theirs
    error(client.get("/api/tickets/42", headers=ADMIN), 404)
    error(client.put("/api/ticket-types/4", headers=ADMIN, json={"price": 1}), 404)
    error(anon.get("/api/events/10/gallery"), 404)
    error(anon.get("/api/ticket-types", params={"event_id": 10}), 404, "event_id")


def test_ticket_life_cycle(client):
    ticket = data(client.post("/api/tickets", headers=USER, json={"event_id": 10, "ticket_type_id": 4,
                                                                  "transaction_id": "BK0001",
                                                                  "custom_fields": {"T-shirt size": "L"}}), 201)
    assert (ticket["status"], ticket["amount"], ticket["transid"]) == ("Pending", 300.0, "BK0001")
    assert (ticket["name"], ticket["email"]) == ("karim", "karim@email.com")  # defaults: the account's
    assert "transaction_id" not in ticket and "custom_fields" not in ticket
    assert data(client.get(f"/api/tickets/{ticket['id']}", headers=USER))["custom_fields"] == {"T-shirt size": "L"}
    assert ticket["id"] in ids(client.get("/api/users/me/tickets", headers=USER, params={"status": "Pending"}))
    error(client.put(f"/api/tickets/{ticket['id']}", headers=USER, json={"status": "Success"}), 403)
    updated = data(client.put(f"/api/tickets/{ticket['id']}", headers=ORGANIZER,
                              json={"status": "Success", "note": "paid", "amount": 250}))
    assert (updated["status"], updated["note"], updated["amount"]) == ("Success", "paid", 250)
    assert data(client.post(f"/api/tickets/{ticket['id']}/verify", headers=ORGANIZER))["valid"] is True
    assert data(client.post("/api/tickets/43/verify", headers=ORGANIZER))["valid"] is False  # Pending
    own = data(client.post("/api/tickets", headers=USER, json={"event_id": 12, "name": "Guest", "amount": 5}), 201)
    assert (own["ticket_type_id"], own["name"], own["amount"]) == (None, "Guest", 5.0)
    response = client.delete(f"/api/tickets/{ticket['id']}", headers=ORGANIZER)
    assert response.json() == {"success": True, "message": "Ticket deleted"}
    error(client.get(f"/api/tickets/{ticket['id']}", headers=USER), 404)
    error(client.post("/api/tickets", headers=USER, json={"event_id": 999}), 404, "event_id")
    error(client.post("/api/tickets", headers=USER, json={"event_id": 10, "ticket_type_id": 7}), 404, "ticket_type_id")
    error(client.post("/api/tickets", headers=USER, json={"event_id": 10, "amount": -1}), 400, "amount")


def test_registration_closes_on_the_deadline(client):
    today, yesterday = dt.date.today(), dt.date.today() - dt.timedelta(days=1)
    closing = data(client.post("/api/events", headers=ORGANIZER, json={
        "name": "Closes today", "organization_id": 3, "date": (today + dt.timedelta(days=9)).isoformat(),
        "deadline": today.isoformat(), "ticket_types": [{"name": "General", "capacity": 5}]}), 201)
    data(client.post("/api/tickets", headers=USER, json={"event_id": closing["id"]}), 201)  # its last day
    data(client.put(f"/api/events/{closing['id']}", headers=ORGANIZER, json={"deadline": yesterday.isoformat()}))
    for body in ({"event_id": closing["id"]}, {"event_id": 20, "ticket_type_id": 7}, {"event_id": 11}):
        error(client.post("/api/tickets", headers=USER, json=body), 409, "event_id", "closed", "deadline")
    assert data(client.get("/api/events/12/stats", headers=ORGANIZER))["total"] == 1
    data(client.post("/api/tickets", headers=USER, json={"event_id": 12}), 201)  # no deadline: open


def test_a_deadline_after_the_event_date_is_refused(client):
    body = {"name": "Summit", "organization_id": 3, "date": "2027-03-10"}
    error(client.post("/api/events", headers=ORGANIZER, json={**body, "deadline": "2027-03-11"}), 400, "deadline")
    event = data(client.post("/api/events", headers=ORGANIZER, json={**body, "deadline": "2027-03-10"}), 201)
    path = f"/api/events/{event['id']}"
    error(client.put(path, headers=ORGANIZER, json={"deadline": "2027-04-01"}), 400, "deadline", "2027-03-10")
    error(client.put(path, headers=ORGANIZER, json={"date": "2027-03-01"}), 400, "deadline", "2027-03-01")
    error(client.put(path, headers=ADMIN, json={"date": "2027-05-01", "deadline": "2027-05-02"}), 400, "deadline")
    moved = data(client.put(path, headers=ORGANIZER, json={"date": "2027-05-01", "deadline": "2027-04-20"}))
    assert (moved["date"], moved["deadline"]) == ("2027-05-01", "2027-04-20")
    undated = data(client.post("/api/events", headers=ORGANIZER, json={"name": "Someday", "organization_id": 3,
                                                                      "deadline": "2030-01-01"}), 201)
    assert undated["deadline"] == "2030-01-01"  # no date: nothing to compare


def test_ticket_types_capacity_availability_and_deletion(client, anon):
    ticket_type = data(client.post("/api/ticket-types", headers=ORGANIZER,
                                   json={"event_id": 10, "name": "Early bird", "capacity": 2}), 201)
    assert (ticket_type["price"], ticket_type["sold"], ticket_type["available"]) == (0, 0, 2)
    register = {"event_id": 10, "ticket_type_id": ticket_type["id"]}
    first = data(client.post("/api/tickets", headers=USER, json=register), 201)
    data(client.post("/api/tickets", headers=ADMIN, json=register), 201)
    error(client.post("/api/tickets", headers=USER, json=register), 409, "ticket_type_id", "sold out")
    listed = {t["id"]: t for t in data(anon.get("/api/ticket-types", params={"event_id": 10}))}
    assert (listed[ticket_type["id"]]["sold"], listed[ticket_type["id"]]["available"]) == (2, 0)
    # a failed ticket gives its place back; reviving it needs a free place again
    data(client.put(f"/api/tickets/{first['id']}", headers=ORGANIZER, json={"status": "Failed"}))
    data(client.post("/api/tickets", headers=USER, json=register), 201)
    error(client.put(f"/api/tickets/{first['id']}", headers=ORGANIZER, json={"status": "Pending"}), 409)
    # its capacity goes no lower than the places held (2: Pending and Success), to 0 (unlimited) or up freely
    error(client.put(f"/api/ticket-types/{ticket_type['id']}", headers=ORGANIZER, json={"capacity": 1}),
          409, "capacity", "2 places held")
    assert data(client.put(f"/api/ticket-types/{ticket_type['id']}", headers=ORGANIZER,
                           json={"capacity": 2, "name": "Early"}))["capacity"] == 2
    unlimited = data(client.put(f"/api/ticket-types/{ticket_type['id']}", headers=ORGANIZER, json={"capacity": 0}))
    assert (unlimited["capacity"], unlimited["available"], unlimited["sold"]) == (0, None, 2)
    data(client.post("/api/tickets", headers=USER, json=register), 201)
    # only a ticket type without approved tickets can go; its other tickets stay, typeless
    error(client.delete("/api/ticket-types/4", headers=ORGANIZER), 409, "approved")
    response = client.delete(f"/api/ticket-types/{ticket_type['id']}", headers=ORGANIZER)
    assert response.json() == {"success": True, "message": "Ticket type deleted"}
    assert data(client.get(f"/api/tickets/{first['id']}", headers=USER))["ticket_type_id"] is None
    stats = data(client.get("/api/events/10/stats", headers=ORGANIZER))
    assert {"ticket_type_id": None, "name": None, "total": 4, "approved": 0, "revenue": 0.0} in stats["by_ticket_type"]
    error(client.post("/api/ticket-types", headers=ORGANIZER, json={"event_id": 999, "name": "x"}), 404, "event_id")
    error(anon.get("/api/ticket-types"), 400, "event_id")


def test_organization_life_cycle(client, anon):
    created = data(client.post("/api/organizations", headers=ADMIN,
                               json={"name": "Karim Events", "user_id": 7000006, "description": "Small meetups"}), 201)
    assert (created["user_id"], created["plan"], created["notice"], created["eventcount"]) == (7000006, None, None, 0)
    detail = data(anon.get(f"/api/organizations/{created['id']}"))
    assert detail["events"] == [] and detail["name"] == "Karim Events"
    assert [e["id"] for e in data(anon.get("/api/organizations/3"))["events"]] == [12, 10]  # public, newest first
    changed = data(client.put("/api/organizations/3", headers=ORGANIZER,
                              json={"notice": "Summit tickets open", "plan": "pro", "eventcount": 99}))
    assert (changed["notice"], changed["plan"], changed["eventcount"]) == ("Summit tickets open", "free", 5)
    by_admin = data(client.put("/api/organizations/3", headers=ADMIN, json={"plan": "pro", "eventcount": 50}))
    assert (by_admin["plan"], by_admin["eventcount"]) == ("pro", 50)
    error(client.post("/api/organizations", headers=ADMIN, json={"name": "x", "user_id": 999}), 404, "user_id")
    error(anon.get("/api/organizations/999"), 404, "999")
    found = data(anon.get("/api/organizations", params={"search": "music"}))
    assert [o["name"] for o in found] == ["Dhaka Music Club"]


def test_donation_life_cycle_and_statuses(client, anon):
    donation = data(anon.post("/api/donations", json=request_example("createDonation")), 201)
    assert (donation["status"], donation["organization_id"], donation["note"]) == ("pending", 3, None)
    error(anon.post("/api/donations", json={**request_example("createDonation"), "organization_id": 999}),
          404, "organization_id")
    mine = ids(client.get("/api/donations", headers=ORGANIZER))
    assert sorted(mine) == sorted([5, 6, donation["id"]])  # organization 3's only
    assert ids(client.get("/api/donations", headers=ORGANIZER, params={"status": "verified"})) == [6]
    approved = data(client.put(f"/api/donations/{donation['id']}", headers=ORGANIZER, json={"status": "approved"}))
    assert approved["status"] == "verified"  # approved is stored as verified
    assert donation["id"] in ids(client.get("/api/donations", headers=ORGANIZER, params={"status": "verified"}))
    rejected = data(client.put(f"/api/donations/{donation['id']}", headers=ORGANIZER, json={"status": "rejected"}))
    assert rejected["status"] == "rejected"
    by_admin = data(client.put("/api/admin/donations/7", headers=ADMIN, json={"status": "verified"}))
    assert by_admin["status"] == "verified"
    error(client.put("/api/admin/donations/7", headers=ADMIN, json={"status": "approved"}), 400, "status")
    assert sorted(ids(client.get("/api/admin/donations", headers=ADMIN))) == sorted([5, 6, 7, 8, donation["id"]])
    error(client.put("/api/donations/999", headers=ORGANIZER, json={"status": "approved"}), 404, "999")


def test_own_profile_read_and_update(client, mock):
    organizer = data(client.get("/api/users/me", headers=ORGANIZER))
    assert organizer["organization"]["id"] == 3 and organizer["stats"] == {"tickets": 0, "events": 3, "api_keys": 1}
    user = data(client.get("/api/users/me", headers=USER))
    assert user["organization"] is None and user["stats"] == {"tickets": 2, "events": 0, "api_keys": 1}
    changed = data(client.put("/api/users/me", headers=USER, json={"country": "Nepal", "pfp": "p.png"}))
    assert (changed["country"], changed["pfp"]) == ("Nepal", "p.png")
    error(client.put("/api/users/me", headers=USER, json={"username": "TechSociety"}), 409, "username")
    error(client.put("/api/users/me", headers=USER, json={"password": "newpass1"}), 400, "current_password")
    error(client.put("/api/users/me", headers=USER, json={"password": "newpass1", "current_password": "bad"}),
          403, "current_password")
    data(client.put("/api/users/me", headers=USER, json={"password": "newpass1", "current_password": "karim123",
                                                         "username": "karim_r"}))
    with httpx.Client(base_url=mock.root, timeout=10) as browser:
        error(browser.post("/api/auth/login", json={"email": "karim@email.com", "password": "karim123"}), 401)
        assert data(login(browser, "karim@email.com", "newpass1"))["username"] == "karim_r"


def test_admin_users_life_cycle(client, anon):
    detail = data(client.get("/api/admin/users/7000005", headers=ADMIN))
    assert detail["organization"]["id"] == 3 and detail["ticket_count"] == 0
    assert [k["id"] for k in detail["api_keys"]] == [7100002] and "key" not in detail["api_keys"][0]
    assert data(client.get("/api/admin/users/7000006", headers=ADMIN))["ticket_count"] == 2
    promoted = data(client.put("/api/admin/users/7000006", headers=ADMIN, json={"promote_organizer": True}))
    assert promoted["type"] == "organizer"
    organization = data(client.get("/api/users/me", headers=USER))["organization"]
    assert organization["user_id"] == 7000006
    demoted = data(client.put("/api/admin/users/7000006", headers=ADMIN, json={"demote_organizer": True}))
    assert demoted["type"] == "user"
    error(client.put("/api/admin/users/7000006", headers=ADMIN, json={"email": "ORG@techsociety.com.bd"}), 409, "email")
    error(client.put("/api/admin/users/7000006", headers=ADMIN, json={"password": "short"}), 400, "password")
    response = client.delete("/api/admin/users/7000008", headers=ADMIN)  # dhakamusic: organization 4, events 20 and 21
    assert response.json() == {"success": True, "message": "User deleted"}
    error(client.get("/api/admin/users/7000008", headers=ADMIN), 404)
    error(anon.get("/api/organizations/4"), 404)
    error(anon.get("/api/events/20"), 404)
    error(client.get("/api/tickets/45", headers=ADMIN), 404)


def test_admin_lists_stats_plans_and_rate_limit_usage(client):
    stats = data(client.get("/api/admin/stats", headers=ADMIN))
    assert stats == {"users": 4, "organizers": 2, "organizations": 2, "events": 5, "tickets": 5, "donations": 4,
                     "api_keys": 3, "revenue": 800.0}
    assert [p["name"] for p in data(client.get("/api/admin/plans", headers=ADMIN))] == ["free", "pro"]
    client.get("/api/auth/me", headers=USER)
    usage = {row["api_key_id"]: row for row in data(client.get("/api/admin/rate-limits", headers=ADMIN))}
    assert usage[7100003]["requests"] == 1 and usage[7100003]["limit"] == 60 and usage[7100001]["requests"] >= 3
    events = client.get("/api/admin/events", headers=ADMIN, params={"privacy": "private"}).json()
    assert [e["id"] for e in events["data"]] == [11] and events["pagination"]["total"] == 1
    admins = data(client.get("/api/admin/users", headers=ADMIN, params={"admin": 1}))
    assert [u["username"] for u in admins] == ["admin"]
    organizers = data(client.get("/api/admin/users", headers=ADMIN, params={"type": "organizer", "search": "0180"}))
    assert [u["username"] for u in organizers] == ["techsociety"]
    client.put("/api/keys/7100003", headers=USER, json={"is_active": False})
    inactive = data(client.get("/api/admin/api-keys", headers=ADMIN, params={"active": 0}))
    assert [k["id"] for k in inactive] == [7100003]
    assert ids(client.get("/api/admin/api-keys", headers=ADMIN,
                      params={"key_type": "organizer", "user_id": 7000005})) == [7100002]


# --- validation, paging, filters -----------------------------------------------------------------

@pytest.mark.parametrize("path, body, field", [
    ("/api/auth/register", {"email": "a@b.co", "password": "secret1", "number": "1"}, "username"),
    ("/api/auth/register", {"username": "ab", "email": "a@b.co", "password": "secret1", "number": "1"}, "username"),
    ("/api/auth/register", {"username": "abc", "email": "not-an-email", "password": "secret1", "number": "1"}, "email"),
    ("/api/auth/register", {"username": "abc", "email": "a@b.co", "password": "12345", "number": "1"}, "password"),
    ("/api/auth/login", {"email": "karim@email.com"}, "password"),
    ("/api/donations", {**request_example("createDonation"), "amount": 0}, "amount"),
    ("/api/donations", {**request_example("createDonation"), "transaction_id": "BK1"}, "transaction_id"),
    ("/api/donations", {**request_example("createDonation"), "type": "paypal"}, "type"),
])
def test_invalid_public_bodies_get_400_naming_the_field(anon, path, body, field):
    error(anon.post(path, json=body), 400, field)


@pytest.mark.parametrize("body, field", [
    ({"organization_id": 3}, "name"),
    ({"name": "x"}, "organization_id"),
    ({"name": "x", "organization_id": 3, "date": "10-06-2025"}, "date"),
    ({"name": "x", "organization_id": 3, "category": "Party"}, "category"),
    ({"name": "x", "organization_id": 3, "privacy": "secret"}, "privacy"),
    ({"name": "x", "organization_id": 3, "ticket_types": [{"price": 10}]}, "name"),
    ({"name": "x", "organization_id": 3, "ticket_types": [{"name": "a", "capacity": -1}]}, "capacity"),
])
def test_invalid_event_bodies_get_400_naming_the_field(client, body, field):
    response = client.post("/api/events", headers=ORGANIZER, json=body)
    error(response, 400, field)
    assert response.headers["X-RateLimit-Type"] == "organizer"


@pytest.mark.parametrize("content, content_type", [
    (b'{"name": ', "application/json"), (b"\xff\xfe{}", "application/json"),
    (b"name=x", "application/x-www-form-urlencoded"), (b"", "application/json"), (b"[1, 2]", "application/json"),
])
def test_malformed_bodies_get_400_not_500(client, content, content_type):
    error(client.post("/api/events", headers={**ORGANIZER, "Content-Type": content_type}, content=content), 400)


def test_bad_path_ids_unknown_routes_and_methods(client, anon):
    error(client.put("/api/events/abc", headers=ORGANIZER, json={}), 400, "id")
    error(anon.get("/api/events/abc"), 400, "id")
    error(anon.get("/api/nothing"), 404)
    response = anon.patch("/api/events/10", json={})
    error(response, 405)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"page": 0}, {"limit": "ten"}, {"page": -1}])
def test_page_and_limit_out_of_bounds_get_400(anon, params):
    error(anon.get("/api/events", params=params), 400, next(iter(params)))


def test_pagination_first_last_and_past_the_end(client, anon):
    for n in range(7):
        data(client.post("/api/events", headers=ORGANIZER, json={"name": f"Meetup {n}", "organization_id": 3}), 201)
    total = 11  # four seeded public events, seven new ones
    default = anon.get("/api/events").json()
    assert default["pagination"] == {"total": total, "page": 1, "limit": 20, "pages": 1}
    first = anon.get("/api/events", params={"limit": 5}).json()
    assert first["pagination"] == {"total": total, "page": 1, "limit": 5, "pages": 3} and len(first["data"]) == 5
    last = anon.get("/api/events", params={"limit": 5, "page": 3}).json()
    assert len(last["data"]) == 1 and last["pagination"]["page"] == 3
    past = anon.get("/api/events", params={"limit": 5, "page": 4}).json()
    assert past["data"] == [] and past["pagination"]["total"] == total
    seen = [e["id"] for p in (1, 2, 3) for e in anon.get("/api/events", params={"limit": 5, "page": p}).json()["data"]]
    assert len(seen) == len(set(seen)) == total
    assert len(anon.get("/api/events", params={"limit": 100}).json()["data"]) == total


def test_event_filters_and_private_events(client, anon):
    def names(**params):
        return [e["name"] for e in anon.get("/api/events", params=params).json()["data"]]

    assert names(search="SUMMIT") == ["Tech Summit 2025"]
    assert names(search="chattogram") == ["Rock Night"]          # location
    assert names(search="flood relief") == ["Dhaka Charity Run"]  # description
    assert names(category="Concert") == ["Rock Night"]
    assert names(organization_id=4) == ["Rock Night", "Baul Festival"]
    assert names(organization_id=4, category="Cultural") == ["Baul Festival"]
    empty = anon.get("/api/events", params={"organization_id": 999}).json()
    assert empty["data"] == [] and empty["pagination"] == {"total": 0, "page": 1, "limit": 20, "pages": 0}
    assert "Private Hackathon" not in names(limit=100) and "Private Hackathon" not in names(search="hackathon")
    assert data(anon.get("/api/events/11"))["privacy"] == "private"  # unlisted, not hidden
    data(client.put("/api/events/11", headers=ORGANIZER, json={"privacy": "public"}))
    assert names(search="hackathon") == ["Private Hackathon"]


# --- rate limiting and concurrency ---------------------------------------------------------------

def test_rate_limit_429_per_key_with_a_small_window():
    settings = Settings(validate_responses=True, rate_limit_window=30,
                        rate_limits={"limits_by_key_type": {"user": 3, "organizer": 5, "admin": 5}})
    with running(SLUG, settings=settings) as small, httpx.Client(base_url=small.root, timeout=10) as c:
        statuses = [c.get("/api/users/me", headers=USER).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = c.get("/api/tickets", headers=USER)
        error(limited, 429, "Rate limit")
        assert 1 <= int(limited.headers["Retry-After"]) <= 30
        assert (limited.headers["X-RateLimit-Remaining"], limited.headers["X-RateLimit-Type"]) == ("0", "user")
        assert c.get("/api/users/me", headers=ORGANIZER).status_code == 200  # another key, its own window
        assert c.get("/api/events").status_code == 200                       # public: not counted
        error(c.get("/api/users/me", headers={"Authorization": "Bearer nope"}), 401)


def test_concurrent_registrations_never_oversell(client, mock):
    ticket_type = data(client.post("/api/ticket-types", headers=ORGANIZER,
                                   json={"event_id": 12, "name": "Limited", "capacity": 10}), 201)

    def register(n):
        with httpx.Client(base_url=mock.root, headers=ADMIN, timeout=20) as c:
            return c.post("/api/tickets", json={"event_id": 12, "ticket_type_id": ticket_type["id"],
                                                "name": f"Runner {n}", "email": f"r{n}@email.com"}).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(register, range(40)))
    assert statuses.count(201) == 10 and statuses.count(409) == 30
    listed = {t["id"]: t for t in data(client.get("/api/ticket-types", params={"event_id": 12}))}
    assert (listed[ticket_type["id"]]["sold"], listed[ticket_type["id"]]["available"]) == (10, 0)
    assert data(client.get("/api/events/12/stats", headers=ORGANIZER))["total"] == 11  # 10 + the seeded one


def test_concurrent_writes_lose_nothing(client, mock):
    def donate(n):
        with httpx.Client(base_url=mock.root, timeout=20) as c:
            return data(c.post("/api/donations", json={**request_example("createDonation"),
                                                       "transaction_id": f"TX{n:05d}"}), 201)["id"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        created = list(pool.map(donate, range(64)))
    assert len(set(created)) == 64
    listed = data(client.get("/api/admin/donations", headers=ADMIN))
    assert {d["id"] for d in listed} >= set(created) and len(listed) == 4 + 64

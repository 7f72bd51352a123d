"""Eventify mock over real HTTP: the document's examples, credentials in the body (missing,
invalid, mismatched, logged out), registration with unique email and phone number (also under
concurrent registrations), body filters, the month summary and the document's error words."""

from __future__ import annotations

import concurrent.futures

import httpx
import pytest

from apispec.model import contract

SLUG = "eventify"
TOKEN = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
AUTH = {"token": TOKEN, "username": "john_doe"}
JANE_TOKEN = "3b0f4c7e8d2a41f6a9e5c1d7b2f8a0e4c6d9b1a7"
EVENT_OPS = {  # every operation taking credentials: path -> (operationId, the rest of its example body)
    "/api/user/status/": ("getUserStatus", {}),
    "/api/events/type-list/": ("listEventTypes", {}),
    "/api/events/pincode-events/": ("listEventsByPincode", {"pincode": "560001"}),
    "/api/events/event-details/": ("getEventDetails", {"event_id": 1}),
    "/api/events/event-images/": ("listEventImages", {"event_id": 1}),
    "/api/events/events-by-category/": ("listEventsByCategory", {"category_id": 1}),
    "/api/events/events-by-month-year/": ("getEventsByMonthYear", {"month": "August", "year": 2025}),
    "/api/events/events-by-date/": ("listEventsByDate", {"date_of_event": "2025-08-15"}),
    "/api/user/logout/": ("logoutUser", {}),
}


def operation(operation_id: str):
    return contract(SLUG).operations[operation_id]


def documented(operation_id: str, status=None):
    """The document's example answer, as the spec carries it."""
    return operation(operation_id).response_example(status)


def documented_request(operation_id: str):
    return operation(operation_id).spec["requestBody"]["content"]["application/json"]["example"]


def error(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status", "message"} and body["status"] == "error", body
    return body["message"]


def post(client, path, body):
    return client.post(path, json=body)


def events_of(response) -> list[int]:
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success"
    return [event["id"] for event in response.json()["events"]]


# --- the document's examples -----------------------------------------------------------------------

def test_login_example_returns_the_documented_body(client):
    response = post(client, "/api/user/login/", documented_request("loginUser"))
    assert response.status_code == 200
    assert response.json() == documented("loginUser")


def test_login_accepts_the_username_too(client):
    response = post(client, "/api/user/login/", {"username": "john_doe", "password": "securepassword123"})
    assert response.status_code == 200 and response.json()["token"] == TOKEN


@pytest.mark.parametrize("operation_id, path", [("getUserStatus", "/api/user/status/"),
                                                ("listEventTypes", "/api/events/type-list/"),
                                                ("getEventDetails", "/api/events/event-details/"),
                                                ("listEventImages", "/api/events/event-images/"),
                                                ("logoutUser", "/api/user/logout/")])
def test_documented_requests_get_the_documented_answer(client, operation_id, path):
    response = post(client, path, documented_request(operation_id))
    assert response.status_code == 200
    assert response.json() == documented(operation_id)


def test_documented_event_types_include_the_null_icon(client):
    types = post(client, "/api/events/type-list/", AUTH).json()["event_types"]
    assert types[2] == {"id": 3, "event_type": "Conference", "event_type_icon": None}


@pytest.mark.parametrize("path, operation_id", [
    ("/api/events/pincode-events/", "listEventsByPincode"),
    ("/api/events/events-by-category/", "listEventsByCategory"),
])
def test_list_example_lists_the_music_festival(client, path, operation_id):
    response = post(client, path, documented_request(operation_id))
    (example,) = documented(operation_id)["events"]
    festival = next(e for e in response.json()["events"] if e["id"] == 1)
    # the document's list examples shorten the description the details example gives in full
    assert set(festival) == set(example)
    assert {k: v for k, v in festival.items() if k != "description"} == \
        {k: v for k, v in example.items() if k != "description"}


def test_date_example_lists_the_sports_championship_as_documented(client):
    # The document's answer also lists the Music Festival (10-20 August there); its other three
    # examples hold it on 15-17 June, which the fixtures follow.
    response = post(client, "/api/events/events-by-date/", documented_request("listEventsByDate"))
    sports = documented("listEventsByDate")["events"][1]
    assert response.json() == {"status": "success", "events": [sports]}


# --- credentials in the body --------------------------------------------------------------------------

@pytest.mark.parametrize("drop", [("token",), ("username",), ("token", "username")])
def test_missing_credentials_get_400_token_and_username_required(client, drop):
    for path, (_, extra) in EVENT_OPS.items():
        body = {k: v for k, v in {**AUTH, **extra}.items() if k not in drop}
        assert error(post(client, path, body), 400) == "token and username required", path


def test_unknown_token_gets_401_invalid_token(client):
    for path, (_, extra) in EVENT_OPS.items():
        response = post(client, path, {**AUTH, "token": "0" * 40, **extra})
        assert response.status_code == 401 and response.json() == {"status": "invalid_token"}, path


def test_token_of_another_user_gets_401_token_mismatch(client):
    for path, (_, extra) in EVENT_OPS.items():
        response = post(client, path, {"token": JANE_TOKEN, "username": "john_doe", **extra})
        assert error(response, 401) == "token does not match user", path


def test_credentials_of_the_wrong_type_get_400_naming_them(client):
    assert "token" in error(post(client, "/api/user/status/", {"token": 5, "username": "john_doe"}), 400)


@pytest.mark.parametrize("body", [{"username": "john_doe", "password": "wrong"},
                                  {"username": "user@example.com", "password": "wrong"},
                                  {"username": "nobody", "password": "securepassword123"}])
def test_wrong_login_gets_the_documented_401(client, body):
    response = post(client, "/api/user/login/", body)
    assert response.status_code == 401
    assert response.json() == documented("loginUser", 401)


@pytest.mark.parametrize("missing", ["username", "password"])
def test_login_without_a_field_gets_400_naming_it(client, missing):
    body = {k: v for k, v in {"username": "john_doe", "password": "x"}.items() if k != missing}
    response = post(client, "/api/user/login/", body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [missing]


def test_logout_invalidates_the_token_and_login_issues_a_new_one(client):
    assert post(client, "/api/user/logout/", AUTH).json()["status"] == "logged_out"
    for path in ("/api/user/status/", "/api/user/logout/", "/api/events/type-list/"):
        response = post(client, path, AUTH)
        assert response.status_code == 401 and response.json() == {"status": "invalid_token"}
    login = post(client, "/api/user/login/", {"username": "john_doe", "password": "securepassword123"}).json()
    assert login["token"] != TOKEN
    status = post(client, "/api/user/status/", {"token": login["token"], "username": "john_doe"})
    assert status.json() == {"status": "logged_in", "username": "john_doe", "email": "user@example.com"}


# --- registration ---------------------------------------------------------------------------------------

NEW_USER = {"email": "new.user@example.com", "phone_number": "+15550001111", "password": "n3w-password"}


def test_register_returns_a_working_token(client):
    response = post(client, "/api/user/register/", NEW_USER)
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == documented("registerUser")["message"]
    # a registered user's username is their email (the register body has no username)
    status = post(client, "/api/user/status/", {"token": body["token"], "username": NEW_USER["email"]})
    assert status.json() == {"status": "logged_in", "username": NEW_USER["email"], "email": NEW_USER["email"]}
    assert post(client, "/api/events/type-list/", {"token": body["token"], "username": NEW_USER["email"]}) \
        .status_code == 200
    login = post(client, "/api/user/login/", {"username": NEW_USER["email"], "password": NEW_USER["password"]})
    assert login.status_code == 200 and login.json()["token"] == body["token"]


def test_register_example_repeats_the_demo_user_and_gets_the_documented_400(client):
    response = post(client, "/api/user/register/", documented_request("registerUser"))
    assert response.status_code == 400
    assert response.json() == documented("registerUser", 400)


@pytest.mark.parametrize("field", ["email", "phone_number"])
def test_register_refuses_a_taken_email_or_phone_alone(client, field):
    taken = {"email": "user@example.com", "phone_number": "+1234567890"}
    response = post(client, "/api/user/register/", {**NEW_USER, field: taken[field]})
    assert response.status_code == 400
    assert response.json() == {"errors": {field: documented("registerUser", 400)["errors"][field]}}


def test_a_registered_email_cannot_register_twice(client):
    assert post(client, "/api/user/register/", NEW_USER).status_code == 201
    again = post(client, "/api/user/register/", {**NEW_USER, "phone_number": "+15550002222"})
    assert again.status_code == 400 and list(again.json()["errors"]) == ["email"]


def test_an_email_taken_in_other_letters_is_taken_too(client):
    """`x-unique`'s one rule: values compare ignoring case (here with the document's 400, `{status: 400}`)."""
    assert post(client, "/api/user/register/", NEW_USER).status_code == 201
    again = post(client, "/api/user/register/", {**NEW_USER, "email": NEW_USER["email"].upper(),
                                                 "phone_number": "+15550002222"})
    assert again.status_code == 400 and list(again.json()["errors"]) == ["email"]


@pytest.mark.parametrize("body, field", [
    ({"phone_number": "+1555", "password": "x"}, "email"),
    ({"email": "a@example.com", "password": "x"}, "phone_number"),
    ({"email": "a@example.com", "phone_number": "+1555"}, "password"),
    ({"email": "not-an-email", "phone_number": "+1555", "password": "x"}, "email"),
])
def test_invalid_registration_gets_400_naming_the_field(client, body, field):
    response = post(client, "/api/user/register/", body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field] and field in errors[field][0]


def test_concurrent_registrations_of_one_email_create_one_user(client, mock):
    def register(n):
        with httpx.Client(base_url=mock.root, timeout=20) as c:
            return c.post("/api/user/register/", json={"email": "race@example.com",
                                                       "phone_number": f"+1555{n:07d}", "password": "pw"})

    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
        responses = list(pool.map(register, range(40)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 1 and statuses.count(400) == 39
    assert all(list(r.json()["errors"]) == ["email"] for r in responses if r.status_code == 400)
    users = httpx.get(mock.root + "/__admin/state", timeout=10).json()["users"]
    assert [u["email"] for u in users].count("race@example.com") == 1


# --- event filters --------------------------------------------------------------------------------------

@pytest.mark.parametrize("pincode, expected", [("560001", [1, 2, 5]), ("400001", [3]), ("560034", [4]),
                                               ("999999", []), ("all", [1, 2, 3, 4, 5]), (None, [1, 2, 3, 4, 5])])
def test_events_by_pincode(client, pincode, expected):
    body = {**AUTH, **({"pincode": pincode} if pincode else {})}
    assert events_of(post(client, "/api/events/pincode-events/", body)) == expected


@pytest.mark.parametrize("category, expected", [(1, [1, 4, 5]), (2, [2]), (3, [3]), (4, [])])
def test_events_by_category(client, category, expected):
    response = post(client, "/api/events/events-by-category/", {**AUTH, "category_id": category})
    assert events_of(response) == expected
    assert all(e["event_type"] == category for e in response.json()["events"])


def test_category_events_show_their_primary_image(client):
    events = post(client, "/api/events/events-by-category/", {**AUTH, "category_id": 1}).json()["events"]
    jazz = next(e for e in events if e["id"] == 4)  # its primary image is not its first
    assert jazz["event_image"].endswith("/jazz_main.jpg")


@pytest.mark.parametrize("day, expected", [("2025-06-15", [1]), ("2025-06-17", [1]), ("2025-06-18", []),
                                           ("2025-08-15", [2]), ("2025-09-30", [3]), ("2025-10-02", [3]),
                                           ("2026-01-01", [5]), ("2024-01-01", [])])
def test_events_by_date_include_both_ends(client, day, expected):
    assert events_of(post(client, "/api/events/events-by-date/", {**AUTH, "date_of_event": day})) == expected


def test_event_details_and_images_of_other_events(client):
    details = post(client, "/api/events/event-details/", {**AUTH, "event_id": 2}).json()
    assert details["name"] == "Sports Championship" and details["images"][0]["is_primary"] is True
    images = post(client, "/api/events/event-images/", {**AUTH, "event_id": 4}).json()["images"]
    assert [i.rsplit("/", 1)[-1] for i in images] == ["jazz_1.jpg", "jazz_main.jpg"]


@pytest.mark.parametrize("path", ["/api/events/event-details/", "/api/events/event-images/"])
def test_unknown_event_gets_404(client, path):
    assert "99" in error(post(client, path, {**AUTH, "event_id": 99}), 404)


def month_of(client, month, year):
    response = post(client, "/api/events/events-by-month-year/", {**AUTH, "month": month, "year": year})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dates"] == [d["date_of_event"] for d in body["date_events"]]
    return body["total_number_of_events"], {d["date_of_event"]: d["events_of_date"] for d in body["date_events"]}


def test_month_counts_each_day_of_multi_day_events(client):
    total, days = month_of(client, "August", 2025)
    assert days == {"2025-08-10": 1, "2025-08-11": 1, "2025-08-15": 1}
    assert total == 2  # the jazz evenings count on both days but once in the total
    assert month_of(client, "June", 2025) == (1, {"2025-06-15": 1, "2025-06-16": 1, "2025-06-17": 1})


def test_month_keeps_only_the_days_inside_the_month(client):
    assert month_of(client, "sep", 2025) == (1, {"2025-09-29": 1, "2025-09-30": 1})
    assert month_of(client, "OCT", 2025) == (1, {"2025-10-01": 1, "2025-10-02": 1})
    assert month_of(client, "December", 2025) == (1, {"2025-12-31": 1})
    assert month_of(client, "jan", 2026) == (1, {"2026-01-01": 1})


def test_month_with_no_events_is_empty(client):
    assert month_of(client, "February", 2025) == (0, {})
    assert month_of(client, "May", 99999) == (0, {})


@pytest.mark.parametrize("month", ["August", "august", "AUGUST", "Aug", "aug", "aUg"])
def test_month_names_full_or_abbreviated_in_any_case(client, month):
    assert month_of(client, month, 2025)[0] == 2


# --- the document's error words ---------------------------------------------------------------------------

@pytest.mark.parametrize("path, body, message", [
    ("/api/events/events-by-category/", {}, "category_id is required"),
    ("/api/events/events-by-month-year/", {"year": 2025}, "month and year are required"),
    ("/api/events/events-by-month-year/", {"month": "August"}, "month and year are required"),
    ("/api/events/events-by-month-year/", {}, "month and year are required"),
    ("/api/events/events-by-month-year/", {"month": "InvalidMonth", "year": 2025}, "Invalid month name: InvalidMonth"),
    ("/api/events/events-by-month-year/", {"month": "Sept", "year": 2025}, "Invalid month name: Sept"),
    ("/api/events/events-by-date/", {}, "date_of_event is required"),
    ("/api/events/events-by-date/", {"date_of_event": "15-08-2025"}, "Invalid date format. Expected YYYY-MM-DD"),
    ("/api/events/events-by-date/", {"date_of_event": "2025-8-15"}, "Invalid date format. Expected YYYY-MM-DD"),
    ("/api/events/events-by-date/", {"date_of_event": "2025-02-30"}, "Invalid date format. Expected YYYY-MM-DD"),
])
def test_documented_error_messages_word_for_word(client, path, body, message):
    assert error(post(client, path, {**AUTH, **body}), 400) == message


@pytest.mark.parametrize("path, body, field", [
    ("/api/events/events-by-category/", {"category_id": "1"}, "category_id"),
    ("/api/events/events-by-category/", {"category_id": 0}, "category_id"),
    ("/api/events/event-details/", {"event_id": "one"}, "event_id"),
    ("/api/events/events-by-month-year/", {"month": "Aug", "year": "2025"}, "year"),
    ("/api/events/pincode-events/", {"pincode": 560001}, "pincode"),
])
def test_wrong_types_get_400_naming_the_field(client, path, body, field):
    assert field in error(post(client, path, {**AUTH, **body}), 400)


@pytest.mark.parametrize("content, content_type", [(b'{"token": ', "application/json"), (b"", "application/json"),
                                                   (b"token=x", "application/x-www-form-urlencoded"),
                                                   (b"[]", "application/json")])
def test_malformed_bodies_get_400_in_the_standard_body(client, content, content_type):
    response = client.post("/api/events/type-list/", content=content, headers={"Content-Type": content_type})
    assert error(response, 400)

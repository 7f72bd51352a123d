"""`x-embed`, `x-count`, `x-delete` (apispec/ext/related.py, mockserver/related.py), over HTTP: the
generic read shows a record with the records naming it, or their number; the generic delete is
refused while some of them are in a state, and leaves them changed."""

from __future__ import annotations

import httpx

from apispec import ext
from apispec.model import contract
from mockserver.app import Settings
from mockserver.testing import running

ORGANIZER = {"Authorization": "Bearer ae_o_demo"}
USER = {"Authorization": "Bearer ae_u_demo"}
ADMIN = {"Authorization": "Bearer ae_a_demo"}


def test_selection_matches_by_field_case_where_and_through():
    tables = {"organizations": [{"id": 1, "user_id": 7}, {"id": 2, "user_id": 8}],
              "events": [{"id": 10, "organization_id": 1, "privacy": "public"},
                         {"id": 11, "organization_id": 1, "privacy": "private"},
                         {"id": 12, "organization_id": 2, "privacy": "public"}],
              "tickets": [{"id": 1, "email": "A@x.org"}, {"id": 2, "email": "b@x.org"}]}
    user = {"id": 7, "email": "a@X.org"}
    through = {"collection": "events", "by": "organization_id", "through": {"collection": "organizations",
                                                                           "by": "user_id"}}
    assert [e["id"] for e in ext.related.select(through, user, tables.get)] == [10, 11]
    public = {"collection": "events", "by": "organization_id", "where": {"privacy": "public"}}
    assert [e["id"] for e in ext.related.select(public, {"id": 1}, tables.get)] == [10]
    by_email = {"collection": "tickets", "by": "email", "match": "email", "case": "insensitive"}
    assert [t["id"] for t in ext.related.select(by_email, user, tables.get)] == [1]


def test_the_spec_declares_the_rules():
    ops = contract("amarevents").operations
    embeds, counts = ext.related.shown(ops["getMe"])
    assert embeds["organization"]["one"] is True and set(counts["stats"]) == {"tickets", "events", "api_keys"}
    assert ext.related.delete_rule(ops["deleteTicketType"])["refuse_while"]["state"] == "approved"


def test_a_read_embeds_the_related_records_as_their_reads_show_them():
    with running("amarevents", settings=Settings()) as server, \
            httpx.Client(base_url=server.root, timeout=10) as http:
        kind = http.post("/api/ticket-types", headers=ORGANIZER,
                         json={"event_id": 10, "name": "Embedded", "capacity": 3}).json()["data"]
        assert http.post("/api/tickets", headers=USER, json={"event_id": 10, "ticket_type_id": kind["id"]}) \
            .status_code == 201
        event = http.get("/api/events/10").json()["data"]
        shown = next(t for t in event["ticket_types"] if t["id"] == kind["id"])
        assert (shown["sold"], shown["available"]) == (1, 2)  # the capacity view of the ticket type
        assert all(t["event_id"] == 10 for t in event["ticket_types"] + event["fields"])
        later = {"organization_id": 3, "name": "Later", "date": "2099-01-01", "privacy": "public"}
        hidden = {**later, "name": "Hidden", "date": "2099-02-01", "privacy": "private"}
        for body in (later, hidden):
            assert http.post("/api/events", headers=ORGANIZER, json=body).status_code == 201
        events = http.get("/api/organizations/3").json()["data"]["events"]
        assert events[0]["name"] == "Later" and all(e["privacy"] == "public" for e in events)
        dates = [e["date"] or "" for e in events]
        assert dates == sorted(dates, reverse=True)


def test_a_read_counts_the_related_records():
    with running("amarevents", settings=Settings()) as server, \
            httpx.Client(base_url=server.root, timeout=10) as http:
        before = http.get("/api/users/me", headers=USER).json()["data"]
        assert before["organization"] is None
        assert http.post("/api/tickets", headers=USER, json={"event_id": 10}).status_code == 201
        key = http.post("/api/keys", headers=USER, json={"name": "Another", "key_type": "user"})
        assert key.status_code == 201
        after = http.get("/api/users/me", headers=USER).json()["data"]["stats"]
        counted = before["stats"]
        assert (after["tickets"], after["api_keys"]) == (counted["tickets"] + 1, counted["api_keys"] + 1)
        detail = http.get(f"/api/admin/users/{before['id']}", headers=ADMIN).json()["data"]
        assert detail["ticket_count"] == after["tickets"] and len(detail["api_keys"]) == after["api_keys"]
        assert all("key" not in k and "_key" not in k for k in detail["api_keys"])
        organizer = http.get("/api/users/me", headers=ORGANIZER).json()["data"]
        assert organizer["organization"]["id"] == 3 and organizer["stats"]["events"] >= 1


def test_a_delete_is_refused_while_and_leaves_the_related_records_changed():
    with running("amarevents", settings=Settings()) as server, \
            httpx.Client(base_url=server.root, timeout=10) as http:
        kind = http.post("/api/ticket-types", headers=ORGANIZER,
                         json={"event_id": 10, "name": "Doomed"}).json()["data"]
        ticket = http.post("/api/tickets", headers=USER, json={"event_id": 10, "ticket_type_id": kind["id"]})
        ticket_id = ticket.json()["data"]["id"]
        assert http.put(f"/api/tickets/{ticket_id}", headers=ORGANIZER, json={"status": "Success"}).status_code == 200
        refused = http.delete(f"/api/ticket-types/{kind['id']}", headers=ORGANIZER)
        assert refused.status_code == 409 and "has 1 approved ticket(s) and cannot be deleted" in refused.text
        assert http.put(f"/api/tickets/{ticket_id}", headers=ORGANIZER, json={"status": "Pending"}).status_code == 200
        assert http.delete(f"/api/ticket-types/{kind['id']}", headers=USER).status_code == 403
        assert http.delete(f"/api/ticket-types/{kind['id']}", headers=ORGANIZER).status_code == 200
        left = http.get(f"/api/tickets/{ticket_id}", headers=ORGANIZER).json()["data"]
        assert left["ticket_type_id"] is None


def test_a_list_refuses_a_parameter_naming_no_record_and_shows_availability():
    with running("amarevents", settings=Settings()) as server, \
            httpx.Client(base_url=server.root, timeout=10) as http:
        missing = http.get("/api/ticket-types", params={"event_id": 999})
        assert missing.status_code == 404 and "event_id" in missing.text  # x-refers-to on the parameter
        kind = http.post("/api/ticket-types", headers=ORGANIZER,
                         json={"event_id": 10, "name": "Listed", "capacity": 2}).json()["data"]
        listed = {t["id"]: t for t in http.get("/api/ticket-types", params={"event_id": 10}).json()["data"]}
        assert (listed[kind["id"]]["sold"], listed[kind["id"]]["available"]) == (0, 2)

"""`x-before` / `x-after` (apispec/ext/dates.py, mockserver/dates.py): one check, every form of the
rule, over HTTP: another field of the same record (on create, and on update against the stored
dates), `today`, and a field of the record a reference names."""

from __future__ import annotations

import datetime as dt

import httpx

from apispec import ext
from apispec.model import contract
from apispec.schema import record_schema
from mockserver.app import Settings
from mockserver.testing import running

ORGANIZER = {"Authorization": "Bearer ae_o_demo"}
USER = {"Authorization": "Bearer ae_u_demo"}


def test_the_specs_declare_the_rules_the_check_reads():
    def rules(slug, operation_id):
        schema = record_schema(contract(slug).operations[operation_id].response_schema())
        return {(r["name"], r["direction"], r["field"], r["of"], r["status"]) for r in ext.dates.rules(schema)}
    assert ("endDate", "after", "startDate", None, 400) in rules("ecoevents", "createEvent")
    assert ("deadline", "before", "date", None, 400) in rules("amarevents", "createEvent")
    assert ("created_at", "before", "deadline", "event_id", 409) in rules("amarevents", "createTicket")
    assert ("expires_at", "after", "today", None, 400) in rules("amarevents", "createKey")


def test_every_form_of_the_rule_over_http():
    today = dt.date.today()
    with running("amarevents", settings=Settings()) as server, \
            httpx.Client(base_url=server.root, timeout=10) as http:
        # the same record's field: on create, then on update against what is stored
        body = {"organization_id": 3, "name": "Order", "date": "2030-05-10", "deadline": "2030-05-11"}
        refused = http.post("/api/events", headers=ORGANIZER, json=body)
        assert refused.status_code == 400 and "deadline: 2030-05-11 is after date 2030-05-10" in refused.text
        event = http.post("/api/events", headers=ORGANIZER, json={**body, "deadline": "2030-05-10"}).json()["data"]
        moved = http.put(f"/api/events/{event['id']}", headers=ORGANIZER, json={"date": "2030-05-09"})
        assert moved.status_code == 400 and "registration must close" in moved.text
        # a field of the record a reference names: the event's deadline, against the ticket's creation day
        http.put(f"/api/events/{event['id']}", headers=ORGANIZER,
                 json={"deadline": (today - dt.timedelta(days=1)).isoformat()})
        closed = http.post("/api/tickets", headers=USER, json={"event_id": event["id"]})
        assert closed.status_code == 409 and f"event_id: {today.isoformat()} is after event" in closed.text
        # today
        past = http.post("/api/keys", headers=USER, json={"name": "k", "key_type": "user", "expires_at": "2001-01-01"})
        assert past.status_code == 400 and f"is before today {today.isoformat()}" in past.text

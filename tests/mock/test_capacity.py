"""`x-capacity` (apispec/ext/capacity.py, mockserver/capacity.py), over HTTP: the generic create and
update never oversell a quantity nor lower it below the places held, and show the availability."""

from __future__ import annotations

import httpx

from apispec import ext
from apispec.model import contract
from mockserver.app import Settings
from mockserver.testing import running

ORGANIZER = {"Authorization": "Bearer ae_o_demo"}
USER = {"Authorization": "Bearer ae_u_demo"}


def test_the_spec_declares_the_rule():
    rule = ext.capacity.of(contract("amarevents"))["ticket_types"]
    assert (rule["field"], rule["counts"], rule["by"]) == ("capacity", "tickets", "ticket_type_id")
    assert set(ext.capacity.holding(contract("amarevents"), rule)) == {"Pending", "Success"}


def test_places_are_counted_by_the_generic_actions():
    with running("amarevents", settings=Settings()) as server, \
            httpx.Client(base_url=server.root, timeout=10) as http:
        created = http.post("/api/ticket-types", headers=ORGANIZER, json={"event_id": 10, "name": "One", "capacity": 1})
        kind = created.json()["data"]
        assert created.status_code == 201 and (kind["sold"], kind["available"]) == (0, 1)
        ticket = {"event_id": 10, "ticket_type_id": kind["id"]}
        assert http.post("/api/tickets", headers=USER, json=ticket).status_code == 201
        full = http.post("/api/tickets", headers=USER, json={"event_id": 10, "ticket_type_id": kind["id"]})
        assert full.status_code == 409 and "sold out, all 1 places are taken" in full.text
        lowered = http.put(f"/api/ticket-types/{kind['id']}", headers=ORGANIZER, json={"capacity": 0})
        data = lowered.json()["data"]
        assert lowered.status_code == 200 and (data["sold"], data["available"]) == (1, None)

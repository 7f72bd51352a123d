"""Tickets mock over real HTTP: the document's examples, token auth, link pagination, filters
through related objects (url-id), validation and concurrency."""

from __future__ import annotations

import concurrent.futures
import json
import re

import httpx
import pytest

from apispec.model import contract

SLUG = "tickets"
TOKEN = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
HEADERS = {"Authorization": f"Token {TOKEN}"}

FESTIVAL = "166a1ddb-492c-49a0-a84c-2465b9b43f01"
JAZZ = "1bfbdf02-dd90-4bd6-86ca-227d4db8758f"
SUMMIT = "efdb7361-2de3-4938-9148-1839c8de02b8"  # an event with no products
PRIMARY, SECOND = "6a25ee66-d54d-4f89-b2c4-4bcc18fe0cf4", "37109c3a-c262-4fa8-a95a-517b71785aaf"
GENERAL, VIP = "d55fc97b-65c5-4b34-83ec-18e05242b168", "62711b76-f5a4-40c5-b356-533783fc6846"
STANDING = "9d8064c4-a065-41f4-a7f9-0bac6da62506"
LISTS = ["/api/events/", "/api/products/", "/api/product_groups/", "/api/product_availabilities/",
         "/api/payment_methods/"]


PRODUCTION = "https://tickets.namespace.ee/api/"


def documented(operation_id: str, on=None):
    """The document's example answer, as the spec carries it; `on` a mock's root: with its links to
    the production API as links to that mock (as the mock answers them)."""
    example = contract(SLUG).operations[operation_id].response_example()
    if on is None:
        return example
    return json.loads(json.dumps(example).replace(PRODUCTION, f"{on}/api/"))


def detail_of(response) -> str:
    body = response.json()
    assert set(body) == {"detail"}, body
    return body["detail"]


def field_errors(response) -> dict:
    body = response.json()
    assert body and all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body.values()), body
    return body


def next_link(response) -> str | None:
    match = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers.get("Link", ""))
    return match.group(1) if match else None


def ids(response) -> list[str]:
    return [item["id"] for item in response.json()]


# --- the document's examples ---------------------------------------------------------------------

@pytest.mark.parametrize("operation_id, path", [
    ("getEvent", f"/api/events/{FESTIVAL}/"),
    ("getProduct", f"/api/products/{SECOND}/"),
    ("getProductGroup", f"/api/product_groups/{GENERAL}/"),
    ("getPaymentMethod", "/api/payment_methods/6f527b0c-9025-468d-ad6c-d7ea04105edb/"),
])
def test_documented_objects_read_as_in_the_document(client, operation_id, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == documented(operation_id, client.base_url)


@pytest.mark.parametrize("operation_id, path", [
    ("listEvents", "/api/events/"),
    ("listProducts", "/api/products/"),
    ("listProductGroups", "/api/product_groups/"),
    ("listProductAvailabilities", "/api/product_availabilities/"),
    ("listPaymentMethods", "/api/payment_methods/"),
])
def test_documented_list_items_are_all_listed(client, operation_id, path):
    listed = client.get(path, params={"page_size": 100})
    assert listed.status_code == 200
    for item in documented(operation_id, client.base_url):
        assert item in listed.json()


def test_documented_lists_as_the_document_filters_them(client):
    # the document's product and group lists are those of its one event
    groups = client.get("/api/product_groups/", params={"event": FESTIVAL}).json()
    assert groups == documented("listProductGroups", client.base_url)
    availabilities = client.get("/api/product_availabilities/", params={"product": PRIMARY}).json()
    assert availabilities == documented("listProductAvailabilities", client.base_url)[:1]


# --- authentication ------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"Authorization": "Token wrong"}, {"Authorization": TOKEN},
                                     {"Authorization": f"Bearer {TOKEN}"}, {"Authorization": "Token"}])
def test_missing_or_wrong_token_gets_401_with_challenge(anon, headers):
    response = anon.get("/api/events/", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert detail_of(response)


def test_token_prefix_is_case_insensitive_like_drf(anon):
    assert anon.get("/api/events/", headers={"Authorization": f"token {TOKEN}"}).status_code == 200


def test_authenticate_returns_a_working_token(anon):
    response = anon.post("/api/authenticate/", json={"username": "demo@example.com", "password": "demo-password"})
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == TOKEN
    assert anon.get("/api/events/", headers={"Authorization": f"Token {token}"}).status_code == 200


def test_authenticate_with_the_specs_example_returns_the_documented_token(anon):
    operation = contract(SLUG).operations["obtainAuthToken"]
    example = operation.spec["requestBody"]["content"]["application/json"]["example"]
    response = anon.post("/api/authenticate/", json=example)
    assert response.status_code == 200 and response.json() == documented("obtainAuthToken")


@pytest.mark.parametrize("body", [{"username": "demo@example.com", "password": "wrong"},
                                  {"username": "nobody@example.com", "password": "demo-password"}])
def test_wrong_credentials_get_the_specs_401(anon, body):
    response = anon.post("/api/authenticate/", json=body)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Unable to log in with provided credentials."}


@pytest.mark.parametrize("body, field", [({"password": "x"}, "username"),
                                         ({"username": "demo@example.com"}, "password"),
                                         ({"username": "not-an-email", "password": "x"}, "username"),
                                         ({"username": "demo@example.com", "password": 5}, "password")])
def test_invalid_credentials_body_gets_400_naming_the_field(anon, body, field):
    response = anon.post("/api/authenticate/", json=body)
    assert response.status_code == 400
    errors = field_errors(response)
    assert list(errors) == [field] and field in errors[field][0]


# --- detail routes ---------------------------------------------------------------------------------

def test_slashless_detail_path_is_redirected(client):
    response = client.get(f"/api/events/{FESTIVAL}", params={"x": "1"}, follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["Location"] == f"/api/events/{FESTIVAL}/?x=1"
    followed = client.get(f"/api/events/{FESTIVAL}", follow_redirects=True)
    assert followed.status_code == 200 and followed.json()["id"] == FESTIVAL


def test_unknown_and_malformed_ids(client):
    missing = client.get("/api/products/00000000-0000-4000-8000-000000000000/")
    assert missing.status_code == 404 and "00000000-0000-4000-8000-000000000000" in detail_of(missing)
    malformed = client.get("/api/products/not-a-uuid/")
    assert malformed.status_code == 400 and "id" in field_errors(malformed)


def test_url_fields_name_the_objects_themselves_on_the_mock(client):
    """The records hold the documented production URLs; the answers link to the mock itself, on the
    origin the request came to, and following a link reads the object."""
    for path in ("/api/events/", "/api/products/", "/api/product_groups/", "/api/payment_methods/"):
        for item in client.get(path, params={"page_size": 100}).json():
            assert item["url"] == f"{client.base_url}{path}{item['id']}/"
            assert client.get(item["url"]).json() == item
    product = client.get(f"/api/products/{SECOND}/").json()
    assert product["event"] == f"{client.base_url}/api/events/{FESTIVAL}/"
    assert client.get(product["group"]).status_code == 200
    by_name = client.get(f"/api/events/{FESTIVAL}/", headers={"Host": "localhost:3000"}).json()
    assert by_name["url"] == f"http://localhost:3000/api/events/{FESTIVAL}/"
    assert all(e["url"].startswith(PRODUCTION) for e in client.get("/__admin/state").json()["events"])


# --- pagination ------------------------------------------------------------------------------------

def test_link_header_leads_through_every_page(client):
    everything = ids(client.get("/api/products/", params={"page_size": 100}))
    assert len(everything) == 6
    seen, url, pages = [], "/api/products/?page_size=4", 0
    while url and pages < 10:
        page = client.get(url)
        assert page.status_code == 200
        seen += ids(page)
        url, pages = next_link(page), pages + 1
    assert pages == 2 and seen == everything


def test_first_and_last_page(client):
    first = client.get("/api/events/", params={"page_size": 2})
    assert len(first.json()) == 2
    assert next_link(first).startswith(str(client.base_url))
    last = client.get("/api/events/", params={"page_size": 2, "page": 2})
    assert ids(last) == [SUMMIT]
    assert "Link" not in last.headers
    assert "Link" not in client.get("/api/events/").headers  # everything fits on the default page


def test_link_keeps_the_filters(client):
    first = client.get("/api/products/", params={"event": FESTIVAL, "page_size": 3})
    link = next_link(first)
    assert f"event={FESTIVAL}" in link and "page_size=3" in link and "page=2" in link
    second = client.get(link)
    assert len(second.json()) == 1 and second.json()[0]["event"].endswith(f"/{FESTIVAL}/")
    assert "Link" not in second.headers


@pytest.mark.parametrize("path", LISTS)
def test_page_past_the_end_is_404_invalid_page(client, path):
    response = client.get(path, params={"page": 50})
    assert response.status_code == 404
    assert detail_of(response).startswith("Invalid page")


def test_page_one_of_an_empty_result_is_an_empty_list(client):
    response = client.get("/api/products/", params={"event": SUMMIT})
    assert response.status_code == 200 and response.json() == []
    assert "Link" not in response.headers
    assert client.get("/api/products/", params={"event": SUMMIT, "page": 2}).status_code == 404


@pytest.mark.parametrize("params, field", [({"page": 0}, "page"), ({"page": "two"}, "page"),
                                           ({"page_size": 0}, "page_size"), ({"page_size": 101}, "page_size"),
                                           ({"page_size": "many"}, "page_size")])
def test_page_parameters_out_of_bounds_get_400_naming_them(client, params, field):
    response = client.get("/api/events/", params=params)
    assert response.status_code == 400
    assert list(field_errors(response)) == [field]


def test_page_size_bounds_are_inclusive(client):
    assert len(client.get("/api/products/", params={"page_size": 1}).json()) == 1
    assert len(client.get("/api/products/", params={"page_size": 100}).json()) == 6


# --- filters -----------------------------------------------------------------------------------------

def test_products_by_event_and_group(client):
    jazz = client.get("/api/products/", params={"event": JAZZ}).json()
    assert len(jazz) == 2 and all(p["event"].endswith(f"/{JAZZ}/") for p in jazz)
    vip = client.get("/api/products/", params={"product_group": VIP}).json()
    assert [p["name"] for p in vip] == ["VIP Ticket"]
    both = client.get("/api/products/", params={"event": JAZZ, "product_group": STANDING}).json()
    assert [p["name"] for p in both] == ["Day Pass"]
    crossed = client.get("/api/products/", params={"event": FESTIVAL, "product_group": STANDING})
    assert crossed.status_code == 200 and crossed.json() == []


def test_product_groups_by_event(client):
    assert [g["name"] for g in client.get("/api/product_groups/", params={"event": JAZZ}).json()] == \
        ["Standing", "Seated"]
    assert client.get("/api/product_groups/", params={"event": SUMMIT}).json() == []


def test_availabilities_filter_through_their_product(client):
    def products(**params):
        return [a["product"].rsplit("/", 2)[-2] for a in client.get("/api/product_availabilities/",
                                                                      params=params).json()]

    festival = products(event=FESTIVAL)
    assert len(festival) == 4 and PRIMARY in festival
    assert set(festival).isdisjoint(products(event=JAZZ))
    assert products(product_group=GENERAL) == [PRIMARY]
    assert products(product=SECOND) == [SECOND]
    assert products(event=JAZZ, product_group=GENERAL) == []
    assert products(event=SUMMIT) == []


def test_payment_methods_by_type_and_option(client):
    pos = client.get("/api/payment_methods/", params={"type": "pos"}).json()
    assert {m["option"] for m in pos} == {"external", "cash"}
    external = client.get("/api/payment_methods/", params={"type": "pos", "options": "external"}).json()
    assert external == documented("listPaymentMethods", client.base_url)
    assert client.get("/api/payment_methods/", params={"type": "crypto"}).json() == []


@pytest.mark.parametrize("path, param", [("/api/products/", "event"), ("/api/products/", "product_group"),
                                         ("/api/product_groups/", "event"),
                                         ("/api/product_availabilities/", "product")])
def test_malformed_uuid_filter_gets_400_naming_it(client, path, param):
    response = client.get(path, params={param: "not-a-uuid"})
    assert response.status_code == 400
    assert list(field_errors(response)) == [param]


# --- concurrency -----------------------------------------------------------------------------------

def test_concurrent_clients_each_get_a_token_and_every_page(client, mock):
    everything = ids(client.get("/api/products/", params={"page_size": 100}))

    def session(n):
        with httpx.Client(base_url=mock.root, timeout=20) as c:
            token = c.post("/api/authenticate/", json={"username": "demo@example.com",
                                                      "password": "demo-password"}).json()["token"]
            seen, url = [], f"/api/products/?page_size={1 + n % 3}"
            for _ in range(10):
                page = c.get(url, headers={"Authorization": f"Token {token}"})
                seen += ids(page)
                url = next_link(page)
                if url is None:
                    break
            return token, seen

    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(session, range(32)))
    assert {token for token, _ in results} == {TOKEN}
    assert all(seen == everything for _, seen in results)

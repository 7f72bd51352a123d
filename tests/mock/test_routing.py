"""The route stage (mockserver/routing.py) on paths no spec of ours has: two templates that match
the same path (the spec's order decides, as Connexion's router did), HEAD, 405, the slash redirect."""

from mockserver.routing import FOUND, NOT_ALLOWED, NOT_FOUND, REDIRECT, Router


def _scope(method, path, query=b""):
    return {"type": "http", "method": method, "path": path, "query_string": query, "scheme": "http",
            "server": ("mock", 80), "headers": [(b"host", b"mock")], "root_path": ""}


def _router():
    router = Router()
    router.add("/events/{id}", "GET", "read")
    router.add("/events/stats", "GET", "stats")       # written after the template that also matches it
    router.add("/events/stats", "DELETE", "reset")
    router.add("/users/{user-id}/tickets", "POST", "buy")
    return router


def test_the_first_route_in_the_specs_order_serves_an_ambiguous_path():
    router = _router()
    match = router.match(_scope("GET", "/events/stats"))
    assert (match.kind, match.target, match.path_params) == (FOUND, "read", {"id": "stats"})
    assert router.match(_scope("DELETE", "/events/stats")).target == "reset"  # a later route, another method


def test_head_is_served_as_get_and_other_methods_are_405():
    router = _router()
    assert router.match(_scope("HEAD", "/events/7")).target == "read"
    assert router.match(_scope("PUT", "/events/7")).kind == NOT_ALLOWED


def test_a_parameter_name_with_a_dash_is_read_with_an_underscore():
    match = _router().match(_scope("POST", "/users/u1/tickets"))
    assert (match.target, match.path_params) == ("buy", {"user_id": "u1"})


def test_a_path_off_by_its_trailing_slash_is_redirected_with_its_query():
    match = _router().match(_scope("GET", "/events/7/", b"a=1"))
    assert (match.kind, match.location) == (REDIRECT, "http://mock/events/7?a=1")


def test_anything_else_is_404():
    router = _router()
    assert router.match(_scope("GET", "/nowhere")).kind == NOT_FOUND
    assert router.match(_scope("GET", "/")).kind == NOT_FOUND
    assert router.match(_scope("GET", "/events/7/more")).kind == NOT_FOUND

"""Who may use the control surface (/__admin): checked on every admin call, before it runs.

    Host        only loopback names (127.0.0.1, localhost, [::1], any port), or those given with
                `--allowed-host NAME...` (`*`: any): a page that rebinds its own DNS name to 127.0.0.1
                still sends its own name, and gets 403
    Origin      a browser's request from another origin (its `Origin` is not this mock's own) gets 403,
                preflights included: only the mock's own console may call it (CORS for /__admin admits
                no other origin, whatever --cors says for the API)
    token       with `--admin-token TOKEN`: `Authorization: Bearer TOKEN` on every call, else 401; only
                the console page itself (static HTML holding no data) loads without it
    JSON only   POST, PUT, PATCH and DELETE need `Content-Type: application/json` (415 otherwise): a
                browser cannot send that across origins without a preflight, which is refused

Every refusal is JSON, `{"error": "..."}`, as the rest of the control surface answers.
"""

from __future__ import annotations

import hmac
import ipaddress

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def host_name(host: str | None) -> str | None:
    """The name in a Host header, without its port: `[::1]:8001` -> `::1`, `LocalHost.:80` -> `localhost`."""
    if not host:
        return None
    host = host.strip().lower()
    if host.startswith("["):
        name = host[1:].split("]", 1)[0]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name.rstrip(".")


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the mock on this machine."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_every_interface(host: str) -> bool:
    return host.strip("[]") in ("0.0.0.0", "::", "")


class Guard:
    def __init__(self, token: str | None = None, allowed_hosts=()):
        self.token = token or None
        allowed = {host_name(h) or h for h in allowed_hosts}
        self.any_host = "*" in allowed
        self.hosts = LOOPBACK_NAMES | allowed

    def refusal(self, scope, path: str, method: str) -> JSONResponse | None:
        """None when the call may go on; else the answer refusing it."""
        headers = Headers(scope=scope)
        host = headers.get("host")
        if not self.any_host and host_name(host) not in self.hosts:
            return JSONResponse({"error": f"Host {host!r} is not allowed on /__admin: only loopback names "
                                          f"(127.0.0.1, localhost, [::1]) are, unless mockserver serve "
                                          f"--allowed-host names it"}, status_code=403)
        origin = headers.get("origin")
        own = f"{scope.get('scheme', 'http')}://{host}"
        if origin is not None and origin.lower() != own.lower():
            return JSONResponse({"error": f"/__admin answers only its own console ({own}), not a page on "
                                          f"{origin}"}, status_code=403)
        if self.token and not (path == "" and method in ("GET", "HEAD")):
            scheme, _, given = (headers.get("authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
                return JSONResponse({"error": "/__admin needs the admin token: Authorization: Bearer TOKEN "
                                              "(the --admin-token the mock was started with)"},
                                    status_code=401, headers={"WWW-Authenticate": 'Bearer realm="mockserver admin"'})
        if method in _CHANGES:
            media = (headers.get("content-type") or "").split(";", 1)[0].strip().lower()
            if media != "application/json":
                return JSONResponse({"error": f"{method} /__admin{path} takes only JSON: send "
                                              f"Content-Type: application/json (got {media or 'none'})"},
                                    status_code=415)
        return None

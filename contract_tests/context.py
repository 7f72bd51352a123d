"""What a contract run knows beyond the spec: where the server is and which credentials to use.

Schemathesis checks and hooks are plain global functions; each finds the run of the case it is
given with `run_for(case)`.
"""

from __future__ import annotations

import dataclasses
import http.cookiejar
import os
import threading
import weakref

import requests
import yaml

from apispec.load import FIXTURES_DIR
from apispec.model import Contract, contract, slug_of


@dataclasses.dataclass
class Identity:
    """One way of calling the API: headers to send and/or credential fields for the body."""

    role: str
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    body: dict[str, str] = dataclasses.field(default_factory=dict)
    login: dict[str, str] = dataclasses.field(default_factory=dict)  # body for the login operation


@dataclasses.dataclass
class Credentials:
    default: Identity
    roles: dict[str, Identity] = dataclasses.field(default_factory=dict)

    def use_default_headers(self, headers: dict[str, str]) -> None:
        """The run's own identity sends `headers` instead. The demo default is often also a role
        (Amar's admin key): that role keeps its own headers."""
        self.default = dataclasses.replace(self.default, role="default", headers=dict(headers),
                                           body=dict(self.default.body), login=dict(self.default.login))

    @classmethod
    def from_entries(cls, entries: list[dict]) -> Credentials:
        """From `credentials:` entries: {role?, header: "Name: value"} or {role?, body: {...}}."""
        identities = []
        for entry in entries or []:
            role = entry.get("role", "default")
            headers = {}
            if entry.get("header"):
                name, _, value = entry["header"].partition(":")
                headers[name.strip()] = value.strip()
            identities.append(Identity(role, headers, dict(entry.get("body") or {}), dict(entry.get("login") or {})))
        if not identities:
            return cls(Identity("anonymous"))
        roles = {i.role: i for i in identities}
        default = roles.get("default") or identities[-1]
        return cls(default, roles)


def demo_credentials(slug: str) -> Credentials:
    """The mock's demo credentials (`fixtures/<slug>.yaml`), the defaults of every run."""
    path = FIXTURES_DIR / f"{slug}.yaml"
    if not path.exists():
        return Credentials(Identity("anonymous"))
    with open(path, encoding="utf-8") as fh:
        return Credentials.from_entries((yaml.safe_load(fh) or {}).get("credentials", []))


def from_environment(slug: str, credentials: Credentials) -> Credentials:
    """Override demo credentials from CONTRACT_<ROLE>_HEADER / CONTRACT_BODY_<FIELD> variables."""
    for role in [*credentials.roles, "default"]:
        value = os.environ.get(f"CONTRACT_{role.upper()}_HEADER")
        if value:
            name, _, rest = value.partition(":")
            headers = {name.strip(): rest.strip()}
            if role == "default":
                credentials.use_default_headers(headers)
                continue
            old = credentials.roles.get(role)
            credentials.roles[role] = new = dataclasses.replace(old, headers=headers)
            if credentials.default is old:  # the default was this role's demo key: it follows it
                credentials.default = new
    for key, value in os.environ.items():
        if key.startswith("CONTRACT_BODY_"):
            credentials.default.body[key[len("CONTRACT_BODY_"):].lower()] = value
    return credentials


@dataclasses.dataclass
class Run:
    slug: str
    base_url: str                 # scheme://host:port, without the spec's base path
    credentials: Credentials
    timeout: float = 10.0

    def __post_init__(self):
        self.contract: Contract = contract(self.slug)
        self.base_url = root_of(self.base_url, self.contract)
        self.http = requests.Session()
        # every request carries exactly the credentials of the identity it is sent as: a session
        # cookie some answer set (a login the run made) must not ride along on later requests
        self.http.cookies.set_policy(_NoCookies())
        from .pacing import mount

        mount(self, self.http)  # our rules' own requests: paced, 429s waited out, creations seen
        self._once: set = set()
        self._lock = threading.Lock()

    def first_time(self, *key) -> bool:
        """True once per key: for checks that cost extra requests (once per operation)."""
        with self._lock:
            if key in self._once:
                return False
            self._once.add(key)
            return True

    def request(self, method: str, path_or_url: str, identity: Identity | None = None, **kwargs):
        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        headers = {**(identity.headers if identity else {}), **kwargs.pop("headers", {})}
        json_body = kwargs.pop("json", None)
        if identity and identity.body and isinstance(json_body, dict):
            json_body = {**json_body, **identity.body}
        return self.http.request(method, url, headers=headers, json=json_body, timeout=self.timeout,
                                 allow_redirects=False, **kwargs)


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie, request):
        return False


# The run each loaded schema is checked for. A run belongs to its schema, not to the process:
# two runs in one process (two schemas) never share state, and a schema that no runner bound
# (a plain `st run` with our hooks) gets a run built from its own configuration.
_runs: dict[int, Run] = {}
_runs_lock = threading.Lock()


def bind(schema, run: Run) -> Run:
    """Make `run` the context of every case generated from `schema` (for as long as it lives)."""
    key = id(schema)
    with _runs_lock:
        if key not in _runs:
            weakref.finalize(schema, _runs.pop, key, None)
        _runs[key] = run
    return run


def run_for(case) -> Run | None:
    """The run a case belongs to: the one its schema was bound to, else one built from the
    schema's configuration (the plain Schemathesis CLI): its slug (`info.x-slug`), its base URL,
    the demo credentials overridden by the environment and by the configured headers. None for
    a schema that is not one of ours."""
    schema = case.operation.schema
    run = _runs.get(id(schema))
    if run is not None:
        return run
    slug = slug_of(schema.raw_schema)
    if not slug:
        return None
    credentials = from_environment(slug, demo_credentials(slug))
    headers = dict(schema.config.headers or {})
    if headers:
        credentials.use_default_headers(headers)
    base_url = case.operation.base_url or schema.config.base_url or ""
    timeout = schema.config.request_timeout or 10.0
    with _runs_lock:
        run = _runs.get(id(schema))
    return run or bind(schema, Run(slug, base_url, credentials, timeout=timeout))


def root_of(base_url: str, spec: Contract) -> str:
    """The server root for a base URL that may include the spec's base path (`…/api`)."""
    url = base_url.rstrip("/")
    if spec.base_path and url.endswith(spec.base_path):
        url = url[: -len(spec.base_path)]
    return url

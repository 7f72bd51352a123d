"""`contract-test replay HAR --base-url URL`: send a recorded session (`mockserver proxy --record`)
again to any server, and list every answer that differs from the recording in status or shape
(the JSON structure: object keys, array items, value types; values themselves may differ, ids do).

Credentials the recording redacted (`<redacted:...>`) are replaced by the run's own (the demo
credentials, or `-H`/`--body-credential` as for a contract run). Exit 0: every answer alike; 1: some
differ; 2: the file or the server cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse

import requests

from apispec.load import SLUGS
from apispec.model import contract

from .context import demo_credentials, from_environment

REDACTED = "<redacted:"
SKIP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding"}


def shape(value):
    """The structure of a JSON value: {key: shape}, [shape of the items], or the type's name."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        shapes = [shape(item) for item in value]
        return [shapes[0]] if shapes and all(s == shapes[0] for s in shapes) else shapes[:1]
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    return "number" if isinstance(value, int | float) else type(value).__name__


def shape_differences(recorded, answered, path="body") -> list[str]:
    if isinstance(recorded, dict) and isinstance(answered, dict):
        out = [f"{path}.{k} missing" for k in recorded if k not in answered]
        out += [f"{path}.{k} is new" for k in answered if k not in recorded]
        for key in recorded.keys() & answered.keys():
            out += shape_differences(recorded[key], answered[key], f"{path}.{key}")
        return out
    if isinstance(recorded, list) and isinstance(answered, list):
        if recorded and answered:
            return shape_differences(recorded[0], answered[0], f"{path}[]")
        return []
    return [] if recorded == answered else [f"{path} was {recorded}, now {answered}"]


def _json(text: str | None):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def replay(har: dict, base_url: str, credentials, timeout: float = 10.0) -> list[str]:
    """Every difference, one line each (`METHOD path: what`)."""
    log = har["log"]
    base_path = contract(log["_api"]).base_path if log.get("_api") in SLUGS else ""
    differences = []
    session = requests.Session()
    for entry in log["entries"]:
        recorded_request, recorded = entry["request"], entry["response"]
        url = urllib.parse.urlsplit(recorded_request["url"])
        tail = url.path[len(base_path):] if url.path.startswith(base_path) else url.path
        target = base_url.rstrip("/") + tail + (f"?{url.query}" if url.query else "")
        headers = {h["name"]: h["value"] for h in recorded_request["headers"]
                   if h["name"].lower() not in SKIP_HEADERS and REDACTED not in h["value"]}
        if any(REDACTED in h["value"] for h in recorded_request["headers"]):
            headers.update(credentials.default.headers)
        data = (recorded_request.get("postData") or {}).get("text")
        body = _json(data)
        if isinstance(body, dict):
            body = {k: credentials.default.body.get(k, v) if isinstance(v, str) and REDACTED in v else v
                    for k, v in body.items()}
            data = json.dumps(body)
        answer = session.request(recorded_request["method"], target, headers=headers,
                                 data=data.encode() if data else None, timeout=timeout, allow_redirects=False)
        where = f"{recorded_request['method']} {tail}"
        if answer.status_code != recorded["status"]:
            differences.append(f"{where}: status {recorded['status']} recorded, {answer.status_code} now")
            continue
        before = _json(recorded.get("content", {}).get("text"))
        after = _json(answer.text)
        differences += [f"{where}: {d}" for d in shape_differences(shape(before), shape(after))]
    return differences


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="contract-test replay",
                                     description="Replay a recorded session against a server and list what differs.")
    parser.add_argument("har", help="a HAR recorded by `mockserver proxy --record DIR`")
    parser.add_argument("--base-url", required=True, help="the server, with its base path")
    parser.add_argument("-H", "--header", action="append", default=[], help="header for the replayed requests")
    parser.add_argument("--timeout", type=float, default=10.0)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    try:
        with open(args.har, encoding="utf-8") as fh:
            har = json.load(fh)
    except (OSError, ValueError) as exc:
        print(f"contract-test replay: cannot read {args.har}: {exc}", file=sys.stderr)
        return 2
    slug = har.get("log", {}).get("_api")
    credentials = from_environment(slug, demo_credentials(slug)) if slug in SLUGS else None
    if credentials is None:
        print(f"contract-test replay: {args.har} names no API (record it with mockserver proxy --record)",
              file=sys.stderr)
        return 2
    if args.header:
        pairs = [h.partition(":") for h in args.header]
        if any(not sep for _, sep, _ in pairs):
            print("contract-test replay: a header is 'Name: value'", file=sys.stderr)
            return 2
        credentials.use_default_headers({name.strip(): value.strip() for name, _, value in pairs})
    try:
        differences = replay(har, args.base_url, credentials, args.timeout)
    except requests.RequestException as exc:
        print(f"contract-test replay: cannot reach {args.base_url}: {type(exc).__name__}", file=sys.stderr)
        return 2
    entries = len(har["log"]["entries"])
    for line in differences:
        print(line)
    print(f"{entries} exchange(s) replayed, {len(differences)} difference(s)")
    return 1 if differences else 0

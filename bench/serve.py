"""A server for the benchmarks: `python -m bench.serve mock|ceiling SLUG PORT [--records N]`.

`mock` is the real mock (full request validation, auth, rate limiting on, limits raised so
the load generator is not throttled). `ceiling` is a bare Starlette app serving the same JSON
from a dict: what Python's ASGI stack can do with no spec in the way.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json

import uvicorn

from .workloads import WORKLOADS, seeded_fixtures


def mock_app(slug: str, records: int | None, store: str | None = None, prefix: str = "bench"):
    from mockserver.app import Settings, create_app, load_fixtures

    fixtures = seeded_fixtures(slug, load_fixtures(slug), records) if records else None
    huge = {"limit": 10**12, "limits_by_key_type": {t: 10**12 for t in ("user", "organizer", "admin")}}
    return create_app(slug, fixtures=fixtures, settings=Settings(rate_limits=huge, store=store, store_prefix=prefix,
                                                                  reset_store=store is not None))


def ceiling_app(slug: str, records: int | None):
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from mockserver.app import load_fixtures

    work = WORKLOADS[slug]
    fixtures = seeded_fixtures(slug, load_fixtures(slug), records) if records else load_fixtures(slug)
    table = {r["id"]: r for r in copy.deepcopy(fixtures["collections"][work.collection])}

    def answer(body, status=200):
        return Response(json.dumps(body), status_code=status, media_type="application/json")

    async def read(request: Request):
        if work.post_reads:
            key = (await request.json()).get("event_id")
        else:
            key = request.path_params["key"]
            key = int(key) if key.isdigit() and work.int_ids else key
        record = table.get(key)
        return answer(record) if record else answer({"error": "not found"}, 404)

    async def listing(request: Request):
        params = (await request.json()) if work.post_reads else request.query_params
        wanted = params.get(work.filter_param)
        size = int(params.get(work.size_param, 20))
        items = [r for r in table.values() if wanted is None or str(r.get(work.filter_field)) == wanted][:size]
        return answer({"data": items, "meta": {"total": len(table)}})

    async def create(request: Request):
        body = await request.json()
        key = f"c{len(table) + 1}"
        table[key] = {"id": key, **body}
        return answer(table[key], 201)

    methods = ["POST"] if work.post_reads else ["GET"]
    routes = [Route(work.read_route, read, methods=methods), Route(work.list_path, listing, methods=methods)]
    if work.create_body is not None:
        routes.append(Route(work.create_path or work.list_path, create, methods=["POST"]))
    return Starlette(routes=routes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["mock", "ceiling"])
    parser.add_argument("slug", choices=sorted(WORKLOADS))
    parser.add_argument("port", type=int)
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--store", default=None, help="the mock's store: redis://... (default: in memory)")
    parser.add_argument("--store-prefix", default="bench")
    args = parser.parse_args()
    if args.kind == "mock":
        app = mock_app(args.slug, args.records, args.store, args.store_prefix)
    else:
        app = ceiling_app(args.slug, args.records)
    gc.freeze()  # as `mockserver serve` does once its apps are built
    # the mock with its limits on input, as `mockserver serve` serves it (its protocol, concurrency limit)
    options = {}
    if args.kind == "mock":
        from mockserver import limits

        options = limits.uvicorn_options(app)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, lifespan="on",
                **options)


if __name__ == "__main__":
    main()

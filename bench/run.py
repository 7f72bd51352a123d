"""`make bench`: throughput and latency of each mock beside a bare Starlette ceiling, scaling
with the store's size, cold start and memory, and the contract suite's speed.

Prints a table and writes every figure to bench/results.json. Servers run in their own
processes pinned to one core, the load generator on the other (where there are two).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from .workloads import WORKLOADS

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
PY = sys.executable
TWO_CORES = (os.cpu_count() or 1) >= 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(cmd: list[str], core: int | str) -> list[str]:
    return (["taskset", "-c", str(core), *cmd] if TWO_CORES and shutil.which("taskset") else cmd)


class Server:
    """A benchmark server in its own process; measures its cold start and memory."""

    def __init__(self, kind: str, slug: str, records: int | None = None, timeout: float = 600,
                 extra: tuple[str, ...] = (), cores: str = "0"):
        self.port = free_port()
        if kind == "cli":  # `mockserver serve` as a user runs it (`extra`: its flags)
            cmd = [PY, "-m", "mockserver.cli", "serve", slug, "--port", str(self.port), "--quiet", *extra]
        else:
            cmd = [PY, "-m", "bench.serve", kind, slug, str(self.port), *extra]
        if records:
            cmd += ["--records", str(records)]
        started = time.perf_counter()
        self.proc = subprocess.Popen(pinned(cmd, cores), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        probe = WORKLOADS[slug].list_path if kind == "ceiling" else "/__admin/health"
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{kind} {slug} exited: {self.proc.stderr.read().decode()[-500:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}{probe}", timeout=1)
                break
            except OSError as exc:
                if getattr(exc, "code", None):  # an HTTP error is an answer
                    break
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{kind} {slug} did not start in {timeout}s") from None
                time.sleep(0.02)
        self.cold_start = time.perf_counter() - started
        self.base = f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        pid = self.proc.pid
        for candidate in (pid, *self._children(pid)):
            try:
                text = pathlib.Path(f"/proc/{candidate}/status").read_text()
            except OSError:
                continue
            if "python" in pathlib.Path(f"/proc/{candidate}/cmdline").read_text():
                return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024
        return float("nan")

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            return [int(p) for p in pathlib.Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# --- load generators --------------------------------------------------------------------------

# where each load run starts numbering the bodies it makes unique (a warm-up and the run after
# it against the same server must not send the same email twice)
_FRESH = itertools.count(0, 10_000_000)


def wrk(url: str, seconds: float, method="GET", headers=None, body=None, connections=16) -> dict:
    script = None
    lua = [f'wrk.method = "{method}"']
    for name, value in (headers or {}).items():
        lua.append(f'wrk.headers["{name}"] = "{value}"')
    if body is not None:
        lua.append('wrk.headers["Content-Type"] = "application/json"')
        text = json.dumps(body)
        if "{n}" in text:  # a new body per request (one wrk thread: one counter, never reused)
            lua += [f"template = {json.dumps(text)}", f"counter = {next(_FRESH)}", "request = function()",
                    "  counter = counter + 1",
                    '  return wrk.format(nil, nil, nil, (string.gsub(template, "{n}", tostring(counter))))',
                    "end"]
        else:
            lua.append(f"wrk.body = {json.dumps(text)}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write("\n".join(lua) + "\n")
        script = fh.name
    cmd = pinned(["wrk", "-t1", f"-c{connections}", f"-d{max(int(seconds), 1)}s", "--latency", "-s", script, url], 1)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50_ms": _wrk_ms(out, "50%"), "p99_ms": _wrk_ms(out, "99%"),
            "errors": int(non2xx.group(1)) if non2xx else 0}


def _wrk_ms(out: str, pct: str) -> float:
    value, unit = re.search(rf"{re.escape(pct)}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def python_load(url: str, seconds: float, method="GET", headers=None, body=None, connections=16) -> dict:
    import httpx

    latencies, errors = [], 0
    template = json.dumps(body) if body is not None else None
    numbers = itertools.count(next(_FRESH))
    headers = {**(headers or {}), **({"Content-Type": "application/json"} if body is not None else {})}

    async def worker(client, stop):
        nonlocal errors
        while time.perf_counter() < stop:
            content = template.replace("{n}", str(next(numbers))) if template is not None else None
            t = time.perf_counter()
            r = await client.request(method, url, headers=headers, content=content)
            latencies.append(time.perf_counter() - t)
            errors += r.status_code >= 400

    async def main():
        async with httpx.AsyncClient(timeout=30) as client:
            stop = time.perf_counter() + seconds
            await asyncio.gather(*(worker(client, stop) for _ in range(connections)))

    started = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: latencies[min(int(q * len(latencies)), len(latencies) - 1)] * 1000  # noqa: E731
    return {"rps": len(latencies) / elapsed, "p50_ms": pick(0.5), "p99_ms": pick(0.99), "errors": errors}


LOADER = "wrk" if shutil.which("wrk") else "python"
load = wrk if LOADER == "wrk" else python_load


def measure(base: str, slug: str, what: str, seconds: float) -> dict | None:
    work = WORKLOADS[slug]
    if what == "read":
        if work.post_reads:
            return load(base + work.read_path, seconds, "POST", work.headers, work.read_body)
        return load(base + work.read_path, seconds, "GET", work.headers)
    if what == "list":
        if work.post_reads:
            return load(base + work.list_path, seconds, "POST", work.headers, work.list_body)
        return load(f"{base}{work.list_path}?{work.list_query}", seconds, "GET", work.headers)
    if what == "create" and work.create_body is not None:
        headers = {**work.headers, **(work.create_headers or {})}
        return load(base + (work.create_path or work.list_path), seconds, "POST", headers, work.create_body)
    return None


# --- the benchmark sections -----------------------------------------------------------------------

def throughput(apis, seconds) -> list[dict]:
    rows = []
    for slug in apis:
        for what in ("read", "list", "create"):
            if what == "create" and WORKLOADS[slug].create_body is None:
                print(f"  {slug:11} {what:7} none: the API documents no operation that creates", flush=True)
                continue
            figures = {}
            for kind in ("ceiling", "mock"):
                server = Server(kind, slug)
                try:
                    measure(server.base, slug, what, 1)  # warm-up
                    figures[kind] = measure(server.base, slug, what, seconds)
                finally:
                    server.stop()
            ratio = figures["mock"]["rps"] / figures["ceiling"]["rps"] if figures["ceiling"]["rps"] else 0
            rows.append({"api": slug, "operation": what, "mock": figures["mock"], "ceiling": figures["ceiling"],
                         "ratio": round(ratio, 3)})
            print(f"  {slug:11} {what:7} mock {figures['mock']['rps']:8.0f} req/s "
                  f"(p50 {figures['mock']['p50_ms']:.2f} ms, p99 {figures['mock']['p99_ms']:.2f} ms)  "
                  f"ceiling {figures['ceiling']['rps']:8.0f} req/s  ratio {ratio:.2f}"
                  + "".join(f"  WARNING: {figures[k]['errors']} {k} answers not 2xx" for k in figures
                            if figures[k]["errors"]), flush=True)
    return rows


def scaling(sizes, seconds, slug="namak") -> list[dict]:
    rows = []
    for size in sizes:
        server = Server("mock", slug, records=size)
        try:
            rss = server.rss_mb()
            base = server.base
            read = load(f"{base}/v1/events/evt_123", seconds, "GET", WORKLOADS[slug].headers)
            paged = load(f"{base}/v1/events?limit=20&page=2", seconds, "GET", WORKLOADS[slug].headers)
            # last: at large sizes each filtered request scans the store, and a backlog would
            # spill into whatever is measured next
            filtered = load(f"{base}/v1/events?status=draft&limit=20", seconds, "GET", WORKLOADS[slug].headers)
        finally:
            server.stop()
        rows.append({"records": size, "cold_start_s": round(server.cold_start, 3), "rss_mb": round(rss, 1),
                     "paged_list": paged, "filtered_list": filtered, "read": read})
        print(f"  {size:>9} records: start {server.cold_start:6.2f} s, {rss:7.1f} MB; paged p50 "
              f"{paged['p50_ms']:.2f} ms; filtered p50 {filtered['p50_ms']:.2f} ms; read p50 {read['p50_ms']:.2f} ms",
              flush=True)
    return rows


def redis_used_mb(port: int) -> float:
    """What the Redis on `port` holds (INFO memory: used_memory)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"INFO memory\r\n")
        text = b""
        while b"used_memory:" not in text or not text.endswith(b"\r\n"):
            text += conn.recv(65536)
    return int(re.search(rb"used_memory:(\d+)", text).group(1)) / 2**20


def shared_store(apis, seconds, sizes) -> dict:
    """The mock in memory, on Redis with one worker, on Redis with two workers (`mockserver serve`
    each, rate limits on but out of reach), each beside the bare Starlette ceiling of the same run;
    then the Redis store's growth with its size (one worker, namak's events)."""
    slug = "namak" if "namak" in apis else apis[0]
    big = ("--rate-limit", str(10**12))
    rows, growth = [], []
    from mockserver.testing import RedisServer

    redis = RedisServer()
    redis.start()
    try:
        variants = {"memory": (big, "0"),
                    "redis, 1 worker": ((*big, "--store", redis.url, "--store-prefix", "bench1", "--reset-store"), "0"),
                    # two workers get both cores: pinned to one they could not run side by side
                    "redis, 2 workers": ((*big, "--store", redis.url, "--store-prefix", "bench2", "--reset-store",
                                          "--workers", "2"), "0,1")}
        for what in ("read", "list", "create"):
            if what == "create" and WORKLOADS[slug].create_body is None:
                continue
            figures = {}
            for name, (extra, cores) in {"ceiling": ((), "0"), **variants}.items():
                server = Server("ceiling" if name == "ceiling" else "cli", slug, extra=extra, cores=cores)
                try:
                    measure(server.base, slug, what, 1)  # warm-up
                    figures[name] = measure(server.base, slug, what, seconds)
                finally:
                    server.stop()
            ceiling = figures["ceiling"]["rps"] or 1
            for name in variants:
                f = figures[name]
                rows.append({"api": slug, "operation": what, "store": name, **f, "ratio": round(f["rps"] / ceiling, 3),
                             "ceiling_rps": figures["ceiling"]["rps"], "ceiling_p99_ms": figures["ceiling"]["p99_ms"]})
                print(f"  {slug:9} {what:6} {name:17} {f['rps']:7.0f} req/s  p99 {f['p99_ms']:7.2f} ms  "
                      f"ratio {f['rps'] / ceiling:.2f} (ceiling {ceiling:.0f} req/s, p99 "
                      f"{figures['ceiling']['p99_ms']:.2f} ms)"
                      + (f"  WARNING: {f['errors']} answers not 2xx" if f["errors"] else ""), flush=True)
        work = WORKLOADS["namak"]
        for size in sizes:
            server = Server("mock", "namak", records=size,
                            extra=("--store", redis.url, "--store-prefix", "growth"))  # reset: the last size only
            try:
                read = load(server.base + work.read_path, seconds, "GET", work.headers)
                paged = load(f"{server.base}/v1/events?limit=20&page=2", seconds, "GET", work.headers)
                filtered = load(f"{server.base}/v1/events?status=draft&limit=20", seconds, "GET", work.headers)
            finally:
                server.stop()
            growth.append({"records": size, "start_s": round(server.cold_start, 2),
                           "redis_mb": round(redis_used_mb(redis.port), 1), "read": read, "paged_list": paged,
                           "filtered_list": filtered})
            print(f"  redis {size:>7} records: start {server.cold_start:6.2f} s, Redis holds "
                  f"{growth[-1]['redis_mb']:.0f} MB; read p50 {read['p50_ms']:.2f} ms; "
                  f"paged p50 {paged['p50_ms']:.2f} ms; filtered p50 {filtered['p50_ms']:.2f} ms", flush=True)
    finally:
        redis.stop()
    return {"throughput": rows, "growth": growth}


def cold_starts(apis) -> list[dict]:
    rows = []
    for slug in apis:
        server = Server("mock", slug)
        rows.append({"api": slug, "cold_start_s": round(server.cold_start, 3), "rss_mb": round(server.rss_mb(), 1)})
        server.stop()
        print(f"  {slug:11} cold start {rows[-1]['cold_start_s']:.2f} s, {rows[-1]['rss_mb']:.1f} MB", flush=True)
    return rows


def contract_suite(apis) -> list[dict]:
    rows = []
    for slug in apis:
        server = Server("mock", slug)
        base = server.base + ("/v1" if slug == "namak" else "/api")
        started = time.perf_counter()
        out = subprocess.run(pinned([PY, "-m", "contract_tests.cli", slug, "--base-url", base, "--quiet",
                                     "--seed", "1"], 1), cwd=ROOT, capture_output=True, text=True, timeout=900)
        wall = time.perf_counter() - started
        server.stop()
        cases = int(re.search(r"(\d+) cases", out.stdout).group(1)) if "cases" in out.stdout else 0
        rows.append({"api": slug, "cases": cases, "seconds": round(wall, 2),
                     "cases_per_s": round(cases / wall, 1), "exit": out.returncode})
        print(f"  {slug:11} {cases:5} cases in {wall:5.1f} s = {cases / wall:6.1f} cases/s (exit {out.returncode})",
              flush=True)
    return rows


def targets(results: dict) -> list[dict]:
    """The issue's targets, met or not, from whatever sections ran."""
    rows = []

    def target(name, value, goal, met):
        rows.append({"target": name, "value": value, "goal": goal, "met": met})

    for row in results.get("throughput", []):
        if row["operation"] in ("read", "list"):
            target(f"{row['api']} {row['operation']} vs ceiling", row["ratio"], ">= 0.3", row["ratio"] >= 0.3)
    scaling_rows = {r["records"]: r for r in results.get("scaling", [])}
    if 1000 in scaling_rows and max(scaling_rows) >= 1_000_000:
        ratio = scaling_rows[max(scaling_rows)]["paged_list"]["p50_ms"] / scaling_rows[1000]["paged_list"]["p50_ms"]
        target("paged list p50, 1M vs 1k records", round(ratio, 2), "<= 1.2", ratio <= 1.2)
    for row in results.get("cold_start", []):
        target(f"{row['api']} cold start (s)", row["cold_start_s"], "< 1", row["cold_start_s"] < 1)
    if "contract_suite_total_s" in results:
        total = results["contract_suite_total_s"]
        target("five contract suites at CI depth (s)", total, "< 180", total < 180)
    if rows:
        print("targets:")
        for r in rows:
            print(f"  {'met ' if r['met'] else 'MISS'}  {r['target']}: {r['value']} (goal {r['goal']})")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--apis", default=",".join(WORKLOADS))
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--sections", default="throughput,scaling,coldstart,suite",
                        help="of throughput, scaling, shared (Redis store), coldstart, suite")
    parser.add_argument("--shared-sizes", default="1000,10000,100000", help="the shared section's store sizes")
    args = parser.parse_args(argv)
    apis = [a for a in args.apis.split(",") if a]
    sections = args.sections.split(",")
    results = {"loader": LOADER, "cores": os.cpu_count(), "pinned": TWO_CORES, "seconds": args.seconds}
    print(f"load generator: {LOADER}; {os.cpu_count()} cores; server and loader pinned apart: {TWO_CORES}")
    if "throughput" in sections:
        print("throughput (mock with validation, auth and rate limiting, beside a bare Starlette ceiling):")
        results["throughput"] = throughput(apis, args.seconds)
    if "scaling" in sections:
        print("scaling with the store's size (namak events):")
        results["scaling"] = scaling([int(s) for s in args.sizes.split(",")], args.seconds)
    if "shared" in sections:
        print("shared store: in memory vs Redis (1 and 2 workers), each beside the ceiling of the same run:")
        results["shared_store"] = shared_store(apis, args.seconds, [int(s) for s in args.shared_sizes.split(",")])
    if "coldstart" in sections:
        print("cold start and memory, default fixtures:")
        results["cold_start"] = cold_starts(apis)
    if "suite" in sections:
        print("contract suite at CI depth against each mock:")
        results["contract_suite"] = contract_suite(apis)
        results["contract_suite_total_s"] = round(sum(r["seconds"] for r in results["contract_suite"]), 1)
        print(f"  all five: {results['contract_suite_total_s']} s")
    results["targets"] = targets(results)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

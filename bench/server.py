#!/usr/bin/env python3
"""Server throughput: Shipwise's HTTP server side by side with unleash-server.

One run, this machine, one server after the other (never both at once): Unleash with its
own PostgreSQL, then Shipwise. Both hold the same 50 flags (see bench/_unleash_server.py):
flag i is on for everyone (i % 3 == 0), a 25% rollout sticky on userId (i % 3 == 1), or
on for plan IN [beta, internal] and otherwise the 25% rollout (i % 3 == 2).

The same wrk load (bench/_load.py), at each concurrency, against three kinds of request:

  features   the Unleash client-API features document, GET /api/client/features
  frontend   per-user evaluation, GET /api/frontend?userId=user-N&properties[plan]=P
  evaluate   per-user evaluation by POST: Unleash POST /api/frontend, Shipwise OFREP
             POST /ofrep/v1/evaluate/flags; the same work, each server's own POST form

Users cycle through user-0 .. user-999; user n has plan [free, pro, beta, internal][n % 4].

    .venv/bin/python bench/server.py                      # both servers, 10 s per point
    .venv/bin/python bench/server.py --only unleash --duration 5
    .venv/bin/python bench/server.py --json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import LoadResult, Target, expand, measure, measure_ceiling, rss_kib
from _unleash_server import (
    ENVIRONMENT,
    FLAG_COUNT,
    PLANS,
    PROJECT,
    always_on_for,
    bench_flags,
    flag_key,
    free_port,
    running_unleash,
)

ROOT = Path(__file__).resolve().parent.parent
SHIPWISE_EXE = ROOT / ".venv" / "bin" / "shipwise"
SHIPWISE_START_TIMEOUT_S = 60.0
CHECK_USERS = 200  # users whose decisions are checked (and compared) before the load
CASES = ("features", "frontend", "evaluate")
CASE_TITLES = {
    "features": "client features document",
    "frontend": "per-user evaluation, GET",
    "evaluate": "per-user evaluation, POST",
}
SERVERS = ("unleash", "shipwise")
JSON_HEADERS = {"Content-Type": "application/json"}


def progress(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class ShipwiseUnavailable(RuntimeError):
    """Shipwise could not be started or seeded; the Unleash half still stands."""


# ---------------------------------------------------------------------------------------
# What is requested of each server
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One case on one server: the load target, and how to read per-user decisions."""

    target: Target
    decisions: Callable[[httpx.Response], set[str]] | None  # None: the features document


def frontend_toggles(response: httpx.Response) -> set[str]:
    """Unleash frontend API: the toggles listed are the enabled ones."""
    return {t["name"] for t in response.json()["toggles"] if t.get("enabled", True)}


def ofrep_flags(response: httpx.Response) -> set[str]:
    """OFREP bulk evaluation: flags whose value is true."""
    return {f["key"] for f in response.json()["flags"] if f.get("value") is True}


FRONTEND_QUERY = "/api/frontend?userId=user-{user}&properties[plan]={plan}"


def unleash_endpoints(base: str, client: str, frontend: str) -> dict[str, Endpoint]:
    unleash_body = '{"context": {"userId": "user-{user}", "properties": {"plan": "{plan}"}}}'
    return {
        "features": Endpoint(
            Target(base, "/api/client/features", "GET", {"Authorization": client}), None
        ),
        "frontend": Endpoint(
            Target(base, FRONTEND_QUERY, "GET", {"Authorization": frontend}), frontend_toggles
        ),
        "evaluate": Endpoint(
            Target(
                base,
                "/api/frontend",
                "POST",
                {"Authorization": frontend, **JSON_HEADERS},
                unleash_body,
            ),
            frontend_toggles,
        ),
    }


def shipwise_endpoints(
    base: str, server_key: str, frontend_key: str, ofrep_key: str
) -> dict[str, Endpoint]:
    ofrep_body = '{"context": {"targetingKey": "user-{user}", "plan": "{plan}"}}'
    ofrep_headers = {"Authorization": f"Bearer {ofrep_key}", **JSON_HEADERS}
    return {
        "features": Endpoint(
            Target(base, "/api/client/features", "GET", {"Authorization": server_key}), None
        ),
        "frontend": Endpoint(
            Target(base, FRONTEND_QUERY, "GET", {"Authorization": frontend_key}), frontend_toggles
        ),
        "evaluate": Endpoint(
            Target(base, "/ofrep/v1/evaluate/flags", "POST", ofrep_headers, ofrep_body),
            ofrep_flags,
        ),
    }


# ---------------------------------------------------------------------------------------
# Before the load: every endpoint must answer correctly
# ---------------------------------------------------------------------------------------


def send(http: httpx.Client, target: Target, user: int) -> httpx.Response:
    """One request of ``target`` for ``user``: the method, URL, headers and body wrk sends."""
    body = expand(target.body, user) if target.body is not None else None
    url = target.base_url.rstrip("/") + expand(target.path, user)
    response = http.request(target.method, url, headers=target.headers, content=body)
    if response.status_code != 200:
        raise RuntimeError(
            f"{target.method} {target.path} -> {response.status_code}: {response.text[:300]}"
        )
    return response


def check_endpoint(endpoint: Endpoint) -> dict[int, set[str]]:
    """Check one endpoint; return the flags on for each of the first CHECK_USERS users.

    The features document must list the 50 flags; a per-user answer must contain every
    flag that is always on for the user's plan and nothing that is not one of the 50.
    """
    keys = {flag_key(i) for i in range(FLAG_COUNT)}
    with httpx.Client(timeout=10, trust_env=False) as http:
        if endpoint.decisions is None:
            names = {f["name"] for f in send(http, endpoint.target, 0).json()["features"]}
            if names != keys:
                raise RuntimeError(f"features document lists {len(names)} flags, not the 50")
            return {}
        decisions = {}
        for user in range(CHECK_USERS):
            on = endpoint.decisions(send(http, endpoint.target, user))
            plan = PLANS[user % len(PLANS)]
            if not always_on_for(plan) <= on <= keys:
                raise RuntimeError(
                    f"{endpoint.target.path}: user-{user} ({plan}) got a wrong set: "
                    f"missing {sorted(always_on_for(plan) - on)}, unknown {sorted(on - keys)}"
                )
            decisions[user] = on
        return decisions


def rollout_fraction(decisions: dict[int, set[str]]) -> float:
    """Share of (user, pure-25%-flag) pairs that are on: should be near 0.25."""
    rollout_flags = [flag_key(i) for i in range(FLAG_COUNT) if i % 3 == 1]
    on = sum(key in flags for flags in decisions.values() for key in rollout_flags)
    return on / (len(decisions) * len(rollout_flags))


# ---------------------------------------------------------------------------------------
# Running one server's load
# ---------------------------------------------------------------------------------------


@dataclass
class ServerRun:
    """Everything measured for one server."""

    name: str
    version: str
    endpoints: dict[str, str]  # case -> "METHOD path"
    results: dict[str, dict[int, LoadResult]]
    decisions: dict[str, dict[int, set[str]]]
    rss_idle_kib: int
    rss_after_kib: int
    extra_rss: dict[str, int]  # e.g. PostgreSQL, measured after the load
    notes: list[str]


def load_server(
    endpoints: dict[str, Endpoint], args: argparse.Namespace, server_pids: list[int]
) -> tuple[dict[str, dict[int, set[str]]], dict[str, dict[int, LoadResult]]]:
    """Check every endpoint, then run the load, case by case and concurrency by concurrency.

    ``server_pids``: the processes (with their children) whose CPU time is the server's."""
    decisions = {case: check_endpoint(ep) for case, ep in endpoints.items()}
    results: dict[str, dict[int, LoadResult]] = {}
    for case, endpoint in endpoints.items():
        results[case] = {}
        target = with_gzip(endpoint.target) if args.gzip else endpoint.target
        for concurrency in args.concurrency:
            progress(f"  {case} c={concurrency} for {args.duration:g} s")
            results[case][concurrency] = measure(
                target, concurrency, args.duration, warmup_s=args.warmup, server_pids=server_pids
            )
    return decisions, results


def with_gzip(target: Target) -> Target:
    headers = {**target.headers, "Accept-Encoding": "gzip"}
    return Target(target.base_url, target.path, target.method, headers, target.body)


def describe_endpoints(endpoints: dict[str, Endpoint]) -> dict[str, str]:
    return {case: f"{ep.target.method} {ep.target.path}" for case, ep in endpoints.items()}


def run_unleash(args: argparse.Namespace) -> ServerRun:
    progress("Unleash: starting (PostgreSQL, unleash-server, 50 flags)")
    with running_unleash() as unleash:
        endpoints = unleash_endpoints(
            unleash.base_url, unleash.client_token, unleash.frontend_token
        )
        idle = rss_kib(unleash.pid)
        # Unleash's CPU includes its PostgreSQL: the database is part of the server.
        decisions, results = load_server(endpoints, args, [unleash.pid, unleash.postgres_pid])
        after = rss_kib(unleash.pid)
        postgres = rss_kib(unleash.postgres_pid)
        return ServerRun(
            name="Unleash",
            version=f"unleash-server {unleash.version} on Node {unleash.node_version}",
            endpoints=describe_endpoints(endpoints),
            results=results,
            decisions=decisions,
            rss_idle_kib=idle,
            rss_after_kib=after,
            extra_rss={"PostgreSQL (all its processes)": postgres},
            notes=[
                "own PostgreSQL cluster, fresh every run; Unleash's default DB pool (4)",
                "SDK rate limits lifted (default 20,000/min per client address)",
                "telemetry and version check off; API tokens created at start-up",
            ],
        )


# ---------------------------------------------------------------------------------------
# Shipwise: started as `shipwise serve`, seeded through its admin API
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShipwiseServer:
    base_url: str
    server_key: str
    frontend_key: str
    pid: int


def wait_for_health(proc: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    """Wait until ``shipwise serve`` answers HTTP (GET /health), or explain why it did not."""
    deadline = time.monotonic() + SHIPWISE_START_TIMEOUT_S
    while True:
        with contextlib.suppress(httpx.TransportError):
            httpx.get(f"{base_url}/health", timeout=2, trust_env=False)
            return  # any answer: the server is up (/health may not exist yet)
        if proc.poll() is not None:
            output = log.read_text(errors="replace")[-2000:]
            raise ShipwiseUnavailable(f"`shipwise serve` exited {proc.returncode}:\n{output}")
        if time.monotonic() > deadline:
            raise ShipwiseUnavailable(
                f"`shipwise serve` not listening after {SHIPWISE_START_TIMEOUT_S:.0f} s"
            )
        time.sleep(0.2)


def admin_call(
    http: httpx.Client,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One admin-API call; any error stops the Shipwise half with the server's own words."""
    response = http.request(method, path, json=body, headers=headers)
    if response.is_error:
        raise ShipwiseUnavailable(
            f"{method} {path} -> {response.status_code}: {response.text[:500]}"
        )
    return response


def put_rules(http: httpx.Client, path: str, rules: dict[str, Any]) -> None:
    """Replace a flag's rules in one environment. Shipwise requires If-Match with the
    version last read (optimistic concurrency), so read the ETag with a GET first."""
    etag = admin_call(http, "GET", path).headers.get("ETag")
    admin_call(http, "PUT", path, rules, headers={"If-Match": etag} if etag else None)


def seed_shipwise(base_url: str, admin_token: str) -> tuple[str, str]:
    """Create the same 50 flags in default/production; return (server key, frontend key)."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    flags = f"/api/v1/projects/{PROJECT}/flags"
    with httpx.Client(base_url=base_url, headers=headers, timeout=30, trust_env=False) as http:
        for key, strategies in bench_flags():
            flag = {"key": key, "kind": "release", "description": "bench/server.py"}
            admin_call(http, "POST", flags, flag)
            rules = {"enabled": True, "strategies": strategies, "variants": []}
            put_rules(http, f"{flags}/{key}/environments/{ENVIRONMENT}", rules)
        keys = []
        for kind in ("server", "frontend"):
            body = {"kind": kind, "project": PROJECT, "environment": ENVIRONMENT, "name": "bench"}
            keys.append(admin_call(http, "POST", "/api/v1/tokens", body).json()["secret"])
    return keys[0], keys[1]


def wait_until_served(base_url: str, server_key: str) -> None:
    """Block until the client API lists all 50 flags, enabled (a server may cache)."""
    expected = {key for key, _ in bench_flags()}
    deadline = time.monotonic() + SHIPWISE_START_TIMEOUT_S
    headers = {"Authorization": server_key}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10, trust_env=False) as http:
        while time.monotonic() < deadline:
            response = http.get("/api/client/features")
            if response.status_code == 200:
                features = response.json()["features"]
                if {f["name"] for f in features if f["enabled"]} >= expected:
                    return
            time.sleep(0.5)
    raise ShipwiseUnavailable("the client API did not list the 50 seeded flags in time")


def ofrep_key(base_url: str, frontend_key: str, server_key: str) -> tuple[str, str]:
    """The key for OFREP bulk evaluation: the frontend key (bulk evaluation is what
    client-side OFREP providers call), or the server key if the server refuses that."""
    body = {"context": {"targetingKey": "user-0", "plan": "free"}}
    for kind, key in (("frontend", frontend_key), ("server", server_key)):
        response = httpx.post(
            f"{base_url}/ofrep/v1/evaluate/flags",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
            trust_env=False,
        )
        if response.status_code not in (401, 403):
            return kind, key
    return "frontend", frontend_key  # let check_endpoint report the refusal


@contextlib.contextmanager
def running_shipwise() -> Iterator[ShipwiseServer]:
    """``shipwise serve`` on a fresh data directory and a free loopback port, seeded."""
    if not SHIPWISE_EXE.exists():
        raise ShipwiseUnavailable(f"{SHIPWISE_EXE} does not exist (pip install -e '.[server]')")
    data_dir = Path(tempfile.mkdtemp(prefix="bench-shipwise-"))
    log = data_dir.parent / f"{data_dir.name}.log"
    port = free_port()
    admin_token = secrets.token_urlsafe(32)
    cmd = [
        str(SHIPWISE_EXE),
        "serve",
        "--data-dir",
        str(data_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            env={**os.environ, "SHIPWISE_ADMIN_TOKEN": admin_token},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_for_health(proc, base_url, log)
        server_key, frontend_key = seed_shipwise(base_url, admin_token)
        wait_until_served(base_url, server_key)
        yield ShipwiseServer(base_url, server_key, frontend_key, proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)
        shutil.rmtree(data_dir, ignore_errors=True)
        log.unlink(missing_ok=True)


def shipwise_version() -> str:
    result = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-c",
            "import shipwise; print(shipwise.__version__)",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return f"shipwise {result.stdout.strip() or '?'} on Python {platform.python_version()}"


def run_shipwise(args: argparse.Namespace) -> ServerRun:
    progress("Shipwise: starting (shipwise serve, 50 flags)")
    with running_shipwise() as shipwise:
        base, server_key, frontend_key = (
            shipwise.base_url,
            shipwise.server_key,
            shipwise.frontend_key,
        )
        ofrep_kind, key = ofrep_key(base, frontend_key, server_key)
        endpoints = shipwise_endpoints(base, server_key, frontend_key, key)
        idle = rss_kib(shipwise.pid)
        try:
            decisions, results = load_server(endpoints, args, [shipwise.pid])
        except RuntimeError as error:
            raise ShipwiseUnavailable(str(error)) from error
        return ServerRun(
            name="Shipwise",
            version=shipwise_version(),
            endpoints=describe_endpoints(endpoints),
            results=results,
            decisions=decisions,
            rss_idle_kib=idle,
            rss_after_kib=rss_kib(shipwise.pid),
            extra_rss={},
            notes=[
                "fresh --data-dir every run; seeded through /api/v1 with an admin token",
                f"OFREP called with the {ofrep_kind} key",
            ],
        )


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def ratios(runs: dict[str, ServerRun]) -> dict[str, dict[int, float]]:
    """Shipwise requests/s over Unleash requests/s, per case and concurrency."""
    if set(runs) != set(SERVERS):
        return {}
    unleash, shipwise = runs["unleash"].results, runs["shipwise"].results
    return {
        case: {
            c: shipwise[case][c].requests_per_s / unleash[case][c].requests_per_s
            for c in unleash[case]
        }
        for case in CASES
    }


def agreement(runs: dict[str, ServerRun]) -> dict[str, int]:
    """For each Shipwise per-user case: users (of CHECK_USERS) decided as Unleash's GET did."""
    if set(runs) != set(SERVERS):
        return {}
    reference = runs["unleash"].decisions["frontend"]
    return {
        case: sum(runs["shipwise"].decisions[case][u] == reference[u] for u in reference)
        for case in ("frontend", "evaluate")
    }


def table(headers: list[str], rows: list[list[str]], align: str) -> str:
    """Plain-text table; ``align`` has one 'l' or 'r' per column."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        padded = (
            c.ljust(w) if a == "l" else c.rjust(w)
            for c, w, a in zip(cells, widths, align, strict=True)
        )
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def cell(result: LoadResult | None) -> list[str]:
    """requests/s, p50, p99 of one run; '!' marks errors or a capped run."""
    if result is None:
        return ["-", "-", "-"]
    mark = "!" if result.error_count or result.capped else ""
    return [f"{result.requests_per_s:,.0f}{mark}", f"{result.p50_ms:.2f}", f"{result.p99_ms:.2f}"]


def cpu_cell(result: LoadResult | None) -> list[str]:
    """Server CPU per request and per second, and what other processes took meanwhile."""
    if result is None or result.server_cpu_s is None:
        return ["-", "-", "-"]
    per_request = result.server_cpu_ms_per_request or 0.0
    cores = result.server_cpu_s / result.duration_s
    other = result.other_cpu_share or 0.0
    return [f"{per_request:.3f}", f"{cores:.2f}", f"{other:.0%}"]


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def print_ratios(found: dict[str, dict[int, float]], runs: dict[str, ServerRun]) -> None:
    print("Shipwise requests/s over Unleash requests/s (higher is better for Shipwise)")
    if not found:
        ran = ", ".join(run.name for run in runs.values()) or "neither"
        print(f"  n/a: needs both servers measured (measured: {ran})")
    for case, by_c in found.items():
        values = ", ".join(f"c={c} {r:.2f}x" for c, r in by_c.items())
        print(f"  {case:<9} {CASE_TITLES[case]:<28} {values}")


def print_throughput(
    runs: dict[str, ServerRun], found: dict[str, dict[int, float]], concurrency: list[int]
) -> None:
    """The main table: requests/s and latency per endpoint and concurrency, both servers."""
    rows = []
    for case in CASES:
        for c in concurrency:
            row = [case, str(c)]
            for server in SERVERS:
                run = runs.get(server)
                row += cell(run.results[case][c] if run else None)
            ratio = found.get(case, {}).get(c)
            row.append(f"{ratio:.2f}x" if ratio is not None else "-")
            rows.append(row)
    headers = ["endpoint", "c", "Unleash req/s", "p50 ms", "p99 ms"]
    headers += ["Shipwise req/s", "p50 ms", "p99 ms", "ratio"]
    print(table(headers, rows, "lrrrrrrrr"))


def print_cpu(runs: dict[str, ServerRun], concurrency: list[int]) -> None:
    """Server CPU per request (Unleash: Node + PostgreSQL), and the machine's other load:
    a high 'other' share means something outside the benchmark took CPU during that run."""
    print("Server CPU (ms per request, cores busy) and CPU taken by other processes")
    rows = []
    for case in CASES:
        for c in concurrency:
            row = [case, str(c)]
            for server in SERVERS:
                run = runs.get(server)
                row += cpu_cell(run.results[case][c] if run else None)
            rows.append(row)
    headers = ["endpoint", "c", "Unleash ms/req", "cores", "other", "Shipwise ms/req"]
    headers += ["cores", "other"]
    print(table(headers, rows, "lrrrrrrr"))


def print_memory(runs: dict[str, ServerRun]) -> None:
    print("Memory (VmRSS of the server process and its children)")
    for run in runs.values():
        extra = "".join(f"; {name} {mib(kib)}" for name, kib in run.extra_rss.items())
        print(
            f"  {run.name:<9} {mib(run.rss_after_kib)} after the load "
            f"({mib(run.rss_idle_kib)} before){extra}"
        )


def print_endpoints(runs: dict[str, ServerRun]) -> None:
    """Each request, with its response size: the same document should cost the same bytes."""
    print("Endpoints (bytes per response, headers included, as wrk counts them)")
    for case in CASES:
        for run in runs.values():
            sizes = {round(r.bytes_per_request) for r in run.results[case].values()}
            size = "/".join(f"{b:,}" for b in sorted(sizes))
            print(f"  {case:<9} {run.name:<9} {run.endpoints[case]}  ({size} B)")


def print_checks(report: dict[str, Any], runs: dict[str, ServerRun]) -> None:
    print("Checks before the load")
    for run in runs.values():
        fractions = ", ".join(
            f"{case} {rollout_fraction(d) * 100:.1f}%" for case, d in run.decisions.items() if d
        )
        print(
            f"  {run.name:<9} every endpoint answered 200 with the right flags for "
            f"{CHECK_USERS} users; 25% rollout on-share: {fractions}"
        )
    for case, same in report["agreement"].items():
        print(
            f"  Shipwise {case} decides as Unleash's frontend API for {same} of {CHECK_USERS} users"
        )
    for problem in report["problems"]:
        print(f"  PROBLEM: {problem}")
    for warning in report["warnings"]:
        print(f"  WARNING: {warning}")


def print_ceiling(ceiling: dict[int, LoadResult]) -> None:
    print("Harness ceiling: the same wrk settings against a Node http server that answers 'ok'")
    for c, result in ceiling.items():
        other = result.other_cpu_share or 0.0
        print(
            f"  c={c:<3} {result.requests_per_s:,.0f} req/s, "
            f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms "
            f"(other processes took {other:.0%} of the machine)"
        )


def print_text(
    report: dict[str, Any], runs: dict[str, ServerRun], ceiling: dict[int, LoadResult]
) -> None:
    meta = report["meta"]
    print(
        f"Server benchmark: {meta['duration_s']:g} s per point after a {meta['warmup_s']:g} s "
        f"warm-up, wrk on loopback, {meta['cpu_count']} CPUs, servers run one after the other"
    )
    print()
    print_ratios(report["ratios"], runs)
    print()
    print_throughput(runs, report["ratios"], meta["concurrency"])
    print()
    print_cpu(runs, meta["concurrency"])
    print()
    print_memory(runs)
    print()
    print_endpoints(runs)
    print()
    print_checks(report, runs)
    print()
    print_ceiling(ceiling)
    print()
    print("Environment and method")
    for note in meta["notes"]:
        print(f"  - {note}")
    for run in runs.values():
        print(f"  - {run.name}: {run.version}; " + "; ".join(run.notes))


def find_problems(runs: dict[str, ServerRun]) -> list[str]:
    """Load runs whose numbers do not stand: errors (non-2xx, timeouts) or the request cap."""
    problems = []
    for run in runs.values():
        for case, by_c in run.results.items():
            for c, result in by_c.items():
                if result.error_count:
                    problems.append(f"{run.name} {case} c={c}: errors {result.errors}")
                if result.capped:
                    problems.append(f"{run.name} {case} c={c}: hit the request cap")
    return problems


DISTURBED_SHARE = 0.10  # other processes above this share of the machine: a disturbed run


def find_warnings(runs: dict[str, ServerRun]) -> list[str]:
    """Runs during which other processes took a noticeable share of the machine."""
    warnings = []
    for run in runs.values():
        for case, by_c in run.results.items():
            for c, result in by_c.items():
                other = result.other_cpu_share or 0.0
                if other > DISTURBED_SHARE:
                    warnings.append(
                        f"{run.name} {case} c={c}: other processes took {other:.0%} of the "
                        "machine during the run; its numbers may be low"
                    )
    return warnings


def build_report(
    args: argparse.Namespace,
    runs: dict[str, ServerRun],
    ceiling: dict[int, LoadResult],
    skipped: str | None,
) -> dict[str, Any]:
    return {
        "meta": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "concurrency": args.concurrency,
            "gzip": args.gzip,
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "notes": [
                "load: wrk (C); keep-alive connections = concurrency; one wrk thread; "
                "users user-0..999",
                "latency: wrk's per-request time, closed loop (next request after the answer)",
                "responses "
                + (
                    "gzip-compressed (Accept-Encoding: gzip)"
                    if args.gzip
                    else "uncompressed: wrk sends no Accept-Encoding"
                ),
                "RSS read from /proc/<pid>/status VmRSS, children included",
            ],
            "shipwise_skipped": skipped,
        },
        "ceiling": {c: r.as_dict() for c, r in ceiling.items()},
        "servers": {
            key: {
                "name": run.name,
                "version": run.version,
                "endpoints": run.endpoints,
                "results": {
                    case: {c: r.as_dict() for c, r in by_c.items()}
                    for case, by_c in run.results.items()
                },
                "rss_idle_kib": run.rss_idle_kib,
                "rss_after_kib": run.rss_after_kib,
                "extra_rss_kib": run.extra_rss,
                "rollout_on_share": {
                    case: rollout_fraction(d) for case, d in run.decisions.items() if d
                },
                "notes": run.notes,
            }
            for key, run in runs.items()
        },
        "ratios": ratios(runs),
        "agreement": agreement(runs),
        "problems": find_problems(runs),
        "warnings": find_warnings(runs),
    }


# ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        metavar="S",
        help="measured seconds per endpoint and concurrency (default: 10)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        metavar="S",
        help="unrecorded warm-up before each measurement (default: 2)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[16, 64],
        metavar="N",
        help="open connections (default: 16 64)",
    )
    parser.add_argument("--only", choices=SERVERS, help="run one server only")
    parser.add_argument("--gzip", action="store_true", help="send Accept-Encoding: gzip")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 120:
        parser.error("--duration must be between 1 and 120 seconds")
    if not 0 <= args.warmup <= 30:
        parser.error("--warmup must be between 0 and 30 seconds")
    if any(not 1 <= c <= 1024 for c in args.concurrency):
        parser.error("--concurrency values must be between 1 and 1024")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    progress("harness ceiling: wrk against a trivial Node server")
    ceiling = measure_ceiling(args.concurrency, min(args.duration, 5.0))
    runs: dict[str, ServerRun] = {}
    skipped = None
    if args.only in (None, "unleash"):
        runs["unleash"] = run_unleash(args)
    if args.only in (None, "shipwise"):
        try:
            runs["shipwise"] = run_shipwise(args)
        except ShipwiseUnavailable as error:
            skipped = str(error)
            progress(f"Shipwise not measured: {skipped}")
    report = build_report(args, runs, ceiling, skipped)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_text(report, runs, ceiling)
        if skipped:
            print(f"\nSHIPWISE NOT MEASURED: {skipped}")
    if skipped:
        return 2
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

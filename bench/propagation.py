"""How fast a flag change reaches every SDK stream.

N subscribers hold ``GET /sdk/v1/stream`` open (spread over the instances); a flag is
toggled through the admin API; for each subscriber we record the time from sending the
toggle to receiving the event carrying the new revision. Printed: p50, p99 and max, for
one instance on SQLite and, with ``--postgres-url``, for two instances on one PostgreSQL
(toggle on the first, subscribers split across both).

    .venv/bin/python bench/propagation.py                      # 1,000 subscribers, 20 toggles
    .venv/bin/python bench/propagation.py --postgres-url postgresql+psycopg://...

Subscribers are plain asyncio sockets reading the event stream, not an HTTP library:
with 1,000 of them in one process, a heavier client would measure itself. Each runs in
its own process group of ``--client-processes`` workers so the reading is parallel.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shipwise_server import ShipwiseProcess, shipwise_servers

FLAG = "propagation-probe"


async def _subscriber(
    host: str,
    port: int,
    key: str,
    revisions: dict[int, float],
    ready: asyncio.Event,
    counter: list[int],
    total: int,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    request = (
        f"GET /sdk/v1/stream HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n"
    )
    writer.write(request.encode())
    await writer.drain()
    buffer = b""
    first = True
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            return
        now = time.time()
        buffer += chunk
        while b"\nid: " in buffer:
            start = buffer.index(b"\nid: ") + 5
            end = buffer.find(b"\n", start)
            if end == -1:
                break
            revision = int(buffer[start:end])
            buffer = buffer[end:]
            if first:
                first = False
                counter[0] += 1
                if counter[0] == total:
                    ready.set()
            else:
                revisions.setdefault(revision, now)
        # keep only the tail that may hold a partial "id:" line
        buffer = buffer[-64:]


def _client_process(
    targets: list[tuple[str, int]], key: str, count: int, toggles: int, queue: Any, go: Any
) -> None:
    """Hold ``count`` streams; report when all are open, then every arrival time."""

    async def main() -> None:
        ready = asyncio.Event()
        counter = [0]
        arrivals: list[dict[int, float]] = [{} for _ in range(count)]
        tasks = [
            asyncio.create_task(
                _subscriber(*targets[i % len(targets)], key, arrivals[i], ready, counter, count)
            )
            for i in range(count)
        ]
        await asyncio.wait_for(ready.wait(), 120)
        queue.put(("ready", count))
        deadline = time.monotonic() + 30 + toggles * 5
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            if go.is_set() and all(len(a) >= toggles for a in arrivals):
                break
        queue.put(("arrivals", arrivals))
        for task in tasks:
            task.cancel()

    try:  # the lighter the client, the more of the machine's two cores the server gets
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(
    servers: list[ShipwiseProcess], subscribers: int, toggles: int, processes: int
) -> dict[str, Any]:
    with servers[0].admin() as admin:
        admin.post("/api/v1/projects/default/flags", json={"key": FLAG, "kind": "operational"})
        secret = admin.post(
            "/api/v1/tokens",
            json={
                "name": "propagation",
                "kind": "server",
                "project": "default",
                "environment": "production",
            },
        ).json()["secret"]
        targets = [
            (s.url.split("//")[1].split(":")[0], int(s.url.rsplit(":", 1)[1])) for s in servers
        ]
        context = multiprocessing.get_context("spawn")
        queue, go = context.Queue(), context.Event()
        shares = [
            subscribers // processes + (1 if i < subscribers % processes else 0)
            for i in range(processes)
        ]
        workers = [
            context.Process(target=_client_process, args=(targets, secret, n, toggles, queue, go))
            for n in shares
        ]
        for worker in workers:
            worker.start()
        opened = 0
        while opened < subscribers:
            kind, value = queue.get(timeout=180)
            if kind == "ready":
                opened += value
        sent: dict[int, float] = {}
        enabled = False
        for _ in range(toggles):
            time.sleep(0.3)  # let the previous change settle everywhere
            enabled = not enabled
            action = "enable" if enabled else "disable"
            started = time.time()
            response = admin.post(
                f"/api/v1/projects/default/flags/{FLAG}/environments/production/{action}"
            )
            response.raise_for_status()
            revision = int(
                admin.get("/api/v1/projects/default/environments/production").json()["revision"]
            )
            sent[revision] = started
        go.set()
        latencies: list[float] = []
        per_toggle: dict[int, list[float]] = {revision: [] for revision in sent}
        missing = 0
        for _ in workers:
            kind, arrivals = queue.get(timeout=120)
            for subscriber in arrivals:
                for revision, started in sent.items():
                    if revision in subscriber:
                        latency = (subscriber[revision] - started) * 1000
                        latencies.append(latency)
                        per_toggle[revision].append(latency)
                    else:
                        missing += 1
        for worker in workers:
            worker.join(10)
    return {
        "instances": len(servers),
        "subscribers": subscribers,
        "toggles": toggles,
        "deliveries": len(latencies),
        "missing": missing,
        "p50_ms": statistics.median(latencies) if latencies else None,
        "p99_ms": _percentile(latencies, 0.99) if latencies else None,
        "max_ms": max(latencies) if latencies else None,
        # first and last subscriber reached, per toggle: the spread is the fan-out
        "toggles_first_last_ms": [
            (round(min(v), 1), round(max(v), 1)) for v in per_toggle.values() if v
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--toggles", type=int, default=20)
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--postgres-url", help="also run two instances on this PostgreSQL database")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = []
    setups = [("1 instance, SQLite", 1, None)]
    if args.postgres_url:
        setups.append(("2 instances, PostgreSQL", 2, args.postgres_url))
    for label, count, url in setups:
        print(f"running: {label}, {args.subscribers} subscribers …", file=sys.stderr)
        with (
            tempfile.TemporaryDirectory() as tmp,
            shipwise_servers(count, Path(tmp), url) as servers,
        ):
            result = run(servers, args.subscribers, args.toggles, args.client_processes)
        result["setup"] = label
        results.append(result)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    title = f"{args.subscribers} subscribers, {args.toggles} toggles; goal p99 < 50 ms"
    print(f"\nFlag change → every SDK stream ({title})")
    print(f"{'setup':<26}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'delivered':>12}{'missing':>9}")
    for r in results:
        print(
            f"{r['setup']:<26}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['max_ms']:>9.1f}"
            f"{r['deliveries']:>12,}{r['missing']:>9,}"
        )
    for r in results:
        spans = ", ".join(f"{a:.0f}-{b:.0f}" for a, b in r["toggles_first_last_ms"])
        print(f"  {r['setup']}: first/last subscriber per toggle (ms): {spans}")
    return 0 if all(r["missing"] == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

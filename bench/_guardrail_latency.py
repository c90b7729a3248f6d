"""How long from the data that shows a regression arriving to the feature being off in
an SDK: a real ``shipwise serve`` process (its runner on, real time), a rollout plan
with an error-rate guardrail, an SDK client on the stream. Each run posts one batch of
exposures, then (timed from here) the batch of tracked errors that breaches the
guardrail, and waits until the client evaluates the flag off for a user who had it."""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shipwise_server import shipwise_server
from shipwise.sdk import Client

PLAN = {
    "steps": [{"percentage": 50}, {"percentage": 100}],
    "guardrails": [{"metric": "errors", "max_worse": 0.5, "action": "rollback"}],
}


@dataclass(frozen=True)
class Latency:
    runs: int
    median_ms: float
    p95_ms: float
    max_ms: float


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.text}")
    return response.json() if response.content else {}


def measure(runs: int = 20) -> Latency:
    seconds: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="shipwise-latency-") as directory,
        shipwise_server(Path(directory) / "server") as server,
        server.admin() as admin,
    ):
        base = "/api/v1/projects/default"
        _ok(
            admin.put(
                f"{base}/metrics/errors",
                json={"source": "sdk", "settings": {"event": "error", "measure": "rate"}},
            )
        )
        key = _ok(
            admin.post(
                "/api/v1/tokens",
                json={
                    "name": "bench",
                    "kind": "server",
                    "project": "default",
                    "environment": "production",
                },
            )
        )["secret"]
        sdk_headers = {"Authorization": f"Bearer {key}"}
        client = Client(server.url, key, metrics_interval=None)
        try:
            assert client.wait_until_ready(10)
            for run in range(runs):
                flag = f"guarded-{run}"
                _ok(admin.post(f"{base}/flags", json={"key": flag}))
                _ok(
                    admin.post(
                        f"{base}/rollouts",
                        json={"flag": flag, "environment": "production", "plan": PLAN},
                    )
                )
                user = _user_with(client, flag)
                _ok(
                    httpx.post(
                        f"{server.url}/sdk/v1/metrics",
                        headers=sdk_headers,
                        json={"flags": {flag: {"yes": 20_000, "no": 20_000}}},
                    )
                )
                off = threading.Event()
                started = time.perf_counter()
                _ok(
                    httpx.post(
                        f"{server.url}/sdk/v1/events",
                        headers=sdk_headers,
                        json={
                            "appName": "bench",
                            "instanceId": "latency",
                            "events": [
                                {"flag": flag, "arm": "on", "event": "error", "count": 800},
                                {"flag": flag, "arm": "off", "event": "error", "count": 200},
                            ],
                        },
                    )
                )
                while client.is_enabled(flag, {"userId": user}):
                    if time.perf_counter() - started > 30:
                        raise RuntimeError(f"{flag} was still on after 30 s")
                    off.wait(0.002)
                seconds.append(time.perf_counter() - started)
        finally:
            client.close()
    ordered = sorted(seconds)
    return Latency(
        runs,
        statistics.median(ordered) * 1000,
        ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000,
        ordered[-1] * 1000,
    )


def _user_with(client: Client, flag: str) -> str:
    """A user who has the feature, once the SDK has the plan's first step."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for n in range(100):
            if client.is_enabled(flag, {"userId": f"user-{n}"}):
                return f"user-{n}"
        time.sleep(0.005)
    raise RuntimeError(f"the SDK never saw {flag} on")


if __name__ == "__main__":
    result = measure()
    print(
        f"breach -> flag off in the SDK: median {result.median_ms:.0f} ms, "
        f"p95 {result.p95_ms:.0f} ms, max {result.max_ms:.0f} ms ({result.runs} runs)"
    )

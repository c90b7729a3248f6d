"""A release driven through a whole rollout plan, weeks in seconds.

A real Shipwise server (SQLite in a temporary directory, HTTP on a free loopback port)
runs on a simulated clock that only the simulation moves. Synthetic users arrive
through the real Python SDK: each is evaluated (an exposure), may hit an error or a
slow page, and ``track``s it; the SDK sends its batches over HTTP, the server's own
runner judges the guardrails and moves the plan, and the SDK's stream brings the new
flag back before the next users arrive. Scenarios change what the feature does to its
users, and when.
"""

from __future__ import annotations

import logging
import random
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from shipwise.domain.rollout import PlanStatus
from shipwise.sdk import Client

FLAG = "new-checkout"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday morning
HORIZON = timedelta(days=28)
ADMIN = "sw_api_simulation_admin_token_0123456789abcdef"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    users_per_day: int = 20_000
    error_rate: float = 0.01  # without the feature
    latency_ms: float = 200.0
    # What the feature does, from the step (1-based) where it starts to show.
    error_rate_on: float = 0.01
    latency_on_ms: float = 200.0
    from_step: int = 1


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("healthy", "the feature changes nothing: the plan should reach released"),
        Scenario(
            "error-spike",
            "errors jump from 1% to 4% for users with the feature once it reaches 25%",
            error_rate_on=0.04,
            from_step=2,
        ),
        Scenario(
            "latency",
            "pages are 30% slower with the feature (200 ms -> 260 ms)",
            latency_on_ms=260.0,
        ),
        Scenario(
            "low-traffic",
            "200 users a day: too few to judge, so the plan should hold, not advance blindly",
            users_per_day=200,
        ),
    )
}

PLAN: dict[str, Any] = {
    "steps": [
        {"percentage": 10, "audiences": ["beta-testers"]},
        {"percentage": 25},
        {"percentage": 50},
        {"percentage": 100},
    ],
    "guardrails": [
        {"metric": "errors", "max_worse": 0.5, "action": "rollback"},
        {"metric": "latency", "max_worse": 0.1, "action": "rollback"},
    ],
}


@dataclass
class Event:
    at: datetime
    what: str
    detail: str


@dataclass
class Outcome:
    scenario: Scenario
    status: str
    step: int
    percentage: int
    ended_at: datetime
    users: int = 0
    users_with_feature: int = 0
    timeline: list[Event] = field(default_factory=list)
    wall_seconds: float = 0.0


class SimulatedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _server(clock: SimulatedClock, data_dir: Path) -> Iterator[tuple[str, Any]]:
    import uvicorn  # noqa: PLC0415 (server modules only when simulating)

    from shipwise.server.api.app import create_app  # noqa: PLC0415
    from shipwise.server.bootstrap import build  # noqa: PLC0415
    from shipwise.server.settings import Settings  # noqa: PLC0415

    port = _free_port()
    settings = Settings(data_dir=data_dir, admin_token=ADMIN, port=port, runner=False)
    services = build(settings, clock)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(services),
            host="127.0.0.1",
            port=port,
            log_level="error",
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the simulation's server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", services
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()


def _prepare(admin: httpx.Client) -> str:
    """The flag, the beta testers, the metrics and a server key; returns the key."""

    def ok(response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise RuntimeError(f"{response.request.method} {response.url}: {response.text}")
        return response.json()

    base = "/api/v1/projects/default"
    ok(admin.post(f"{base}/flags", json={"key": FLAG, "kind": "release"}))
    ok(
        admin.post(
            f"{base}/segments",
            json={
                "name": "beta-testers",
                "constraints": [
                    {"contextName": "userId", "operator": "IN", "values": ["user-1", "user-2"]}
                ],
            },
        )
    )
    for name, event in (("errors", "error"), ("latency", "latency")):
        measure = "rate" if name == "errors" else "mean"
        settings = {"event": event, "measure": measure}
        ok(admin.put(f"{base}/metrics/{name}", json={"source": "sdk", "settings": settings}))
    token = ok(
        admin.post(
            "/api/v1/tokens",
            json={
                "name": "shop",
                "kind": "server",
                "project": "default",
                "environment": "production",
            },
        )
    )
    return str(token["secret"])


COMMIT = "5e1ec7ed" * 5
# Who walks the release through the gates; the admin opens it, so it is its author.
TEAM = {"bob": "developer", "carol": "release-manager", "quinn": "qa"}


def _through_the_gates(admin: httpx.Client, url: str) -> str:
    """The flag's release, walked dev -> staging -> production through every gate of the
    default policy, as a team would: production is protected, and only a release that
    got there may roll its flag out to its users. Returns the release's key."""

    def ok(client: httpx.Client, path: str, body: dict[str, Any]) -> Any:
        response = client.post(f"/api/v1/projects/default{path}", json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"POST {path}: {response.text}")
        return response.json()

    people = {}
    for name, role in TEAM.items():
        body = {"name": name, "kind": "api", "project": "default", "role": role}
        secret = admin.post("/api/v1/tokens", json=body).json()["secret"]
        headers = {"Authorization": f"Bearer {secret}"}
        people[name] = httpx.Client(base_url=url, headers=headers, timeout=10)
    bob, carol, quinn = people["bob"], people["carol"], people["quinn"]
    try:
        release = ok(
            admin,
            "/releases",
            {
                "title": "New checkout",
                "kind": "feature",
                "flags": [FLAG],
                "commit": COMMIT,
                "rollback_plan": f"Turn {FLAG} off; revert the merge.",
            },
        )["key"]
        ok(admin, "/ci", {"commit": COMMIT, "context": "tests", "state": "success"})
        for environment, approvers in (("dev", [bob]), ("staging", [bob])):
            for approver in approvers:
                ok(approver, f"/releases/{release}/approve", {})
            ok(carol, f"/releases/{release}/promote", {})
            ok(admin, "/deploys", {"environment": environment, "commit": COMMIT})
        ok(bob, f"/releases/{release}/approve", {})
        ok(carol, f"/releases/{release}/approve", {})
        ok(quinn, f"/releases/{release}/signoff", {"kind": "qa", "stage": "staging"})
        ok(carol, f"/releases/{release}/rollback-drill", {"environment": "staging"})
        ok(carol, f"/releases/{release}/promote", {"environment": "production"})
        return str(release)
    finally:
        for client in people.values():
            client.close()


def run(
    scenario: Scenario,
    *,
    seed: int = 1,
    horizon: timedelta = HORIZON,
    progress: Callable[[float, str], None] | None = None,
) -> Outcome:
    """Drive ``scenario`` until the plan finishes or ``horizon`` passes."""
    rng = random.Random(seed)
    clock = SimulatedClock(START)
    # The timeline says what the notifications would: keep their log lines off the screen.
    logging.getLogger("shipwise.notify").propagate = False
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="shipwise-simulate-") as directory,
        _server(clock, Path(directory)) as (url, services),
    ):
        headers = {"Authorization": f"Bearer {ADMIN}"}
        with httpx.Client(base_url=url, headers=headers, timeout=10) as admin:
            key = _prepare(admin)
            release = _through_the_gates(admin, url)
            plan = admin.post(
                "/api/v1/projects/default/rollouts",
                json={"flag": FLAG, "environment": "production", "plan": PLAN, "release": release},
            )
            if plan.status_code != 201:
                raise RuntimeError(f"starting the plan failed: {plan.text}")
            plan_id = int(plan.json()["id"])
            client = Client(url, key, metrics_interval=3600, refresh_interval=3600)
            try:
                if not client.wait_until_ready(10):
                    raise RuntimeError("the SDK could not reach the simulation's server")
                outcome = _drive(scenario, rng, clock, services, client, plan_id, horizon, progress)
            finally:
                client.close()
            outcome.timeline = _timeline(admin, plan_id)
    outcome.wall_seconds = time.monotonic() - started
    return outcome


def _drive(
    scenario: Scenario,
    rng: random.Random,
    clock: SimulatedClock,
    services: Any,
    client: Client,
    plan_id: int,
    horizon: timedelta,
    progress: Callable[[float, str], None] | None,
) -> Outcome:
    from shipwise.server.services.principal import SYSTEM  # noqa: PLC0415 (server, lazily)

    def read_plan() -> Any:
        return services.rollouts.get(SYSTEM, "default", plan_id)

    users = shown = 0
    pool = max(scenario.users_per_day, 10)
    carry = 0.0
    while True:
        record = read_plan()
        state = record.state
        elapsed = clock.now - START
        if not state.active or elapsed >= horizon:
            break
        if progress is not None:
            step = record.spec.steps[state.step]
            progress(elapsed / horizon, f"{state.status} at {step.percentage}%")
        # The next moment anything happens: the plan's next check, at most 15 minutes.
        due = record.next_check_at or clock.now + timedelta(minutes=15)
        span = max(min(due - clock.now, timedelta(minutes=15)), timedelta(minutes=1))
        carry += scenario.users_per_day * span / timedelta(days=1)
        arriving, carry = int(carry), carry - int(carry)
        effect = state.step + 1 >= scenario.from_step
        for _ in range(arriving):
            context = {"userId": f"user-{rng.randrange(pool)}"}
            on = client.is_enabled(FLAG, context)
            users += 1
            shown += on
            bad = effect and on
            if rng.random() < (scenario.error_rate_on if bad else scenario.error_rate):
                client.track("error", context)
            latency = scenario.latency_on_ms if bad else scenario.latency_ms
            client.track("latency", context, value=rng.gauss(latency, latency * 0.25))
        clock.now += span
        client.flush()
        before = client.snapshot
        outcomes = services.runner.tick()
        if any(o.decision.changes_flag and o.applied for o in outcomes):
            _wait_for_new_snapshot(client, before)
    record = read_plan()
    step = record.spec.steps[record.state.step]
    status = record.state.status
    if status is PlanStatus.RUNNING and record.judgements:
        status_text = "held: " + (_holding_reason(record.judgements) or "running")
    else:
        status_text = status.value
    return Outcome(
        scenario, status_text, record.state.step + 1, step.percentage, clock.now, users, shown
    )


def _holding_reason(judgements: dict[str, Any]) -> str:
    unsure = [n for n, j in judgements.items() if j.get("verdict") in ("inconclusive", "error")]
    return f"{', '.join(unsure)} inconclusive" if unsure else ""


def _wait_for_new_snapshot(client: Client, before: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while client.snapshot is before and time.monotonic() < deadline:
        time.sleep(0.002)


def _timeline(admin: httpx.Client, plan_id: int) -> list[Event]:
    answer = admin.get(f"/api/v1/projects/default/rollouts/{plan_id}/timeline")
    answer.raise_for_status()
    checks = answer.json().get("checks", [])
    return [
        Event(datetime.fromisoformat(c["at"]), c["decision"], c["reason"])
        for c in checks
        if c["decision"] != "hold"
    ]

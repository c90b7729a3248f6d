"""What the rollout page tests share: a real server on a held clock (the runner is the
server's own, ticked by the test, as tests/integration/rollouts drive it), the team of
release_pages plus carol, a release manager (only she may skip or approve a step), and
a plan started through the admin API on staging (not protected: any plan may start)
with traffic sent through the SDK endpoints an SDK posts to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from tests.integration.web.release_pages import API, World
from tests.support.clock import ManualClock
from tests.support.server import running_server

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday morning
FLAG = "new-checkout"
ENV = "staging"
PEOPLE = {"alice": "developer", "carol": "release-manager", "vic": "viewer"}
BETA = {
    "name": "beta-testers",
    "constraints": [{"contextName": "userId", "operator": "IN", "values": ["betty"]}],
}
WATCH = {"close_for": "1h", "close_every": "10m", "then_every": "1h", "bake": "1d"}
STEPS = [
    {"percentage": 10, "audiences": ["beta-testers"]},
    {"percentage": 25},
    {"percentage": 50},
    {"percentage": 100},
]


def rollout_page(plan_id: int) -> str:
    return f"/projects/default/rollouts/{plan_id}"


def ok(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.method} {response.url}: {response.text}"
    return response.json()


@dataclass
class Rollouts:
    team: World
    clock: ManualClock
    sdk_key: str

    def start(self, **plan: Any) -> int:
        """A plan on the flag in staging, through the admin API; its id."""
        body = {"steps": STEPS, "watch": WATCH, **plan}
        made = self.team.admin.post(
            f"{API}/rollouts", json={"flag": FLAG, "environment": ENV, "plan": body}
        )
        return int(ok(made)["id"])

    def plan(self, plan_id: int) -> dict[str, Any]:
        return ok(self.team.admin.get(f"{API}/rollouts/{plan_id}"))  # type: ignore[no-any-return]

    def timeline(self, plan_id: int) -> list[dict[str, Any]]:
        return ok(self.team.admin.get(f"{API}/rollouts/{plan_id}/timeline"))["checks"]  # type: ignore[no-any-return]

    def traffic(self, shown: int, hidden: int, errors_on: int, errors_off: int) -> None:
        """One SDK batch: exposures with and without the feature, and their errors."""
        headers = {"Authorization": self.sdk_key}
        url = self.team.server.url
        exposures = {"appName": "shop", "flags": {FLAG: {"yes": shown, "no": hidden}}}
        assert (
            httpx.post(f"{url}/sdk/v1/metrics", json=exposures, headers=headers).status_code == 202
        )
        lines = [
            {"flag": FLAG, "arm": "on", "event": "error", "count": errors_on},
            {"flag": FLAG, "arm": "off", "event": "error", "count": errors_off},
        ]
        events = {"appName": "shop", "instanceId": "shop-1", "events": lines}
        assert httpx.post(f"{url}/sdk/v1/events", json=events, headers=headers).status_code == 202

    def check(self, **advance: float) -> None:
        """Time passes, then the server's runner checks every plan that is due."""
        self.clock.advance(**advance)
        self.team.server.services.runner.tick()


@contextmanager
def rollouts(database_url: str, tmp_path: Path) -> Iterator[Rollouts]:
    clock = ManualClock(T0)
    with (
        running_server(database_url=database_url, data_dir=tmp_path, clock=clock) as server,
        server.admin() as admin,
    ):
        tokens = {}
        for name, role in PEOPLE.items():
            body = {"name": name, "kind": "api", "project": "default", "role": role}
            tokens[name] = ok(admin.post("/api/v1/tokens", json=body))["secret"]
        ok(admin.post(f"{API}/flags", json={"key": FLAG}))
        ok(admin.post(f"{API}/segments", json=BETA))
        ok(
            admin.put(
                f"{API}/metrics/errors", json={"source": "sdk", "settings": {"event": "error"}}
            )
        )
        ok(admin.put(f"{API}/metrics/tickets", json={"source": "pushed"}))
        key = {"name": "shop", "kind": "server", "project": "default", "environment": ENV}
        sdk_key = ok(admin.post("/api/v1/tokens", json=key))["secret"]
        yield Rollouts(World(server, admin, tokens), clock, sdk_key)

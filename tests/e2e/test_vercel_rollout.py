"""A rollout guarded by p75 LCP from Vercel's Speed Insights drain, on the accelerated
clock: 10% (+ beta testers) → 25% → 50% → 100%, a week a step. Vercel posts signed
deliveries (a JSON array, then NDJSON, in turn) to the real server as users load pages;
the runner reads the step's p75 from what was drained.

- A feature whose LCP regresses at 25% is rolled back at 25%, the reason naming the
  metric, the observed p75 and the limit; the flag is off afterwards.
- A healthy feature reaches 100%, is still baking at 23 h 59 min and released at 24 h.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.clock import ManualClock
from tests.support.releases import release_in_production
from tests.support.server import RunningServer, running_server

from shipwise.domain.rollout import PlanStatus
from shipwise.server.ports import RolloutPlanRecord
from shipwise.server.services.principal import SYSTEM

MONDAY_9 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SECRET = "vercel-drain-secret-for-the-e2e"
HEALTHY_LCP = (1650.0, 1900.0, 2050.0, 2200.0, 2310.0, 1480.0, 2120.0, 2390.0)  # p75 2,200
SLOW_LCP = (2200.0, 2900.0, 3000.0, 3100.0, 3400.0, 3400.0, 3600.0, 3900.0)  # p75 3,400
TICK = timedelta(hours=6)  # the accelerated clock: each turn of the loop is six hours


def plan() -> dict[str, Any]:
    return {
        "steps": [
            {"percentage": 10, "audiences": ["beta-testers"], "min_duration": "7d"},
            {"percentage": 25, "min_duration": "7d"},
            {"percentage": 50, "min_duration": "7d"},
            {"percentage": 100},
        ],
        "guardrails": [
            {
                "metric": "lcp-p75",
                "direction": "higher-is-worse",
                "threshold": 2500,
                "action": "rollback",
            }
        ],
    }


@dataclass
class Shop:
    server: RunningServer
    clock: ManualClock
    vercel: httpx.Client  # Vercel's drain, posting to the server
    deliveries: int = 0

    def drain(self, lcp: Sequence[float]) -> None:
        """One Speed Insights delivery of page loads a minute from now: an LCP per
        value, and an INP and a CLS beside each (which an LCP guardrail leaves out)."""
        at = self.clock.now + timedelta(minutes=1)
        records = []
        for n, value in enumerate(lcp):
            for metric, measured in (("LCP", value), ("INP", 9000.0), ("CLS", 0.4)):
                records.append(speed_insight(at, 1000 * self.deliveries + n, metric, measured))
        self.deliveries += 1
        if self.deliveries % 2:
            body, kind = json.dumps(records).encode(), "application/json"
        else:
            body = "\n".join(json.dumps(r) for r in records).encode() + b"\n"
            kind = "application/x-ndjson"
        signature = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
        answer = self.vercel.post(
            "/webhooks/vercel/default",
            content=body,
            headers={"content-type": kind, "x-vercel-signature": signature},
        )
        assert answer.status_code == 202, answer.text

    def plan(self, plan_id: int) -> RolloutPlanRecord:
        return self.server.services.rollouts.get(SYSTEM, "default", plan_id)

    def start(self, flag: str) -> int:
        services = self.server.services
        services.flags.create(SYSTEM, "default", flag)
        key = release_in_production(services, flag)
        return services.rollouts.start(
            SYSTEM, "default", flag, "production", plan=plan(), release=key
        ).id

    def turn(self, lcp: Sequence[float]) -> None:
        """Page loads drained, six hours pass, the runner checks what is due."""
        self.drain(lcp)
        self.clock.advance(seconds=TICK.total_seconds())
        self.server.services.runner.tick()


def speed_insight(at: datetime, device: int, metric: str, value: float) -> dict[str, Any]:
    """One record as Vercel's Speed Insights drain sends it (schema v1)."""
    return {
        "schema": "vercel.speed_insights.v1",
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "projectId": "Qmc52npNy86S8VV4Mt8a8dP1LEkRNbgosW3pBCQytkcgf2",
        "ownerId": "team_nLlpyC6REAqxydlFKbrMDlud",
        "deviceId": device,
        "metricType": metric,
        "value": value,
        "origin": "https://shop.example",
        "path": "/checkout",
        "route": "/checkout",
        "country": "DE",
        "region": "BE",
        "city": "Berlin",
        "osName": "macOS",
        "osVersion": "14.5",
        "clientName": "Chrome",
        "clientType": "browser",
        "clientVersion": "126.0.6478.127",
        "deviceType": "desktop",
        "deviceBrand": "Apple",
        "connectionSpeed": "4g",
        "browserEngine": "Blink",
        "browserEngineVersion": "126.0.6478.127",
        "scriptVersion": "1.0.0",
        "sdkVersion": "1.0.12",
        "sdkName": "@vercel/speed-insights",
        "vercelEnvironment": "production",
        "vercelUrl": "shop-3k2j9d0ab.vercel.app",
        "deploymentId": "dpl_2YjTyBpWVEXBpbTA2XvkX3bYb4Dh",
    }


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    clock = ManualClock(MONDAY_9)
    # The server's SHIPWISE_VERCEL_DRAIN_SECRET, as Settings.from_environment reads it.
    with running_server(
        data_dir=tmp_path / "server", clock=clock, vercel_drain_secret=SECRET
    ) as server:
        server.services.segments.create(
            SYSTEM,
            "default",
            "beta-testers",
            [{"contextName": "userId", "operator": "IN", "values": ["beta-1"]}],
        )
        with server.admin() as admin:  # the guardrail's metric, from its template
            answer = admin.put(
                "/api/v1/projects/default/metrics/lcp-p75",
                json={"source": "vercel", "template": "lcp-p75", "settings": {}},
            )
            assert answer.status_code == 200, answer.text
        with httpx.Client(base_url=server.url, timeout=30) as vercel:
            yield Shop(server, clock, vercel)


def test_lcp_regressing_at_25_percent__is_rolled_back_naming_metric_limit_and_p75(
    shop: Shop,
) -> None:
    plan_id = shop.start("new-checkout")
    while shop.plan(plan_id).state.status is PlanStatus.RUNNING:
        step = shop.plan(plan_id).state.step
        shop.turn(HEALTHY_LCP if step == 0 else SLOW_LCP)
        assert shop.clock.now < MONDAY_9 + timedelta(days=30), "the plan never finished"

    final = shop.plan(plan_id).state
    assert final.status is PlanStatus.ROLLED_BACK
    assert final.step == 1  # at 25%, at its first check
    assert shop.clock.now == MONDAY_9 + timedelta(days=7) + TICK  # one turn into 25%
    assert final.reason == "lcp-p75 3,400 on 8 units, above the limit of 2,500"
    services = shop.server.services
    assert not services.flags.config(SYSTEM, "default", "new-checkout", "production").enabled


def test_healthy_lcp__reaches_100_percent_and_is_released_only_after_24_hours(
    shop: Shop,
) -> None:
    plan_id = shop.start("saved-carts")
    while shop.plan(plan_id).state.status is PlanStatus.RUNNING:
        shop.turn(HEALTHY_LCP)
        assert shop.clock.now < MONDAY_9 + timedelta(days=30), "the plan never finished"
    state = shop.plan(plan_id).state
    assert state.status is PlanStatus.BAKING, state.reason
    assert state.baking_since is not None
    assert state.baking_since == shop.clock.now == MONDAY_9 + timedelta(days=21)  # a week a step

    shop.drain(HEALTHY_LCP)  # page loads at 100%
    shop.clock.set(state.baking_since + timedelta(hours=23, minutes=59))
    shop.server.services.runner.tick()
    assert shop.plan(plan_id).state.status is PlanStatus.BAKING

    shop.clock.advance(minutes=1)
    shop.server.services.runner.tick()
    released = shop.plan(plan_id).state
    assert released.status is PlanStatus.RELEASED, released.reason
    config = shop.server.services.flags.config(SYSTEM, "default", "saved-carts", "production")
    assert config.enabled

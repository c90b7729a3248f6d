"""A release shipped without a flag split, judged before and after its deploy, through a
real server: two deploys are reported with their Vercel deployments, Vercel drains the
page loads of each (signed deliveries), and a ``Compare`` guardrail on a ``compare:
deploys`` LCP metric rolls the plan back when the new deployment is much slower than the
one it replaced."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tests.support.clock import ManualClock
from tests.support.releases import release_in_production
from tests.support.server import RunningServer, running_server
from tests.support.vercel_drains import DRAIN_SECRET, as_array, signed, vital

from shipwise.domain.rollout import PlanStatus
from shipwise.server.services.principal import SYSTEM

MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OLD, NEW = "1" * 40, "2" * 40
FLAG = "checkout-revert"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest.fixture
def server(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[RunningServer]:
    with running_server(
        database_url, tmp_path / "data", clock=clock, vercel_drain_secret=DRAIN_SECRET
    ) as running:
        with running.admin() as admin:
            answer = admin.put(
                "/api/v1/projects/default/metrics/lcp-deploys",
                json={"source": "vercel", "settings": {"measure": "lcp", "compare": "deploys"}},
            )
            assert answer.status_code == 200, answer.text
        yield running


def deploy(server: RunningServer, commit: str, deployment: str) -> None:
    with server.admin() as admin:
        answer = admin.post(
            "/api/v1/projects/default/deploys",
            json={"environment": "production", "commit": commit, "vercel_deployment": deployment},
        )
    assert answer.status_code == 201, answer.text


def drain(server: RunningServer, since: datetime, deployment: str, base: float) -> None:
    """Forty page loads' LCP from one deployment, a minute apart from ``since``."""
    loads = [
        vital("LCP", base + (n % 8) * 50, since + timedelta(minutes=n), deployment=deployment)
        for n in range(40)
    ]
    body = as_array(loads)
    answer = httpx.post(
        f"{server.url}/webhooks/vercel/default", content=body, headers=signed(body), timeout=30
    )
    assert answer.status_code == 202, answer.text


def test_a_much_slower_new_deployment__is_rolled_back_by_a_deploy_comparison(
    server: RunningServer, clock: ManualClock
) -> None:
    services = server.services
    deploy(server, OLD, "dpl_old")
    clock.advance(hours=6)
    drain(server, MONDAY + timedelta(hours=5), "dpl_old", 1800.0)  # the hour before
    deploy(server, NEW, "dpl_new")
    services.flags.create(SYSTEM, "default", FLAG)
    plan = services.rollouts.start(
        SYSTEM,
        "default",
        FLAG,
        "production",
        plan={
            "steps": [{"percentage": 10, "min_duration": "2h"}, {"percentage": 100}],
            "guardrails": [
                {
                    "metric": "lcp-deploys",
                    "direction": "higher-is-worse",
                    "max_worse": 0.1,
                    "action": "rollback",
                }
            ],
        },
        release=release_in_production(services, FLAG),
    )
    clock.advance(minutes=50)
    drain(server, clock.now - timedelta(minutes=45), "dpl_new", 3200.0)
    clock.advance(minutes=10)

    outcome = services.runner.check(plan.id)

    assert outcome is not None
    judgement = outcome.judgements["lcp-deploys"]
    assert judgement.verdict.value == "regressed", judgement.summary
    assert judgement.details["treatment_units"] == 40
    assert judgement.details["control_units"] == 40
    assert judgement.details["treatment_mean"] == pytest.approx(3375.0)
    assert judgement.details["control_mean"] == pytest.approx(1975.0)
    assert outcome.decision.kind.value == "rollback"
    assert "lcp-deploys" in outcome.decision.reason
    final = services.rollouts.get(SYSTEM, "default", plan.id)
    assert final.state.status is PlanStatus.ROLLED_BACK


def test_a_revert_at_100_percent__whose_deploy_comparison_cannot_be_read__is_not_released(
    server: RunningServer, clock: ManualClock
) -> None:
    # Straight to 100% (a revert): only one deploy is recorded, so there is nothing to
    # compare with; the bake ends, and the plan holds instead of calling that healthy.
    services = server.services
    deploy(server, NEW, "dpl_new")
    services.flags.create(SYSTEM, "default", FLAG)
    plan = services.rollouts.start(
        SYSTEM,
        "default",
        FLAG,
        "production",
        plan={
            "steps": [{"percentage": 100}],
            "guardrails": [
                {"metric": "lcp-deploys", "direction": "higher-is-worse", "max_worse": 0.1}
            ],
        },
        release=release_in_production(services, FLAG),
    )
    clock.advance(hours=25)

    outcome = services.runner.check(plan.id)

    assert outcome is not None
    judgement = outcome.judgements["lcp-deploys"]
    assert judgement.verdict.value == "error", judgement.summary
    assert f"only {NEW[:12]} has been deployed to production" in judgement.summary
    assert outcome.decision.kind.value == "notify"  # held, and said
    assert "lcp-deploys could not be read" in outcome.decision.reason
    final = services.rollouts.get(SYSTEM, "default", plan.id)
    assert final.state.status is PlanStatus.BAKING

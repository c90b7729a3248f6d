"""A guardrail comparing arms on Sentry's errors, end to end on a held clock: the runner
asks a Sentry stand-in for the errors whose recorded flag was on and off (``sentry`` with
``split: flag``), the Observer pairs them with the SDKs' exposures, and the plan is
rolled back when users with the feature err more per exposure. A Sentry that cannot be
read is an "error" verdict that holds the plan, never a healthy one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.support.clock import ManualClock
from tests.support.releases import release_in_production
from tests.support.sentry_standin import SentryStandin, sentry_standin

from shipwise.domain.rollout import PlanStatus
from shipwise.server.bootstrap import Services, build
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FLAG = "new-checkout"
TOKEN = "sntryu_standin-token"
SHOP = 4504112277
PLAN = {
    "steps": [{"percentage": 50}, {"percentage": 100}],
    "guardrails": [{"metric": "sentry-errors", "max_worse": 0.5, "action": "rollback"}],
    "watch": {"close_for": "1h", "close_every": "10m", "then_every": "1h", "bake": "24h"},
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def sentry() -> Iterator[SentryStandin]:
    with sentry_standin(TOKEN, "acme", (SHOP,)) as standin:
        yield standin


def _services(tmp_path: Path, clock: ManualClock, sentry_url: str) -> Services:
    services = build(Settings(data_dir=tmp_path / "data", admin_token=None), clock)
    services.flags.create(SYSTEM, "default", FLAG)
    services.metric_catalog.define(
        SYSTEM,
        "default",
        "sentry-errors",
        "sentry",
        {
            "url": sentry_url,
            "organization": "acme",
            "project": SHOP,
            "token": TOKEN,
            "split": "flag",
        },
    )
    return services


def _environment_id(services: Services) -> int:
    with services.database.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        environment = tx.get_environment(project.id, "production")
        assert environment is not None
        return environment.id


def _hour_of_traffic(
    services: Services, sentry: SentryStandin, clock: ManualClock, on: int, off: int
) -> None:
    """1000 users with the feature and 1000 without, ``on`` and ``off`` of them failing:
    exposures through the SDK's service, errors into Sentry with the flag's value."""
    services.metrics.record_exposures(_environment_id(services), "shop", {FLAG: (1000, 1000, {})})
    for _ in range(on):
        sentry.add_event(clock.now, {FLAG: True})
    for _ in range(off):
        sentry.add_event(clock.now, {FLAG: False})


def test_more_errors_per_exposure_with_the_feature_in_sentry__rolls_back(
    tmp_path: Path, clock: ManualClock, sentry: SentryStandin
) -> None:
    services = _services(tmp_path, clock, sentry.url)
    try:
        plan = services.rollouts.start(
            SYSTEM,
            "default",
            FLAG,
            "production",
            plan=PLAN,
            release=release_in_production(services, FLAG),
        )
        verdicts = []
        for _ in range(48):
            _hour_of_traffic(services, sentry, clock, on=40, off=10)  # 4% against 1%
            clock.advance(hours=1)
            outcome = services.runner.check(plan.id)
            if outcome is not None:
                verdicts.append(outcome.judgements["sentry-errors"].verdict.value)
            if not services.rollouts.get(SYSTEM, "default", plan.id).state.active:
                break
        final = services.rollouts.get(SYSTEM, "default", plan.id)
        assert final.state.status is PlanStatus.ROLLED_BACK, final.state.reason
        assert "sentry-errors" in (final.state.reason or "")
        assert verdicts[-1] == "regressed"
        assert "healthy" not in verdicts
        assert not services.flags.config(SYSTEM, "default", FLAG, "production").enabled
        assert any('flags["new-checkout"]:true' in r.query["query"] for r in sentry.requests)
    finally:
        services.close()


def test_the_same_errors_per_exposure_in_both_arms__is_not_rolled_back(
    tmp_path: Path, clock: ManualClock, sentry: SentryStandin
) -> None:
    services = _services(tmp_path, clock, sentry.url)
    try:
        plan = services.rollouts.start(
            SYSTEM,
            "default",
            FLAG,
            "production",
            plan=PLAN,
            release=release_in_production(services, FLAG),
        )
        for _ in range(12):
            _hour_of_traffic(services, sentry, clock, on=10, off=10)
            clock.advance(hours=1)
            services.runner.check(plan.id)
        final = services.rollouts.get(SYSTEM, "default", plan.id)
        assert final.state.status is not PlanStatus.ROLLED_BACK, final.state.reason
    finally:
        services.close()


def test_sentry_down__an_error_verdict_that_holds_the_plan(
    tmp_path: Path, clock: ManualClock, sentry: SentryStandin
) -> None:
    services = _services(tmp_path, clock, sentry.url)
    try:
        plan = services.rollouts.start(
            SYSTEM,
            "default",
            FLAG,
            "production",
            plan={**PLAN, "steps": [{"percentage": 50, "min_duration": "1h"}, {"percentage": 100}]},
            release=release_in_production(services, FLAG),
        )
        sentry.down = True
        verdicts = []
        for _ in range(12):
            _hour_of_traffic(services, sentry, clock, on=10, off=10)
            clock.advance(hours=1)
            outcome = services.runner.check(plan.id)
            if outcome is not None:
                judgement = outcome.judgements["sentry-errors"]
                verdicts.append(judgement.verdict.value)
                assert "503" in judgement.summary
        assert verdicts
        assert set(verdicts) == {"error"}
        held = services.rollouts.get(SYSTEM, "default", plan.id)
        assert held.state.active
        assert held.state.step == 0  # its hour is long over: held on the unreadable source
    finally:
        services.close()

"""A guardrail on a pulled metric, end to end: the runner asks a real Prometheus (which
scrapes the application's counters) for the flag's error ratio, holds while it is under
the threshold, and rolls back when the application starts failing. A Prometheus that
goes away is an "error" verdict that holds the plan, never a crash."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.prometheus import Exporter, Prometheus, exporter, running_prometheus, wait_for
from tests.support.releases import release_in_production

from shipwise.domain.guardrails import Reading
from shipwise.domain.rollout import PlanStatus
from shipwise.server.bootstrap import Services, build
from shipwise.server.metrics.prometheus import PrometheusSource
from shipwise.server.ports import MetricDefinition, MetricWindow
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings

FLAG = "new-checkout"
QUERY = 'sum(checkout_errors_total{flag="{flag}"}) / sum(checkout_requests_total{flag="{flag}"})'


class NearRealClock:
    """Real time plus an offset the test moves on, so checks fall due without waiting
    while Prometheus (which answers for real time) still has the samples."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def app() -> Iterator[Exporter]:
    with exporter() as running:
        running.counters.set("checkout_requests_total", 1000, flag=FLAG)
        running.counters.set("checkout_errors_total", 10, flag=FLAG)
        yield running


@pytest.fixture
def prometheus(app: Exporter, tmp_path: Path) -> Iterator[Prometheus]:
    with running_prometheus(tmp_path / "prometheus", [app.address]) as server:
        yield server


@pytest.fixture
def clock() -> NearRealClock:
    return NearRealClock()


@pytest.fixture
def services(tmp_path: Path, prometheus: Prometheus, clock: NearRealClock) -> Iterator[Services]:
    built = build(Settings(data_dir=tmp_path / "data", admin_token=None), clock)
    built.flags.create(SYSTEM, "default", FLAG)
    built.metric_catalog.define(
        SYSTEM,
        "default",
        "checkout-errors",
        "prometheus",
        {"url": prometheus.url, "query": QUERY},
    )
    yield built
    built.close()


def error_ratio(prometheus: Prometheus) -> float | None:
    source = PrometheusSource(timeout=5)
    definition = MetricDefinition(1, "x", "prometheus", {"url": prometheus.url, "query": QUERY})
    now = datetime.now(UTC)
    reading = source.read(definition, MetricWindow("default", "production", FLAG, now, now))
    assert isinstance(reading, Reading)
    return reading.value


def test_the_runner_rolls_back_when_prometheus_shows_the_error_ratio_over_the_limit(
    services: Services, prometheus: Prometheus, app: Exporter, clock: NearRealClock
) -> None:
    wait_for(lambda: error_ratio(prometheus), until=lambda value: value == 0.01)
    plan = services.rollouts.start(
        SYSTEM,
        "default",
        FLAG,
        "production",
        plan={
            "steps": [{"percentage": 10}, {"percentage": 100}],
            "guardrails": [{"metric": "checkout-errors", "threshold": 0.02, "action": "rollback"}],
        },
        release=release_in_production(services, FLAG),
    )
    clock.offset += timedelta(minutes=1, seconds=1)
    outcome = services.runner.check(plan.id)
    assert outcome is not None
    assert outcome.decision.kind.value == "hold"
    assert outcome.judgements["checkout-errors"].verdict.value == "healthy"

    app.counters.set("checkout_errors_total", 50, flag=FLAG)  # 5% now
    wait_for(lambda: error_ratio(prometheus), until=lambda value: value == 0.05)
    clock.offset += timedelta(minutes=1, seconds=1)
    outcome = services.runner.check(plan.id)
    assert outcome is not None
    assert outcome.decision.kind.value == "rollback"
    assert "checkout-errors" in outcome.decision.reason
    assert outcome.judgements["checkout-errors"].estimate == pytest.approx(0.05)
    final = services.rollouts.get(SYSTEM, "default", plan.id)
    assert final.state.status is PlanStatus.ROLLED_BACK
    assert not services.flags.config(SYSTEM, "default", FLAG, "production").enabled


def test_prometheus_down_is_an_error_verdict_that_holds_the_plan(
    tmp_path: Path, clock: NearRealClock
) -> None:
    services = build(Settings(data_dir=tmp_path / "data", admin_token=None), clock)
    try:
        services.flags.create(SYSTEM, "default", FLAG)
        services.metric_catalog.define(
            SYSTEM,
            "default",
            "checkout-errors",
            "prometheus",
            {"url": "http://127.0.0.1:9", "query": QUERY},  # nothing listens on port 9
        )
        plan = services.rollouts.start(
            SYSTEM,
            "default",
            FLAG,
            "production",
            plan={
                "steps": [{"percentage": 10, "min_duration": "1m"}, {"percentage": 100}],
                "guardrails": [{"metric": "checkout-errors", "threshold": 0.02}],
            },
            release=release_in_production(services, FLAG),
        )
        clock.offset += timedelta(minutes=2)
        outcome = services.runner.check(plan.id)
        assert outcome is not None
        judgement = outcome.judgements["checkout-errors"]
        assert judgement.verdict.value == "error"
        assert "127.0.0.1:9" in judgement.summary
        assert outcome.decision.kind.value == "notify"  # said once ...
        clock.offset += timedelta(minutes=2)
        again = services.runner.check(plan.id)
        assert again is not None
        assert again.decision.kind.value == "hold"  # ... then held, not advanced
        assert services.rollouts.get(SYSTEM, "default", plan.id).state.step == 0
    finally:
        services.close()

"""What a rollout's messages say, driven by the runner on a real database (SQLite and
PostgreSQL) on a held clock, with traffic through the services the SDK endpoints call:
a step's message carries each guardrail's numbers with and without the feature and
links to the rollout page; a rollback's says the metric, what was allowed, what was
observed and the step, in the message itself; a pause says what a person does next."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.clock import ManualClock
from tests.support.releases import release_in_production

from shipwise.domain.rollout import PlanStatus
from shipwise.server.bootstrap import Services, build
from shipwise.server.ports import Notification, RolloutPlanRecord
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FLAG = "new-checkout"
PUBLIC = "https://ship.example.com"
WATCH = {"close_for": "1h", "close_every": "10m", "then_every": "6h", "bake": "24h"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def services(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[Services]:
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, admin_token=None, public_url=PUBLIC
    )
    built = build(settings, clock)
    built.flags.create(SYSTEM, "default", FLAG)
    built.metric_catalog.define(SYSTEM, "default", "errors", "sdk", {"event": "error"})
    yield built
    built.close()


def start(services: Services) -> RolloutPlanRecord:
    body = {
        "steps": [{"percentage": 10}, {"percentage": 50}, {"percentage": 100}],
        "guardrails": [{"metric": "errors", "max_worse": 0.5}],
        "watch": WATCH,
    }
    release = release_in_production(services, FLAG)
    return services.rollouts.start(
        SYSTEM, "default", FLAG, "production", plan=body, release=release
    )


def drive(services: Services, clock: ManualClock, plan_id: int, hours: int, on_rate: float) -> None:
    """Every simulated hour, 2,000 exposures split by the flag's percentage, erroring at
    ``on_rate`` with the feature and 1% without (expected counts: runs repeat); then the
    runner's round."""
    with services.database.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        environment = tx.get_environment(project.id, "production")
        assert environment is not None
    for _ in range(hours):
        plan = services.rollouts.get(SYSTEM, "default", plan_id)
        if not plan.state.active:
            return
        share = plan.spec.steps[plan.state.step].percentage / 100
        shown = round(2000 * share)
        hidden = 2000 - shown
        services.metrics.record_exposures(environment.id, "shop", {FLAG: (shown, hidden, {})})
        services.metric_catalog.record_tracked(
            environment.id,
            "shop",
            [
                {"flag": FLAG, "arm": "on", "event": "error", "count": round(shown * on_rate)},
                {"flag": FLAG, "arm": "off", "event": "error", "count": round(hidden * 0.01)},
            ],
        )
        services.runner.tick()
        clock.advance(hours=1)


def told(services: Services, kind: str) -> list[Notification]:
    """The notifications of ``kind`` waiting for the log channel (this server's only
    one), oldest first."""
    with services.database.read() as tx:
        due = tx.due_outbox(T0 + timedelta(days=365), 1000)
    return [i.notification for i in due if i.channel == "log" and i.notification.kind == kind]


def test_a_step_message__after_a_healthy_week__carries_both_arms_numbers_and_the_rollout_link(
    services: Services, clock: ManualClock
) -> None:
    # Given a plan whose first week had 1% errors with the feature and without it
    plan = start(services)

    # When the runner moves it to its second step
    drive(services, clock, plan.id, hours=24 * 8, on_rate=0.01)

    # Then the step's message says so, with the first step's numbers and both links
    assert services.rollouts.get(SYSTEM, "default", plan.id).state.step == 1
    [first, moved] = told(services, "rollout.advance")
    assert first.data["guardrails"] == []  # the plan's start: nothing judged yet
    release = plan.release
    assert moved.title == f"{FLAG} ({release}) in production: moved to 50% for 7d (step 2 of 3)"
    url = f"{PUBLIC}/projects/default/rollouts/{plan.id}"
    lines = moved.text.split("\n")
    assert lines[0] == "Now at step 2 of 3: 50% for 7d. Step conditions met: 50%."
    assert "Guardrails at step 1 (10% for 7d):" in lines
    [errors] = [line for line in lines if line.startswith("- errors: ")]
    assert errors.startswith("- errors: 1.00% with the feature, 1.00% without (+0.0%, 99.5%")
    assert errors.endswith("): no worse than allowed (+50%).")
    assert f"Rollout page: {url}" in lines
    assert f"Release {release}: {PUBLIC}/projects/default/releases/{release}" in lines
    judged, ratio = moved.data["guardrails"]  # the guardrail, then the split's check
    assert ratio["name"] == "sample-ratio"
    assert judged["name"] == "errors"
    assert judged["verdict"] == "healthy"
    assert judged["with"] == pytest.approx(0.01)
    assert judged["without"] == pytest.approx(0.01)
    assert judged["lower"] < 0 < judged["upper"] < 0.5
    assert (moved.data["plan"], moved.data["step"], moved.data["status"]) == (
        plan.id,
        2,
        "running",
    )
    assert moved.data["url"] == url


def test_a_rollback_message__says_the_metric_what_was_allowed_what_was_seen_and_the_step(
    services: Services, clock: ManualClock
) -> None:
    # Given a feature that doubles the error rate
    plan = start(services)

    # When the runner rolls it back
    drive(services, clock, plan.id, hours=24 * 7, on_rate=0.02)

    # Then the message says, in itself, why, at which step and with which numbers
    final = services.rollouts.get(SYSTEM, "default", plan.id)
    assert final.state.status is PlanStatus.ROLLED_BACK
    [rolled] = told(services, "rollout.rollback")
    assert rolled.severity == "critical"
    assert rolled.title.endswith("in production: ROLLED BACK at step 1 of 3 (flag off)")
    lines = rolled.text.split("\n")
    assert lines[0] == "Rolled back at step 1 of 3 (10% for 7d): the flag is off in production."
    assert lines[1].startswith(
        "errors: observed 2.00% with the feature, 1.00% without (+100%); "
        "allowed +50% at most (99.5% interval +"
    )
    assert any(line.startswith("- errors: 2.00% with the feature") for line in lines)
    assert any(line.endswith("worse than allowed (+50%).") for line in lines)
    assert f"Rollout page: {PUBLIC}/projects/default/rollouts/{plan.id}" in lines
    judged, _ = rolled.data["guardrails"]
    assert judged["verdict"] == "regressed"
    assert (judged["with"], judged["without"]) == (pytest.approx(0.02), pytest.approx(0.01))
    assert judged["estimate"] == pytest.approx(1.0)


def test_a_persons_pause__says_what_to_do_next_and_shows_the_last_checks_numbers(
    services: Services, clock: ManualClock
) -> None:
    plan = start(services)
    drive(services, clock, plan.id, hours=48, on_rate=0.01)

    services.rollouts.pause(SYSTEM, "default", plan.id, "support queue is long")

    [paused] = told(services, "rollout.pause")
    lines = paused.text.split("\n")
    assert lines[0].startswith("Paused at step 1 of 3 (10% for 7d): paused by ")
    assert lines[0].endswith(": support queue is long.")
    assert f"`shipwise rollout resume {plan.id} -p default`" in lines[1]
    assert "Guardrails at the last check:" in lines
    assert any(line.startswith("- errors: 1.00% with the feature, 1.00% without") for line in lines)

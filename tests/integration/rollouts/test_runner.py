"""The rollout runner on a real database (SQLite and PostgreSQL), on a held clock: a
plan walked from 10% + beta testers to released with the flag's rules checked at every
step, a real regression rolled back, people pausing and resuming, a pause guardrail,
and a person's approval. Traffic arrives through the same services the SDK endpoints
call (exposures, tracked events, pushed counters)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from tests.support.clock import ManualClock
from tests.support.releases import release_in_production as in_production

from shipwise.domain.releases import ReleaseStatus
from shipwise.domain.rollout import PlanStatus
from shipwise.server.bootstrap import Services, build
from shipwise.server.ports import AuditFilter, RolloutPlanRecord
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday morning
FLAG = "new-checkout"
FAST_WATCH = {"close_for": "1h", "close_every": "10m", "then_every": "6h", "bake": "24h"}
ERRORS = {"metric": "errors", "max_worse": 0.5}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def services(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[Services]:
    built = build(Settings(data_dir=tmp_path, database_url=database_url, admin_token=None), clock)
    built.flags.create(SYSTEM, "default", FLAG)
    built.segments.create(
        SYSTEM,
        "default",
        "beta-testers",
        [{"contextName": "userId", "operator": "IN", "values": ["beta-1", "beta-2"]}],
    )
    built.metric_catalog.define(SYSTEM, "default", "errors", "sdk", {"event": "error"})
    built.metric_catalog.define(SYSTEM, "default", "tickets", "pushed", {})
    yield built
    built.close()


def environment_id(services: Services, key: str = "production") -> int:
    with services.database.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        environment = tx.get_environment(project.id, key)
        assert environment is not None
        return environment.id


def feed(services: Services, users: int, share: float, on_rate: float, off_rate: float) -> None:
    """One batch of traffic: ``users`` exposures split by the rollout's share, each
    erroring with its arm's rate (expected counts, so runs are repeatable)."""
    env = environment_id(services)
    shown = round(users * share)
    hidden = users - shown
    services.metrics.record_exposures(env, "shop", {FLAG: (shown, hidden, {})})
    services.metric_catalog.record_tracked(
        env,
        "shop",
        [
            {"flag": FLAG, "arm": "on", "event": "error", "count": round(shown * on_rate)},
            {"flag": FLAG, "arm": "off", "event": "error", "count": round(hidden * off_rate)},
        ],
    )


def current(services: Services, plan_id: int) -> RolloutPlanRecord:
    return services.rollouts.get(SYSTEM, "default", plan_id)


def rollout_strategies(services: Services) -> list[dict[str, Any]]:
    config = services.flags.config(SYSTEM, "default", FLAG, "production")
    assert config.enabled
    return config.strategies


def percentage(services: Services) -> int:
    rollout = next(s for s in rollout_strategies(services) if s["name"] == "flexibleRollout")
    return int(rollout["parameters"]["rollout"])


def run(
    services: Services,
    clock: ManualClock,
    plan_id: int,
    until: datetime,
    *,
    on_rate: float = 0.01,
    off_rate: float = 0.01,
    users_per_hour: int = 2_000,
) -> None:
    """Drive the plan: every hour of simulated time, traffic; at every due check, the
    runner. Stops when the plan is finished or at ``until``."""
    while clock.now < until:
        plan = current(services, plan_id)
        if not plan.state.active:
            return
        share = percentage(services) / 100 if plan.state.status is not PlanStatus.PAUSED else 0
        feed(services, users_per_hour, share, on_rate, off_rate)
        services.runner.tick()
        clock.advance(hours=1)


def flag_rollout_audit(services: Services) -> list[tuple[str, str | None]]:
    records = services.audit.all(
        SYSTEM, AuditFilter(project="default", target_type="flag", target_key=FLAG, limit=1000)
    )
    return [
        (r.entry.action, r.entry.reason)
        for r in reversed(records)
        if r.entry.action in {"flag.rollout", "flag.rollback"}
    ]


def start(services: Services, **plan: Any) -> RolloutPlanRecord:
    body = {
        "steps": [
            {"percentage": 10, "audiences": ["beta-testers"]},
            {"percentage": 25},
            {"percentage": 50},
            {"percentage": 100},
        ],
        "guardrails": [ERRORS],
        "watch": FAST_WATCH,
        **plan,
    }
    # Production is protected: a plan there ships a release that passed its gates.
    release = release_in_production(services)
    return services.rollouts.start(
        SYSTEM, "default", FLAG, "production", plan=body, release=release
    )


def test_a_healthy_plan_advances_a_week_a_step_keeps_beta_testers_first_then_releases(
    services: Services, clock: ManualClock
) -> None:
    plan = start(services)
    strategies = rollout_strategies(services)
    assert [s.get("title") for s in strategies] == ["rollout plan", "rollout plan audience"]
    assert strategies[0]["parameters"] == {
        "rollout": "10",
        "stickiness": "default",
        "groupId": FLAG,  # the same buckets at every step: who had it keeps it
    }
    seen: list[tuple[int, datetime]] = [(percentage(services), clock.now)]
    while clock.now < T0 + timedelta(days=30):
        run(services, clock, plan.id, clock.now + timedelta(hours=1))
        if percentage(services) != seen[-1][0]:
            seen.append((percentage(services), clock.now))
        if not current(services, plan.id).state.active:
            break
    final = current(services, plan.id)
    assert final.state.status is PlanStatus.RELEASED, final.state.reason
    steps = [p for p, _ in seen]
    assert steps == [10, 25, 50, 100]
    # A week a step (to the hour of the next check after the week ended).
    for (_, entered), (_, left) in pairwise(seen):
        assert timedelta(days=7) <= left - entered <= timedelta(days=7, hours=2)
    # The beta testers' strategy only at the first step.
    assert [s.get("title") for s in rollout_strategies(services)] == ["rollout plan"]
    # Each step applied exactly once, in order.
    reasons = [reason or "" for action, reason in flag_rollout_audit(services)]
    assert len(reasons) == 4
    for index, step in enumerate(["10% + beta-testers", "25%", "50%", "100%"], start=1):
        assert f"step {index}, {step}" in reasons[index - 1]
    timeline = [c.decision for c in services.rollouts.timeline(SYSTEM, "default", plan.id)]
    assert timeline[0] == "advance"
    assert [d for d in timeline if d != "hold"] == [
        "advance",
        "advance",
        "advance",
        "bake",
        "release",
    ]


def test_a_doubled_error_rate_is_rolled_back_within_the_first_step(
    services: Services, clock: ManualClock
) -> None:
    plan = start(services)
    run(services, clock, plan.id, T0 + timedelta(days=7), on_rate=0.02, off_rate=0.01)
    final = current(services, plan.id)
    assert final.state.status is PlanStatus.ROLLED_BACK
    assert final.state.step == 0
    assert final.state.finished_at is not None
    assert final.state.finished_at < T0 + timedelta(days=7)
    assert "error" in (final.state.reason or "")
    config = services.flags.config(SYSTEM, "default", FLAG, "production")
    assert not config.enabled
    actions = [action for action, _ in flag_rollout_audit(services)]
    assert actions == ["flag.rollout", "flag.rollback"]
    # The runner does not touch a finished plan again.
    services.runner.tick()
    assert current(services, plan.id).version == final.version


def test_a_person_pauses_and_resumes_and_the_step_restarts(
    services: Services, clock: ManualClock
) -> None:
    plan = start(services)
    run(services, clock, plan.id, T0 + timedelta(days=2))
    paused = services.rollouts.pause(SYSTEM, "default", plan.id, "support queue is long")
    assert paused.state.status is PlanStatus.PAUSED
    assert paused.next_check_at is None
    clock.advance(days=10)
    services.runner.tick()
    assert current(services, plan.id).state.step == 0  # nothing moves while paused
    assert percentage(services) == 10
    resumed = services.rollouts.resume(SYSTEM, "default", plan.id)
    assert resumed.state.status is PlanStatus.RUNNING
    assert resumed.state.step_started_at == clock.now
    run(services, clock, plan.id, clock.now + timedelta(days=6))
    assert current(services, plan.id).state.step == 0  # a fresh week from the resume
    run(services, clock, plan.id, clock.now + timedelta(days=2))
    assert current(services, plan.id).state.step == 1
    actions = [
        r.entry.action
        for r in services.audit.all(
            SYSTEM, AuditFilter(project="default", target_type="rollout", limit=100)
        )
    ]
    assert {"rollout.start", "rollout.pause", "rollout.resume", "rollout.advance"} <= set(actions)


def test_a_pause_guardrail_on_pushed_support_tickets_holds_for_a_person(
    services: Services, clock: ManualClock
) -> None:
    plan = start(
        services,
        guardrails=[ERRORS, {"metric": "tickets", "threshold": 5, "action": "pause"}],
    )
    run(services, clock, plan.id, T0 + timedelta(days=1))
    assert current(services, plan.id).state.status is PlanStatus.RUNNING
    for _ in range(6):
        services.metric_catalog.push(SYSTEM, "default", "tickets", 1, environment="production")
    run(services, clock, plan.id, T0 + timedelta(days=2))
    paused = current(services, plan.id)
    assert paused.state.status is PlanStatus.PAUSED
    assert "tickets" in (paused.state.reason or "")
    assert percentage(services) == 10  # paused, not rolled back


def test_a_step_that_needs_approval_waits_then_moves_on_when_approved(
    services: Services, clock: ManualClock
) -> None:
    plan = start(
        services,
        steps=[{"percentage": 10, "approval": True}, {"percentage": 100}],
    )
    run(services, clock, plan.id, T0 + timedelta(days=8))
    waiting = current(services, plan.id)
    assert waiting.state.status is PlanStatus.WAITING_APPROVAL
    assert percentage(services) == 10
    services.rollouts.approve(SYSTEM, "default", plan.id)
    services.runner.tick()
    assert current(services, plan.id).state.status is PlanStatus.BAKING
    assert percentage(services) == 100


def release_in_production(services: Services) -> str:
    return in_production(services, FLAG)


def test_the_plan_decides_for_its_release_rolled_back_with_it(
    services: Services, clock: ManualClock
) -> None:
    key = release_in_production(services)
    plan = services.rollouts.start(
        SYSTEM,
        "default",
        FLAG,
        "production",
        plan={"steps": [{"percentage": 10}, {"percentage": 100}], "guardrails": [ERRORS]},
        release=key,
    )
    run(services, clock, plan.id, T0 + timedelta(days=7), on_rate=0.03, off_rate=0.01)
    assert current(services, plan.id).state.status is PlanStatus.ROLLED_BACK
    release = services.releases.show(SYSTEM, "default", key).release
    assert release.status is ReleaseStatus.ROLLED_BACK


def test_the_plan_decides_for_its_release_released_after_the_bake(
    services: Services, clock: ManualClock
) -> None:
    key = release_in_production(services)
    plan = services.rollouts.start(
        SYSTEM,
        "default",
        FLAG,
        "production",
        plan={
            "steps": [{"percentage": 10, "min_duration": "1d"}, {"percentage": 100}],
            "watch": {"bake": "2h"},
        },
        release=key,
    )
    run(services, clock, plan.id, T0 + timedelta(days=3))
    assert current(services, plan.id).state.status is PlanStatus.RELEASED
    release = services.releases.show(SYSTEM, "default", key).release
    assert release.status is ReleaseStatus.RELEASED

"""The runner reads a plan's guardrails on the watch's schedule, on a real database
(SQLite and PostgreSQL) and a simulated clock moved to each reading as it falls due:
every minute in the first hour of a step, every five minutes after (the default, or the
project policy's ``[watch]``), a bake that does not release before its 24 hours, and a
guardrail whose source cannot be read (a real HTTP server answering 503) holding the
plan at its step, and at the end of its bake, until the source answers again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.clock import ManualClock
from tests.support.local_http import Reply, Request, local_http_server
from tests.support.releases import release_in_production as in_production

from shipwise.domain.rollout import PlanStatus
from shipwise.server.api.rollout_watch import WatchWindowOut
from shipwise.server.bootstrap import Services, build
from shipwise.server.ports import RolloutPlanRecord
from shipwise.server.services.principal import SYSTEM
from shipwise.server.services.runner import CheckOutcome
from shipwise.server.settings import Settings

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FLAG = "new-checkout"
HOUR = timedelta(hours=1)


class ErrorsSource:
    """The JSON endpoint a "json" metric reads: an error ratio, or 503 while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.value = 0.01

    def __call__(self, request: Request) -> Reply:
        if self.down:
            return Reply(503, {"message": "metrics backend is restarting"})
        return Reply(200, {"value": self.value})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def errors() -> ErrorsSource:
    return ErrorsSource()


@pytest.fixture
def services(
    database_url: str, tmp_path: Path, clock: ManualClock, errors: ErrorsSource
) -> Iterator[Services]:
    with local_http_server(errors) as server:
        settings = Settings(data_dir=tmp_path, database_url=database_url, admin_token=None)
        built = build(settings, clock)
        built.flags.create(SYSTEM, "default", FLAG)
        built.metric_catalog.define(
            SYSTEM, "default", "errors", "json", {"url": server.url + "/errors", "path": "value"}
        )
        yield built
        built.close()


def start(services: Services, plan: dict[str, Any]) -> RolloutPlanRecord:
    release = in_production(services, FLAG)
    return services.rollouts.start(
        SYSTEM, "default", FLAG, "production", plan=plan, release=release
    )


def current(services: Services, plan_id: int) -> RolloutPlanRecord:
    return services.rollouts.get(SYSTEM, "default", plan_id)


def readings_until(
    services: Services, clock: ManualClock, plan_id: int, until: datetime
) -> list[datetime]:
    """Move the clock to each reading as it falls due and let the runner read; the times
    it read at, up to ``until`` (or until the plan stops being watched)."""
    return [at for at, _ in outcomes_until(services, clock, plan_id, until)]


def outcomes_until(
    services: Services, clock: ManualClock, plan_id: int, until: datetime
) -> list[tuple[datetime, CheckOutcome]]:
    read: list[tuple[datetime, CheckOutcome]] = []
    while True:
        due = current(services, plan_id).next_check_at
        if due is None or due > until:
            return read
        clock.set(due)
        outcomes = services.runner.tick()
        assert [outcome.plan_id for outcome in outcomes] == [plan_id]
        read.append((due, outcomes[0]))


def gaps(moments: list[datetime], start: datetime) -> list[timedelta]:
    return [b - a for a, b in zip([start, *moments], moments, strict=False)]


GUARDED = {"metric": "errors", "threshold": 0.05, "action": "pause"}


def test_readings__come_every_minute_for_the_first_hour_then_every_five_minutes(
    services: Services, clock: ManualClock
) -> None:
    plan = start(
        services,
        {
            "steps": [{"percentage": 10, "min_duration": "3h"}, {"percentage": 100}],
            "guardrails": [GUARDED],
        },
    )
    read = readings_until(services, clock, plan.id, T0 + 3 * HOUR - timedelta(seconds=1))
    first_hour = [at for at in read if at <= T0 + HOUR]
    assert len(first_hour) == 60
    assert set(gaps(first_hour, T0)) == {timedelta(minutes=1)}
    after = [at for at in read if at > T0 + HOUR]
    assert len(after) == 23  # 1:05 … 2:55; the step's end, 3:00, is the next one
    assert set(gaps(after, T0 + HOUR)) == {timedelta(minutes=5)}
    assert current(services, plan.id).state.step == 0


def test_readings__follow_the_project_policy_watch__unless_the_plan_says_its_own(
    services: Services, clock: ManualClock
) -> None:
    text, _, _ = services.policies.effective(SYSTEM, "default")
    closer = text.replace('close_for = "1h"', 'close_for = "2h"').replace(
        'then_every = "5m"', 'then_every = "2m"'
    )
    assert services.policies.apply(SYSTEM, "default", closer).applied
    steps = [{"percentage": 10, "min_duration": "3h"}, {"percentage": 100}]
    plan = start(services, {"steps": steps, "guardrails": [GUARDED]})
    assert (plan.spec.watch.close_for, plan.spec.watch.then_every) == (
        2 * HOUR,
        timedelta(minutes=2),
    )
    read = readings_until(services, clock, plan.id, T0 + 3 * HOUR - timedelta(seconds=1))
    assert len([at for at in read if at <= T0 + 2 * HOUR]) == 120
    assert set(gaps([at for at in read if at > T0 + 2 * HOUR], T0 + 2 * HOUR)) == {
        timedelta(minutes=2)
    }
    services.rollouts.abort(SYSTEM, "default", plan.id, "trying another plan")

    own = start(services, {"steps": steps, "guardrails": [GUARDED], "watch": {"then_every": "30m"}})
    assert own.spec.watch.then_every == timedelta(minutes=30)
    assert own.spec.watch.close_for == 2 * HOUR  # the keys it leaves out: the policy's


def test_a_bake__does_not_release_before_24_hours_after_the_last_step(
    services: Services, clock: ManualClock
) -> None:
    plan = start(
        services,
        {
            "steps": [{"percentage": 10, "min_duration": "1h"}, {"percentage": 100}],
            "guardrails": [GUARDED],
            "watch": {"then_every": "1h"},  # fewer readings to drive; the bake is the default
        },
    )
    readings_until(services, clock, plan.id, T0 + HOUR)
    baking = current(services, plan.id)
    assert baking.state.status is PlanStatus.BAKING
    assert baking.state.baking_since == T0 + HOUR
    bake_ends = T0 + HOUR + 24 * HOUR
    read = readings_until(services, clock, plan.id, bake_ends - timedelta(seconds=1))
    assert current(services, plan.id).state.status is PlanStatus.BAKING
    assert len(read) == 60 + 22  # the first hour closely, then hourly from 2h to 23h in
    readings_until(services, clock, plan.id, bake_ends)
    released = current(services, plan.id)
    assert released.state.status is PlanStatus.RELEASED
    assert released.state.finished_at == bake_ends


def test_an_unreadable_source__holds_the_step_and_the_release__until_it_answers_again(
    services: Services, clock: ManualClock, errors: ErrorsSource
) -> None:
    plan = start(
        services,
        {
            "steps": [{"percentage": 10, "min_duration": "1h"}, {"percentage": 100}],
            "guardrails": [GUARDED],
            "watch": {"close_for": "10m", "then_every": "15m", "bake": "2h"},
        },
    )
    errors.down = True
    outcomes = outcomes_until(services, clock, plan.id, T0 + 3 * HOUR)
    held = current(services, plan.id)
    assert (held.state.status, held.state.step) == (PlanStatus.RUNNING, 0)
    assert held.judgements["errors"]["verdict"] == "error"
    assert "503" in held.judgements["errors"]["summary"]
    window = WatchWindowOut.of(held, clock.now)  # what the API, CLI and page say
    assert [(u.metric, "503" in u.why) for u in window.held_by] == [("errors", True)]
    assert "Held, as an unread guardrail never counts as healthy: errors could not be read" in (
        window.summary
    )
    reasons = {outcome.decision.reason for at, outcome in outcomes if at > T0 + HOUR}
    assert len(reasons) == 1  # past the step's hour, every reading holds for that reason
    (reason,) = reasons
    assert reason.startswith("holding at 10%: errors could not be read: ")
    assert "503" in reason

    errors.down = False
    back = outcomes_until(services, clock, plan.id, clock.now + timedelta(minutes=15))
    assert [outcome.decision.kind.value for _, outcome in back] == ["bake"]  # at once
    baking = current(services, plan.id)
    assert baking.state.status is PlanStatus.BAKING
    assert baking.state.baking_since is not None
    bake_ends = baking.state.baking_since + 2 * HOUR

    readings_until(services, clock, plan.id, bake_ends - HOUR)
    errors.down = True
    outcomes = outcomes_until(services, clock, plan.id, bake_ends + 2 * HOUR)
    assert current(services, plan.id).state.status is PlanStatus.BAKING  # never released
    last = outcomes[-1][1].decision
    assert last.kind.value == "hold"
    assert last.reason.startswith("bake done, but errors could not be read: ")

    errors.down = False
    back = outcomes_until(services, clock, plan.id, clock.now + timedelta(minutes=15))
    assert [outcome.decision.kind.value for _, outcome in back] == ["release"]
    assert current(services, plan.id).state.status is PlanStatus.RELEASED

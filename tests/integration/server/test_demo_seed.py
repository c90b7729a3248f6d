"""`shipwise serve --demo`: the demo flags arrive in every environment on first start,
audited, and evaluate in a server key's snapshot as they do offline; its rollouts follow
one another for as long as it runs (``demo_cycle``), on a held clock here, with the
runner judging the demo users' numbers."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.support.clock import ManualClock

from shipwise import Client
from shipwise.data import demo_snapshot
from shipwise.domain.rollout import PlanStatus
from shipwise.server.bootstrap import Services, build
from shipwise.server.clocks import DEMO_SPEED, AcceleratedClock, persisted_clock
from shipwise.server.demo_cycle import FEATURES, PAUSE, DemoCycle, error_rate
from shipwise.server.ports import AuditFilter, RolloutPlanRecord
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import DEMO_CLOCK_FILE, Settings


def test_first_start_with_demo__loads_the_demo_flags_everywhere(tmp_path: Path) -> None:
    services = build(Settings(data_dir=tmp_path, admin_token="sw_api_demo-test", demo=True))
    try:
        keys = {view.flag.key for view in services.flags.all(SYSTEM, "default")}
        assert keys == {flag["key"] for flag in demo_snapshot()["flags"]}
        environment = services.projects.environment(SYSTEM, "default", "production")
        published = services.snapshots.current(environment.id)
        online, offline = Client(snapshot=published.engine), Client.offline(demo_snapshot())
        for index in range(200):
            context = {"userId": f"user-{index}", "properties": {"plan": "pro"}}
            for key in keys:
                assert online.is_enabled(key, context) == offline.is_enabled(key, context)
        assert services.audit.verify()[1] == []
    finally:
        services.close()


def test_restart_with_demo__does_not_load_it_again(tmp_path: Path) -> None:
    build(Settings(data_dir=tmp_path, admin_token="sw_api_demo-test", demo=True)).close()
    services = build(Settings(data_dir=tmp_path, admin_token="sw_api_demo-test", demo=True))
    try:
        assert services.first_admin_secret is None
        flags = services.flags.all(SYSTEM, "default")
        assert len(flags) == len(demo_snapshot()["flags"])
    finally:
        services.close()


def test_first_start_with_demo__records_its_evidence_through_the_services__audited_by_name(
    tmp_path: Path,
) -> None:
    # Given a first demo start
    services = build(Settings(data_dir=tmp_path, admin_token="sw_api_demo-test", demo=True))
    try:
        # When the audit log is read
        records = services.audit.all(SYSTEM, AuditFilter(project="default", limit=1000))
        seen = {(r.entry.action, r.entry.actor) for r in records}
    finally:
        services.close()

    # Then every approval, sign-off, drill, CI result and deploy is there, by who gave it
    assert ("release.approval", "demo:bob (release-manager)") in seen
    assert ("release.approval", "demo:carol (release-manager)") in seen
    assert ("release.signoff", "demo:quinn (qa)") in seen
    assert ("release.drill", "demo:carol (release-manager)") in seen
    assert ("ci.report", "demo:demo-ci (developer)") in seen
    assert ("deploy.report", "demo:demo-ci (developer)") in seen


def test_start_with_demo__runs_the_store_on_a_clock_kept_in_the_data_dir(tmp_path: Path) -> None:
    # Given a demo's settings, at the demo's speed: a week a minute
    settings = Settings(data_dir=tmp_path, demo=True)
    assert settings.speed == DEMO_SPEED == 7 * 24 * 60

    # When its clock is made twice (a start, then a restart)
    first, again = settings.clock(), settings.clock()

    # Then both run on one timeline, kept in the data directory
    assert isinstance(first, AcceleratedClock)
    assert isinstance(again, AcceleratedClock)
    assert (again.start, again.origin, again.speed) == (first.start, first.origin, DEMO_SPEED)
    assert (tmp_path / DEMO_CLOCK_FILE).exists()


def test_demo_clock__at_a_new_speed__carries_on_from_the_moment_reached(tmp_path: Path) -> None:
    # Given a demo clock that ran fast for a while (its origin a second in the past)
    path = tmp_path / DEMO_CLOCK_FILE
    started = datetime(2031, 3, 4, tzinfo=UTC)
    saved = {"start": started.isoformat(), "speed": DEMO_SPEED, "origin": time.time() - 1}
    path.write_text(json.dumps(saved))

    # When it is made again at another speed
    clock = persisted_clock(path, 2.0)

    # Then it does not go back: it starts at least where the old one had reached
    assert clock.speed == 2.0
    assert clock.start >= started + timedelta(seconds=DEMO_SPEED)
    assert json.loads(path.read_text())["speed"] == 2.0


def test_demo_clock__from_a_file_shipwise_did_not_write__names_the_file(tmp_path: Path) -> None:
    path = tmp_path / DEMO_CLOCK_FILE
    path.write_text("not json")

    with pytest.raises(ValueError, match="demo-clock is not a clock Shipwise wrote"):
        persisted_clock(path, DEMO_SPEED)


# -- the demo's rollouts, one after another ---------------------------------------------

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TICK = timedelta(hours=12)  # simulated time between two rounds of users, runner and cycle
USERS_PER_TICK = 20_000
MAX_TICKS = 2_000  # a hang guard: nine plans take about 300


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def demo(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path, database_url=database_url, admin_token="sw_api_demo-test", demo=True
    )


def _plans(services: Services) -> list[RolloutPlanRecord]:
    return sorted(services.rollouts.all(SYSTEM, "default"), key=lambda plan: plan.id)


def _feed(services: Services, plan: RolloutPlanRecord) -> None:
    """A round of the demo's users on ``plan``'s flag, split by its percentage, each
    erroring at the demo traffic's rate for the flags they have (expected counts)."""
    config = services.flags.config(SYSTEM, "default", plan.flag, "production")
    rollout = [s for s in config.strategies if s["name"] == "flexibleRollout"]
    share = int(rollout[0]["parameters"]["rollout"]) / 100 if config.enabled and rollout else 0
    shown = round(USERS_PER_TICK * share)
    hidden = USERS_PER_TICK - shown
    environment = services.projects.environment(SYSTEM, "default", "production")
    services.metrics.record_exposures(environment.id, "demo", {plan.flag: (shown, hidden, {})})
    on, off = error_rate({plan.flag}), error_rate(set())
    services.metric_catalog.record_tracked(
        environment.id,
        "demo",
        [
            {"flag": plan.flag, "arm": "on", "event": "error", "count": round(shown * on)},
            {"flag": plan.flag, "arm": "off", "event": "error", "count": round(hidden * off)},
        ],
    )


def _run(services: Services, clock: ManualClock, until_plans: int) -> list[RolloutPlanRecord]:
    """Tick by tick: users, the runner, the demo cycle; until ``until_plans`` plans."""
    cycle = DemoCycle(services)
    for _ in range(MAX_TICKS):
        plans = _plans(services)
        if len(plans) >= until_plans:
            return plans
        for plan in plans:
            if plan.state.active:
                _feed(services, plan)
        services.runner.tick()
        cycle.tick()
        clock.advance(seconds=TICK.total_seconds())
    raise AssertionError(f"fewer than {until_plans} plans: {_plans(services)}")


def _release_status(services: Services, key: str | None) -> tuple[str | None, str]:
    release = services.releases.show(SYSTEM, "default", key or "").release
    return release.stage, release.status.value


def test_demo__when_its_first_plan_is_released__rolls_out_a_faulty_feature__that_its_guardrail_rolls_back(  # noqa: E501
    demo: Settings, clock: ManualClock
) -> None:
    # Given a first demo start, its new-checkout plan running
    services = build(demo, clock)
    try:
        # When simulated weeks pass with the demo's users, the runner and the demo cycle
        first, second, third = _run(services, clock, until_plans=3)

        # Then new-checkout was released, and after a short pause the next feature, a
        # faulty one, rolled out with a release of its own, in production past its gates
        assert (first.flag, first.state.status) == ("new-checkout", PlanStatus.RELEASED)
        assert _release_status(services, first.release) == ("production", "released")
        assert second.flag == FEATURES[1].flag == "recommendations-v2"
        assert second.release not in (None, first.release)
        assert first.state.finished_at is not None
        waited = second.state.started_at - first.state.finished_at
        assert PAUSE <= waited <= PAUSE + TICK
        # Its guardrail rolled it back by itself, saying why; its release and flag too
        assert second.state.status is PlanStatus.ROLLED_BACK
        assert "errors" in (second.state.reason or ""), second.state.reason
        checks = services.rollouts.timeline(SYSTEM, "default", second.id)
        assert [c.decision for c in checks if c.decision == "rollback"] == ["rollback"]
        assert _release_status(services, second.release) == ("production", "rolled-back")
        config = services.flags.config(SYSTEM, "default", second.flag, "production")
        assert not config.enabled
        # And the next, healthy one is moving
        assert (third.flag, third.state.status) == ("saved-carts", PlanStatus.RUNNING)
        assert _release_status(services, third.release) == ("production", "in-progress")
        assert services.audit.verify()[1] == []
    finally:
        services.close()


def test_demo__restarted_and_left_running__carries_on__with_a_bounded_set_of_releases(
    demo: Settings, clock: ManualClock
) -> None:
    # Given a demo whose faulty feature is rolling out, restarted meanwhile
    services = build(demo, clock)
    try:
        in_flight = _run(services, clock, until_plans=2)[-1]
        releases = len(services.releases.all(SYSTEM, "default"))
    finally:
        services.close()
    services = build(demo, clock)
    try:
        # When the restarted demo looks, then runs on for two rounds of its features
        assert DemoCycle(services).tick() is None
        assert _plans(services)[-1] == in_flight  # nothing seeded twice, nothing started
        assert len(services.releases.all(SYSTEM, "default")) == releases
        plans = _run(services, clock, until_plans=2 * len(FEATURES) + 1)

        # Then the features took their turns, healthy ones released, faulty ones rolled
        # back, each plan on its feature's one release: the board keeps the five seeded
        # releases and one per new feature, however long it runs
        flags = [feature.flag for feature in FEATURES]
        assert [plan.flag for plan in plans] == [*flags, *flags, flags[0]]
        finished = [plan.state.status.value for plan in plans[:-1]]
        assert finished == ["released", "rolled-back"] * len(FEATURES)
        assert plans[-1].state.active
        assert len({plan.release for plan in plans}) == len(FEATURES)
        assert len(services.releases.all(SYSTEM, "default")) == 5 + len(FEATURES) - 1
    finally:
        services.close()

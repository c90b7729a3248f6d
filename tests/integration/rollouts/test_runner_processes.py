"""The runner as real processes: killed with SIGKILL again and again in the middle of a
three-week plan (on an accelerated clock) it carries on where the plan is, and no step
is ever applied twice; and on one PostgreSQL two runners never both act."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from tests.support.clock import ManualClock
from tests.support.releases import release_in_production

from shipwise.domain.rollout import PlanStatus
from shipwise.server.bootstrap import Services, build
from shipwise.server.clocks import AcceleratedClock
from shipwise.server.ports import AuditFilter
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings
from shipwise.server.storage.database import Database
from shipwise.server.storage.locks import PostgresAdvisoryLock

FLAG = "new-checkout"
SIM_START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SPEED = 120_000.0  # 22 simulated days in about 16 seconds
PLAN = {
    "steps": [
        {"percentage": 10},
        {"percentage": 25},
        {"percentage": 50},
        {"percentage": 100},
    ],
    "watch": {"close_for": "1h", "close_every": "5m", "then_every": "1h", "bake": "1d"},
}


def audit_of(services: Services, target_type: str) -> list[tuple[str, str | None]]:
    records = services.audit.all(
        SYSTEM, AuditFilter(project="default", target_type=target_type, limit=1000)
    )
    return [(r.entry.action, r.entry.reason) for r in reversed(records)]


def start_runner(
    database_url: str, data_dir: Path, origin: float, log: Path
) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "SHIPWISE_CLOCK_START": SIM_START.isoformat(),
        "SHIPWISE_CLOCK_SPEED": str(SPEED),
        "SHIPWISE_CLOCK_ORIGIN": repr(origin),
        "SHIPWISE_RUNNER_LEASE_SECONDS": "0.5",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shipwise.cli",
                "runner",
                "--database-url",
                database_url,
                "--data-dir",
                str(data_dir),
                "--interval",
                "0.02",
            ],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_runner_killed_mid_step_resumes_and_applies_no_step_twice(
    database_url: str, tmp_path: Path
) -> None:
    origin = time.time()
    clock = AcceleratedClock(SIM_START, SPEED, origin)
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, admin_token=None, runner=False
    )
    services = build(settings, clock)
    try:
        services.flags.create(SYSTEM, "default", FLAG)
        release = release_in_production(services, FLAG)
        plan = services.rollouts.start(
            SYSTEM, "default", FLAG, "production", plan=PLAN, release=release
        )
        log = tmp_path / "runner.log"
        rng = random.Random(7)
        kills = 0
        process = start_runner(database_url, tmp_path, origin, log)
        deadline = time.monotonic() + 90
        try:
            while time.monotonic() < deadline:
                current = services.rollouts.get(SYSTEM, "default", plan.id)
                if current.state.status is PlanStatus.RELEASED:
                    break
                time.sleep(rng.uniform(0.4, 1.6))
                if kills < 8 and services.rollouts.get(SYSTEM, "default", plan.id).state.active:
                    process.send_signal(signal.SIGKILL)  # no clean-up: as a crash
                    process.wait(timeout=10)
                    kills += 1
                    process = start_runner(database_url, tmp_path, origin, log)
        finally:
            process.terminate()
            process.wait(timeout=20)
        final = services.rollouts.get(SYSTEM, "default", plan.id)
        assert final.state.status is PlanStatus.RELEASED, log.read_text()[-3000:]
        assert kills >= 5
        flag_changes = [
            reason or ""
            for action, reason in audit_of(services, "flag")
            if action == "flag.rollout"
        ]
        assert len(flag_changes) == 4, flag_changes  # one per step, whatever the kills
        for index, label in enumerate(["10%", "25%", "50%", "100%"], start=1):
            assert f"step {index}, {label}" in flag_changes[index - 1]
        decisions = [action for action, _ in audit_of(services, "rollout")]
        assert decisions == [
            "rollout.start",
            "rollout.advance",
            "rollout.advance",
            "rollout.bake",
            "rollout.release",
        ]
        # No step was cut short by a restart: each lasted its week (simulated).
        moments = [
            c.at
            for c in services.rollouts.timeline(SYSTEM, "default", plan.id)
            if c.decision in {"advance", "bake", "release"}
        ]
        gaps = [later - earlier for earlier, later in pairwise(moments)]
        assert all(gap >= timedelta(days=7) for gap in gaps[:3]), gaps
        assert gaps[3] >= timedelta(days=1)
    finally:
        services.close()


@pytest.fixture
def two_instances(
    postgres_url: str, tmp_path: Path
) -> Iterator[tuple[Services, Services, ManualClock]]:
    clock = ManualClock(SIM_START)
    first = build(Settings(data_dir=tmp_path, database_url=postgres_url, admin_token=None), clock)
    second = build(Settings(data_dir=tmp_path, database_url=postgres_url, admin_token=None), clock)
    yield first, second, clock
    first.close()
    second.close()


def test_only_one_postgres_runner_holds_the_lock_and_the_other_takes_over(
    postgres_url: str,
) -> None:
    one, two = Database(postgres_url), Database(postgres_url)
    a, b = PostgresAdvisoryLock(one.engine), PostgresAdvisoryLock(two.engine)
    try:
        assert a.acquire()
        for _ in range(5):
            assert a.acquire()  # kept
            assert not b.acquire()
        a.release()
        assert b.acquire()
        assert not a.acquire()
        # The holder's connection dies (its process crashed): the lock goes with it.
        two.engine.dispose()
        b._connection.invalidate()  # the server sees the session end at once
        deadline = time.monotonic() + 5
        while not a.acquire():
            assert time.monotonic() < deadline, "the lock was not freed"
            time.sleep(0.05)
    finally:
        a.release()
        b.release()
        one.dispose()
        two.dispose()


def test_two_runners_racing_on_one_postgres_never_both_act(
    two_instances: tuple[Services, Services, ManualClock],
) -> None:
    first, second, clock = two_instances
    first.flags.create(SYSTEM, "default", FLAG)
    release = release_in_production(first, FLAG)
    plan = first.rollouts.start(SYSTEM, "default", FLAG, "production", plan=PLAN, release=release)
    applied: list[tuple[str, bool]] = []
    # Skip the lock on purpose: both runners check the same due plan at the same moment
    # at every step; the row lock and the plan's version let exactly one act.
    for _ in range(4):
        clock.advance(days=7, minutes=1)
        barrier = threading.Barrier(2)

        def race(name: str, services: Services, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            outcome = services.runner.check(plan.id)
            if outcome is not None and outcome.decision.kind.value != "hold":
                applied.append((name, outcome.applied))

        threads = [
            threading.Thread(target=race, args=("first", first)),
            threading.Thread(target=race, args=("second", second)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    final = first.rollouts.get(SYSTEM, "default", plan.id)
    assert final.state.status is PlanStatus.RELEASED
    decisions = [action for action, _ in audit_of(first, "rollout")]
    assert decisions == [
        "rollout.start",
        "rollout.advance",
        "rollout.advance",
        "rollout.bake",
        "rollout.release",
    ]
    flag_changes = [action for action, _ in audit_of(first, "flag") if action == "flag.rollout"]
    assert len(flag_changes) == 4
    # Where both decided to act, one of them found the plan already moved on.
    assert sum(1 for _, did in applied if did) == 4

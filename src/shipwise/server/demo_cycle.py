"""The demo's rollouts, one after another for as long as the server runs, so whoever
opens the dashboard, however late, finds one moving.

The first start seeds a rollout of ``new-checkout`` (``demo_world``). When a demo plan
ends (released, rolled back, or aborted by a person) and ``PAUSE`` has passed on the
store's clock, the next feature of ``FEATURES`` starts its rollout in production, on the
same plan. The features alternate: a healthy one that reaches 100% and is released, and
a faulty one whose users hit errors more often with the feature on (the demo traffic
reads each user's flags and tracks ``error`` at ``error_rate`` of them), so its
``errors`` guardrail rolls it back on its own, and the rollout page says why.

Each rollout ships its feature's own release, in production past its gates: made on its
first turn the way ``demo_world`` makes the others (its flag and release through the
services, its evidence given by the demo team, only where it stands written directly);
on a later turn the same release is put back in production, so the demo keeps
``len(FEATURES)`` releases of its own however long it runs (a new release per turn would
grow the board by a few hundred a day). Its evidence still counts: its content has not
changed.

While a demo plan is under way (a person's pause included) nothing starts; a plan a
person runs on another flag takes production's one feature rollout, and the next demo
plan waits for it (the refusal is logged once). The work runs in a thread of its own
beside the demo traffic (``start_demo_cycle``), never in the runner or a request; a
restart finds the plan in flight, or the pause since the last one, in the store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shipwise.domain.releases import ReleaseStatus
from shipwise.server.demo_world import (
    DEMO_PLAN,
    DEMO_PROJECT,
    ROLLBACK_PLAN,
    ROLLING_FLAG,
    SHIPPED,
    commit_for,
    stand,
)
from shipwise.server.ports import RolloutPlanRecord
from shipwise.server.services.errors import ServiceError
from shipwise.server.services.principal import SYSTEM

if TYPE_CHECKING:
    from shipwise.server.bootstrap import Services

__all__ = [
    "BASE_ERROR_RATE",
    "FEATURES",
    "PAUSE",
    "DemoCycle",
    "DemoFeature",
    "error_rate",
    "next_feature",
    "start_demo_cycle",
]

ENVIRONMENT = "production"
BASE_ERROR_RATE = 0.02  # users who track an error without a faulty feature
FAULTY_ERROR_RATE = 0.06  # with one on: three times as many, well past max_worse 0.5
PAUSE = timedelta(days=2)  # on the demo clock (about 17 s at a week a minute)
POLL_SECONDS = 1.0
STOP_TIMEOUT_S = 10.0

log = logging.getLogger("shipwise.demo")


@dataclass(frozen=True, slots=True)
class DemoFeature:
    flag: str
    title: str
    description: str
    error_rate: float  # of its users who have it on
    commit: int  # its release's made-up commit (``demo_world.commit_for``)

    @property
    def healthy(self) -> bool:
        return self.error_rate <= BASE_ERROR_RATE


FEATURES: tuple[DemoFeature, ...] = (
    DemoFeature(ROLLING_FLAG, "New checkout", "", BASE_ERROR_RATE, 3),  # seeded first
    DemoFeature(
        "recommendations-v2",
        "Recommendations v2",
        "Product recommendations from the new model (the demo's faulty feature: more errors)",
        FAULTY_ERROR_RATE,
        11,
    ),
    DemoFeature("saved-carts", "Saved carts", "Carts kept across devices", BASE_ERROR_RATE, 12),
    DemoFeature(
        "live-chat",
        "Live chat",
        "Support chat on every page (the demo's faulty feature: more errors)",
        FAULTY_ERROR_RATE,
        13,
    ),
)
_BY_FLAG = {feature.flag: feature for feature in FEATURES}


def error_rate(enabled: Collection[str]) -> float:
    """The chance that a user with the flags ``enabled`` tracks an error: the worst of
    their demo features' rates."""
    return max((f.error_rate for f in FEATURES if f.flag in enabled), default=BASE_ERROR_RATE)


def next_feature(plans: Sequence[RolloutPlanRecord], now: datetime) -> DemoFeature | None:
    """The feature whose rollout starts now, given the demo features' plans in
    production: none while one is under way or the pause after the last one lasts."""
    mine = [plan for plan in plans if plan.flag in _BY_FLAG]
    if any(plan.state.active for plan in mine):
        return None
    if not mine:
        return FEATURES[0]
    last = max(mine, key=lambda plan: plan.id)
    ended = last.state.finished_at or last.state.step_started_at
    if now < ended + PAUSE:
        return None
    return FEATURES[(FEATURES.index(_BY_FLAG[last.flag]) + 1) % len(FEATURES)]


class DemoCycle:
    """One look at the demo's rollouts at a time (``tick``); the thread calls it."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._refused: str | None = None  # the last refusal logged, to log it once

    def tick(self) -> RolloutPlanRecord | None:
        """Start the next feature's rollout if it is due; the plan started, or None."""
        with self._services.store.read() as tx:
            now = tx.now()
            project = tx.get_project(DEMO_PROJECT)
            environment = None if project is None else tx.get_environment(project.id, ENVIRONMENT)
            if project is None or environment is None:
                return None
            plans = tx.list_plans(project.id, environment_id=environment.id)
        feature = next_feature(plans, now)
        if feature is None:
            return None
        release = self._ship(feature)
        try:
            plan = self._services.rollouts.start(
                SYSTEM, DEMO_PROJECT, feature.flag, ENVIRONMENT, plan=DEMO_PLAN, release=release
            )
        except ServiceError as refused:  # a person's plan holds production: wait for it
            if refused.message != self._refused:
                log.info("demo: %s waits: %s", feature.flag, refused.message)
            self._refused = refused.message
            return None
        self._refused = None
        log.info(
            "demo: rollout plan #%d of %s (%s, release %s) started in production",
            plan.id,
            feature.flag,
            "healthy" if feature.healthy else "faulty: its guardrail should roll it back",
            release,
        )
        return plan

    def _ship(self, feature: DemoFeature) -> str:
        """The feature's release, in production past its gates (module docstring)."""
        services = self._services
        with services.store.read() as tx:
            project = tx.get_project(DEMO_PROJECT)
            assert project is not None  # tick found it; projects are not deleted here
            has_flag = tx.get_flag(project.id, feature.flag) is not None
            made = [
                r
                for r in tx.list_releases(project.id)
                if r.title == feature.title and feature.flag in r.flags
            ]
        if not has_flag:
            services.flags.create(
                SYSTEM,
                DEMO_PROJECT,
                feature.flag,
                "release",
                owner="ana",
                description=feature.description,
            )
        commit = commit_for(feature.commit)
        if not made:
            release = services.releases.create(
                SYSTEM,
                DEMO_PROJECT,
                title=feature.title,
                kind="feature",
                owner="ana",
                flags=(feature.flag,),
                commit=commit,
                rollback_plan=ROLLBACK_PLAN,
            )
            stand(services, release.key, commit, SHIPPED)
            return release.key
        key = max(made, key=lambda r: r.id).key
        with services.store.transaction() as tx:
            found = tx.get_release(project.id, key, for_update=True)
            if found is not None:  # back in production for this turn: set-up, as at seeding
                status = ReleaseStatus.IN_PROGRESS
                tx.save_release(replace(found, stage=SHIPPED.stage, status=status))
        return key


def start_demo_cycle(services: Services, stop: threading.Event) -> threading.Thread:
    """Run ``DemoCycle.tick`` every ``POLL_SECONDS`` in a daemon thread until ``stop``
    is set; join the thread (``STOP_TIMEOUT_S``) before closing ``services``."""
    cycle = DemoCycle(services)

    def run() -> None:
        failed: str | None = None
        while not stop.wait(POLL_SECONDS):
            try:
                cycle.tick()
                failed = None
            except Exception as failure:  # the demo goes on; the same failure logged once
                if repr(failure) != failed:
                    log.exception("demo: starting the next rollout failed")
                failed = repr(failure)

    thread = threading.Thread(target=run, name="demo-cycle", daemon=True)
    thread.start()
    return thread

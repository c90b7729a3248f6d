"""The demo project's work in progress, so a newcomer's first minute shows the board and
a rollout moving, not empty columns.

On the first start of ``shipwise serve --demo`` (an empty database, so a second start
seeds nothing twice), after the demo flags: a release in every column of the board —
new, blocked in dev by a missing approval, in QA on staging waiting for its sign-off,
rolling out in production, released — and a rollout plan running on ``new-checkout``
in production, judged on an ``errors`` guardrail fed by the SDK's events.

The releases are created through the release service (audited, as a person's would be);
where they stand and the evidence that got them there are set-up written into the store,
the way a migration would, because walking each through its gates needs a team, CI and
business hours that a demo on someone's laptop does not have. The plan is started
through the rollout service, so the runner judges and moves it like any other.

The plan is a real plan compressed: steps of seconds, checked every few seconds, on the
server's real clock (an accelerated clock would speed up sign-in links and sessions too).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from shipwise.domain.releases import EvidenceKind, ReleaseStatus
from shipwise.server.services.principal import SYSTEM

if TYPE_CHECKING:
    from shipwise.server.bootstrap import Services

__all__ = ["DEMO_PLAN", "DEMO_PROJECT", "ROLLING_FLAG", "seed_demo_work"]

DEMO_PROJECT = "default"
ROLLING_FLAG = "new-checkout"
ERROR_EVENT = "error"  # what the demo traffic tracks, and the guardrail counts

# Seconds, not days: the rollout page should move while a newcomer watches.
DEMO_PLAN: dict[str, Any] = {
    "steps": [
        {"percentage": 10, "min_duration": "30s", "min_sample": 100},
        {"percentage": 25, "min_duration": "30s", "min_sample": 100},
        {"percentage": 50, "min_duration": "30s", "min_sample": 100},
        {"percentage": 100},
    ],
    "guardrails": [{"metric": "errors", "max_worse": 0.5, "action": "rollback"}],
    "watch": {"close_for": "1m", "close_every": "5s", "then_every": "5s", "bake": "2m"},
    # Synthetic traffic rarely settles a sequential test in seconds; advance unless the
    # numbers say the feature regressed (a real plan keeps the default, hold).
    "when_inconclusive": "advance",
}


def _commit(n: int) -> str:
    return f"{n:x}".rjust(8, "0") * 5


@dataclass(frozen=True, slots=True)
class _Standing:
    """Where a demo release stands and what a team recorded on its way there."""

    stage: str | None
    status: ReleaseStatus = ReleaseStatus.IN_PROGRESS
    approved_for: str | None = None  # approvals (bob's and carol's) for this stage
    drilled: bool = False  # a rollback drill on staging
    signed_off: bool = False  # QA's sign-off on staging
    deployed: tuple[str, ...] = ()  # its commit deployed to these environments


def _stand(services: Services, key: str, standing: _Standing) -> None:
    with services.store.transaction() as tx:
        project = tx.get_project(DEMO_PROJECT)
        found = None if project is None else tx.get_release(project.id, key)
        if project is None or found is None or found.commit is None:
            raise RuntimeError(f"the demo release {key} was not created as expected")
        release = tx.save_release(replace(found, stage=standing.stage, status=standing.status))
        now, commit = tx.now(), found.commit
        tx.add_ci_result(project.id, commit, "ci/tests", "success", now)
        for environment in standing.deployed:
            tx.add_deploy(project.id, environment, commit, True, "demo ci", now)
        if standing.approved_for is not None:
            roles = {"roles": ["code-owner", "release-manager"]}
            for approver in ("bob", "carol"):  # production asks for two
                tx.add_evidence(
                    release, EvidenceKind.APPROVAL, standing.approved_for, approver, now, roles
                )
        if standing.drilled:
            tx.add_evidence(
                release, EvidenceKind.DRILL, "staging", "carol", now, {"succeeded": True}
            )
        if standing.signed_off:
            tx.add_evidence(release, EvidenceKind.SIGNOFF, "staging", "quinn", now, {"kind": "qa"})


def seed_demo_work(services: Services) -> None:
    """The releases in every column and the running rollout (module docstring)."""
    p = DEMO_PROJECT
    services.metric_catalog.define(
        SYSTEM,
        p,
        "errors",
        "sdk",
        {"event": ERROR_EVENT, "measure": "rate"},
        description="Share of users who hit an error (the demo traffic's)",
    )
    create = services.releases.create
    rollback = "Turn the flag off; revert the merge."
    create(SYSTEM, p, title="Dark mode", kind="feature", owner="ana")  # not started yet
    blocked = create(
        SYSTEM,
        p,
        title="Search v2",
        kind="feature",
        owner="ana",
        flags=("search-v2",),
        commit=_commit(1),
        rollback_plan=rollback,
    )
    in_qa = create(
        SYSTEM,
        p,
        title="Excel export",
        kind="feature",
        owner="ana",
        flags=("export-csv-xlsx",),
        commit=_commit(2),
        rollback_plan=rollback,
    )
    rolling = create(
        SYSTEM,
        p,
        title="New checkout",
        kind="feature",
        owner="ana",
        flags=(ROLLING_FLAG,),
        commit=_commit(3),
        rollback_plan=rollback,
    )
    done = create(
        SYSTEM,
        p,
        title="Payment provider switch",
        kind="feature",
        owner="ana",
        flags=("payments-kill-switch",),
        commit=_commit(4),
        rollback_plan=rollback,
    )
    everywhere = ("dev", "staging", "production")
    # In dev, CI green and deployed there; nobody has approved it for staging yet.
    _stand(services, blocked.key, _Standing("dev", deployed=("dev",)))
    # On staging for QA: approved for production and drilled; QA has not signed off.
    qa = _Standing("staging", approved_for="production", drilled=True, deployed=everywhere[:2])
    _stand(services, in_qa.key, qa)
    shipped = _Standing(
        "production", ReleaseStatus.IN_PROGRESS, "production", True, True, everywhere
    )
    _stand(services, rolling.key, shipped)
    _stand(services, done.key, replace(shipped, status=ReleaseStatus.RELEASED))
    services.rollouts.start(
        SYSTEM, p, ROLLING_FLAG, "production", plan=DEMO_PLAN, release=rolling.key
    )

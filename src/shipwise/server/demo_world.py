"""The demo project's work in progress, so a newcomer's first minute shows the board and
a rollout moving, not empty columns.

On the first start of ``shipwise serve --demo`` (an empty database, so a second start
seeds nothing twice), after the demo flags: a release in every column of the board —
new, blocked in dev by a missing approval, in QA on staging waiting for its sign-off,
rolling out in production, released — and a rollout plan running on ``new-checkout``
in production, judged on an ``errors`` guardrail fed by the SDK's events.

The releases, and the evidence that got them where they stand (CI results, deploys,
approvals, rollback drills, QA sign-offs), go through the services the API calls, given
by a demo team (``TEAM``, principals without tokens: nobody can sign in as them), so
they are checked and audited as a person's would be. Only where each release stands is
set-up written into the store, the way a migration would: walking each through its
promotions needs business hours and one rollout at a time, which a demo started at any
hour on someone's laptop does not have. The plan is started through the rollout
service, so the runner judges and moves it like any other.

The plan is the process's real schedule (``DEMO_PLAN``: a week a step); the demo server
runs its store on an accelerated clock (``clocks.DEMO_SPEED``: a week in a minute), so
a step advances while a newcomer watches.
When it ends, ``demo_cycle`` starts the next feature's rollout, and so on while the
server runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from shipwise.domain.access import Role, TokenKind
from shipwise.domain.releases import ReleaseStatus
from shipwise.server.services.principal import SYSTEM, Principal

if TYPE_CHECKING:
    from shipwise.server.bootstrap import Services

__all__ = [
    "DEMO_PLAN",
    "DEMO_PROJECT",
    "ERROR_EVENT",
    "ROLLBACK_PLAN",
    "ROLLING_FLAG",
    "SHIPPED",
    "TEAM",
    "commit_for",
    "seed_demo_work",
    "stand",
]

DEMO_PROJECT = "default"
ROLLING_FLAG = "new-checkout"
ERROR_EVENT = "error"  # what the demo traffic tracks, and the guardrail counts

# The default plan's schedule (``domain.rollout.DEFAULT_PLAN``): 10% and the beta testers
# for a week, then 25%, 50% and 100%, a week a step, with a day's bake.
DEMO_PLAN: dict[str, Any] = {
    "steps": [
        {"percentage": 10, "audiences": ["beta-testers"], "min_duration": "7d", "min_sample": 100},
        {"percentage": 25, "min_duration": "7d", "min_sample": 100},
        {"percentage": 50, "min_duration": "7d", "min_sample": 100},
        {"percentage": 100},
    ],
    "guardrails": [{"metric": "errors", "max_worse": 0.5, "action": "rollback"}],
    # Synthetic traffic with equal error rates never proves the feature harmless; advance
    # unless the numbers say it regressed (a real plan keeps the default, hold).
    "when_inconclusive": "advance",
    # The sample-ratio check leaves out a step's first two minutes, for SDK batches sent
    # before the step changed. On the demo clock one batch of the demo traffic (2 s)
    # spans hours, so the first batches after a step still carry the old split, and the
    # check paused the plan ("sample ratio: 15.75% ... expected 25%"): a clock artifact.
    "sample_ratio_check": False,
}

# Who gives the demo's evidence: never the releases' author (ana), as the gates require.
TEAM = {"bob": Role.RELEASE_MANAGER, "carol": Role.RELEASE_MANAGER, "quinn": Role.QA}
CI = "demo-ci"  # reports the CI results and deploys


ROLLBACK_PLAN = "Turn the flag off; revert the merge."


def commit_for(n: int) -> str:
    """The demo's made-up commit number ``n``."""
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


def _member(name: str, role: Role, project_id: int) -> Principal:
    return Principal(
        actor=f"demo:{name} ({role})",
        kind=TokenKind.API,
        role=role,
        project_id=project_id,
        person=name,
    )


# In production, past every gate on the way: CI green, deployed everywhere, approved for
# production, drilled and signed off on staging.
SHIPPED = _Standing(
    "production",
    ReleaseStatus.IN_PROGRESS,
    "production",
    drilled=True,
    signed_off=True,
    deployed=("dev", "staging", "production"),
)


def stand(services: Services, key: str, commit: str, standing: _Standing) -> None:
    """Put release ``key`` where ``standing`` says, and give the evidence that got it
    there through the services, as the demo team (module docstring)."""
    with services.store.transaction() as tx:
        project = tx.get_project(DEMO_PROJECT)
        found = None if project is None else tx.get_release(project.id, key)
        if project is None or found is None:
            raise RuntimeError(f"the demo release {key} was not created as expected")
        # Where it stands: set-up (module docstring). Its content is unchanged, so the
        # evidence below counts for it.
        tx.save_release(replace(found, stage=standing.stage, status=standing.status))
    people = {name: _member(name, role, project.id) for name, role in TEAM.items()}
    ci, p = _member(CI, Role.DEVELOPER, project.id), DEMO_PROJECT
    services.evidence.report_ci(ci, p, commit, "ci/tests", "success")
    for environment in standing.deployed:
        services.evidence.report_deploy(ci, p, environment, commit)
    if standing.approved_for is not None:
        for approver in ("bob", "carol"):  # production asks for two
            services.evidence.approve(people[approver], p, key, standing.approved_for)
    if standing.drilled:
        services.evidence.record_drill(
            people["carol"], p, key, "staging", True, "flags off for the demo's testers"
        )
    if standing.signed_off:
        services.evidence.sign_off(people["quinn"], p, key, "qa", "staging")


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
    rollback = ROLLBACK_PLAN
    create(SYSTEM, p, title="Dark mode", kind="feature", owner="ana")  # not started yet
    blocked = create(
        SYSTEM,
        p,
        title="Search v2",
        kind="feature",
        owner="ana",
        flags=("search-v2",),
        commit=commit_for(1),
        rollback_plan=rollback,
    )
    in_qa = create(
        SYSTEM,
        p,
        title="Excel export",
        kind="feature",
        owner="ana",
        flags=("export-csv-xlsx",),
        commit=commit_for(2),
        rollback_plan=rollback,
    )
    rolling = create(
        SYSTEM,
        p,
        title="New checkout",
        kind="feature",
        owner="ana",
        flags=(ROLLING_FLAG,),
        commit=commit_for(3),
        rollback_plan=rollback,
    )
    done = create(
        SYSTEM,
        p,
        title="Payment provider switch",
        kind="feature",
        owner="ana",
        flags=("payments-kill-switch",),
        commit=commit_for(4),
        rollback_plan=rollback,
    )
    everywhere = ("dev", "staging", "production")
    # In dev, CI green and deployed there; nobody has approved it for staging yet.
    stand(services, blocked.key, commit_for(1), _Standing("dev", deployed=("dev",)))
    # On staging for QA: approved for production and drilled; QA has not signed off.
    qa = _Standing("staging", approved_for="production", drilled=True, deployed=everywhere[:2])
    stand(services, in_qa.key, commit_for(2), qa)
    stand(services, rolling.key, commit_for(3), SHIPPED)
    stand(services, done.key, commit_for(4), replace(SHIPPED, status=ReleaseStatus.RELEASED))
    services.rollouts.start(
        SYSTEM, p, ROLLING_FLAG, "production", plan=DEMO_PLAN, release=rolling.key
    )

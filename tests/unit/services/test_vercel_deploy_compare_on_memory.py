"""``compare: deploys`` on the memory store: the records of the Vercel deployments
serving the commit now deployed (over the step's window) against those of the commit
deployed before it (over as long a span ending at the new deploy), as a comparison a
``Compare`` guardrail judges; without two deploys linked to Vercel deployments the
metric is unreadable (on the deploys basis, so it holds a release at 100%) and says which
command fixes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.unit.services.world import SteppingClock

from shipwise.domain.guardrails import (
    DEPLOYS,
    ArmStats,
    Compare,
    Comparison,
    Direction,
    Guardrail,
    Observation,
    Unreadable,
    Verdict,
)
from shipwise.domain.verdicts import judge
from shipwise.server.ports import MetricDefinition, MetricWindow
from shipwise.server.ports.memory import MemoryStore
from shipwise.server.ports.vercel import REQUEST, VITAL, DrainRecord, VercelDeployment
from shipwise.server.services.vercel_metrics import read_vercel

DEPLOYED = datetime(2026, 3, 2, 9, tzinfo=UTC)  # the new commit reached production
STEP = DEPLOYED + timedelta(minutes=5)  # the plan's step began just after
NOW = STEP + timedelta(hours=6)
PROJECT_ID = 1
WINDOW = MetricWindow("shop", "production", "checkout", STEP, NOW)
OLD, NEW, BROKEN = "a" * 40, "b" * 40, "c" * 40


def lcp(at: datetime, value: float, deployment: str) -> DrainRecord:
    return DrainRecord(VITAL, at, "LCP", value, None, "/", deployment, "production")


def request(at: datetime, status: int, deployment: str) -> DrainRecord:
    return DrainRecord(REQUEST, at, "request", 100.0, status, "/api", deployment, "production")


def world(
    records: list[DrainRecord],
    deploys: list[tuple[str, datetime, bool]],
    links: dict[str, str],
) -> MemoryStore:
    """A store with the drained records, the deploys to production (commit, when,
    succeeded) and the Vercel deployments linked to commits (deployment: commit)."""
    store = MemoryStore(SteppingClock(NOW))
    with store.transaction() as tx:
        for commit, at, succeeded in deploys:
            tx.add_deploy(PROJECT_ID, "production", commit, succeeded, "ci", at)
        for deployment, commit in links.items():
            link = VercelDeployment(PROJECT_ID, deployment, "production", commit, DEPLOYED)
            tx.link_vercel_deployment(link)
        tx.add_drain_records(PROJECT_ID, records, NOW)
    return store


def read(store: MemoryStore, **settings: Any) -> Observation:
    definition = MetricDefinition(PROJECT_ID, "m", "vercel", {**settings, "compare": "deploys"})
    with store.read() as tx:
        return read_vercel(tx, PROJECT_ID, definition, WINDOW)


TWO_DEPLOYS = [(OLD, DEPLOYED - timedelta(days=3), True), (NEW, DEPLOYED, True)]
LINKED = {"dpl_old": OLD, "dpl_new": NEW}


def test_compare_deploys__vitals__are_the_new_deployments_mean_against_the_old_ones() -> None:
    minute = timedelta(minutes=1)
    records = [lcp(STEP + i * minute, v, "dpl_new") for i, v in enumerate([3000, 3400, 3800])]
    records += [lcp(DEPLOYED - (i + 1) * minute, v, "dpl_old") for i, v in enumerate([1000, 3000])]
    records += [
        lcp(DEPLOYED - timedelta(hours=7), 9000, "dpl_old"),  # older than the step is long
        lcp(STEP + minute, 9000, "dpl_old"),  # the old one still answering after the deploy
        lcp(STEP + minute, 9000, "dpl_preview"),  # a deployment no deploy is linked to
    ]
    observed = read(world(records, TWO_DEPLOYS, LINKED), measure="lcp")
    assert observed == Comparison(
        "mean",
        ArmStats(3, 3, 10200, 3000**2 + 3400**2 + 3800**2),
        ArmStats(2, 2, 4000, 1000**2 + 3000**2),
        DEPLOYS,
    )


def test_compare_deploys__a_much_slower_new_deployment__regresses_a_compare_guardrail() -> None:
    minute = timedelta(minutes=1)
    records = [lcp(STEP + i * minute, 3000 + (i % 7) * 50, "dpl_new") for i in range(200)]
    records += [
        lcp(DEPLOYED - (i + 1) * minute, 2000 + (i % 7) * 50, "dpl_old") for i in range(200)
    ]
    observed = read(world(records, TWO_DEPLOYS, LINKED), measure="lcp")
    guardrail = Guardrail("lcp", Direction.HIGHER_IS_WORSE, Compare(0.1))
    assert judge(guardrail, observed, alpha=0.05).verdict is Verdict.REGRESSED


def test_compare_deploys__5xx_share__is_a_rate_of_5xx_answers_per_request() -> None:
    minute = timedelta(minutes=1)
    after = [request(STEP + i * minute, 503 if i < 4 else 200, "dpl_new") for i in range(40)]
    before = [
        request(DEPLOYED - (i + 1) * minute, 500 if i == 0 else 404, "dpl_old") for i in range(50)
    ]
    observed = read(world(after + before, TWO_DEPLOYS, LINKED), measure="5xx-share")
    assert observed == Comparison("rate", ArmStats(40, 4), ArmStats(50, 1), DEPLOYS)


def test_compare_deploys__a_revert__is_judged_against_the_commit_it_replaced() -> None:
    # OLD shipped, NEW shipped, NEW failed a deploy of BROKEN, then OLD was redeployed (the
    # revert): the revert's deployment is compared with NEW's, the failed deploy ignored.
    deploys = [
        (OLD, DEPLOYED - timedelta(days=3), True),
        (NEW, DEPLOYED - timedelta(days=1), True),
        (BROKEN, DEPLOYED - timedelta(hours=1), False),
        (OLD, DEPLOYED, True),
    ]
    links = {"dpl_old": OLD, "dpl_new": NEW, "dpl_revert": OLD}
    records = [request(STEP + timedelta(minutes=1), 200, "dpl_revert")]
    records += [request(DEPLOYED - timedelta(minutes=1), 500, "dpl_new")] * 2
    observed = read(world(records, deploys, links), measure="5xx-share")
    assert observed == Comparison("rate", ArmStats(1, 0), ArmStats(2, 2), DEPLOYS)


def test_compare_deploys__a_commit_reported_again__reads_before_up_to_its_first_deploy() -> None:
    # NEW was deployed at DEPLOYED and reported again two hours later (a CI re-run): the
    # old deployment's records of those two hours were not served in production any more
    # and stay out of "before", which ends at NEW's first deploy.
    deploys = [*TWO_DEPLOYS, (NEW, DEPLOYED + timedelta(hours=2), True)]
    records = [request(STEP + timedelta(hours=3), 200, "dpl_new")]
    records += [request(DEPLOYED - timedelta(minutes=1), 200, "dpl_old")] * 3
    records += [request(DEPLOYED + timedelta(hours=1), 500, "dpl_old")] * 5  # not serving
    observed = read(world(records, deploys, LINKED), measure="5xx-share")
    assert observed == Comparison("rate", ArmStats(1, 0), ArmStats(3, 0), DEPLOYS)


def test_compare_deploys__without_a_deploy__is_unreadable_naming_the_command() -> None:
    observed = read(world([], [], {}), measure="lcp")
    assert observed == Unreadable(
        "no successful deploy to production is recorded; comparing deploys needs this one "
        "and the one before: report each deploy with `shipwise deploy report -e production "
        "--ref COMMIT --vercel-deployment dpl_...`",
        basis=DEPLOYS,
    )


def test_compare_deploys__with_one_deploy_only__is_unreadable() -> None:
    observed = read(world([], [(NEW, DEPLOYED, True)], {"dpl_new": NEW}), measure="lcp")
    assert isinstance(observed, Unreadable)
    assert observed.basis == DEPLOYS
    assert observed.problem.startswith(
        f"only {NEW[:12]} has been deployed to production; comparing deploys needs"
    )


def test_compare_deploys__a_deploy_without_its_vercel_deployment__is_unreadable() -> None:
    observed = read(world([], TWO_DEPLOYS, {"dpl_new": NEW}), measure="lcp")
    assert isinstance(observed, Unreadable)
    assert observed.basis == DEPLOYS
    assert observed.problem.startswith(
        f"no Vercel deployment is linked to {OLD[:12]}, deployed to production: report"
    )
    assert "--vercel-deployment dpl_..." in observed.problem

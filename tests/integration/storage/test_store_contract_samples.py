"""The store contract for a plan's sampled checks (the guardrail charts' points): kept
out of the timeline unless asked for, and only a sample ever overwritten. On the memory
store, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.support.store_backend import START, Backend

from shipwise.domain.plan_format import parse_plan
from shipwise.domain.rollout import start
from shipwise.domain.rollout_samples import SAMPLE
from shipwise.server.ports import RolloutCheck, RolloutPlanRecord, Store

SPEC = parse_plan({"steps": [{"percentage": 10}, {"percentage": 100}]})
LATER = START + timedelta(hours=1)


def _plan(store: Store) -> RolloutPlanRecord:
    with store.transaction() as tx:
        project = tx.add_project("shop", "Shop", "UTC")
        env = tx.add_environment(project.id, "production", "Production", "main", 1)
        flag = tx.add_flag(project.id, "checkout", "release", None, None, [])
        return tx.add_plan(project.id, flag.id, env.id, None, SPEC, start(SPEC, START), None, "a")


def test_checks__samples_are_listed_only_when_asked_for(backend: Backend) -> None:
    plan = _plan(backend.store)
    with backend.store.transaction() as tx:
        tx.add_check(RolloutCheck(plan.id, START, 0, "advance", "started", {}))
        for n in range(3):
            tx.add_check(RolloutCheck(plan.id, START, 0, SAMPLE, f"s{n}", {"n": n}))
        tx.add_check(RolloutCheck(plan.id, START, 0, "hold", "changed", {}))
        tx.add_check(RolloutCheck(plan.id, START, 0, SAMPLE, "s3", {}))

    with backend.store.read() as tx:
        assert [c.reason for c in tx.list_checks(plan.id)] == ["started", "changed"]
        assert [c.reason for c in tx.list_checks(plan.id, limit=1)] == ["changed"]
        every = [c.reason for c in tx.list_checks(plan.id, samples=True)]
        assert every == ["started", "s0", "s1", "s2", "changed", "s3"]
        assert [c.reason for c in tx.list_checks(plan.id, 2, samples=True)] == ["changed", "s3"]


def test_replace_last_sample__overwrites_a_newest_sample__and_never_a_decision(
    backend: Backend,
) -> None:
    plan = _plan(backend.store)
    newer = RolloutCheck(plan.id, LATER, 0, SAMPLE, "newer", {"errors": {"verdict": "healthy"}})
    with backend.store.transaction() as tx:
        assert not tx.replace_last_sample(newer)  # nothing to overwrite
        tx.add_check(RolloutCheck(plan.id, START, 0, SAMPLE, "older", {}))
        assert tx.replace_last_sample(newer)

    with backend.store.read() as tx:
        assert tx.list_checks(plan.id, samples=True) == [newer]

    with backend.store.transaction() as tx:
        tx.add_check(RolloutCheck(plan.id, LATER, 0, "pause", "a person looks", {}))
        assert not tx.replace_last_sample(replace(newer, at=LATER + timedelta(hours=1)))

    with backend.store.read() as tx:
        assert [c.reason for c in tx.list_checks(plan.id, samples=True)] == [
            "newer",
            "a person looks",
        ]

"""The store contract, part two: releases and their evidence, policy sources, rollout
plans, checks, templates, metric definitions, observations, the outbox, GitHub
deliveries and change requests. On the memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.support.store_backend import START, Backend

from shipwise.domain.change_requests import ChangeRequest, RequestKind, RequestState, Review
from shipwise.domain.github_order import Recorded
from shipwise.domain.plan_format import parse_plan
from shipwise.domain.releases import ApproverRole, ChangeKind, PullRequest, Release
from shipwise.domain.rollout import PlanStatus, start
from shipwise.server.ports import (
    Environment,
    FlagRecord,
    GitHubDelivery,
    MetricDefinition,
    Notification,
    Project,
    RolloutCheck,
    Store,
    TrackedEvent,
)

SPEC = parse_plan({"steps": [{"percentage": 10}, {"percentage": 100}]})


def _setup(store: Store) -> tuple[Project, Environment, FlagRecord]:
    with store.transaction() as tx:
        project = tx.add_project("shop", "Shop", "UTC")
        env = tx.add_environment(project.id, "production", "Production", "main", 1)
        flag = tx.add_flag(project.id, "checkout", "release", None, None, [])
        return project, env, flag


def _release(key: str, **fields: object) -> Release:
    return replace(
        Release(0, "", key, f"{key} title", ChangeKind.FEATURE, "ana", START, START),
        **fields,  # type: ignore[arg-type]
    )


def test_releases__added_saved_listed_and_found_by_branch(backend: Backend) -> None:
    project, _, _ = _setup(backend.store)
    pulls = (PullRequest(9, "b", head_branch="feat"), PullRequest(3, "a", merged=True))
    with backend.store.transaction() as tx:
        first = tx.add_release(project.id, _release("R-1", branch="feat", pull_requests=pulls))
        second = tx.add_release(project.id, _release("R-2", flags=("checkout",)))
        assert tx.next_release_number(project.id) == 1  # "R-<n>" is not the automatic form
        saved = tx.save_release(replace(first, stage="staging", pull_requests=pulls[:1]))

    assert first.project == "shop"
    assert [p.number for p in first.pull_requests] == [3, 9]
    assert second.id > first.id
    with backend.store.read() as tx:
        assert tx.get_release(project.id, "R-1", for_update=True) == saved
        assert saved.stage == "staging"
        assert [p.number for p in saved.pull_requests] == [9]
        assert tx.list_releases(project.id) == [saved, second]
        assert tx.releases_for_branch(project.id, "feat") == [saved]
        assert tx.get_release(project.id, "R-9") is None


def test_evidence__gathers_approvals_checks_signoffs_drills_ci_and_deploys_of_the_commit(
    backend: Backend,
) -> None:
    project, _, _ = _setup(backend.store)
    with backend.store.transaction() as tx:
        release = tx.add_release(project.id, _release("R-1", commit="abc"))
        tx.add_evidence(release, "approval", "production", "bo", START, {"roles": ["qa"]})
        tx.add_evidence(release, "check", "production", "bo", START, {"item": "docs"})
        tx.add_evidence(release, "signoff", "production", "cy", START, {"kind": "qa"})
        tx.add_evidence(release, "drill", "production", "cy", START, {"succeeded": True})
        tx.add_ci_result(project.id, "abc", "ci/test", "success", START)
        tx.add_ci_result(project.id, "other", "ci/test", "failure", START)
        tx.add_deploy(project.id, "production", "abc", True, "deployer", START)

    with backend.store.read() as tx:
        evidence = tx.evidence(project.id, release)
    assert [(a.approver, a.roles) for a in evidence.approvals] == [
        ("bo", frozenset({ApproverRole("qa")}))
    ]
    assert [c.item for c in evidence.checks] == ["docs"]
    assert [(s.kind, s.by) for s in evidence.signoffs] == [("qa", "cy")]
    assert [d.succeeded for d in evidence.drills] == [True]
    assert [(c.context, c.state) for c in evidence.ci] == [("ci/test", "success")]
    assert [(d.environment, d.succeeded) for d in evidence.deploys] == [("production", True)]
    assert evidence.approvals[0].at == START


def test_last_ci_and_deploy_events__are_the_newest_by_event_time_then_by_record(
    backend: Backend,
) -> None:
    project, _, _ = _setup(backend.store)
    t1, t2 = START + timedelta(minutes=1), START + timedelta(minutes=2)
    with backend.store.transaction() as tx:
        tx.add_ci_result(project.id, "abc", "ci", "pending", START, t2)
        tx.add_ci_result(project.id, "abc", "ci", "success", START, t2)  # same instant, later
        tx.add_ci_result(project.id, "abc", "ci", "failure", START, t1)
        tx.add_ci_result(project.id, "abc", "ci", "error", START)  # no event time
        tx.add_deploy(project.id, "production", "abc", False, "gh", START, t2)
        tx.add_deploy(project.id, "production", "abc", True, "gh", START, t1)

    with backend.store.read() as tx:
        assert tx.last_ci_event(project.id, "abc", "ci") == Recorded(t2, "success")
        assert tx.last_ci_event(project.id, "abc", "other") is None
        assert tx.last_deploy_event(project.id, "production", "abc") == Recorded(t2, "failure")
        assert tx.last_deploy_event(project.id, "staging", "abc") is None


def test_policy_source__is_versioned_from_1(backend: Backend) -> None:
    project, _, _ = _setup(backend.store)
    with backend.store.transaction() as tx:
        assert tx.get_policy_source(project.id) is None
        assert tx.save_policy_source(project.id, "a = 1", START) == 1
        assert tx.save_policy_source(project.id, "a = 2", START) == 2
    with backend.store.read() as tx:
        assert tx.get_policy_source(project.id) == ("a = 2", 2)


def test_plans__added_saved_listed__due_and_woken(backend: Backend) -> None:
    project, env, flag = _setup(backend.store)
    soon, later = START + timedelta(minutes=5), START + timedelta(hours=1)
    with backend.store.transaction() as tx:
        release = tx.add_release(project.id, _release("R-1"))
        plan = tx.add_plan(
            project.id, flag.id, env.id, release.id, SPEC, start(SPEC, START), later, "ana"
        )
        other = tx.add_plan(project.id, flag.id, env.id, None, SPEC, start(SPEC, START), soon, "bo")

    assert (plan.project, plan.flag, plan.environment, plan.release) == (
        "shop",
        "checkout",
        "production",
        "R-1",
    )
    assert (plan.version, plan.spec, plan.created_at) == (1, SPEC, START)
    with backend.store.transaction() as tx:
        assert tx.due_plans(later, 10) == [other.id, plan.id]
        assert tx.due_plans(soon, 10) == [other.id]
        assert tx.due_plans(later, 1) == [other.id]
        assert tx.wake_plans(env.id, ["checkout"], soon) == 1  # the later one
        assert set(tx.due_plans(soon, 10)) == {other.id, plan.id}  # both due now
        done = replace(plan.state, status=PlanStatus.RELEASED)
        saved = tx.save_plan(plan, done, later, {"errors": {"verdict": "ok"}})

    assert saved.version == 2
    assert saved.next_check_at is None  # a plan that is over is never due
    assert saved.judgements == {"errors": {"verdict": "ok"}}
    with backend.store.read() as tx:
        assert tx.get_plan(plan.id, for_update=True) == saved
        assert [p.id for p in tx.list_plans(project.id)] == [plan.id, other.id]
        assert [p.id for p in tx.list_plans(project.id, active_only=True)] == [other.id]
        assert [p.id for p in tx.list_plans(project.id, release_id=release.id)] == [plan.id]
        assert tx.list_plans(project.id, environment_id=env.id + 99) == []
        assert tx.get_plan(plan.id + 99) is None


def test_checks__list_the_newest_in_time_order(backend: Backend) -> None:
    project, env, flag = _setup(backend.store)
    with backend.store.transaction() as tx:
        plan = tx.add_plan(project.id, flag.id, env.id, None, SPEC, start(SPEC, START), None, "a")
        for step in range(3):
            tx.add_check(RolloutCheck(plan.id, START, step, "hold", f"r{step}", {"n": step}))

    with backend.store.read() as tx:
        assert [c.reason for c in tx.list_checks(plan.id)] == ["r0", "r1", "r2"]
        assert [c.reason for c in tx.list_checks(plan.id, limit=2)] == ["r1", "r2"]
        assert tx.list_checks(plan.id)[0] == RolloutCheck(plan.id, START, 0, "hold", "r0", {"n": 0})


def test_templates_and_metric_definitions__saved_replaced_listed_by_name_and_deleted(
    backend: Backend,
) -> None:
    project, _, _ = _setup(backend.store)
    slow = parse_plan({"steps": [{"percentage": 1}, {"percentage": 100}]})
    with backend.store.transaction() as tx:
        tx.save_template(project.id, "slow", SPEC)
        tx.save_template(project.id, "slow", slow)
        tx.save_template(project.id, "fast", SPEC)
        tx.save_metric(MetricDefinition(project.id, "zz", "pushed", {}))
        errors = tx.save_metric(MetricDefinition(project.id, "errors", "sdk", {"event": "e"}))

    with backend.store.transaction() as tx:
        assert tx.get_template(project.id, "slow") == slow
        assert list(tx.list_templates(project.id)) == ["fast", "slow"]
        assert tx.delete_template(project.id, "fast") is True
        assert tx.delete_template(project.id, "fast") is False
        assert tx.get_template(project.id, "fast") is None
        assert tx.get_metric(project.id, "errors") == errors
        assert [m.name for m in tx.list_metrics(project.id)] == ["errors", "zz"]
        assert tx.delete_metric(project.id, "zz") is True
        assert tx.delete_metric(project.id, "zz") is False


def test_tracked_events_and_pushed_values__sum_since_a_moment(backend: Backend) -> None:
    project, env, _ = _setup(backend.store)
    with backend.store.transaction() as tx:
        tx.add_tracked(env.id, "web", [TrackedEvent("checkout", "on", "buy", 2, 1, 5.0, 25.0)])
        tx.add_pushed(project.id, None, "tickets", 1.0, START)
    backend.clock.advance(hours=1)
    with backend.store.transaction() as tx:
        events = [
            TrackedEvent("checkout", "on", "buy", 1, 1, 3.0, 9.0),
            TrackedEvent("checkout", "off", "buy", 4, 0, 0.0, 0.0),
            TrackedEvent("checkout", "on", "view", 7, 0, 0.0, 0.0),
        ]
        assert tx.add_tracked(env.id, None, events) == 3
        tx.add_pushed(project.id, "production", "tickets", 2.0, START + timedelta(hours=1))
        tx.add_pushed(project.id, "staging", "tickets", 4.0, START + timedelta(hours=1))

    later = START + timedelta(minutes=30)
    with backend.store.read() as tx:
        totals = tx.tracked_totals(env.id, "checkout", "buy", START)
        assert (totals["on"].count, totals["on"].valued, totals["on"].total) == (3.0, 2.0, 8.0)
        assert totals["on"].total_sq == 34.0
        assert totals["off"].count == 4.0
        assert set(tx.tracked_totals(env.id, "checkout", "buy", later)) == {"on", "off"}
        assert tx.tracked_totals(env.id, "checkout", "buy", later)["on"].count == 1.0
        assert tx.pushed_total(project.id, "production", "tickets", START) == (3.0, 2)
        assert tx.pushed_total(project.id, None, "tickets", START) == (7.0, 3)
        assert tx.pushed_total(project.id, None, "tickets", later) == (6.0, 2)
        assert tx.pushed_total(project.id, None, "other", START) == (0.0, 0)


def test_outbox__due_in_order__delivered_or_retried_or_given_up(backend: Backend) -> None:
    note = Notification("rollout.paused", "shop", "Paused", "text", START, data={"n": 1})
    with backend.store.transaction() as tx:
        tx.enqueue("slack", note)
        tx.enqueue("email", replace(note, title="Second"))
        tx.enqueue("log", replace(note, title="Third"))
    with backend.store.transaction() as tx:
        first, second, third = tx.due_outbox(START, 10)
        assert [i.channel for i in tx.due_outbox(START, 2)] == ["slack", "email"]
        tx.outbox_delivered(first.id, START)
        tx.outbox_failed(second.id, "timeout", START + timedelta(minutes=1))
        tx.outbox_failed(third.id, "gone", None)

    assert first.notification == note
    assert (first.attempts, first.next_attempt_at) == (0, START)
    with backend.store.read() as tx:
        assert tx.due_outbox(START, 10) == []
        (retried,) = tx.due_outbox(START + timedelta(minutes=1), 10)
    assert (retried.id, retried.attempts) == (second.id, 1)


def test_deliveries__claimed_once_by_id_or_body__settled_and_forgotten(backend: Backend) -> None:
    project, _, _ = _setup(backend.store)
    delivery = GitHubDelivery("d-1", "push", "f" * 64, START)
    with backend.store.transaction() as tx:
        assert tx.claim_delivery(project.id, delivery) is None
        tx.settle_delivery(project.id, "d-1", ["R-1: linked"], ["ignored"])
    with backend.store.transaction() as tx:
        by_id = tx.claim_delivery(project.id, replace(delivery, body_sha256="e" * 64))
        by_body = tx.claim_delivery(project.id, replace(delivery, delivery="d-2"))
        later = GitHubDelivery("d-3", "push", "d" * 64, START + timedelta(days=2))
        assert tx.claim_delivery(project.id, later) is None

    settled = replace(delivery, applied=("R-1: linked",), skipped=("ignored",))
    assert by_id == settled
    assert by_body == settled
    with backend.store.transaction() as tx:
        assert tx.forget_deliveries(project.id, START + timedelta(days=1)) == 1
        assert tx.claim_delivery(project.id, delivery) is None  # forgotten: new again


def test_deliveries__a_claim_rolled_back__is_not_remembered(backend: Backend) -> None:
    project, _, _ = _setup(backend.store)
    delivery = GitHubDelivery("d-1", "push", "f" * 64, START)
    try:
        with backend.store.transaction() as tx:
            tx.claim_delivery(project.id, delivery)
            raise LookupError
    except LookupError:
        pass
    with backend.store.transaction() as tx:
        assert tx.claim_delivery(project.id, delivery) is None


def test_change_requests__numbered_saved_and_listed_newest_first(backend: Backend) -> None:
    project, _, _ = _setup(backend.store)

    def request(target: str, kind: RequestKind = RequestKind.FLAG) -> ChangeRequest:
        environment = "production" if kind is RequestKind.FLAG else None
        change = {"enabled": True}
        return ChangeRequest(0, "", kind, target, environment, 3, change, {}, "ana", START, "why")

    with backend.store.transaction() as tx:
        first = tx.add_change_request(project.id, request("checkout"))
        second = tx.add_change_request(project.id, request("beta", RequestKind.SEGMENT))
        review = Review("bo", True, START + timedelta(minutes=1), "ok")
        approved = tx.save_change_request(
            replace(
                first,
                state=RequestState.APPROVED,
                reviews=(review,),
                updated_at=START + timedelta(minutes=1),
            )
        )

    assert first.project == "shop"
    assert second.id > first.id
    assert first.updated_at == START
    assert approved.reviews == (review,)
    with backend.store.read() as tx:
        assert tx.get_change_request(project.id, first.id, for_update=True) == approved
        assert tx.get_change_request(project.id + 99, first.id) is None
        assert [r.id for r in tx.list_change_requests(project.id)] == [second.id, first.id]
        assert [r.id for r in tx.list_change_requests(project.id, limit=1)] == [second.id]
        listed = tx.list_change_requests(project.id, states=[RequestState.APPROVED])
        assert listed == [approved]
        assert tx.list_change_requests(project.id, kind=RequestKind.SEGMENT) == [second]
        assert tx.list_change_requests(project.id, target="checkout", environment="production")
        assert tx.list_change_requests(project.id, states=[RequestState.STALE]) == []

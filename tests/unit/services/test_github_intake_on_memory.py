"""GitHub intake on the memory store (no database, no server, no HTTP): deliveries are
GitHub's documented payloads (``tests/fixtures/github``) handed to ``GitHubIntake.receive``
as the webhook route hands them over once their signature is checked. A pull request from
a release's branch links to it; an approving review becomes the reviewer's approval; a
CI result on the release's commit turns the CI gate green; a push moves the commit and
withdraws what the old code earned; a replayed delivery changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.services.world import COMMIT, PROJECT, World, new_release

from shipwise.server.services.principal import SYSTEM

NEW_HEAD = "1d3f5b7d9f1b3d5f7b9d1f3b5d7f9b1d3f5b7d9f"  # the push's and synchronize's head


def _no_release_line(data: dict[str, Any]) -> None:
    """Take the ``Release: rel-1`` line out: the head branch alone must link it."""
    data["pull_request"]["body"] = "Adds the new checkout behind the flag."


def _linked(world: World) -> None:
    """rel-1 on feature/new-checkout, no commit yet, and its pull request #42 opened."""
    new_release(world, commit=None)
    world.deliver("pull_request", "pull_request.opened", _no_release_line)


def _state(world: World) -> tuple[Any, ...]:
    """Everything a delivery could change: the release and its evidence, the audit log."""
    view = world.releases.show(SYSTEM, PROJECT, "rel-1")
    return view.release, view.evidence, world.audit(limit=1000)


def _gate(world: World, gate: str, environment: str = "dev") -> Any:
    decision = world.releases.gate_check(SYSTEM, PROJECT, "rel-1", environment)
    return next(g for g in decision.gates if g.gate == gate)


def test_receive__pull_request_from_a_releases_branch__links_it_and_gives_it_the_head(
    world: World,
) -> None:
    new_release(world, commit=None)

    summary = world.deliver("pull_request", "pull_request.opened", _no_release_line)

    assert summary.applied[0].startswith("rel-1: linked #42 'New checkout'")
    release = world.release("rel-1")
    assert [(p.number, p.head_branch, p.base_branch) for p in release.pull_requests] == [
        (42, "feature/new-checkout", "dev")
    ]
    assert release.commit == COMMIT
    record = world.audit(target_key="rel-1")[0]
    assert (record.entry.actor, record.entry.action) == ("github:alice", "release.update")
    assert record.entry.reason == "GitHub pull_request delivery delivery-1"


def test_receive__pull_request_from_a_branch_no_release_is_on__links_nothing(
    world: World,
) -> None:
    new_release(world, commit=None, branch="feature/other")
    before = _state(world)

    summary = world.deliver("pull_request", "pull_request.opened", _no_release_line)

    assert summary.applied == ()
    assert "#42 (feature/new-checkout → dev) belongs to no release" in summary.skipped[0]
    assert _state(world) == before


def test_receive__approving_review__is_an_approval_by_the_reviewer(world: World) -> None:
    _linked(world)
    assert _gate(world, "approvals").passed is False

    summary = world.deliver("pull_request_review", "pull_request_review.submitted")

    assert summary.applied == ("rel-1: bob approved it for dev (code owner)",)
    view = world.releases.show(SYSTEM, PROJECT, "rel-1")
    [approval] = view.evidence.approvals
    assert (approval.approver, approval.stage) == ("bob", "dev")
    assert approval.content_version == view.release.content_version  # it saw this content
    assert _gate(world, "approvals").passed is True
    record = world.audit(action="release.approval")[0]
    assert (record.entry.actor, record.entry.environment) == ("github:bob", "dev")


def test_receive__review_by_the_pull_requests_author__records_no_approval(world: World) -> None:
    _linked(world)
    before = _state(world)

    def by_alice(data: dict[str, Any]) -> None:
        data["review"]["user"]["login"] = data["sender"]["login"] = "alice"

    summary = world.deliver("pull_request_review", "pull_request_review.submitted", by_alice)

    assert summary.applied == ()
    assert "alice wrote the change and cannot approve it" in summary.skipped[0]
    assert _state(world)[:2] == before[:2]


@pytest.mark.parametrize(
    ("event", "fixture", "context"),
    [
        ("status", "status", "ci/tests"),
        ("check_suite", "check_suite.completed", "GitHub Actions"),
    ],
)
def test_receive__ci_success_on_the_releases_commit__turns_the_ci_gate_green(
    world: World, event: str, fixture: str, context: str
) -> None:
    _linked(world)
    assert _gate(world, "ci").passed is False

    summary = world.deliver(event, fixture)

    assert summary.applied == (f"CI {context}: success on {COMMIT[:12]}",)
    ci = _gate(world, "ci")
    assert ci.passed is True
    assert context in ci.detail
    assert world.audit(action="ci.report")[0].entry.actor == "github:ci-bot"


def test_receive__ci_failure_on_the_releases_commit__keeps_the_ci_gate_closed(
    world: World,
) -> None:
    _linked(world)

    def failing(data: dict[str, Any]) -> None:
        data["state"] = "failure"

    world.deliver("status", "status", failing)

    ci = _gate(world, "ci")
    assert ci.passed is False
    assert "red in CI" in ci.detail


def test_receive__the_same_delivery_again__is_a_duplicate_and_changes_nothing(
    world: World,
) -> None:
    _linked(world)
    first = world.deliver("pull_request_review", "pull_request_review.submitted", delivery="r-1")
    after_first = _state(world)

    again = world.deliver("pull_request_review", "pull_request_review.submitted", delivery="r-1")

    assert first.applied == ("rel-1: bob approved it for dev (code owner)",)
    assert first.duplicate is False
    assert (again.duplicate, again.applied) == (True, ())
    assert "duplicate: the same delivery r-1 (pull_request_review)" in again.skipped[0]
    assert _state(world) == after_first
    assert len(world.releases.show(SYSTEM, PROJECT, "rel-1").evidence.approvals) == 1


def test_receive__the_same_body_under_a_new_delivery_id__is_a_duplicate_and_changes_nothing(
    world: World,
) -> None:
    _linked(world)
    world.deliver("status", "status", delivery="s-1")
    after_first = _state(world)

    again = world.deliver("status", "status", delivery="s-2")

    assert again.duplicate is True
    assert "the same body as delivery s-1" in again.skipped[0]
    assert _state(world) == after_first


def test_receive__push_to_the_releases_branch__moves_its_commit_and_withdraws_approvals(
    world: World,
) -> None:
    _linked(world)
    world.deliver("pull_request_review", "pull_request_review.submitted")
    assert _gate(world, "approvals").passed is True
    reviewed = world.release("rel-1").content_version

    summary = world.deliver("push", "push")

    release = world.release("rel-1")
    assert (release.commit, release.content_version) == (NEW_HEAD, reviewed + 1)
    assert summary.applied == (
        f"rel-1: commit {COMMIT[:12]} → {NEW_HEAD[:12]} (push to feature/new-checkout); "
        "earlier approvals withdrawn",
    )
    assert _gate(world, "approvals").passed is False  # bob reviewed the old code
    record = world.audit(target_key="rel-1")[0]
    assert record.entry.actor == "github:alice"
    assert record.entry.after is not None
    assert record.entry.after["commit"] == NEW_HEAD


def test_receive__push_to_the_branch_of_a_release_pinned_elsewhere__leaves_its_commit(
    world: World,
) -> None:
    pinned = "9" * 40
    new_release(world, commit=pinned)

    summary = world.deliver("push", "push")

    assert world.release("rel-1").commit == pinned
    assert summary.applied == ()
    assert "rel-1 stays at 999999999999" in summary.skipped[0]

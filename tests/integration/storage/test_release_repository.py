"""Releases, evidence, CI results, deploys and policies round-trip through real SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shipwise.domain.releases import (
    ApproverRole,
    ChangeKind,
    PullRequest,
    Release,
    ReleaseStatus,
    Severity,
)
from shipwise.server.storage.database import Database

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.upgrade()
    yield db
    db.dispose()


def _release(project: str) -> Release:
    return Release(
        id=0,
        project=project,
        key="rel-1",
        title="New checkout",
        kind=ChangeKind.BUGFIX,
        owner="alice",
        created_at=NOW,
        content_changed_at=NOW,
        severity=Severity.HIGH,
        flags=("new-checkout",),
        commit="a" * 40,
        branch="feature/checkout",
        pull_requests=(PullRequest(12, "Checkout", None, "feature/checkout", "dev"),),
        rollback_plan="turn new-checkout off",
        authors=("alice",),
    )


def test_release__round_trips_with_pull_requests(database: Database) -> None:
    with database.transaction() as tx:
        project = tx.add_project("p", "P", "UTC")
        created = tx.add_release(project.id, _release("p"))
    assert created == replace(_release("p"), id=created.id)
    with database.transaction() as tx:
        changed = replace(
            created,
            stage="dev",
            status=ReleaseStatus.IN_PROGRESS,
            content_version=2,
            pull_requests=(PullRequest(13, "Checkout v2", merged=True, merge_commit="b" * 40),),
        )
        tx.save_release(changed)
    with database.read() as tx:
        assert tx.get_release(project.id, "rel-1") == changed
        assert [r.key for r in tx.releases_for_branch(project.id, "feature/checkout")] == ["rel-1"]
        assert tx.next_release_number(project.id) == 2


def test_evidence__gathers_approvals_checks_signoffs_drills_ci_and_deploys(
    database: Database,
) -> None:
    with database.transaction() as tx:
        project = tx.add_project("p", "P", "UTC")
        release = tx.add_release(project.id, _release("p"))
        tx.add_evidence(release, "approval", "staging", "bob", NOW, {"roles": ["code-owner"]})
        tx.add_evidence(
            release, "check", "staging", "bob", NOW, {"item": "tested on dev", "note": "ok"}
        )
        tx.add_evidence(release, "signoff", "staging", "qa-1", NOW, {"kind": "qa"})
        tx.add_evidence(
            release, "drill", "staging", "sys", NOW, {"succeeded": True, "detail": "off"}
        )
        tx.add_ci_result(project.id, "a" * 40, "build", "success", NOW)
        tx.add_ci_result(project.id, "c" * 40, "build", "failure", NOW)  # another commit
        tx.add_deploy(project.id, "staging", "a" * 40, True, "ci", NOW + timedelta(minutes=1))
    with database.read() as tx:
        evidence = tx.evidence(project.id, release)
    assert [(a.approver, a.roles, a.stage) for a in evidence.approvals] == [
        ("bob", frozenset({ApproverRole.CODE_OWNER}), "staging")
    ]
    assert [(c.item, c.note) for c in evidence.checks] == [("tested on dev", "ok")]
    assert [(s.kind, s.by) for s in evidence.signoffs] == [("qa", "qa-1")]
    assert [(d.environment, d.succeeded) for d in evidence.drills] == [("staging", True)]
    assert [(c.context, c.state) for c in evidence.ci] == [("build", "success")]
    assert [(d.environment, d.at) for d in evidence.deploys] == [
        ("staging", NOW + timedelta(minutes=1))
    ]


def test_policy_source__is_versioned(database: Database) -> None:
    with database.transaction() as tx:
        project = tx.add_project("p", "P", "UTC")
        assert tx.get_policy_source(project.id) is None
        assert tx.save_policy_source(project.id, "timezone = 'UTC'", NOW) == 1
        assert tx.save_policy_source(project.id, "timezone = 'Europe/Oslo'", NOW) == 2
    with database.read() as tx:
        assert tx.get_policy_source(project.id) == ("timezone = 'Europe/Oslo'", 2)

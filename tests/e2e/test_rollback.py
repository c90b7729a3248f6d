"""``shipwise rollback``: one command takes a release's flags off everywhere it is out
(an SDK client connected to production sees it within seconds), stops its rollout
plan, marks the release rolled back, notifies, and prints the git reverts and what a
person still has to do. ``--drill --env staging`` rehearses it, verifies through the
SDK's evaluator, restores the flags exactly, and the production gate counts it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.integration.cli.cli_runner import Shipwise
from tests.support.clock import ManualClock
from tests.support.server import RunningServer, running_server

from shipwise.domain.releases import PullRequest, ReleaseStatus
from shipwise.domain.rollout import PlanStatus
from shipwise.sdk import Client
from shipwise.server.ports import AuditFilter
from shipwise.server.services.principal import SYSTEM

WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
MERGES = ["a" * 40, "b" * 40]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[RunningServer, str]]:
    clock = ManualClock(WEDNESDAY_10)
    with running_server(data_dir=tmp_path / "server", clock=clock) as running:
        services = running.services
        services.flags.create(SYSTEM, "default", "new-checkout")
        services.segments.create(
            SYSTEM,
            "default",
            "beta-testers",
            [{"contextName": "userId", "operator": "IN", "values": ["beta-1"]}],
        )
        release = services.releases.create(
            SYSTEM,
            "default",
            title="New checkout",
            kind="feature",
            flags=["new-checkout"],
            rollback_plan="flag off; revert the merges; tell support",
            communication_plan="post in #shop-releases",
        )
        # The release as it stands after its promotions and merges (walked in
        # test_release_process.py): in production, two pull requests merged.
        with services.database.transaction() as tx:
            tx.save_release(
                replace(
                    release,
                    stage="production",
                    pull_requests=(
                        PullRequest(11, "checkout api", merged=True, merge_commit=MERGES[0]),
                        PullRequest(12, "checkout ui", merged=True, merge_commit=MERGES[1]),
                    ),
                )
            )
        services.flags.set_enabled(SYSTEM, "default", "new-checkout", "staging", True)
        yield running, release.key


def admin(server: RunningServer) -> tuple[str, ...]:
    return ("--url", server.url, "--token", server.admin_token)


def production_client(server: RunningServer) -> Client:
    key = server.services.tokens.create(
        SYSTEM, name="shop", kind="server", project_key="default", environment_key="production"
    ).secret
    client = Client(url=server.url, sdk_key=key, metrics_interval=None)
    assert client.wait_until_ready(10)
    return client


def on_share(client: Client) -> float:
    users = [{"userId": f"user-{n}"} for n in range(2_000)]
    return sum(client.is_enabled("new-checkout", u) for u in users) / len(users)


def test_rollback_takes_the_feature_off_everywhere_and_says_what_is_left(
    setup: tuple[RunningServer, str], tmp_path: Path
) -> None:
    server, key = setup
    services = server.services
    plan = services.rollouts.start(
        SYSTEM, "default", "new-checkout", "production", template="default", release=key
    )
    client = production_client(server)
    try:
        assert 0.07 < on_share(client) < 0.13  # 10% of users
        assert client.is_enabled("new-checkout", {"userId": "beta-1"})
        shipwise = Shipwise(tmp_path)
        asked = time.monotonic()
        result = shipwise("rollback", key, "--reason", "checkout errors doubled", *admin(server))
        assert result.exit_code == 0, result.output
        while client.is_enabled("new-checkout", {"userId": "beta-1"}):
            assert time.monotonic() - asked < 2.0, "the SDK still had the feature after 2 s"
            time.sleep(0.01)
        assert on_share(client) == 0
    finally:
        client.close()
    out = result.stdout
    assert f"Rolled back {key}" in out
    for word in ("new-checkout", "production", "staging"):
        assert word in out
    assert f"git revert -m 1 {MERGES[1]}" in out
    assert out.index(MERGES[1]) < out.index(MERGES[0])  # newest merge first
    assert "#shop-releases" in out  # the communication plan, as a to-do
    assert not services.flags.config(SYSTEM, "default", "new-checkout", "staging").enabled
    assert not services.flags.config(SYSTEM, "default", "new-checkout", "production").enabled
    assert services.flags.config(SYSTEM, "default", "new-checkout", "dev").enabled is False
    stopped = services.rollouts.get(SYSTEM, "default", plan.id)
    assert stopped.state.status is PlanStatus.ROLLED_BACK
    assert (
        services.releases.show(SYSTEM, "default", key).release.status is ReleaseStatus.ROLLED_BACK
    )
    records = services.audit.all(SYSTEM, AuditFilter(project="default", limit=50))
    assert any(r.entry.action == "release.rollback" for r in records)
    assert services.notifications.deliver_due() >= 1  # the log notifier, from the outbox
    again = Shipwise(tmp_path)("rollback", key, "--reason", "twice", *admin(server))
    assert again.exit_code == 1
    assert "already rolled-back" in again.output


def test_a_drill_rehearses_in_staging_verifies_through_the_sdk_and_restores(
    setup: tuple[RunningServer, str], tmp_path: Path
) -> None:
    server, key = setup
    services = server.services
    with services.database.transaction() as tx:  # in staging, production next
        project = tx.get_project("default")
        assert project is not None
        release = tx.get_release(project.id, key)
        assert release is not None
        tx.save_release(replace(release, stage="staging"))
    services.flags.set_rollout(SYSTEM, "default", "new-checkout", "staging", 30)
    before = services.flags.config(SYSTEM, "default", "new-checkout", "staging")

    def drill_gate() -> bool:
        decision = services.releases.gate_check(SYSTEM, "default", key, "production")
        return next(g.passed for g in decision.gates if g.gate == "rollback-drill")

    assert not drill_gate()
    result = Shipwise(tmp_path)("rollback", key, "--drill", "--env", "staging", *admin(server))
    assert result.exit_code == 0, result.output
    assert "Drill succeeded in staging" in result.stdout
    assert "500 sampled users" in result.stdout
    after = services.flags.config(SYSTEM, "default", "new-checkout", "staging")
    assert after.rules() == before.rules()  # put back exactly
    assert after.version == before.version + 2  # off, then back: both audited
    evidence = services.releases.show(SYSTEM, "default", key)
    assert evidence.release.status is ReleaseStatus.IN_PROGRESS  # a drill changes nothing else
    with services.database.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        release = tx.get_release(project.id, key)
        assert release is not None
        drills = tx.evidence(project.id, release).drills
    assert [(d.environment, d.succeeded) for d in drills] == [("staging", True)]
    assert drill_gate()  # the production gate counts the rehearsal
    flag_actions = [
        r.entry.action
        for r in services.audit.all(
            SYSTEM, AuditFilter(project="default", target_type="flag", limit=20)
        )
    ]
    assert flag_actions[:2] == ["flag.restore", "flag.rollback"]


def test_a_drill_where_the_flags_are_already_off_fails_says_why_and_keeps_the_gate_closed(
    setup: tuple[RunningServer, str], tmp_path: Path
) -> None:
    # Given the release in dev only, its flag off in staging
    server, key = setup
    services = server.services
    with services.database.transaction() as tx:
        project = tx.get_project("default")
        assert project is not None
        release = tx.get_release(project.id, key)
        assert release is not None
        tx.save_release(replace(release, stage="dev"))
    services.flags.set_enabled(SYSTEM, "default", "new-checkout", "staging", False)
    before = services.flags.config(SYSTEM, "default", "new-checkout", "staging")

    # When the rollback is rehearsed in staging from the command line
    result = Shipwise(tmp_path)("rollback", key, "--drill", "--env", "staging", *admin(server))

    # Then it fails (exit 1), saying why and what to do first, and no flag moved
    assert result.exit_code == 1, result.output
    said = " ".join(result.stdout.split())
    assert (
        "Drill FAILED in staging: 'new-checkout' is already off in staging, so switching it "
        f"off proves nothing: promote {key} into staging first (`shipwise release promote "
        f"{key} --env staging`; it switches the flag on for testers), then drill again"
    ) in said
    assert services.flags.config(SYSTEM, "default", "new-checkout", "staging") == before
    # And the failed drill is what the production gate sees
    decision = services.releases.gate_check(SYSTEM, "default", key, "production")
    gate = next(g for g in decision.gates if g.gate == "rollback-drill")
    assert not gate.passed
    assert "failed" in gate.detail

"""Promotion through the gates on the memory store (no database, no server): evidence is
recorded through the evidence service as the API records it, and the promotion service
decides. A refusal names every gate that is not met and changes nothing; the default
policy's evidence, once all recorded, lets the release on; the hotfix path skips what
the policy lets it skip and nothing more; a freeze refuses; and each decision reads the
clock once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.unit.services.world import (
    COMMIT,
    FLAG,
    PROJECT,
    SteppingClock,
    World,
    green_ci,
    in_dev,
    in_staging,
    new_release,
)

from shipwise.domain.access import Role
from shipwise.server.services.errors import Conflict
from shipwise.server.services.principal import SYSTEM
from shipwise.server.services.promotion import PromotionRefused

SATURDAY_NIGHT = datetime(2025, 3, 8, 22, 30, tzinfo=UTC)  # outside the default window
FRIDAY_LATE = datetime(2025, 3, 7, 16, 40, tzinfo=UTC)  # 20 minutes before it closes


def _unchanged(world: World) -> tuple[Any, ...]:
    """What a refused promotion must leave as it was: the release, the audit log, the
    flag in every environment, the outbox (but for the refusal's own notice, told after
    it: ``test_release_news_on_memory``)."""
    flags = [world.flags.config(SYSTEM, PROJECT, FLAG, e) for e in ("dev", "staging", "production")]
    outbox = [n for n in world.outbox() if n.kind != "promotion.refused"]
    return world.release("rel-1"), world.audit(limit=1000), flags, outbox


def _refusal(world: World, who: str = "alice") -> PromotionRefused:
    before = _unchanged(world)
    with pytest.raises(PromotionRefused) as refused:
        world.promotion.promote(world.person(who), PROJECT, "rel-1")
    assert _unchanged(world) == before
    return refused.value


def _unmet(refusal: PromotionRefused) -> list[str]:
    return [g.gate for g in refusal.decision.unmet]


# -- staging: the approval the policy asks for -----------------------------------------------


def _deployed_to_dev(world: World) -> None:
    in_dev(world)
    world.evidence.report_deploy(world.person("ci"), PROJECT, "dev", COMMIT)


def test_promote_to_staging__without_an_approval__is_refused_naming_the_gate(
    world: World,
) -> None:
    _deployed_to_dev(world)

    refusal = _refusal(world)

    assert refusal.decision.target == "staging"
    assert _unmet(refusal) == ["approvals"]
    assert "rel-1 cannot go to staging: approvals:" in str(refusal)
    listed = {g.gate: g.passed for g in refusal.decision.gates}
    assert listed == {
        "status": True,
        "order": True,
        "one-feature-per-release": True,
        "approvals": False,
        "ci": True,
        "previous-deploy": True,
    }


def test_promote_to_staging__approved_by_someone_other_than_the_author__goes_through(
    world: World,
) -> None:
    _deployed_to_dev(world)
    world.evidence.approve(world.person("bob"), PROJECT, "rel-1")

    promoted, decision, switched = world.promotion.promote(world.person("alice"), PROJECT, "rel-1")

    assert (promoted.stage, decision.target, decision.allowed) == ("staging", "staging", True)
    assert world.release("rel-1").stage == "staging"
    assert switched == [FLAG]  # staging shows the release to its testers (everyone)
    assert world.flags.config(SYSTEM, PROJECT, FLAG, "staging").enabled is True
    record = world.audit(action="release.promote", target_type="release")[0]
    assert (record.entry.actor, record.entry.environment) == (
        "token:alice (api, developer)",
        "staging",
    )


@pytest.mark.parametrize("author", ["alice", "dave"], ids=["owner", "co-author"])
def test_approve__by_an_author_of_the_release__is_refused_and_the_gate_stays_closed(
    world: World, author: str
) -> None:
    in_dev(world, authors=["dave"])
    world.evidence.report_deploy(world.person("ci"), PROJECT, "dev", COMMIT)

    with pytest.raises(Conflict, match=f"{author} wrote rel-1 and cannot approve it"):
        world.evidence.approve(world.person(author), PROJECT, "rel-1")

    assert _unmet(_refusal(world)) == ["approvals"]


# -- production: every piece of evidence the default policy asks for -------------------------


def _approve_for_production(world: World) -> None:
    world.evidence.approve(world.person("bob"), PROJECT, "rel-1")
    world.evidence.approve(world.person("carol", Role.RELEASE_MANAGER), PROJECT, "rel-1")


def _sign_off(world: World) -> None:
    world.evidence.sign_off(world.person("quinn", Role.QA), PROJECT, "rel-1")


def _deploy_to_staging(world: World) -> None:
    world.evidence.report_deploy(world.person("ci"), PROJECT, "staging", COMMIT)


def _drill(world: World) -> None:
    carol = world.person("carol", Role.RELEASE_MANAGER)
    world.evidence.record_drill(carol, PROJECT, "rel-1", None, True, "flags off for all users")


def _keep_ci_green(world: World) -> None:
    """CI went green before dev; "without CI green" is the later run turning red."""


PRODUCTION_EVIDENCE: dict[str, Callable[[World], None]] = {
    "approvals": _approve_for_production,
    "signoff:qa": _sign_off,
    "ci": _keep_ci_green,
    "previous-deploy": _deploy_to_staging,
    "rollback-drill": _drill,
}


@pytest.mark.parametrize("missing", sorted(PRODUCTION_EVIDENCE))
def test_promote_to_production__without_one_piece_of_evidence__is_refused_naming_that_gate(
    world: World, clock: SteppingClock, missing: str
) -> None:
    in_staging(world)
    for gate, give in PRODUCTION_EVIDENCE.items():
        if gate != missing:
            give(world)
    if missing == "ci":
        clock.now += timedelta(minutes=5)  # the newest run decides
        world.evidence.report_ci(world.person("ci"), PROJECT, COMMIT, "ci/tests", "failure")

    refusal = _refusal(world)

    assert refusal.decision.target == "production"
    assert _unmet(refusal) == [missing]
    assert refusal.decision.unmet[0].remedy, "a refusal says what would satisfy the gate"
    assert f"rel-1 cannot go to production: {missing}:" in str(refusal)
    assert world.release("rel-1").stage == "staging"


def test_promote_to_production__with_every_piece_of_evidence__goes_through_and_is_audited(
    world: World,
) -> None:
    in_staging(world)
    for give in PRODUCTION_EVIDENCE.values():
        give(world)

    promoted, decision, switched = world.promotion.promote(world.person("alice"), PROJECT, "rel-1")

    assert (promoted.stage, decision.allowed, decision.hotfix_path) == ("production", True, False)
    assert switched == []  # protected: the release's rollout plan widens the flag, not this
    assert world.flags.config(SYSTEM, PROJECT, FLAG, "production").enabled is False
    record = world.audit(action="release.promote", target_type="release")[0]
    assert record.entry.environment == "production"
    assert record.entry.after is not None
    assert {"approvals", "signoff:qa", "ci", "previous-deploy", "rollback-drill"} <= set(
        record.entry.after["gates"]
    )


# -- the hotfix path -------------------------------------------------------------------------


def _critical_fix(world: World, approvers: tuple[str, ...] = ("bob", "carol")) -> None:
    """A critical fix from main, justified, green in CI and approved by ``approvers``
    (bob a code owner, carol a release manager)."""
    new_release(
        world,
        title="Checkout is down",
        kind="bugfix",
        severity="critical",
        branch="main",
        justification="Nobody can pay: every checkout fails since 21:50.",
    )
    green_ci(world)
    roles = {"bob": Role.DEVELOPER, "carol": Role.RELEASE_MANAGER}
    for name in approvers:
        world.evidence.approve(world.person(name, roles[name]), PROJECT, "rel-1")


def test_promote__critical_fix_from_main_at_night__skips_to_production_on_the_hotfix_path(
    world: World, clock: SteppingClock
) -> None:
    clock.set(SATURDAY_NIGHT)
    _critical_fix(world)

    promoted, decision, _ = world.promotion.promote(world.person("alice"), PROJECT, "rel-1")

    assert (promoted.stage, promoted.labels) == ("production", ("HOTFIX",))
    assert decision.hotfix_path is True
    assert decision.bypassed == ("business-hours",)
    # No sign-off, previous deploy or drill: those are what the path skips.
    assert [g.gate for g in decision.gates] == [
        "status",
        "hotfix-path",
        "order",
        "justification",
        "approvals",
        "ci",
        "business-hours",
        "freeze",
    ]
    record = world.audit(action="release.promote", target_type="release")[0]
    assert record.entry.after is not None
    hotfix = record.entry.after["hotfix"]
    assert (hotfix["skipped"], hotfix["bypassed"]) == (["dev", "staging"], ["business-hours"])
    assert record.entry.reason == "Nobody can pay: every checkout fails since 21:50."
    [notice] = [n for n in world.outbox() if n.kind == "release.hotfix"]
    assert (notice.kind, notice.severity, notice.environment) == (
        "release.hotfix",
        "critical",
        "production",
    )
    assert "skipping dev, staging" in notice.text


def test_promote__critical_fix_with_one_approval__is_refused_the_path_still_asks_for_two(
    world: World, clock: SteppingClock
) -> None:
    clock.set(SATURDAY_NIGHT)
    _critical_fix(world, approvers=("bob",))

    refusal = _refusal(world)

    assert (refusal.decision.target, refusal.decision.hotfix_path) == ("production", True)
    assert _unmet(refusal) == ["approvals"]


def test_promote__high_severity_fix_from_main__takes_the_normal_road_through_dev(
    world: World, clock: SteppingClock
) -> None:
    clock.set(SATURDAY_NIGHT)
    new_release(world, kind="bugfix", severity="high", branch="main", justification="Slow.")
    green_ci(world)
    world.evidence.approve(world.person("bob"), PROJECT, "rel-1")

    with pytest.raises(PromotionRefused) as refused:
        world.promotion.promote(world.person("alice"), PROJECT, "rel-1", "production")
    promoted, decision, _ = world.promotion.promote(world.person("alice"), PROJECT, "rel-1")

    assert refused.value.decision.hotfix_path is False
    assert {"order", "business-hours"} <= set(_unmet(refused.value))
    assert (promoted.stage, decision.hotfix_path, promoted.labels) == ("dev", False, ())


# -- freezes ---------------------------------------------------------------------------------

FREEZE = """
[[freeze]]
name = "Spring sale"
start = 2025-03-01
end = 2025-03-05
"""


def test_promote_to_production__in_a_freeze__is_refused_saying_when_it_reopens(
    world: World,
) -> None:
    outcome = world.policies.apply(world.person("carol", Role.RELEASE_MANAGER), PROJECT, FREEZE)
    assert outcome.applied  # a freeze only tightens: it takes effect at once
    in_staging(world)
    for give in PRODUCTION_EVIDENCE.values():
        give(world)

    refusal = _refusal(world)

    assert _unmet(refusal) == ["freeze"]
    [freeze] = refusal.decision.unmet
    assert "'Spring sale'" in freeze.detail
    assert freeze.remedy is not None
    assert "promotions reopen on 2025-03-06" in freeze.remedy


def test_promote__critical_fix_in_a_freeze__goes_through_with_the_freeze_bypassed(
    world: World,
) -> None:
    world.policies.apply(world.person("carol", Role.RELEASE_MANAGER), PROJECT, FREEZE)
    _critical_fix(world)

    promoted, decision, _ = world.promotion.promote(world.person("alice"), PROJECT, "rel-1")

    assert promoted.stage == "production"
    assert decision.bypassed == ("freeze",)


# -- one clock read per decision -------------------------------------------------------------


def test_promote__hotfix_as_the_window_closes__every_part_of_the_decision_sees_one_now(
    world: World, clock: SteppingClock
) -> None:
    """Twenty minutes before the window closes, with a clock that jumps an hour on every
    read: a service reading it twice would judge the gates inside business hours and the
    hotfix effects (or its notice) outside them."""
    clock.set(FRIDAY_LATE)
    _critical_fix(world)
    alice = world.person("alice")
    clock.step = timedelta(hours=1)
    first_read = len(clock.reads)

    _, decision, _ = world.promotion.promote(alice, PROJECT, "rel-1")

    decided_at = clock.reads[first_read]
    assert decided_at == FRIDAY_LATE
    details = {g.gate: g.detail for g in decision.gates}
    assert details["business-hours"].startswith("Fri 2025-03-07 16:40 UTC is within")
    assert details["freeze"] == "no freeze on 2025-03-07"
    assert decision.bypassed == ()
    record = world.audit(action="release.promote", target_type="release")[0]
    assert record.entry.after is not None
    assert record.entry.after["hotfix"]["bypassed"] == []  # judged at the same instant
    [notice] = [n for n in world.outbox() if n.kind == "release.hotfix"]
    assert notice.at == decided_at

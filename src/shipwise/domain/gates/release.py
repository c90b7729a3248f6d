"""Gates about the release itself and its place in the pipeline: it is in progress, it
moves to the next environment, it carries one feature, and only so many features roll
out in an environment at once."""

from __future__ import annotations

from shipwise.domain import commands
from shipwise.domain.gates.gate import Gate, Item, Judged, Judging, Where, no, ok, stage_setting
from shipwise.domain.release_route import environments, next_environment
from shipwise.domain.releases import ChangeKind, Release, ReleaseStatus
from shipwise.domain.wording import names

__all__ = ["FEATURE_ROLLOUTS", "ONE_FEATURE", "ORDER", "STATUS"]


def where_it_is(release: Release) -> str:
    return f"{release.key} is in {release.stage}" if release.stage else f"{release.key} is new"


def _always(_where: Where) -> bool:
    return True


def _nothing_to_ask(_where: Where, _item: Item) -> None:
    """A precondition, not a requirement: nothing to describe before evidence."""
    return None


def _status(judging: Judging, _item: Item) -> Judged:
    release = judging.release
    if release.status is ReleaseStatus.IN_PROGRESS:
        return ok("in progress")
    remedy = (
        "only a release in progress can be promoted; for more changes, create a new "
        f"release: {commands.create(release)}"
    )
    return no(f"{release.key} is {release.status.value}", remedy)


def _order(judging: Judging, _item: Item) -> Judged:
    release, target, policy = judging.release, judging.target, judging.policy
    if judging.hotfix:
        if release.stage == target:
            create = commands.create(release)
            remedy = f"nothing to promote: change its content or create a new release: {create}"
            return no(f"{release.key} is already in {target}", remedy)
        return ok(f"{where_it_is(release)} → {target} (hotfix path)")
    pipeline_envs = environments(policy)
    pipeline = " → ".join(pipeline_envs) or "no environments"
    expected = next_environment(policy, release.stage)
    if target not in pipeline_envs:
        remedy = (
            f"promote to {expected}: {commands.promote(release, expected)}"
            if expected
            else f"choose one of {pipeline}"
        )
        return no(f"{target!r} is not an environment of {pipeline}", remedy)
    if release.stage is not None and release.stage not in pipeline_envs:
        detail = f"{release.key} is in {release.stage!r}, which {pipeline} no longer has"
        restore = commands.restore_environment(release, release.stage)
        return no(detail, f"ask an admin to restore that environment: {restore}")
    if target == expected:
        return ok(f"{where_it_is(release)} → {target}, the next environment")
    if target == release.stage:
        detail = f"{release.key} is already in {target}"
    elif release.stage and pipeline_envs.index(target) < pipeline_envs.index(release.stage):
        detail = f"{target} comes before {release.stage}: releases only move forward"
    else:
        detail = f"{where_it_is(release)}; {target} is not next in {pipeline}"
    remedy = (
        f"promote to {expected} first: {commands.promote(release, expected)}"
        if expected
        else "it is in the last environment"
    )
    return no(detail, remedy)


def _one_feature(judging: Judging, _item: Item) -> Judged:
    release = judging.release
    if release.kind is not ChangeKind.FEATURE:
        return ok(f"a {release.kind.value} carries no feature")
    if len(release.flags) <= 1:
        return ok(f"one feature (flag {release.flags[0]})" if release.flags else "one feature")
    flags = names(release.flags)
    detail = f"{release.key} carries {len(release.flags)} feature flags: {flags}"
    keep = commands.split_keep(release, release.flags[0])
    other = commands.create(release, *release.flags[1:])
    return no(
        detail,
        f"split it: keep one of {flags} here ({keep}), each other in its own release ({other})",
    )


def _feature_rollouts(judging: Judging, _item: Item) -> Judged:
    target, release = judging.target, judging.release
    if release.kind is not ChangeKind.FEATURE:
        return ok(f"a {release.kind.value} is not a feature rollout")
    limit = judging.policy.max_feature_rollouts
    rollouts = f"feature rollout{'s' if limit > 1 else ''}"
    busy = sorted(
        o.key
        for o in judging.others
        if o.key != release.key and o.kind is ChangeKind.FEATURE and target in o.rolling_out_in
    )
    if len(busy) < limit:
        found = f"{len(busy)} of at most {limit} {rollouts} in {target}"
        return ok(f"{found} ({names(busy)})" if busy else found)
    one = len(busy) == 1
    detail = (
        f"{names(busy)} {'is' if one else 'are'} rolling out in {target} "
        f"(at most {limit} {rollouts} at a time)"
    )
    watch = commands.rollouts(release, target)
    remedy = (
        f"wait until {names(busy)} finish{'es' if one else ''} rolling out in {target} "
        f"(released or rolled back; {watch}), then promote: {commands.promote(release, target)}"
    )
    return no(detail, remedy)


STATUS = Gate(
    "status",
    "Release in progress",
    applies=_always,
    describe=_nothing_to_ask,
    judge=_status,
    needs_stage=False,
)
ORDER = Gate(
    "order",
    "Pipeline order",
    applies=_always,
    describe=_nothing_to_ask,
    judge=_order,
    needs_stage=False,
)
ONE_FEATURE = Gate(
    "one-feature-per-release",
    "One feature per release",
    applies=lambda where: not where.hotfix and where.policy.one_feature_per_release,
    describe=lambda _where, _item: "one feature per release",
    judge=_one_feature,
)
FEATURE_ROLLOUTS = Gate(
    "one-feature-rolling-out",
    "One feature rolling out at a time",
    applies=stage_setting("one_feature_rolling_out"),
    describe=lambda where, _item: (
        f"at most {where.policy.max_feature_rollouts} feature rolling out in "
        f"{where.target} at a time"
    ),
    judge=_feature_rollouts,
)

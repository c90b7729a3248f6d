"""``protected_paths``: whether a release has passed its gates into an environment, which
releases ship a flag, and the words of a refusal (the way that gets there, by kind)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from shipwise.domain import protected_paths
from shipwise.domain.exposure import Widening
from shipwise.domain.policy import default_policy
from shipwise.domain.releases import ChangeKind, Release, ReleaseStatus

POLICY = default_policy([("dev", "dev"), ("staging", "staging"), ("production", "main")], "UTC")
CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RELEASE = Release(
    id=1,
    project="shop",
    key="rel-3",
    title="Bulk edit",
    kind=ChangeKind.FEATURE,
    owner="alice",
    created_at=CREATED,
    content_changed_at=CREATED,
    flags=("bulk-edit",),
)


@pytest.mark.parametrize(
    ("stage", "status", "reached"),
    [
        pytest.param(None, ReleaseStatus.IN_PROGRESS, False, id="in no environment"),
        pytest.param("staging", ReleaseStatus.IN_PROGRESS, False, id="one stage short"),
        pytest.param("production", ReleaseStatus.IN_PROGRESS, True, id="there"),
        pytest.param("production", ReleaseStatus.RELEASED, True, id="released there"),
        pytest.param("production", ReleaseStatus.ROLLED_BACK, False, id="rolled back"),
        pytest.param("staging", ReleaseStatus.ABANDONED, False, id="abandoned"),
    ],
)
def test_release_standing__in_production__reached_only_when_live_and_there(
    stage: str | None, status: ReleaseStatus, reached: bool
) -> None:
    release = replace(RELEASE, stage=stage, status=status)

    standing = protected_paths.release_standing(release, "production", POLICY)

    assert standing.reached is reached
    assert bool(standing.why) is not reached


def test_release_standing__a_later_stage__has_passed_the_earlier_ones() -> None:
    release = replace(RELEASE, stage="production")

    assert protected_paths.release_standing(release, "staging", POLICY).reached


def test_release_standing__rolled_back__says_a_new_release_must_take_it() -> None:
    release = replace(RELEASE, stage="production", status=ReleaseStatus.ROLLED_BACK)

    standing = protected_paths.release_standing(release, "production", POLICY)

    assert standing.why == (
        "rel-3 was rolled back: it no longer ships, so a new release must take its flags "
        "to production"
    )
    assert standing.remedy == "`shipwise release create TITLE --flag bulk-edit -p shop`"


def test_shipping_releases__the_live_ones_that_name_the_flag__by_number() -> None:
    releases = [
        replace(RELEASE, key="rel-10", stage=None),
        replace(RELEASE, key="rel-9", stage="dev"),
        replace(RELEASE, key="rel-4", stage="dev", status=ReleaseStatus.ABANDONED),
        replace(RELEASE, key="rel-5", flags=("other",), stage="dev"),
    ]

    shipping = protected_paths.shipping_releases("bulk-edit", releases)

    assert [r.key for r in shipping] == ["rel-9", "rel-10"]


def test_flag_refusal__several_releases__leads_with_the_one_furthest_along() -> None:
    releases = [replace(RELEASE, key="rel-2", stage="dev"), replace(RELEASE, stage="staging")]

    message = protected_paths.flag_refusal(
        project="shop",
        flag="bulk-edit",
        kind="release",
        environment="production",
        doing="enabling 'bulk-edit'",
        widening=Widening(("switches the flag on",)),
        releases=releases,
        policy=POLICY,
    )

    assert "it ships in rel-3 (in staging), rel-2 (in dev): " in message
    assert "`shipwise release promote rel-3 --env production -p shop`, then" in message


@pytest.mark.parametrize(
    ("kind", "first_way"),
    [
        pytest.param(
            "release", "A release flag reaches production through its release", id="release"
        ),
        pytest.param(
            "experiment",
            "An experiment flag reaches production through its release",
            id="experiment",
        ),
        pytest.param(
            "kill-switch",
            "A kill-switch flag changes in production through an approved change request",
            id="kill-switch",
        ),
        pytest.param(
            "permission",
            "A permission flag changes in production through an approved change request",
            id="permission",
        ),
    ],
)
def test_flag_refusal__each_kind__names_its_way_first(kind: str, first_way: str) -> None:
    message = protected_paths.flag_refusal(
        project="shop",
        flag="bulk-edit",
        kind=kind,
        environment="production",
        doing="enabling 'bulk-edit'",
        widening=Widening(("switches the flag on",)),
        releases=[replace(RELEASE, stage="staging")],
        policy=POLICY,
        request_option="--enable",
    )

    assert message.startswith(
        "production is protected: enabling 'bulk-edit' would show it to more users "
        f"(switches the flag on). {first_way}"
    )
    assert "`shipwise change request bulk-edit -e production --enable -p shop`" in message
    assert message.endswith("Nothing changed.")

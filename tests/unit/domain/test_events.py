"""Event kinds and subscriptions: which events a subscription hears, the defaults the
process gives a channel with none, and the key that makes one event one message."""

from __future__ import annotations

import pytest

from shipwise.domain.events import (
    DEFAULT_SEVERITY,
    Event,
    EventKind,
    EventSeverity,
    Subscription,
    checked_pattern,
    dedupe_key,
    default_subscriptions,
    event_kind,
    heard,
    matches,
    severity_of,
)

INFO, WARNING, CRITICAL = EventSeverity.INFO, EventSeverity.WARNING, EventSeverity.CRITICAL


def event(kind: str, severity: EventSeverity = INFO, **scope: object) -> Event:
    return Event(kind, severity, **scope)  # type: ignore[arg-type]


def test_every_kind__has_a_default_severity() -> None:
    assert set(DEFAULT_SEVERITY) == set(EventKind)


@pytest.mark.parametrize(
    ("pattern", "kind", "expected"),
    [
        ("promotion.done", "promotion.done", True),
        ("promotion.done", "promotion.refused", False),
        ("rollout.*", "rollout.rolled_back", True),
        ("rollout.*", "release.created", False),
        ("release.*", "release.rolled_back", True),
        ("*", "drill.done", True),
    ],
    ids=str,
)
def test_matches__by_kind__exact_family_or_everything(
    pattern: str, kind: str, expected: bool
) -> None:
    assert matches(Subscription((pattern,)), event(kind)) is expected


def test_matches__scoped_to_production__hears_production_and_not_dev_nor_no_environment() -> None:
    only_production = Subscription(("promotion.done",), environments=frozenset({"production"}))
    assert matches(only_production, event("promotion.done", environment="production"))
    assert not matches(only_production, event("promotion.done", environment="dev"))
    assert not matches(only_production, event("promotion.done"))


def test_matches__scoped_by_flag_and_release_kind__needs_both() -> None:
    scoped = Subscription(
        ("*",), flags=frozenset({"checkout"}), release_kinds=frozenset({"hotfix"})
    )
    assert matches(scoped, event("x.y", flags=frozenset({"checkout", "a"}), release_kind="hotfix"))
    assert not matches(scoped, event("x.y", flags=frozenset({"a"}), release_kind="hotfix"))
    assert not matches(scoped, event("x.y", flags=frozenset({"checkout"}), release_kind="feature"))


def test_matches__a_minimum_severity__drops_what_is_below_it() -> None:
    urgent = Subscription(("*",), min_severity=WARNING)
    assert not matches(urgent, event("rollout.step_advanced", INFO))
    assert matches(urgent, event("rollout.paused", WARNING))
    assert matches(urgent, event("rollout.rolled_back", CRITICAL))


def test_defaults__a_team_channel__hears_production_promotions_rollouts_and_rollbacks() -> None:
    team = default_subscriptions("slack", "production")
    assert heard(team, event("promotion.done", environment="production"))
    assert not heard(team, event("promotion.done", environment="staging"))
    assert heard(team, event("rollout.step_advanced", environment="staging"))
    assert heard(team, event("rollout.rolled_back", CRITICAL, environment="production"))
    assert heard(team, event("release.rolled_back", CRITICAL))
    assert heard(team, event("hotfix.started", CRITICAL, environment="production"))
    assert not heard(team, event("release.created"))
    assert not heard(team, event("promotion.refused", WARNING, environment="production"))


def test_defaults__an_email_channel__hears_critical_hotfixes_and_automatic_rollbacks_only() -> None:
    managers = default_subscriptions("email", "production")
    assert heard(managers, event("hotfix.started", CRITICAL))
    assert not heard(managers, event("hotfix.started", WARNING))
    assert heard(managers, event("rollout.rolled_back", CRITICAL))
    assert not heard(managers, event("release.rolled_back", CRITICAL))
    assert not heard(managers, event("rollout.step_advanced"))
    assert not heard(managers, event("promotion.done", environment="production"))


@pytest.mark.parametrize(
    ("written", "step", "stable"),
    [
        ("rollout.advance", 1, "rollout.started"),
        ("rollout.bake", 1, "rollout.started"),
        ("rollout.advance", 3, "rollout.step_advanced"),
        ("rollout.rollback", 2, "rollout.rolled_back"),
        ("rollout.wait-for-approval", 2, "rollout.waiting"),
        ("release.hotfix", None, "hotfix.started"),
        ("release.rolled-back", None, "release.rolled_back"),
        ("promotion.done", None, "promotion.done"),
        ("change-request.approved", None, "change-request.approved"),
    ],
    ids=str,
)
def test_event_kind__maps_the_kinds_written_before__onto_stable_ones(
    written: str, step: int | None, stable: str
) -> None:
    assert event_kind(written, step) == stable


def test_severity_of__the_notifications_own__else_the_kinds_default() -> None:
    assert severity_of("promotion.done", "critical") is CRITICAL
    assert severity_of("rollout.paused", "") is WARNING
    assert severity_of("rollout.paused", "loud") is WARNING  # a typo does not unroute it
    assert severity_of("unknown.kind", None) is INFO


def test_dedupe_key__per_release_event_and_step() -> None:
    key = dedupe_key("promotion.done", subject="shop/rel-1", environment="production")
    assert key == dedupe_key("promotion.done", subject="shop/rel-1", environment="production")
    assert key != dedupe_key("promotion.done", subject="shop/rel-1", environment="staging")
    assert key != dedupe_key("promotion.done", subject="shop/rel-2", environment="production")
    step_2 = dedupe_key("rollout.step_advanced", subject="shop/plan-1", step=2)
    assert step_2 != dedupe_key("rollout.step_advanced", subject="shop/plan-1", step=3)
    # the moment does not part two announcements of one step advance ...
    assert step_2 == dedupe_key(
        "rollout.step_advanced", subject="shop/plan-1", step=2, occurrence="10:00"
    )


def test_dedupe_key__a_recurring_kind__parts_two_pauses_at_one_step_by_their_moment() -> None:
    first = dedupe_key("rollout.paused", subject="shop/plan-1", step=2, occurrence="10:00")
    again = dedupe_key("rollout.paused", subject="shop/plan-1", step=2, occurrence="14:00")
    assert first != again
    assert first == dedupe_key("rollout.paused", subject="shop/plan-1", step=2, occurrence="10:00")


@pytest.mark.parametrize("pattern", ["promotion.done", "rollout.*", "*", " drill.done "])
def test_checked_pattern__a_kind_a_family_or_everything__is_taken(pattern: str) -> None:
    assert checked_pattern(pattern) == pattern.strip()


@pytest.mark.parametrize("pattern", ["promotion.finished", "deploy.*", "rollout", "", "r*"])
def test_checked_pattern__anything_else__is_refused_naming_the_choices(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"unknown event .* a family .*rollout\.\*"):
        checked_pattern(pattern)

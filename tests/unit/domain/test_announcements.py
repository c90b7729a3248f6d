"""An announcement's checks (each refusal names its field) and its window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shipwise.domain.announcements import (
    Announcement,
    AnnouncementDraft,
    check_draft,
    link_problem,
    user_id_problem,
)

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _draft(**fields: object) -> AnnouncementDraft:
    wanted: dict[str, object] = {
        "flag": "new-checkout",
        "title": "A faster checkout",
        "body": "Pay in one step.",
        "starts_at": NOW,
        "ends_at": NOW + timedelta(days=1),
        "link": None,
    }
    return AnnouncementDraft(**(wanted | fields))  # type: ignore[arg-type]


def test_check_draft__a_good_one__has_no_problem() -> None:
    assert (
        check_draft(_draft(link="https://example.com/x"), "rel-1", ("new-checkout",), NOW) is None
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"flag": "other"}, "flag", id="flag-not-the-releases"),
        pytest.param({"title": ""}, "title", id="empty-title"),
        pytest.param({"title": "deploy-\u202etxt"}, "title", id="title-with-bidi-control"),
        pytest.param({"body": "a\x00b"}, "body", id="body-with-nul"),
        pytest.param({"body": "a\ud800b"}, "body", id="body-with-lone-surrogate"),
        pytest.param({"link": "ftp://example.com/x"}, "link", id="ftp-link"),
        pytest.param({"link": "https://exa mple.com"}, "link", id="link-with-space"),
        pytest.param({"starts_at": datetime(2027, 3, 1)}, "starts_at", id="naive-start"),
        pytest.param({"ends_at": NOW}, "ends_at", id="ends-when-it-starts"),
        pytest.param(
            {"starts_at": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))},
            "starts_at",
            id="start-before-year-1-in-utc",
        ),
    ],
)
def test_check_draft__a_bad_field__is_named(fields: dict[str, object], field: str) -> None:
    problem = check_draft(_draft(**fields), "rel-1", ("new-checkout",), NOW - timedelta(hours=1))

    assert problem is not None
    assert problem.field == field
    assert problem.message


def test_showing_at__starts_inclusive_and_ends_exclusive() -> None:
    shown = Announcement(
        1, "p", "rel-1", "production", "f", "t", "b", "<p>b</p>", None,
        NOW, NOW + timedelta(hours=1), "alice", NOW,
    )  # fmt: skip

    assert not shown.showing_at(NOW - timedelta(seconds=1))
    assert shown.showing_at(NOW)
    assert not shown.showing_at(NOW + timedelta(hours=1))
    assert shown.ended_at(NOW + timedelta(hours=1))


@pytest.mark.parametrize("user_id", ["", None, 42, "u" * 257, "a\x00"])
def test_user_id_problem__not_a_bounded_storable_string__is_a_problem(user_id: object) -> None:
    assert user_id_problem(user_id) is not None


def test_link_problem__http_and_https_with_a_host__are_fine() -> None:
    assert link_problem("http://example.com") is None
    assert link_problem("HTTPS://example.com/a?b=c#d") is None

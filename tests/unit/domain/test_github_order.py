"""``domain.github_order``: of two GitHub events about the same commit and context, the
one that happened last stands; of the same instant, the more decisive one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shipwise.domain.github_order import Recorded, why_stale

T = datetime(2026, 12, 2, 9, 20, 55, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("moment", "state", "recorded"),
    [
        pytest.param(T, "failure", None, id="nothing recorded"),
        pytest.param(T + SECOND, "success", Recorded(T, "failure"), id="newer green over red"),
        pytest.param(T + SECOND, "pending", Recorded(T, "success"), id="newer pending"),
        pytest.param(T, "failure", Recorded(T, "success"), id="same instant, red over green"),
        pytest.param(T, "error", Recorded(T, "pending"), id="same instant, result over pending"),
        pytest.param(T, "success", Recorded(T, "pending"), id="same instant, green over pending"),
    ],
)
def test_why_stale__newer_or_more_decisive__may_replace(
    moment: datetime, state: str, recorded: Recorded | None
) -> None:
    assert why_stale(moment, state, recorded) is None


@pytest.mark.parametrize(
    ("moment", "state", "recorded", "reason"),
    [
        pytest.param(
            T - SECOND,
            "success",
            Recorded(T, "failure"),
            "older than the failure of 2026-12-02 09:20:55Z already recorded",
            id="older green after red",
        ),
        pytest.param(
            T - SECOND,
            "failure",
            Recorded(T, "success"),
            "older than the success of 2026-12-02 09:20:55Z",
            id="older red after green",
        ),
        pytest.param(
            T,
            "success",
            Recorded(T, "failure"),
            "from the same instant as the failure of 2026-12-02 09:20:55Z",
            id="same instant, green after red",
        ),
        pytest.param(
            T, "success", Recorded(T, "success"), "same instant", id="same instant, same state"
        ),
        pytest.param(
            T, "error", Recorded(T, "failure"), "same instant", id="same instant, red after red"
        ),
        pytest.param(
            T, "pending", Recorded(T, "success"), "same instant", id="same instant, pending after"
        ),
    ],
)
def test_why_stale__older_or_no_more_decisive__says_why(
    moment: datetime, state: str, recorded: Recorded, reason: str
) -> None:
    assert reason in (why_stale(moment, state, recorded) or "")

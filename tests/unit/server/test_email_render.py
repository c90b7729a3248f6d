"""A notification's text in the email's HTML part: its lines stay apart (a mail client
would join them into one), and a run of ``- `` lines is a list."""

from __future__ import annotations

from datetime import UTC, datetime

from shipwise.server.notify.email import render
from shipwise.server.ports import Notification


def test_render__keeps_lines_apart_and_draws_dash_lines_as_a_list() -> None:
    text = (
        "What ships: rel-1.\nApproved by bob.\n\nRelease notes:\n- feat: checkout\n- fix: <totals>"
    )
    notification = Notification(
        "release.upcoming", "shop", "Upcoming", text, datetime(2026, 11, 2, tzinfo=UTC)
    )

    plain, html = render(notification)

    assert "<p>What ships: rel-1.<br>\nApproved by bob.</p>" in html
    assert "<p>Release notes:</p>" in html
    assert "<ul><li>feat: checkout</li><li>fix: &lt;totals&gt;</li></ul>" in html
    assert "- fix: <totals>" in plain

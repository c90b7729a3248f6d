"""``LogNotifier``: one line per notification on ``shipwise.notify``, at the level its
severity calls for, with the title and the key fields; the whole notification rides on
the record for JSON formatters."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from shipwise.server.notify.log import LogNotifier
from shipwise.server.ports import Notification

NOTIFICATION = Notification(
    kind="rollout.paused",
    project="shop",
    title="Rollout of new-checkout paused at 25%",
    text="The error rate of the on arm is 3.1% against 1.0%.\nResume or roll back.",
    at=datetime(2025, 5, 1, 12, 0, tzinfo=UTC),
    release="2025.05.1",
    flag="new-checkout",
    environment="production",
    severity="warning",
    data={"step": 2},
)


def _records(
    caplog: pytest.LogCaptureFixture, notification: Notification
) -> list[logging.LogRecord]:
    with caplog.at_level(logging.DEBUG, logger="shipwise.notify"):
        LogNotifier().send(notification)
    return [r for r in caplog.records if r.name == "shipwise.notify"]


def test_send__writes_one_line_with_the_title_and_key_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    [record] = _records(caplog, NOTIFICATION)
    assert record.getMessage() == (
        "Rollout of new-checkout paused at 25% | kind=rollout.paused project=shop "
        "release=2025.05.1 flag=new-checkout environment=production severity=warning"
    )


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        pytest.param("info", logging.INFO, id="info"),
        pytest.param("warning", logging.WARNING, id="warning"),
        pytest.param("critical", logging.ERROR, id="critical is an error"),
        pytest.param("loud", logging.WARNING, id="unknown is a warning"),
    ],
)
def test_send__level_follows_the_severity(
    caplog: pytest.LogCaptureFixture, severity: str, level: int
) -> None:
    [record] = _records(caplog, replace(NOTIFICATION, severity=severity))
    assert record.levelno == level


def test_send__fields_not_set__are_left_out(caplog: pytest.LogCaptureFixture) -> None:
    bare = replace(NOTIFICATION, release=None, flag=None, environment=None, severity="info")
    [record] = _records(caplog, bare)
    assert record.getMessage().endswith("| kind=rollout.paused project=shop severity=info")


def test_send__odd_values__stay_on_one_line_and_quoted(caplog: pytest.LogCaptureFixture) -> None:
    odd = replace(NOTIFICATION, title="Paused\nsecond line", project='my "shop"', flag="a=b")
    [record] = _records(caplog, odd)
    message = record.getMessage()
    assert "\n" not in message
    assert message.startswith("Paused second line | ")
    assert 'project="my \\"shop\\""' in message
    assert 'flag="a=b"' in message


def test_send__record_carries_the_whole_notification(caplog: pytest.LogCaptureFixture) -> None:
    [record] = _records(caplog, NOTIFICATION)
    assert record.notification == NOTIFICATION.to_dict()  # type: ignore[attr-defined]


def test_log_notifier__is_named_log_and_closes() -> None:
    notifier = LogNotifier()
    assert notifier.name == "log"
    notifier.close()


def test_send__with_hidden_characters_in_the_title_and_fields__shows_them_escaped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a reason and a flag name that hold a bidirectional override and an escape
    tricky = replace(
        NOTIFICATION, title="Rolled back: \u202eerror spike\u2028FORGED", flag="a\x1b[2Jb"
    )

    [record] = _records(caplog, tricky)

    # Then the line holds them escaped, so it can neither reorder nor clear the screen
    message = record.getMessage()
    assert message.startswith("Rolled back: \\u202eerror spike FORGED | ")
    assert "flag=a\\u001b[2Jb" in message
    assert not any(c in message for c in "\u202e\x1b\u2028")

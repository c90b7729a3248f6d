"""Slack channels against a Slack stand-in on loopback (``tests/support/slack_standin``):
Block Kit within Slack's limits with a plain-text fallback, escaping, a rollout as one
message updated in place with its steps in the thread, and a 429's Retry-After."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from tests.support.endless_answer import HUGE, endless_answer
from tests.support.slack_standin import CHANNEL_ID, TOKEN, SlackStandin, slack_standin

from shipwise.server.notify.slack import SlackBotSender, SlackWebhookSender
from shipwise.server.ports import Notification, NotificationFailed

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HANG_GUARD = 30.0  # seconds: a send still running by then hangs (the test fails, not hangs)


@pytest.fixture
def slack() -> Iterator[SlackStandin]:
    with slack_standin() as standin:
        yield standin


def note(
    kind: str = "rollout.advance", text: str = "Step 2 of 4: 25%.", **data: object
) -> Notification:
    return Notification(
        kind=kind,
        project="shop",
        title="new-checkout (rel-7) in production: 25%",
        text=text,
        at=AT,
        release="rel-7",
        flag="new-checkout",
        environment="production",
        data=data,
    )


def test_webhook__a_huge_text_full_of_markup__stays_within_every_limit_and_is_escaped(
    slack: SlackStandin,
) -> None:
    # Given a notification far longer than one message may be, with Slack's markup in it
    line = "error rate 4% < 5% & <!channel> > ping\n"
    sender = SlackWebhookSender(slack.webhook_url)

    # When it is sent
    answer = sender.send(note(text=line * 10_000))

    # Then Slack took it: at most 50 blocks, sections of at most 3,000, all escaped
    assert slack.problems == []
    [posted] = slack.posts
    assert len(posted.body["blocks"]) == 50
    assert "&lt;!channel&gt;" in posted.body["blocks"][1]["text"]["text"]
    assert posted.body["text"].startswith("new-checkout (rel-7) in production: 25%")
    assert "200" in answer.said


def test_webhook__answered_429__raises_with_slacks_retry_after_and_never_names_the_url(
    slack: SlackStandin,
) -> None:
    slack.refuse(429, retry_after=7)
    sender = SlackWebhookSender(slack.webhook_url)

    with pytest.raises(NotificationFailed) as failed:
        sender.send(note())

    assert failed.value.retry_after == 7
    assert "429" in str(failed.value)
    assert "standin-webhook-secret-path" not in str(failed.value)
    assert slack.posts == []


def test_bot__a_rollout__is_one_message_updated_in_place_with_its_steps_in_the_thread(
    slack: SlackStandin,
) -> None:
    # Given a bot channel named by its name (chat.update wants the id it answers)
    sender = SlackBotSender(TOKEN, "#releases", api_url=slack.api_url)
    first, second = note(plan=3), note(text="Step 3 of 4: 50%.", plan=3)
    assert sender.thread_key(first) == "rollout-plan:3"

    # When the plan's first and second notifications go out, the second with the thread
    started = sender.send(first)
    stepped = sender.send(second, started.thread)

    # Then one message was posted, updated in place, and the step replied in its thread
    assert started.thread is not None
    parent, reply = slack.posts
    assert parent.via == "chat.postMessage"
    assert "thread_ts" not in parent.body
    [update] = slack.updates
    assert (update.body["channel"], update.ts) == (CHANNEL_ID, parent.ts)
    assert "Step 3 of 4" in update.body["blocks"][1]["text"]["text"]
    assert reply.body["thread_ts"] == parent.ts
    assert stepped.thread == started.thread
    assert slack.problems == []


def test_bot__a_notification_outside_a_rollout__stands_alone(slack: SlackStandin) -> None:
    sender = SlackBotSender(TOKEN, "#releases", api_url=slack.api_url)

    answer = sender.send(note(kind="release.hotfix"))

    assert answer.thread is None
    assert [m.via for m in slack.posts] == ["chat.postMessage"]


def test_bot__rate_limited__raises_with_retry_after_and_never_names_the_token(
    slack: SlackStandin,
) -> None:
    slack.refuse(429, retry_after=3)
    sender = SlackBotSender(TOKEN, "#releases", api_url=slack.api_url)

    with pytest.raises(NotificationFailed) as failed:
        sender.send(note())

    assert failed.value.retry_after == 3
    assert TOKEN not in str(failed.value)
    assert TOKEN not in repr(sender)


def test_bot__a_wrong_token__fails_with_slacks_reason(slack: SlackStandin) -> None:
    sender = SlackBotSender("xoxb-wrong", "#releases", api_url=slack.api_url)

    with pytest.raises(NotificationFailed, match="invalid_auth"):
        sender.send(note())


@pytest.mark.parametrize("mode", ["huge", "dripping"])
def test_webhook__a_huge_or_endless_answer__is_read_only_so_far_and_the_send_ends(
    mode: str,
) -> None:
    with endless_answer(mode) as receiver:
        sender = SlackWebhookSender(receiver.url, timeout=1.0)
        outcome: list[str] = []
        send = threading.Thread(target=lambda: outcome.append(sender.send(note()).said))
        send.start()
        send.join(HANG_GUARD)
        still_reading = send.is_alive()
        receiver._stop.set()  # lets a client that still reads go, whatever happened
        send.join(HANG_GUARD)
        sender.close()

    assert not still_reading, f"the send still reads a {mode} answer"
    assert receiver.sent < HUGE, "the send read the whole huge answer"
    assert outcome[0].startswith("Slack answered 200 ooo")
    assert "secret-path" not in outcome[0]

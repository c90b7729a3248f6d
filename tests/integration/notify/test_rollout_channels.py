"""A rollout's messages in the channels that draw its guardrails as a table: Slack
(against the Slack stand-in and its Block Kit checks) with a section and an interval
line per guardrail, a bot's one message updated in place to the current step; email
(against a real SMTP server, aiosmtpd) with the table in the HTML part and as columns
in the plain-text part. The messages are the rollout news' own, from real judgements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from tests.support.slack_standin import TOKEN, SlackStandin, slack_standin
from tests.support.smtp_inbox import Inbox, smtp_inbox

from shipwise.domain import rollout
from shipwise.domain.guardrails import ArmStats, Compare, Comparison, Direction, Guardrail
from shipwise.domain.rollout import Decision, DecisionKind, PlanSpec, Step
from shipwise.server.notify.email import EmailSender
from shipwise.server.notify.slack import SlackBotSender, SlackWebhookSender
from shipwise.server.ports import Notification, RolloutPlanRecord
from shipwise.server.services.release_news import Links
from shipwise.server.services.rollout_news import rollout_notification

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LINKS = Links("https://ship.example.com")
ROLLOUT_URL = "https://ship.example.com/projects/shop/rollouts/7"


def plan_with(*guardrails: Guardrail) -> RolloutPlanRecord:
    spec = PlanSpec(steps=(Step(10), Step(50), Step(100)), guardrails=guardrails)
    return RolloutPlanRecord(
        id=7,
        project="shop",
        flag="new-checkout",
        environment="production",
        release="rel-7",
        spec=spec,
        state=rollout.start(spec, T0),
        version=1,
        next_check_at=T0,
        created_by="alice",
        created_at=T0,
    )


def rolled_back(
    guardrails: tuple[Guardrail, ...], on_errors: int = 200, off_errors: int = 900
) -> Notification:
    """The runner's check on a week of traffic at 10% (10,000 with the feature, 90,000
    without), carried out as it would be: the decision, then its notification."""
    plan = plan_with(*guardrails)
    observed = {
        g.metric: Comparison("rate", ArmStats(10_000, on_errors), ArmStats(90_000, off_errors))
        for g in guardrails
    }
    judgements = rollout.judge_all(plan.spec, plan.state, observed)
    now = T0 + timedelta(days=2)
    assessment = rollout.assess(plan.spec, plan.state, judgements, now, treated=10_000)
    assert assessment.decision.kind is DecisionKind.ROLLBACK
    saved = replace(plan, state=assessment.state, version=2)
    return rollout_notification(saved, assessment.decision, now, LINKS, judgements)


ERRORS = Guardrail("errors", Direction.HIGHER_IS_WORSE, Compare(0.5))


@pytest.fixture
def slack() -> Iterator[SlackStandin]:
    with slack_standin() as standin:
        yield standin


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_inbox() as inbox:
        yield inbox


def test_slack__a_rollback__draws_each_guardrail_with_its_numbers_interval_and_the_link(
    slack: SlackStandin,
) -> None:
    # Given a rollback on a doubled error rate
    notification = rolled_back((ERRORS,))

    # When it goes to an incoming webhook
    SlackWebhookSender(slack.webhook_url).send(notification)

    # Then Slack took it, the guardrail drawn as its own section and interval line
    assert slack.problems == []
    [posted] = slack.posts
    blocks = posted.body["blocks"]
    texts = [
        b["text"]["text"] if b["type"] != "context" else b["elements"][0]["text"] for b in blocks
    ]
    [drawn] = [i for i, text in enumerate(texts) if text.startswith(":x: *errors*")]
    assert texts[drawn] == (
        ":x: *errors*: worse than allowed (+50%)\n"
        "with the feature *2.00%* · without *1.00%* · change *+100%*"
    )
    assert blocks[drawn + 1]["type"] == "context"
    assert texts[drawn + 1].startswith("99.5% interval +")
    assert texts[drawn + 1].endswith(" · verdict: regressed")
    assert texts[drawn - 1].startswith("Rolled back at step 1 of 3 (10% for 7d)")
    assert texts[drawn - 1].endswith("Guardrails at step 1 (10% for 7d):")
    assert not any(text.startswith("- errors:") for text in texts)  # drawn, not repeated
    assert f"Rollout page: {ROLLOUT_URL}" in texts[drawn + 2]
    assert "ROLLED BACK at step 1 of 3" in posted.body["text"]


def test_slack__many_guardrails_with_markup_in_their_names__stay_within_limits_and_escaped(
    slack: SlackStandin,
) -> None:
    # Given a plan with more guardrails than 50 blocks could draw, one named to ping
    named = ["<!channel> & co", *(f"metric-{i}" for i in range(39))]
    guardrails = tuple(Guardrail(n, Direction.HIGHER_IS_WORSE, Compare(0.5)) for n in named)

    SlackWebhookSender(slack.webhook_url).send(rolled_back(guardrails))

    # Then Slack took it: the lines stay text, escaped, within 50 blocks
    assert slack.problems == []
    [posted] = slack.posts
    assert len(posted.body["blocks"]) <= 50
    body = "\n".join(b["text"]["text"] for b in posted.body["blocks"] if b["type"] == "section")
    assert "- &lt;!channel&gt; &amp; co: 2.00% with the feature" in body
    assert "- metric-38: 2.00% with the feature" in body


def test_slack_bot__a_rollouts_one_message__shows_the_current_step_after_each_update(
    slack: SlackStandin,
) -> None:
    # Given a bot channel that posted the plan's start
    plan = plan_with(ERRORS)
    started = rollout_notification(
        plan, Decision(DecisionKind.ADVANCE, "plan started: 10% for 7d", 0), T0, LINKS
    )
    sender = SlackBotSender(TOKEN, "#releases", api_url=slack.api_url)
    first = sender.send(started)

    # When the rollback follows, in the plan's thread
    sender.send(rolled_back((ERRORS,)), first.thread)

    # Then the parent message now says the rollback, and the thread has it too
    assert slack.problems == []
    [update] = slack.updates
    assert "ROLLED BACK at step 1 of 3" in update.body["text"]
    assert "ROLLED BACK at step 1 of 3" in update.body["blocks"][0]["text"]["text"]
    parent, reply = slack.posts
    assert "moved to 10% for 7d (step 1 of 3)" in parent.body["text"]
    assert reply.body["thread_ts"] == parent.ts


def test_email__a_rollback__carries_the_guardrail_table_in_both_parts(inbox: Inbox) -> None:
    sender = EmailSender(
        host="127.0.0.1",
        port=inbox.port,
        security="none",
        sender="shipwise@example.com",
        recipients=["ops@example.com"],
    )

    sender.send(rolled_back((ERRORS,)))

    [message] = inbox.messages
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    assert html is not None
    text = plain.get_content()
    lines = text.splitlines()
    header = lines.index("metric  with   without  change  interval                      verdict")
    assert lines[header - 1] == "Guardrails at step 1 (10% for 7d):"
    assert lines[header + 1] == (
        "errors  2.00%  1.00%    +100%   99.5% interval +46% to +154%  worse than allowed (+50%)"
    )
    assert "- errors:" not in text  # the table, not the line as well
    assert "errors: observed 2.00% with the feature, 1.00% without (+100%)" in text
    assert f"Rollout page: {ROLLOUT_URL}" in text
    page = html.get_content()
    assert '<th scope="col"' in page
    assert ">interval</th>" in page
    assert (
        '<th scope="row" style="text-align: left; padding: 0.25em 0.75em 0.25em 0;">errors</th>'
        in page
    )
    assert '<td style="padding: 0.25em 0.75em 0.25em 0;">2.00%</td>' in page
    assert '<td style="padding: 0.25em 0.75em 0.25em 0;">worse than allowed (+50%)</td>' in page
    assert f"Rollout page: {ROLLOUT_URL}" in page

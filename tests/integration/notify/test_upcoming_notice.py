"""The upcoming-release notice end to end, on SQLite and PostgreSQL: a real server on a
simulated clock, a Slack stand-in behind an incoming webhook (the channel's default
subscriptions: the upcoming release in production is among them) and a real SMTP server
(an email channel subscribed to ``release.upcoming``). The approval that completes the
production approvals gate makes one Slack message and one email, whose every part says
the same: what ships, the notes drawn from git, who approved, the rollback plan and the
monitoring schedule. A repeat approval, and a third, send nothing more."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from tests.integration.api.helpers import as_token, issue
from tests.support.clock import ManualClock
from tests.support.git_repos import make_repo
from tests.support.server import RunningServer, running_server
from tests.support.slack_standin import SlackStandin, block_kit_problems, slack_standin
from tests.support.smtp_inbox import Inbox, smtp_inbox

P = "/api/v1/projects/default"
START = datetime(2025, 3, 5, 14, 30, tzinfo=UTC)  # a Wednesday, in business hours
ROLLBACK = "Switch checkout off; revert the merge of #42."
# What the notice must say, in Slack and in both parts of the email.
EXPECTED = (
    "Upcoming in production: rel-1 (New checkout)",
    "What ships: the feature rel-1 (New checkout), owned by alice.",
    "Flags: checkout.",
    "Release notes (3 changes):",
    "- feat: one-page checkout (#42)",
    "- fix: totals rounded to the cent (#43)",
    "- chore: start the shop",
    "Approved for production by bob (code-owner); carol (code-owner, release-manager).",
    f"Rollback plan: {ROLLBACK}",
    "Monitoring schedule in production (from the default rollout template, estimated from"
    " 2025-03-05 14:30 UTC):",
    "- Step 1: 10% + beta-testers: Wed 2025-03-05 14:30 UTC → Wed 2025-03-12 14:30 UTC"
    " at the earliest",
    "- Bake: 1d at 100%: Wed 2025-03-26 14:30 UTC → Thu 2025-03-27 14:30 UTC",
    "Watching: alice, bob, carol.",
    "Calendar: {url}/projects/default/releases/rel-1/schedule.ics",
    "Open rel-1: {url}/projects/default/releases/rel-1",
)


@dataclass
class Team:
    server: RunningServer
    admin: httpx.Client
    slack: SlackStandin
    inbox: Inbox
    tokens: dict[str, str]

    def approve(self, name: str) -> httpx.Response:
        with as_token(self.server, self.tokens[name]) as person:
            return person.post(f"{P}/releases/rel-1/approve", json={"stage": "production"})

    def deliver(self) -> None:
        self.server.services.notifications.deliver_due()

    def expected(self) -> list[str]:
        return [line.format(url=self.server.url) for line in EXPECTED]


@pytest.fixture
def team(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
    """rel-1 (flag checkout, two commits of notes) in staging, on a server with a Slack
    channel and an email channel; bob, carol and dan may approve."""
    monkeypatch.setenv("SHIPWISE_SECRET_KEY", Fernet.generate_key().decode())  # for PostgreSQL
    repo = make_repo(tmp_path / "shop")
    repo.commit("chore: start the shop")
    repo.commit("feat(checkout): one-page checkout (#42)")
    commit = repo.commit("fix(cart): totals rounded to the cent (#43)")
    with (
        slack_standin() as slack,
        smtp_inbox() as inbox,
        running_server(
            database_url=database_url, data_dir=tmp_path / "server", clock=ManualClock(START)
        ) as server,
        server.admin() as admin,
    ):
        _channels(admin, slack, inbox)
        assert admin.put(f"{P}/repository", json={"location": str(repo.path)}).is_success
        _release_in_staging(server, admin, commit)
        tokens = {
            name: issue(admin, kind="api", project="default", role=role, name=name)
            for name, role in (("bob", "developer"), ("carol", "release-manager"), ("dan", "qa"))
        }
        yield Team(server, admin, slack, inbox, tokens)


def _channels(admin: httpx.Client, slack: SlackStandin, inbox: Inbox) -> None:
    team = {"name": "team", "kind": "slack", "secrets": {"webhook_url": slack.webhook_url}}
    managers = {
        "name": "managers",
        "kind": "email",
        "settings": {
            "host": "127.0.0.1",
            "port": inbox.port,
            "security": "none",
            "from": "shipwise@shop.example",
            "recipients": ["carol@shop.example"],
        },
    }
    for channel in (team, managers):
        assert admin.post(f"{P}/channels", json=channel).status_code == 201
    subscription = {"channel": "managers", "events": ["release.upcoming"]}
    assert admin.post(f"{P}/subscriptions", json=subscription).is_success


def _release_in_staging(server: RunningServer, admin: httpx.Client, commit: str) -> None:
    assert admin.post(f"{P}/flags", json={"key": "checkout"}).status_code == 201
    body = {"key": "rel-1", "title": "New checkout", "kind": "feature", "flags": ["checkout"]}
    body |= {"owner": "alice", "commit": commit, "rollback_plan": ROLLBACK}
    assert admin.post(f"{P}/releases", json=body).status_code == 201
    refreshed = admin.post(f"{P}/releases/rel-1/notes/refresh")
    assert refreshed.status_code == 200, refreshed.text
    with server.services.database.transaction() as tx:  # as if promoted through its gates
        project = tx.get_project("default")
        assert project is not None
        release = tx.get_release(project.id, "rel-1")
        assert release is not None
        tx.save_release(replace(release, stage="staging"))


def _slack_lines(body: dict[str, Any]) -> list[str]:
    """The message as a person reads it in Slack: the header, then the sections' lines
    (mrkdwn unescaped)."""
    lines = [body["blocks"][0]["text"]["text"]]
    for block in body["blocks"][1:]:
        if block["type"] == "section":
            lines += html.unescape(block["text"]["text"]).splitlines()
    return lines


def _email_parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text part, and the HTML part as text (a list item as ``- item``, the
    other tags dropped, entities read)."""
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None, message
    assert rich is not None, message
    items = re.sub(r"<li>", "\n- ", rich.get_content())
    text = html.unescape(re.sub(r"<[^>]+>", "\n", items))
    return plain.get_content(), text


def _has_line(text: str, line: str) -> bool:
    return any(" ".join(found.split()) == line for found in text.splitlines())


def test_completing_the_production_approvals__sends_one_slack_message_and_one_email(
    team: Team,
) -> None:
    # Given bob's approval for production, one of the two the gate asks for
    assert team.approve("bob").status_code == 200
    team.deliver()
    assert (team.slack.posts, team.inbox.messages) == ([], [])

    # When carol gives the second
    assert team.approve("carol").status_code == 200
    team.deliver()

    # Then one Slack message, within Block Kit's limits, saying every part
    assert team.slack.problems == []
    [post] = team.slack.posts
    assert block_kit_problems(post.body) == []
    slack = _slack_lines(post.body)
    for line in team.expected():
        assert line in slack, (line, slack)
    assert post.body["text"].startswith("Upcoming in production: rel-1 (New checkout)")
    # and one email with both parts saying the same
    [(envelope, message)] = team.inbox.received
    assert envelope.rcpt_tos == ["carol@shop.example"]
    assert message["Subject"] == "Upcoming in production: rel-1 (New checkout)"
    plain, rich = _email_parts(message)
    for line in team.expected():
        assert _has_line(plain, line), (line, plain)
        assert _has_line(rich, line), (line, rich)
    deliveries = team.admin.get(f"{P}/deliveries").json()["deliveries"]
    assert sorted((d["channel"], d["event"], d["state"]) for d in deliveries) == [
        ("managers", "release.upcoming", "delivered"),
        ("team", "release.upcoming", "delivered"),
    ]


def test_a_repeat_or_a_third_approval__sends_nothing_more(team: Team) -> None:
    assert team.approve("bob").status_code == 200
    assert team.approve("carol").status_code == 200
    team.deliver()
    assert (len(team.slack.posts), len(team.inbox.messages)) == (1, 1)

    repeat = team.approve("carol")
    third = team.approve("dan")
    team.deliver()

    assert repeat.status_code in {200, 409}, repeat.text
    assert third.status_code == 200, third.text
    assert (len(team.slack.posts), len(team.inbox.messages)) == (1, 1)
    deliveries = team.admin.get(f"{P}/deliveries").json()["deliveries"]
    assert [d["event"] for d in deliveries].count("release.upcoming") == 2  # one per channel

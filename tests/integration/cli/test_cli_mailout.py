"""``shipwise mailout draft|list|show|edit|preview|test|send`` and ``shipwise release
help-docs`` through the real command, against a real server (SQLite), a real git
repository for the notes and a real SMTP server on loopback (aiosmtpd): what a person
types, what they read, what arrives, and the exit codes scripts rely on (0 done, 1 a
refusal or a channel that failed, 2 a mistake), with ``--json`` answers and errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from tests.integration.cli.cli_runner import Shipwise
from tests.support.git_repos import make_repo
from tests.support.server import free_port
from tests.support.smtp_inbox import Inbox, smtp_inbox

PEOPLE = ["ana@example.com", "ben@example.com", "cy@example.com"]
RECIPIENTS = "# customers who asked\nana@example.com\n\nben@example.com\ncy@example.com\n"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_inbox() as inbox:
        yield inbox


def _ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def _project(
    shipwise: Shipwise, remote: tuple[str, ...], tmp_path: Path, name: str, port: int
) -> tuple[str, ...]:
    """Project ``name``: an email channel "users" to ``port``, a git repository whose notes
    have a feature, a fix and a chore, and release rel-1 on its last commit."""
    project = ("-p", name)
    _ok(shipwise("project", "create", name, *remote))
    repo = make_repo(tmp_path / f"repo-{name}")
    repo.commit("feat: pay in one page (#11)")
    repo.commit("fix: totals round to cents (#12)")
    sha = repo.commit("chore: bump the linter (#13)")
    _ok(shipwise("project", "repo", "set", str(repo.path), *project, *remote))
    settings = (
        "host=127.0.0.1",
        f"port={port}",
        "security=none",
        "from=news@example.com",
        'recipients=["team@example.com"]',  # the team's events; a mailout has its own list
    )
    sets = [part for setting in settings for part in ("--set", setting)]
    _ok(shipwise("channel", "add", "users", "--kind", "email", *sets, *project, *remote))
    _ok(shipwise("release", "create", "One-page checkout", "--commit", sha, *project, *remote))
    return (*project, *remote)


def _recipients(tmp_path: Path) -> str:
    path = tmp_path / "users.txt"
    path.write_text(RECIPIENTS, encoding="utf-8")
    return str(path)


def _draft(shipwise: Shipwise, at: tuple[str, ...], tmp_path: Path) -> str:
    drafted = shipwise.json(
        "mailout", "draft", "rel-1", "--recipients-file", _recipients(tmp_path), *at
    )
    return str(drafted["id"])


def test_mailout_cli__draft_edit_preview_test_send__each_recipient_gets_the_edited_message(
    shipwise: Shipwise, remote: tuple[str, ...], tmp_path: Path, inbox: Inbox
) -> None:
    at = _project(shipwise, remote, tmp_path, "mail-walk", inbox.port)
    body = tmp_path / "mail.md"
    body.write_text("**Pay in one page.**\n\nRead on: <https://example.com/pay>\n", "utf-8")
    html = tmp_path / "preview.html"

    drafted = _ok(
        shipwise("mailout", "draft", "rel-1", "--recipients-file", _recipients(tmp_path), *at)
    )
    [mailout] = [m["id"] for m in shipwise.json("mailout", "list", *at)["mailouts"]]
    edited = _ok(
        shipwise(
            "mailout", "edit", str(mailout), "--subject", "Checkout in one page",
            "--body-file", str(body), *at,
        )
    )  # fmt: skip
    previewed = _ok(shipwise("mailout", "preview", str(mailout), "--html", str(html), *at))
    tried = _ok(shipwise("mailout", "test", str(mailout), "--to", "me@example.com", *at))
    sent = _ok(shipwise("mailout", "send", str(mailout), *at))
    listed = _ok(shipwise("mailout", "list", *at))
    shown = _ok(shipwise("mailout", "show", str(mailout), *at))

    assert f"Email announcement {mailout} of rel-1: draft" in drafted.stdout
    assert "- pay in one page" in drafted.stdout  # from the notes: features and fixes
    assert "- totals round to cents" in drafted.stdout
    assert "linter" not in drafted.stdout  # a chore is the team's, not the users'
    assert "3 recipient(s): 0 sent, 0 refused, 3 pending" in drafted.stdout
    assert "(version 2, channel users)" in edited.stdout
    assert f"Next: a dry run, `shipwise mailout test {mailout}`" in edited.stdout
    assert "Subject: Checkout in one page" in previewed.stdout
    assert "**Pay in one page.**" in previewed.stdout  # the plain part, as written
    assert f"HTML part written to {html}" in " ".join(previewed.stdout.split())
    assert "<strong>Pay in one page.</strong>" in html.read_text("utf-8")
    assert "Dry run of version 2 sent: me@example.com: accepted by 127.0.0.1" in tried.stdout
    assert "would reach 3 recipient(s)" in tried.stdout
    assert "Sent: 3 sent, 0 refused, 0 pending." in sent.stdout
    assert [list(envelope.rcpt_tos) for envelope, _ in inbox.received] == [
        ["me@example.com"],
        *([person] for person in PEOPLE),
    ]
    for _, message in inbox.received:
        assert message["Subject"] == "Checkout in one page"
        html_part = message.get_body(("html",))
        assert html_part is not None
        assert html_part.get_content().replace("\r\n", "\n") == html.read_text("utf-8")
    assert "sent" in listed.stdout
    assert "3 / 3" in listed.stdout
    assert "3 recipient(s): 3 sent, 0 refused, 0 pending" in shown.stdout
    # Not a terminal: the progress bar draws nothing, and nothing moves the cursor.
    assert "\x1b" not in sent.stderr
    assert "\r" not in sent.stderr
    assert sent.stderr.strip() == ""


def test_mailout_cli__json__each_command_answers_the_api_object_and_errors_are_json(
    shipwise: Shipwise, remote: tuple[str, ...], tmp_path: Path, inbox: Inbox
) -> None:
    at = _project(shipwise, remote, tmp_path, "mail-json", inbox.port)
    mailout = _draft(shipwise, at, tmp_path)

    shown = shipwise.json("mailout", "show", mailout, *at)
    edited = shipwise.json("mailout", "edit", mailout, "--subject", "Faster checkout", *at)
    preview = shipwise.json("mailout", "preview", mailout, *at)
    tried = shipwise.json("mailout", "test", mailout, "--to", "me@example.com", *at)
    sent = shipwise.json("mailout", "send", mailout, *at)
    missing = shipwise("mailout", "show", "999", "--json", *at)
    bad_to = shipwise("mailout", "test", mailout, "--to", "Me <me@example.com>", "--json", *at)
    nothing = shipwise("mailout", "edit", mailout, "--json", *at)

    assert shown["recipients"] == PEOPLE  # the comment and the blank line left out
    assert (shown["status"], shown["version"], shown["channel"]) == ("draft", 1, "users")
    assert (edited["subject"], edited["version"]) == ("Faster checkout", 2)
    assert preview["subject"] == "Faster checkout"
    assert preview["recipients"] == 3
    assert "- pay in one page" in preview["plain"]
    assert "<li>pay in one page</li>" in preview["html"]
    assert tried | {"said": ""} == {
        "ok": True,
        "said": "",
        "to": ["me@example.com"],
        "version": 2,
        "would_reach": 3,
    }
    assert (sent["ok"], sent["sent"], sent["pending"], sent["status"]) == (True, 3, 0, "sent")
    assert missing.exit_code == 2
    assert json.loads(missing.stdout)["error"]["exit_code"] == 2
    assert "no email announcement 999" in json.loads(missing.stdout)["error"]["message"]
    assert bad_to.exit_code == 2
    assert "to[0] ('Me <me@example.com>')" in json.loads(bad_to.stdout)["error"]["message"]
    assert nothing.exit_code == 2
    assert "nothing to change" in json.loads(nothing.stdout)["error"]["message"]


def test_mailout_cli__send_before_a_dry_run__exits_1_as_a_refusal_and_mails_nobody(
    shipwise: Shipwise, remote: tuple[str, ...], tmp_path: Path, inbox: Inbox
) -> None:
    at = _project(shipwise, remote, tmp_path, "mail-early", inbox.port)
    mailout = _draft(shipwise, at, tmp_path)

    refused = shipwise("mailout", "send", mailout, *at)
    as_json = shipwise("mailout", "send", mailout, "--json", *at)

    assert refused.exit_code == 1  # cli/errors.py's Refusal: the server's 409
    assert "version 1 has not been tried: run a dry run of this version first" in " ".join(
        refused.stderr.split()
    )
    assert as_json.exit_code == 1
    error = json.loads(as_json.stdout)["error"]
    assert error["exit_code"] == 1
    assert f"shipwise mailout test {mailout}" in error["message"]
    assert inbox.received == []
    assert shipwise.json("mailout", "show", mailout, *at)["status"] == "draft"


def test_mailout_cli__edit_naming_a_stale_version__exits_1_naming_the_current_one_unchanged(
    shipwise: Shipwise, remote: tuple[str, ...], tmp_path: Path, inbox: Inbox
) -> None:
    at = _project(shipwise, remote, tmp_path, "mail-stale", inbox.port)
    mailout = _draft(shipwise, at, tmp_path)
    theirs = shipwise.json("mailout", "edit", mailout, "--subject", "Theirs", "--version", "1", *at)

    stale = shipwise("mailout", "edit", mailout, "--subject", "Mine", "--version", "1", *at)
    as_json = shipwise(
        "mailout", "edit", mailout, "--subject", "Mine", "--version", "1", "--json", *at
    )
    current = shipwise.json("mailout", "edit", mailout, "--subject", "Mine", "--version", "2", *at)

    assert theirs["version"] == 2
    assert stale.exit_code == 1  # the server's 409: a refusal
    assert "is at version 2, saved by" in " ".join(stale.stderr.split())
    assert as_json.exit_code == 1
    error = json.loads(as_json.stdout)["error"]
    assert error["exit_code"] == 1
    assert "is at version 2, saved by" in error["message"]
    assert "not version 1 that you read: nothing changed" in error["message"]
    assert (current["subject"], current["version"]) == ("Mine", 3)


def test_mailout_cli__smtp_server_down__dry_run_and_send_exit_1_and_sending_again_continues(
    shipwise: Shipwise, remote: tuple[str, ...], tmp_path: Path
) -> None:
    port = free_port()
    at = _project(shipwise, remote, tmp_path, "mail-down", port)
    mailout = _draft(shipwise, at, tmp_path)
    inbox = Inbox(port=port)

    not_tried = shipwise("mailout", "test", mailout, "--to", "me@example.com", *at)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _ok(shipwise("mailout", "test", mailout, "--to", "me@example.com", *at))
    finally:
        controller.stop()
    stopped = shipwise("mailout", "send", mailout, *at)
    stopped_json = shipwise("mailout", "send", mailout, "--json", *at)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        resumed = shipwise("mailout", "send", mailout, *at)
    finally:
        controller.stop()

    assert not_tried.exit_code == 1
    assert "Dry run NOT sent: " in not_tried.stdout
    assert f"127.0.0.1:{port}" in not_tried.stdout
    assert stopped.exit_code == 1
    assert "Stopped: 0 sent, 0 refused, 3 pending." in stopped.stdout
    assert f"Send again to continue: shipwise mailout send {mailout}" in stopped.stdout
    assert stopped_json.exit_code == 1
    answer = json.loads(stopped_json.stdout)
    assert (answer["ok"], answer["pending"], answer["status"]) == (False, 3, "sending")
    assert resumed.exit_code == 0, resumed.output
    assert "Sent: 3 sent, 0 refused, 0 pending." in resumed.stdout
    assert [list(envelope.rcpt_tos) for envelope, _ in inbox.received] == [
        ["me@example.com"],
        *([person] for person in PEOPLE),
    ]


def test_release_help_docs_cli__recorded_then_cleared__release_show_and_its_json_say_so(
    shipwise: Shipwise, remote: tuple[str, ...], tmp_path: Path, inbox: Inbox
) -> None:
    at = _project(shipwise, remote, tmp_path, "help-docs", inbox.port)
    page = "https://help.example.com/checkout"

    recorded = _ok(shipwise("release", "help-docs", "rel-1", page, *at))
    shown = _ok(shipwise("release", "show", "rel-1", *at))
    as_json = shipwise.json("release", "show", "rel-1", *at)
    listed = shipwise.json("release", "list", *at)
    both = shipwise("release", "help-docs", "rel-1", page, "--clear", *at)
    bad = shipwise("release", "help-docs", "rel-1", "javascript:alert(1)", "--json", *at)
    cleared = shipwise.json("release", "help-docs", "rel-1", "--clear", *at)
    after = _ok(shipwise("release", "show", "rel-1", *at))

    assert f"rel-1: help docs at {page}" in recorded.stdout
    assert f"help docs: {page}" in shown.stdout
    assert as_json["release"]["help_docs"] == page
    assert [r["help_docs"] for r in listed["releases"]] == [page]
    assert both.exit_code == 2
    assert "give the URL, or --clear to forget it (not both)" in both.stderr
    assert bad.exit_code == 2
    assert (
        "url must be an http:// or https:// address" in json.loads(bad.stdout)["error"]["message"]
    )
    assert cleared == {"release": "rel-1", "help_docs": None}
    assert "help docs:" not in after.stdout
    assert shipwise.json("release", "show", "rel-1", *at)["release"]["help_docs"] is None

"""Email announcements through a real server, on SQLite and PostgreSQL, against a real
SMTP server on loopback (aiosmtpd): drafted from the release's git notes, tried in a
dry run that reaches the tester alone, then sent to each recipient alone (both parts
checked); refused before a dry run and after an edit that followed one; and a send that
the SMTP server stops half-way goes on, when sent again, with only the rest."""

from __future__ import annotations

import email
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from tests.integration.api.helpers import as_token, issue
from tests.support.git_repos import make_repo
from tests.support.server import RunningServer, free_port, running_server

P = "/api/v1/projects/default"
PEOPLE = [f"user{n}@example.com" for n in range(1, 6)]


@dataclass
class Inbox:
    """Keeps every message; answers 451 to the DATA of message number ``fail_at``."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    fail_at: int | None = None
    seen: int = 0

    async def handle_DATA(self, _server: object, _session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.seen += 1
        if self.fail_at is not None and self.seen == self.fail_at:
            return "451 4.3.0 Local trouble, try again later"
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


@dataclass
class World:
    server: RunningServer
    admin: httpx.Client
    inbox: Inbox


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with (
            running_server(database_url=database_url, data_dir=tmp_path) as server,
            server.admin() as admin,
        ):
            _project(admin, tmp_path / "repo", port)
            yield World(server, admin, inbox)
    finally:
        controller.stop()


def _project(admin: httpx.Client, repo_path: Path, port: int) -> None:
    """An email channel to the inbox, and release rel-1 on a commit whose notes have a
    feature, a fix and a chore."""
    settings = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": "news@example.com",
        "recipients": ["team@example.com"],
    }
    added = admin.post(
        f"{P}/channels", json={"name": "users", "kind": "email", "settings": settings}
    )
    assert added.status_code == 201, added.text
    repo = make_repo(repo_path)
    repo.commit("feat: pay in one page (#11)")
    repo.commit("fix: totals round to cents (#12)")
    sha = repo.commit("chore: bump the linter (#13)")
    assert admin.put(f"{P}/repository", json={"location": str(repo_path)}).status_code == 200
    release = {"key": "rel-1", "title": "One-page checkout", "kind": "feature", "commit": sha}
    assert admin.post(f"{P}/releases", json=release).status_code == 201


def _lines(text: str) -> str:
    """SMTP carries lines ending in CRLF."""
    return text.replace("\r\n", "\n")


def _draft(admin: httpx.Client, recipients: list[str]) -> dict[str, object]:
    drafted = admin.post(f"{P}/releases/rel-1/mailouts", json={"recipients": recipients})
    assert drafted.status_code == 201, drafted.text
    return drafted.json()  # type: ignore[no-any-return]


def _test(admin: httpx.Client, mailout: object) -> httpx.Response:
    return admin.post(f"{P}/mailouts/{mailout}/test", json={"to": ["tester@example.com"]})


def test_mailout__drafted_from_the_notes__has_features_and_fixes_not_chores(world: World) -> None:
    drafted = _draft(world.admin, PEOPLE[:2])

    assert drafted["subject"] == "New in Default project: One-page checkout"
    body = str(drafted["body"])
    assert "## Features" in body
    assert "- pay in one page" in body
    assert "## Bug fixes" in body
    assert "- totals round to cents" in body
    assert "linter" not in body
    assert drafted["status"] == "draft"
    assert drafted["channel"] == "users"
    assert drafted["pending"] == 2


def test_mailout__dry_run_then_send__reaches_the_tester_alone_then_each_recipient_alone(
    world: World,
) -> None:
    admin, inbox = world.admin, world.inbox
    mailout = _draft(admin, PEOPLE[:3])["id"]
    body = "**Pay in one page.**\n\nRead on: <https://example.com/pay>\n\n<script>x()</script>\n"
    assert admin.patch(f"{P}/mailouts/{mailout}", json={"body": body}).status_code == 200

    refused = admin.post(f"{P}/mailouts/{mailout}/send", json={})
    assert refused.status_code == 409
    assert "run a dry run of this version first" in refused.json()["error"]["message"]
    assert inbox.received == []

    tried = _test(admin, mailout)
    assert tried.status_code == 200, tried.text
    assert tried.json()["ok"] is True
    assert tried.json()["would_reach"] == 3
    assert [to for to, _ in inbox.received] == [["tester@example.com"]]
    preview = admin.get(f"{P}/mailouts/{mailout}/preview").json()

    sent = admin.post(f"{P}/mailouts/{mailout}/send", json={})
    assert sent.status_code == 200, sent.text
    assert sent.json() | {"said": ""} == {
        "ok": True,
        "said": "",
        "sent_now": 3,
        "refused_now": 0,
        "sent": 3,
        "refused": 0,
        "pending": 0,
        "status": "sent",
    }
    received = inbox.received[1:]
    assert [to for to, _ in received] == [[address] for address in PEOPLE[:3]]
    tested = inbox.received[0][1].get_body(("html",))
    assert tested is not None
    for to, message in received:
        assert message["To"] == to[0]  # nobody sees the others
        assert message["Cc"] is None
        assert message["Subject"] == "New in Default project: One-page checkout"
        plain, html = message.get_body(("plain",)), message.get_body(("html",))
        assert plain is not None
        assert html is not None
        assert _lines(plain.get_content()) == preview["plain"]  # as previewed
        assert _lines(html.get_content()) == preview["html"]
        assert "**Pay in one page.**" in plain.get_content()
        assert "<strong>Pay in one page.</strong>" in html.get_content()
        assert '<a href="https://example.com/pay"' in html.get_content()
        assert "<script" not in html.get_content()
        assert tested.get_content() == html.get_content()  # the dry run's, exactly

    again = admin.post(f"{P}/mailouts/{mailout}/send", json={})
    assert again.json()["sent_now"] == 0
    assert len(inbox.received) == 4
    actions = [e["action"] for e in admin.get("/api/v1/audit?project=default").json()["records"]]
    for action in ("mailout.draft", "mailout.edit", "mailout.test", "mailout.send", "mailout.sent"):
        assert action in actions


def test_mailout__edited_after_its_dry_run__send_is_refused_until_tried_again(
    world: World,
) -> None:
    admin, inbox = world.admin, world.inbox
    mailout = _draft(admin, PEOPLE[:2])["id"]
    assert _test(admin, mailout).json()["ok"] is True

    edited = admin.patch(f"{P}/mailouts/{mailout}", json={"subject": "Checkout, faster"})
    assert edited.json()["status"] == "draft"
    assert edited.json()["version"] == 2
    refused = admin.post(f"{P}/mailouts/{mailout}/send", json={})

    assert refused.status_code == 409
    assert "version 2 has not been tried" in refused.json()["error"]["message"]
    assert len(inbox.received) == 1  # the dry run only
    assert _test(admin, mailout).json()["ok"] is True
    assert admin.post(f"{P}/mailouts/{mailout}/send", json={}).json()["sent"] == 2
    after = admin.patch(f"{P}/mailouts/{mailout}", json={"subject": "Too late"})
    assert after.status_code == 409
    assert "draft a new one" in after.json()["error"]["message"]


def test_mailout__patch_naming_a_stale_version__is_409_naming_the_current_one_and_changes_nothing(
    world: World,
) -> None:
    admin, server = world.admin, world.server
    mailout = _draft(admin, PEOPLE[:2])["id"]
    editor = issue(admin, kind="api", project="default", role="developer", name="dev")
    with as_token(server, editor) as dev:  # dev saves version 2 while we read version 1
        theirs = dev.patch(f"{P}/mailouts/{mailout}", json={"subject": "Theirs", "version": 1})
    assert theirs.status_code == 200, theirs.text
    before = admin.get(f"{P}/mailouts/{mailout}").json()
    records = len(admin.get("/api/v1/audit?project=default").json()["records"])

    stale = admin.patch(
        f"{P}/mailouts/{mailout}", json={"subject": "Mine", "body": "Mine", "version": 1}
    )

    assert stale.status_code == 409, stale.text
    error = stale.json()["error"]
    assert error["field"] == "version"
    assert (error["current_version"], error["saved_by"].split()[0]) == (2, "token:dev")
    assert "is at version 2, saved by token:dev " in error["message"]
    assert "not version 1 that you read: nothing changed" in error["message"]
    assert admin.get(f"{P}/mailouts/{mailout}").json() == before
    assert len(admin.get("/api/v1/audit?project=default").json()["records"]) == records
    # Naming the current version, the same edit is saved
    current = admin.patch(f"{P}/mailouts/{mailout}", json={"subject": "Mine", "version": 2})
    assert current.status_code == 200, current.text
    assert (current.json()["subject"], current.json()["version"]) == ("Mine", 3)


def test_mailout__smtp_server_fails_half_way__sending_again_sends_only_the_rest(
    world: World,
) -> None:
    admin, inbox = world.admin, world.inbox
    mailout = _draft(admin, PEOPLE)["id"]
    assert _test(admin, mailout).json()["ok"] is True  # message 1
    inbox.fail_at = 4  # the third recipient's message

    stopped = admin.post(f"{P}/mailouts/{mailout}/send", json={})

    assert stopped.status_code == 200
    assert stopped.json()["ok"] is False
    assert "451" in stopped.json()["said"]
    assert (stopped.json()["sent"], stopped.json()["pending"]) == (2, 3)
    assert stopped.json()["status"] == "sending"
    inbox.fail_at = None

    resumed = admin.post(f"{P}/mailouts/{mailout}/send", json={"limit": 2})
    assert (resumed.json()["sent_now"], resumed.json()["pending"]) == (2, 1)
    finished = admin.post(f"{P}/mailouts/{mailout}/send", json={})

    assert finished.json()["ok"] is True
    assert finished.json()["status"] == "sent"
    sent_to = [to[0] for to, _ in inbox.received[1:]]
    assert sorted(sent_to) == sorted(PEOPLE)  # each once: nobody twice, nobody missed


def test_mailout__bad_recipient__is_refused_naming_its_line_and_nothing_is_stored(
    world: World,
) -> None:
    answer = world.admin.post(
        f"{P}/releases/rel-1/mailouts",
        json={"recipients": ["a@example.com", "Bob <bob@example.com>"]},
    )

    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "recipients"
    assert "line 2" in answer.json()["error"]["message"]
    assert world.admin.get(f"{P}/mailouts").json()["mailouts"] == []


def test_help_docs__recorded_on_a_release__is_audited_and_keeps_its_approvals(
    world: World,
) -> None:
    admin = world.admin
    approver = issue(admin, kind="api", project="default", role="release-manager", name="rm")
    with as_token(world.server, approver) as rm:
        assert rm.post(f"{P}/releases/rel-1/approve", json={}).status_code == 200
    before = admin.get(f"{P}/releases/rel-1").json()

    recorded = admin.put(
        f"{P}/releases/rel-1/help-docs", json={"url": "https://help.example.com/checkout"}
    )
    bad = admin.put(f"{P}/releases/rel-1/help-docs", json={"url": "javascript:alert(1)"})

    assert recorded.json() == {"release": "rel-1", "help_docs": "https://help.example.com/checkout"}
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "url"
    after = admin.get(f"{P}/releases/rel-1").json()
    assert after["release"]["content_version"] == before["release"]["content_version"]
    approvals = [g for g in after["gates"] if g["gate"] == "approvals"]
    assert approvals == [g for g in before["gates"] if g["gate"] == "approvals"]
    assert approvals[0]["passed"] is True  # rm's approval still counts
    [entry] = [
        e
        for e in admin.get("/api/v1/audit?project=default").json()["records"]
        if e["action"] == "release.help_docs"
    ]
    assert entry["after"] == {"help_docs": "https://help.example.com/checkout"}

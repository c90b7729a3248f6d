"""Email announcements on the dashboard, through a real server, the real sign-in and a
real SMTP server on loopback (aiosmtpd), on SQLite and PostgreSQL: the release page
lists a release's announcements and drafts one from the git notes; the announcement's
page edits it, shows both parts, runs the dry run and sends (release managers only,
refused until the current version had its dry run, and the page says so); a bad value
is 422 beside its field with what was typed kept; a viewer reads no addresses; a post
without the CSRF token changes nothing. And the help-docs page on the release page, with
the help-docs gate and its remedy."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from tests.integration.web.release_pages import API, World, read, release_page, world
from tests.support.git_repos import make_repo
from tests.support.server import free_port
from tests.support.smtp_inbox import Inbox, smtp_inbox

KEY = "rel-1"
PAGE = release_page(KEY)


@dataclass
class Mail:
    team: World
    inbox: Inbox

    def mailouts(self) -> list[dict[str, object]]:
        answer = self.team.admin.get(f"{API}/mailouts")
        assert answer.status_code == 200, answer.text
        return answer.json()["mailouts"]  # type: ignore[no-any-return]


def _setting_up(team: World, tmp_path: Path, port: int) -> None:
    """rita, a release manager; an email channel "users" to ``port``; and rel-1, by
    alice, on a commit whose notes have a feature, a fix and a chore."""
    body = {"name": "rita", "kind": "api", "project": "default", "role": "release-manager"}
    made = team.admin.post("/api/v1/tokens", json=body)
    assert made.status_code == 201, made.text
    team.tokens["rita"] = made.json()["secret"]
    settings = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": "news@example.com",
        "recipients": ["team@example.com"],
    }
    channel = {"name": "users", "kind": "email", "settings": settings}
    assert team.admin.post(f"{API}/channels", json=channel).status_code == 201
    repo = make_repo(tmp_path / "repo")
    repo.commit("feat: pay in one page (#11)")
    repo.commit("fix: totals round to cents (#12)")
    sha = repo.commit("chore: bump the linter (#13)")
    assert team.admin.put(f"{API}/repository", json={"location": str(repo.path)}).is_success
    release = {"title": "One-page checkout", "kind": "feature", "commit": sha}
    with team.api_as("alice") as alice:
        assert alice.post(f"{API}/releases", json=release).status_code == 201


@pytest.fixture
def mail(database_url: str, tmp_path: Path) -> Iterator[Mail]:
    with smtp_inbox() as inbox, world(database_url, tmp_path) as team:
        _setting_up(team, tmp_path, inbox.port)
        yield Mail(team, inbox)


def _draft(person: httpx.Client, recipients: str) -> httpx.Response:
    form = read(person.get(PAGE)).form(f"{KEY}/mailouts")
    return person.post(form.action, data={**form.fields, "recipients": recipients})


def _drafted(person: httpx.Client, recipients: str) -> str:
    """A draft made on the release page; its page's URL."""
    drafted = _draft(person, recipients)
    assert drafted.status_code == 303, drafted.text
    return drafted.headers["location"].split("?", 1)[0]


class _TextAreas(HTMLParser):
    """A page's text areas' contents by name, as a browser sends them (``Page`` reads
    only attributes), and its frames' attributes."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}
        self.frames: list[dict[str, str | None]] = []
        self._name: str | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.frames.append(dict(attrs))
        if tag == "textarea":
            self._name = dict(attrs).get("name") or ""
            self.found[self._name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._name = None

    def handle_data(self, data: str) -> None:
        if self._name is not None:
            self.found[self._name] += data


def _post(person: httpx.Client, url: str, ends: str, **values: str) -> httpx.Response:
    """Submit the page's form ending ``ends`` as a browser would: what it shows (its text
    areas' lines ending in CRLF), with ``values`` typed over it."""
    shown = person.get(url)
    form = read(shown).form(ends)
    areas = {
        name: text.removeprefix("\n").replace("\n", "\r\n")
        for name, text in _TextAreas(shown.text).found.items()
        if name in form.fields
    }
    return person.post(form.action, data={**form.fields, **areas, **values})


def test_mailouts_page__draft_edit_dry_run_send__each_recipient_gets_the_previewed_message(
    mail: Mail,
) -> None:
    with mail.team.person("rita") as rita:
        drafted = _draft(rita, "# asked for it\r\nana@example.com\r\n\r\nben@example.com\r\n")
        assert drafted.status_code == 303, drafted.text
        url = drafted.headers["location"].split("?", 1)[0]
        first = rita.get(drafted.headers["location"])
        first_page = read(first)
        edited = _post(
            rita,
            url,
            "/edit",
            subject="Checkout in one page",
            body="**Pay in one page.**\r\n\r\nRead on: <https://example.com/pay>\r\n",
        )
        assert edited.status_code == 303, edited.text
        second = read(rita.get(edited.headers["location"]))
        tried = _post(rita, url, "/test", to="me@example.com")
        assert tried.status_code == 303, tried.text
        ready = read(rita.get(tried.headers["location"]))
        preview = rita.get(url)
        framed = rita.get(f"{url}/preview.html")
        sent = _post(rita, url, "/send")
        assert sent.status_code == 303, sent.text
        done = read(rita.get(sent.headers["location"]))
        listed = read(rita.get(PAGE))

    assert "Drafted email announcement" in first_page.text
    assert "draft: it needs a dry run before it can be sent" in first_page.text
    assert "- pay in one page" in first_page.text  # the plain part, from the notes
    assert "linter" not in first_page.text
    assert "the send is refused until version 1 has had a dry run" in first_page.text
    assert not [f for f in first_page.forms if f.action.endswith("/send")]
    assert "Saved version 2" in second.text
    assert "Checkout in one page" in second.text
    assert "Dry run of version 2 sent to me@example.com" in ready.text
    assert "version 2 had its dry run: ready to send" in ready.text
    assert "Send to 2 recipients" in ready.text
    answer = mail.team.admin.get(f"{API}/mailouts/{url.rsplit('/', 1)[1]}/preview").json()
    [frame] = _TextAreas(preview.text).frames
    assert frame["src"] == f"{url}/preview.html"
    assert frame["sandbox"] == ""  # no scripts, no same origin
    assert framed.text == answer["html"]  # the message's own document, exactly
    policy = framed.headers["content-security-policy"]
    assert "style-src 'unsafe-inline'" in policy  # an email's inline styles, nothing more
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'self'" in policy
    assert "Sent email announcement" in done.text
    assert "2 recipient(s) got it" in done.text
    assert [list(envelope.rcpt_tos) for envelope, _ in mail.inbox.received] == [
        ["me@example.com"],
        ["ana@example.com"],
        ["ben@example.com"],
    ]
    for _, message in mail.inbox.received:
        assert message["Subject"] == "Checkout in one page"
        plain = message.get_body(("plain",))
        assert plain is not None
        assert plain.get_content().replace("\r\n", "\n") == answer["plain"]
        assert "\r\n\r\n\r\n" not in plain.get_content()  # the form's CRLF, not doubled
    row = listed.text
    assert "Email announcements" in row
    assert "#1: Checkout in one page users sent 2 2 0 0" in row


def test_mailouts_page__send_posted_before_a_dry_run__is_409_on_the_page_and_mails_nobody(
    mail: Mail,
) -> None:
    with mail.team.person("rita") as rita:
        url = _drafted(rita, "ana@example.com")
        csrf = read(rita.get(url)).form("/edit").fields["csrf_token"]
        refused = rita.post(f"{url}/send", data={"csrf_token": csrf})

    assert refused.status_code == 409
    page = read(refused)
    assert "version 1 has not been tried: run a dry run of this version first" in page.text
    assert "the send is refused until version 1 has had a dry run" in page.text
    assert mail.inbox.received == []
    assert [m["status"] for m in mail.mailouts()] == ["draft"]


def test_mailouts_page__bad_recipient_line__is_422_beside_the_field_with_the_text_kept(
    mail: Mail,
) -> None:
    typed = "ana@example.com\nBob <bob@example.com>"
    with mail.team.person("rita") as rita:
        refused = _draft(rita, typed)

    assert refused.status_code == 422
    page = read(refused)
    assert "recipients: line 2 ('Bob <bob@example.com>')" in page.text
    assert 'aria-describedby="error-mailout-draft-recipients"' in refused.text
    assert f">{html.escape(typed)}</textarea>" in refused.text
    assert mail.mailouts() == []


def test_mailouts_page__empty_subject_or_a_stale_version__is_refused_with_the_text_kept(
    mail: Mail,
) -> None:
    with mail.team.person("rita") as rita:
        url = _drafted(rita, "ana@example.com")
        empty = _post(rita, url, "/edit", subject="  ", body="Kept body")
        form = read(rita.get(url)).form("/edit")
        assert mail.team.admin.patch(
            f"{API}/mailouts/{url.rsplit('/', 1)[1]}", json={"subject": "Theirs"}
        ).is_success
        stale = rita.post(form.action, data={**form.fields, "subject": "Mine", "body": "My body"})
        again = read(stale).form("/edit")
        saved = rita.post(again.action, data={**again.fields, "subject": "Mine", "body": "Mine"})

    assert empty.status_code == 422
    assert "subject must be 1 to 200 characters" in read(empty).text
    assert ">Kept body</textarea>" in empty.text
    assert stale.status_code == 409
    assert "version 2 was saved after you opened version 1" in read(stale).text
    assert "(by token:first admin " in read(stale).text  # who saved it, in words
    assert ">My body</textarea>" in stale.text
    assert 'value="Mine"' in stale.text
    assert saved.status_code == 303, saved.text
    [stored] = mail.mailouts()
    assert (stored["subject"], stored["version"]) == ("Mine", 3)


def test_mailouts_page__developer_may_try_but_not_send__viewer_reads_no_addresses(
    mail: Mail,
) -> None:
    with mail.team.person("alice") as alice:
        url = _drafted(alice, "ana@example.com")
        assert _post(alice, url, "/test", to="alice@example.com").status_code == 303
        tried = read(alice.get(url))
        csrf = tried.form("/edit").fields["csrf_token"]
        forbidden = alice.post(f"{url}/send", data={"csrf_token": csrf})
    with mail.team.person("vic") as vic:
        section = read(vic.get(PAGE))
        hidden = vic.get(url)
        csrf = section.form("/sign-out").fields["csrf_token"]
        drafting = vic.post(f"{PAGE}/mailouts", data={"csrf_token": csrf, "recipients": "x@y.io"})

    assert "Release managers and admins send it to the list." in tried.text
    assert forbidden.status_code == 403
    assert [list(e.rcpt_tos) for e, _ in mail.inbox.received] == [["alice@example.com"]]
    assert "Those who manage releases draft and read them" in section.text
    assert "ana@example.com" not in hidden.text
    assert hidden.status_code == 403
    assert drafting.status_code == 403
    assert len(mail.mailouts()) == 1


def test_mailouts_page__a_post_without_the_csrf_token__is_403_and_changes_nothing(
    mail: Mail,
) -> None:
    with mail.team.person("rita") as rita:
        url = _drafted(rita, "ana@example.com")
        forged = rita.post(f"{url}/edit", data={"version": "1", "subject": "Forged", "body": "x"})
        draft = rita.post(f"{PAGE}/mailouts", data={"recipients": "x@example.com"})

    assert forged.status_code == 403
    assert draft.status_code == 403
    assert [m["subject"] for m in mail.mailouts()] == ["New in Default project: One-page checkout"]


def test_mailouts_page__smtp_server_down__the_dry_run_page_says_what_the_channel_said(
    mail: Mail,
) -> None:
    port = free_port()  # nothing listens there
    channel = {"settings": {"port": port}}
    assert mail.team.admin.patch(f"{API}/channels/users", json=channel).is_success
    with mail.team.person("rita") as rita:
        url = _drafted(rita, "ana@example.com")
        failed = _post(rita, url, "/test", to="me@example.com")

    assert failed.status_code == 200
    page = read(failed)
    assert "The dry run did not go out." in page.text
    assert f"127.0.0.1:{port}" in page.text
    assert "draft: it needs a dry run before it can be sent" in page.text
    assert [m["status"] for m in mail.mailouts()] == ["draft"]


def test_release_page__help_docs_recorded__shown_beside_the_gates_and_the_gate_passes(
    mail: Mail,
) -> None:
    team = mail.team
    policy = team.admin.get(f"{API}/policy").json()["effective"]
    asked = policy.replace("require_help_docs = false", "require_help_docs = true", 1)
    assert asked != policy
    assert team.admin.put(f"{API}/policy", json={"source": asked}).status_code == 200
    # No route labels a release yet (GitHub's labels are not read): the store does, as
    # a pull request's "major" label would.
    with team.server.services.store.transaction() as tx:
        project = tx.get_project("default")
        assert project is not None
        release = tx.get_release(project.id, KEY)
        assert release is not None
        tx.save_release(replace(release, labels=("major",)))

    with team.person("rita") as rita:
        before = read(rita.get(PAGE))
        recorded = team.admin.put(
            f"{API}/releases/{KEY}/help-docs", json={"url": "https://help.example.com/pay"}
        )
        after = rita.get(PAGE)

    assert "Help docs updated not met" in before.text
    assert "rel-1 is a major feature and no help-docs page is recorded" in before.text
    assert "shipwise release help-docs rel-1 URL" in before.text
    assert recorded.status_code == 200
    assert "Help docs https://help.example.com/pay" in read(after).text
    assert '<a href="https://help.example.com/pay" rel="noreferrer">' in after.text
    assert "help docs updated: https://help.example.com/pay" in read(after).text

"""Email channels against a real SMTP server on loopback (aiosmtpd): every message has
a plain-text and an HTML part, from the templates, with the title escaped in HTML."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from tests.support.server import free_port

from shipwise.server.notify.email import EmailSender
from shipwise.server.ports import Notification, NotificationFailed

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[Envelope, EmailMessage]] = []

    async def handle_DATA(self, _server: object, _session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope, parsed))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_email__a_notification__arrives_with_plain_text_and_html_parts(
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    sender = EmailSender(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="shipwise@example.com",
        recipients=["ops@example.com", "rm@example.com"],
    )
    notification = Notification(
        kind="release.rolled-back",
        project="shop",
        title="rel-7 <b>rolled back</b>",
        text="Error rate 4.1% over the 2% threshold at step 2.\n\nBy the runner.",
        at=AT,
        release="rel-7",
        severity="critical",
    )

    answer = sender.send(notification)

    [(envelope, message)] = inbox.received
    assert envelope.rcpt_tos == ["ops@example.com", "rm@example.com"]
    assert message["Subject"] == "rel-7 <b>rolled back</b>"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert "Error rate 4.1% over the 2% threshold" in plain.get_content()
    assert "release: rel-7" in plain.get_content()
    assert "rel-7 &lt;b&gt;rolled back&lt;/b&gt;" in html.get_content()
    assert "<p>By the runner.</p>" in html.get_content()
    assert "2 recipient(s)" in answer.said


def test_email__a_server_that_is_not_there__fails_naming_host_and_port() -> None:
    sender = EmailSender(
        host="127.0.0.1",
        port=1,
        security="none",
        sender="shipwise@example.com",
        recipients=["ops@example.com"],
        password="smtp-password-never-shown",
    )
    notification = Notification(kind="channel.test", project="shop", title="t", text="x", at=AT)

    with pytest.raises(NotificationFailed, match=r"127\.0\.0\.1:1\b") as failed:
        sender.send(notification)
    assert "smtp-password-never-shown" not in str(failed.value)


def test_email__an_address_with_a_line_break__fails_as_a_delivery_and_sends_nothing(
    smtp: tuple[Inbox, int],
) -> None:
    # A channel stored before its addresses were checked for line breaks: the header it
    # would make is refused (no Bcc slipped in), as a failed delivery, not a crash.
    inbox, port = smtp
    sender = EmailSender(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="shipwise@example.com",
        recipients=["ops@example.com\rBcc: spy@evil.example"],
    )
    notification = Notification(kind="channel.test", project="shop", title="t", text="x", at=AT)

    with pytest.raises(NotificationFailed, match="line break") as failed:
        sender.send(notification)

    assert "email channel 'email'" in str(failed.value)
    assert inbox.received == []

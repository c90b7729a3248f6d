"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives,
parsed, with the envelope's recipients: what email channels are tested against."""

from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from tests.support.server import free_port


@dataclass
class Inbox:
    port: int = 0
    received: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, _server: object, _session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope, parsed))
        return "250 OK"

    @property
    def messages(self) -> list[EmailMessage]:
        return [message for _, message in self.received]


@contextmanager
def smtp_inbox() -> Iterator[Inbox]:
    inbox = Inbox(port=free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()

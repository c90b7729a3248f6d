"""An email announcement edited while its send begins, on PostgreSQL, with a real SMTP
server on loopback (aiosmtpd): the send reads the announcement locked and marks it
``sending`` in that unit of work, so an edit that arrives meanwhile waits for the lock,
then finds it being sent and is refused. Everybody gets the version the record shows.

PostgreSQL only: SQLite lets one writer in at a time, so there the two never overlap.
The send is held inside its unit of work by the mailer port (``HeldMailer`` wraps the
real ``SmtpMailer`` and waits when it opens the channel, which the send does after
reading the announcement and before marking it); the edit is seen waiting on the lock
in ``pg_stat_activity`` before the send is let go. The waits are hang guards, not
timings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url
from tests.support.smtp_inbox import Inbox, smtp_inbox

from shipwise.server.bootstrap import (
    Services,
    change_bus,
    database_secret_box,
    metric_sources,
    notifiers,
    open_database,
    wire_services,
)
from shipwise.server.notify.mailout import SmtpMailer
from shipwise.server.ports import AuditFilter, ChannelConfig
from shipwise.server.ports.mailout import MailContent, MailSession, RenderedMail
from shipwise.server.services.email_announcements import MailoutView
from shipwise.server.services.errors import Conflict
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings

HANG = 30.0  # seconds: only a deadlock or a lost thread takes this long
PEOPLE = ["ana@example.com", "ben@example.com"]


class HeldMailer:
    """The real mailer, except that once ``hold`` is called, opening a channel waits
    until ``go`` is set: a send held inside its unit of work, the announcement read."""

    def __init__(self) -> None:
        self._real = SmtpMailer()
        self._held = False
        self.inside = threading.Event()
        self.go = threading.Event()

    def hold(self) -> None:
        self._held = True

    def render(self, content: MailContent) -> RenderedMail:
        return self._real.render(content)

    def open(self, config: ChannelConfig) -> MailSession:
        if self._held:
            self.inside.set()
            assert self.go.wait(HANG), "the test never let the send go on"
        return self._real.open(config)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_inbox() as inbox:
        yield inbox


@pytest.fixture
def mailer() -> HeldMailer:
    return HeldMailer()


@pytest.fixture
def services(
    postgres_url: str,
    tmp_path: Path,
    mailer: HeldMailer,
    inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Services]:
    """The server's services as ``build`` wires them, on PostgreSQL, with ``mailer``;
    release rel-1 and an email channel "users" to ``inbox``."""
    monkeypatch.setenv("SHIPWISE_SECRET_KEY", Fernet.generate_key().decode())
    database = open_database(Settings(data_dir=tmp_path, database_url=postgres_url))
    database.upgrade()
    bus = change_bus(database)
    database.attach_bus(bus)
    settings = Settings(data_dir=tmp_path, database_url=postgres_url)
    built = wire_services(
        database,
        bus,
        notifiers(settings),
        metric_sources(settings),
        box=database_secret_box(database),
        mailer=mailer,
    )
    try:
        built.projects.create(SYSTEM, "default", "Default project")
        smtp = {"host": "127.0.0.1", "port": inbox.port, "security": "none"}
        smtp |= {"from": "news@example.com", "recipients": ["team@example.com"]}
        built.channels.create(SYSTEM, "default", "users", "email", smtp, {})
        built.releases.create(SYSTEM, "default", key="rel-1", title="Checkout", kind="feature")
        yield built
    finally:
        built.close()


def _dsn(postgres_url: str) -> str:
    return make_url(postgres_url).set(drivername="postgresql").render_as_string(False)


def _until_waiting_or_done(monitor: psycopg.Connection[Any], edit: Future[MailoutView]) -> None:
    """Until the edit waits for a lock in this database, or ended without waiting."""
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline and not edit.done():
        (waiting,) = monitor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()  # type: ignore[misc]
        if waiting:
            return
        time.sleep(0.02)
    assert edit.done(), f"the edit neither waited for a lock nor ended within {HANG:g} s"


def test_edit_while_a_send_begins__waits_then_is_refused__everyone_gets_the_recorded_version(
    services: Services, mailer: HeldMailer, inbox: Inbox, postgres_url: str
) -> None:
    # Given version 1 of an announcement, tried in a dry run
    drafted = services.mailouts.draft(SYSTEM, "default", "rel-1", recipients=PEOPLE)
    tried = services.mailout_sender.test(SYSTEM, "default", drafted.id, ["me@example.com"])
    assert tried.ok, tried.said
    mailer.hold()
    with (
        psycopg.connect(_dsn(postgres_url), autocommit=True) as monitor,
        ThreadPoolExecutor(2) as pool,
    ):
        # When the send has read it (locked) and an edit of version 1 comes in meanwhile
        sending = pool.submit(services.mailout_sender.send, SYSTEM, "default", drafted.id)
        assert mailer.inside.wait(HANG), "the send never opened its channel"
        editing = pool.submit(
            services.mailouts.edit,
            SYSTEM,
            "default",
            drafted.id,
            subject="Changed while sending",
            version=1,
        )
        _until_waiting_or_done(monitor, editing)
        mailer.go.set()
        report = sending.result(HANG)
        # Then the edit, let in once the send marked it sending, is refused
        with pytest.raises(Conflict, match="is being sent") as refused:
            editing.result(HANG)

    assert refused.value.field == "status"
    assert (report.ok, report.sent, report.status) == (True, 2, "sent")
    record = services.mailouts.get(SYSTEM, "default", drafted.id)
    assert (record.version, record.tested_version, record.status) == (1, 1, "sent")
    assert record.subject == drafted.subject
    received = inbox.received[1:]  # after the dry run
    assert sorted(envelope.rcpt_tos[0] for envelope, _ in received) == PEOPLE
    assert {message["Subject"] for _, message in received} == {record.subject}
    edits = services.audit.all(SYSTEM, AuditFilter(project="default", action="mailout.edit"))
    assert edits == []

"""An email announcement on its way: the dry run, then the send.

The dry run sends the exact message (subject, both parts) through the announcement's
channel to the person running it (their token's name, when it is an address) or to the
addresses they give, marks that version tested, and says how many recipients the real
send would reach. The send is refused until the current version had a dry run.

The send goes to each recipient alone (a message ``To`` them only), claiming each one
in the store before its message leaves (``MailoutStore.claim_recipient``), so a retry
after a failure, or two sends at once, never mails anyone twice. A recipient their
server refuses for good is recorded as refused; a channel that fails (down, a timeout,
"try again later") stops the send with its error, the rest stay pending, and sending
again continues with them. ``limit`` sends at most that many in one call, so a client
can show progress over a long list.

Each status change (tested, sending, sent) reads the announcement locked, as an edit
does (``email_announcements``): the send's message is rendered from the version it
locked and marked ``sending``, so an edit waiting on that lock then finds it sending and
is refused, and an edit that got there first leaves a version without a dry run, which
the send refuses. Nobody receives a version the record does not show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from shipwise.domain.access import Action
from shipwise.domain.mailout import MailoutStatus, address_problem
from shipwise.server.ports import (
    NotificationFailed,
    SecretBox,
    SecretsUnavailable,
    StoreOf,
)
from shipwise.server.ports.mailout import Mailer, MailSession, RecipientRefused, RenderedMail
from shipwise.server.services._common import audit
from shipwise.server.services.channel_secrets import config_of
from shipwise.server.services.email_announcements import (
    EDITS,
    MailoutTx,
    content_of,
    mailout_or_404,
    pending_of,
)
from shipwise.server.services.errors import Conflict, Invalid
from shipwise.server.services.principal import Principal

__all__ = ["MAX_TEST_ADDRESSES", "MailoutSender", "SendReport", "TestReport"]

MAX_TEST_ADDRESSES = 10
SENDS = Action.MANAGE_CHANNELS  # mailing the list: release managers and admins


@dataclass(frozen=True, slots=True)
class TestReport:
    ok: bool
    said: str  # what the channel answered, or why the dry run did not go out
    to: tuple[str, ...]
    version: int
    would_reach: int  # recipients the real send would reach now


@dataclass(frozen=True, slots=True)
class SendReport:
    ok: bool  # False: the channel failed and the send stopped (``said`` says how)
    said: str
    sent_now: int
    refused_now: int
    sent: int
    refused: int
    pending: int
    status: str


@dataclass(frozen=True, slots=True)
class _Ready:
    """What a dry run or a send needs, read in one unit of work."""

    project: str
    mailout_id: int
    version: int
    mail: RenderedMail
    session: MailSession
    recipients: int


class MailoutSender:
    def __init__(self, store: StoreOf[MailoutTx], box: SecretBox, mailer: Mailer) -> None:
        self._store = store
        self._box = box
        self._mailer = mailer

    def _ready(
        self, tx: MailoutTx, principal: Principal, project_key: str, mailout_id: int, action: Action
    ) -> _Ready:
        project, release_key, record = mailout_or_404(
            tx, principal, project_key, mailout_id, action
        )
        channel = None if record.channel_id is None else tx.get_channel(record.channel_id)
        if channel is None:
            raise Conflict(
                f"email announcement {record.id} has no email channel to go out through: "
                f"`shipwise mailout edit {record.id} --channel NAME`",
                field="channel",
            )
        try:
            session = self._mailer.open(config_of(self._box, channel))
        except (SecretsUnavailable, ValueError) as error:
            raise Conflict(f"channel {channel.name!r}: {error}", field="channel") from None
        mail = self._mailer.render(content_of(tx, project, release_key, record))
        pending = len(pending_of(record, tx.recipient_sends(record.id)))
        return _Ready(project.key, record.id, record.version, mail, session, pending)

    def test(
        self, principal: Principal, project_key: str, mailout_id: int, to: Sequence[str] = ()
    ) -> TestReport:
        """The dry run: the exact message to ``to`` (else the person's own address)."""
        addresses = tuple(dict.fromkeys(a.strip() for a in to if a.strip()))
        if not addresses:
            if address_problem(principal.person) is not None:
                raise Invalid(
                    f"your token ({principal.person}) names no email address: give the "
                    "addresses to send the dry run to (`--to you@example.com`)",
                    field="to",
                )
            addresses = (principal.person,)
        if len(addresses) > MAX_TEST_ADDRESSES:
            raise Invalid(f"a dry run goes to at most {MAX_TEST_ADDRESSES} addresses", field="to")
        for index, address in enumerate(addresses):
            if (problem := address_problem(address)) is not None:
                raise Invalid(f"to[{index}] ({address[:80]!r}): {problem}", field=f"to[{index}]")
        with self._store.read() as tx:
            ready = self._ready(tx, principal, project_key, mailout_id, EDITS)
        said: list[str] = []
        try:
            for address in addresses:
                said.append(f"{address}: {ready.session.send(address, ready.mail)}")
        except (NotificationFailed, RecipientRefused) as failure:
            return TestReport(False, str(failure), addresses, ready.version, ready.recipients)
        finally:
            ready.session.close()
        with self._store.transaction() as tx:
            project, _key, record = mailout_or_404(
                tx, principal, project_key, mailout_id, EDITS, for_update=True
            )
            if record.version != ready.version:  # edited while the dry run went out
                return TestReport(
                    False,
                    f"version {record.version} was saved during the dry run of version "
                    f"{ready.version}: run the dry run again",
                    addresses,
                    ready.version,
                    ready.recipients,
                )
            if record.status == MailoutStatus.DRAFT:
                record = tx.save_mailout(
                    replace(
                        record, status=MailoutStatus.TESTED.value, tested_version=record.version
                    )
                )
            after = {"version": record.version, "to": len(addresses), "status": record.status}
            audit(
                tx,
                principal,
                "mailout.test",
                "mailout",
                str(record.id),
                project=project.key,
                after=after,
            )
        return TestReport(True, "; ".join(said), addresses, ready.version, ready.recipients)

    def send(
        self, principal: Principal, project_key: str, mailout_id: int, limit: int | None = None
    ) -> SendReport:
        """Send to the recipients not sent yet (at most ``limit`` of them)."""
        if limit is not None and limit < 1:
            raise Invalid("limit must be at least 1", field="limit")
        with self._store.transaction() as tx:
            project, release_key, record = mailout_or_404(
                tx, principal, project_key, mailout_id, SENDS, for_update=True
            )
            if record.tested_version != record.version:
                raise Conflict(
                    f"email announcement {record.id} version {record.version} has not been "
                    "tried: run a dry run of this version first "
                    f"(`shipwise mailout test {record.id}`), then send it",
                    field="version",
                )
            if not record.recipients:
                raise Conflict(
                    f"email announcement {record.id} has no recipients: "
                    f"`shipwise mailout edit {record.id} --recipients-file FILE`",
                    field="recipients",
                )
            pending = pending_of(record, tx.recipient_sends(record.id))
            ready = self._ready(tx, principal, project_key, mailout_id, SENDS)
            if record.status != MailoutStatus.SENDING and pending:
                record = tx.save_mailout(replace(record, status=MailoutStatus.SENDING.value))
                after = {"version": record.version, "recipients": len(pending)}
                audit(
                    tx,
                    principal,
                    "mailout.send",
                    "mailout",
                    str(record.id),
                    project=project.key,
                    after=after,
                )
        batch = pending if limit is None else pending[:limit]
        sent_now = refused_now = 0
        stopped: str | None = None
        try:
            for address in batch:
                with self._store.transaction() as tx:
                    claimed = tx.claim_recipient(record.id, address)
                if not claimed:  # another send has it
                    continue
                try:
                    said = ready.session.send(address, ready.mail)
                except RecipientRefused as refusal:
                    with self._store.transaction() as tx:
                        tx.finish_recipient(record.id, address, "refused", str(refusal))
                    refused_now += 1
                    continue
                except NotificationFailed as failure:
                    with self._store.transaction() as tx:
                        tx.release_recipient(record.id, address)
                    stopped = str(failure)
                    break
                with self._store.transaction() as tx:
                    tx.finish_recipient(record.id, address, "sent", said)
                sent_now += 1
        finally:
            ready.session.close()
        return self._finish(
            principal, record.id, project.key, release_key, sent_now, refused_now, stopped
        )

    def _finish(
        self,
        principal: Principal,
        mailout_id: int,
        project_key: str,
        release_key: str,
        sent_now: int,
        refused_now: int,
        stopped: str | None,
    ) -> SendReport:
        with self._store.transaction() as tx:
            record = tx.get_mailout(mailout_id, for_update=True)
            assert record is not None
            sends = tx.recipient_sends(mailout_id)
            pending = pending_of(record, sends)
            sent = sum(1 for s in sends if s.state == "sent")
            refused = sum(1 for s in sends if s.state == "refused")
            if not pending and not any(s.state == "sending" for s in sends):
                if record.status != MailoutStatus.SENT:
                    record = tx.save_mailout(replace(record, status=MailoutStatus.SENT.value))
                    after = {"sent": sent, "refused": refused}
                    audit(
                        tx,
                        principal,
                        "mailout.sent",
                        "mailout",
                        str(mailout_id),
                        project=project_key,
                        after=after,
                    )
            elif stopped is not None:
                after = {"sent": sent, "refused": refused, "pending": len(pending)}
                audit(
                    tx,
                    principal,
                    "mailout.stopped",
                    "mailout",
                    str(mailout_id),
                    project=project_key,
                    after=after,
                    reason=stopped[:500],
                )
        said = stopped or (
            f"sent to {sent_now} recipient(s) of {release_key}'s announcement"
            + (f", {refused_now} refused by their mail server" if refused_now else "")
        )
        return SendReport(
            stopped is None, said, sent_now, refused_now, sent, refused, len(pending), record.status
        )

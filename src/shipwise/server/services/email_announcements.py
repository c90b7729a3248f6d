"""Email announcements of a release to its users: drafted from the release's notes,
edited by a person, previewed, tried in a dry run, then sent (``mailout_sending``).

Who may: whoever manages releases drafts, edits, previews and runs the dry run
(developers, QA, release managers, admins); sending to the list is for those who manage
the project's channels (release managers, admins). Reading one is for the former too,
not for viewers: a recipient list is people's addresses.

Every edit bumps the version and takes the announcement back to ``draft``: only the
version a dry run sent may be sent, so what people receive is what someone saw arrive.
Once a send has begun, the announcement no longer changes (everyone gets the same
message); a different one is a new draft.

An edit and a send's status change each read the announcement locked (``for_update``),
so on PostgreSQL the second waits for the first and then sees what it committed: an edit
after the send began is refused, a send after an edit is refused until that version had
its dry run. What people receive is always the version the record shows. An edit may
name the ``version`` it read; when another was saved since, it is refused (409) naming
the current version and who saved it, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from shipwise.domain.access import Action
from shipwise.domain.mailout import (
    MAX_BODY,
    MAX_SUBJECT,
    MailoutStatus,
    draft_from_notes,
    recipients_from,
)
from shipwise.domain.release_notes_render import NotesSection
from shipwise.server.ports import (
    AuditFilter,
    AuditStore,
    ChannelRecord,
    ChannelStore,
    Clocked,
    Project,
    ProjectStore,
    ReleaseStore,
    StoreOf,
)
from shipwise.server.ports.mailout import (
    MailContent,
    Mailer,
    MailoutRecord,
    MailoutStore,
    RecipientSend,
)
from shipwise.server.services._common import audit, project_or_404
from shipwise.server.services.errors import Conflict, Invalid, NotFound
from shipwise.server.services.principal import Principal
from shipwise.server.services.release_access import release_or_404
from shipwise.server.services.release_notes import ReleaseNotesService

__all__ = [
    "EmailAnnouncementService",
    "MailoutTx",
    "MailoutView",
    "Preview",
    "StaleMailout",
    "content_of",
    "email_channel",
    "mailout_or_404",
    "view_of",
]

EDITS = Action.MANAGE_RELEASES  # draft, edit, read, preview, dry run


class MailoutTx(
    ProjectStore, ReleaseStore, ChannelStore, MailoutStore, AuditStore, Clocked, Protocol
):
    """The announcement, its release and channel, the recipients' sends, the audit."""


@dataclass(frozen=True, slots=True)
class MailoutView:
    id: int
    project: str
    release: str
    channel: str | None
    subject: str
    body: str
    recipients: tuple[str, ...]
    status: str
    version: int
    tested_version: int | None
    sent: int  # recipients the message went to
    refused: int  # recipients their mail server refused for good
    pending: int  # recipients a send would still reach
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Preview:
    subject: str
    plain: str
    html: str
    recipients: int
    status: str


def view_of(
    tx: MailoutTx, project: Project, release_key: str, record: MailoutRecord
) -> MailoutView:
    sends = tx.recipient_sends(record.id)
    channel = None if record.channel_id is None else tx.get_channel(record.channel_id)
    return MailoutView(
        record.id,
        project.key,
        release_key,
        None if channel is None else channel.name,
        record.subject,
        record.body,
        record.recipients,
        record.status,
        record.version,
        record.tested_version,
        sum(1 for s in sends if s.state == "sent"),
        sum(1 for s in sends if s.state == "refused"),
        len(pending_of(record, sends)),
        record.created_by,
        record.created_at,
        record.updated_at,
    )


def pending_of(record: MailoutRecord, sends: Sequence[RecipientSend]) -> list[str]:
    """The recipients with no row yet, in the list's order."""
    done = {s.address for s in sends}
    return [address for address in record.recipients if address not in done]


class StaleMailout(Conflict):
    """An edit of a version that is no longer the current one: nothing changed."""

    def __init__(self, message: str, *, current: int, saved_by: str) -> None:
        super().__init__(message, field="version")
        self.current = current
        self.saved_by = saved_by

    def details(self) -> dict[str, object]:
        return {"current_version": self.current, "saved_by": self.saved_by}


def mailout_or_404(
    tx: MailoutTx,
    principal: Principal,
    project_key: str,
    mailout_id: int,
    action: Action,
    *,
    for_update: bool = False,
) -> tuple[Project, str, MailoutRecord]:
    """The project, the release's key and the announcement, once ``principal`` may;
    ``for_update``: locked until the unit of work ends (a change to it follows)."""
    project = project_or_404(tx, project_key)
    principal.require(action, project)
    record = tx.get_mailout(mailout_id, for_update=for_update)
    if record is None or record.project_id != project.id:
        raise NotFound(
            f"no email announcement {mailout_id} in project {project_key!r}; "
            "`shipwise mailout list` shows them"
        )
    release = next((r for r in tx.list_releases(project.id) if r.id == record.release_id), None)
    return project, "" if release is None else release.key, record


def email_channel(tx: ChannelStore, project: Project, channel: str) -> ChannelRecord:
    """The project's email channel ``channel`` (a name or an id)."""
    for record in tx.list_channels(project.id):
        if channel in (record.name, str(record.id)):
            if record.kind != "email":
                raise Invalid(
                    f"channel {record.name!r} is a {record.kind} channel: an announcement "
                    "goes out through an email channel",
                    field="channel",
                )
            return record
    raise Invalid(
        f"no channel {channel!r} in project {project.key!r}; add one: "
        "`shipwise channel add NAME --kind email --set host=… --set port=587 --set from=…`",
        field="channel",
    )


def _only_email_channel(tx: ChannelStore, project: Project) -> ChannelRecord | None:
    found = [c for c in tx.list_channels(project.id) if c.kind == "email"]
    return found[0] if len(found) == 1 else None


def content_of(
    tx: MailoutTx, project: Project, release_key: str, record: MailoutRecord
) -> MailContent:
    release = tx.get_release(project.id, release_key)
    title = release.title if release is not None else release_key
    link = release.help_docs if release is not None else None
    return MailContent(record.subject, record.body, project.key, release_key, title, link)


def _subject(value: str) -> str:
    subject = " ".join(value.split())  # one header line, whatever was typed
    if not 0 < len(subject) <= MAX_SUBJECT:
        raise Invalid(f"subject must be 1 to {MAX_SUBJECT} characters", field="subject")
    return subject


def _body(value: str) -> str:
    if not value.strip() or len(value) > MAX_BODY:
        raise Invalid(f"body must be 1 to {MAX_BODY:,} characters of Markdown", field="body")
    return value


def _recipients(values: Sequence[str]) -> tuple[str, ...]:
    try:
        return recipients_from(values)
    except ValueError as error:
        raise Invalid(f"recipients: {error}", field="recipients") from None


class EmailAnnouncementService:
    def __init__(
        self, store: StoreOf[MailoutTx], notes: ReleaseNotesService, mailer: Mailer
    ) -> None:
        self._store = store
        self._notes = notes
        self._mailer = mailer

    def _sections(
        self, principal: Principal, project_key: str, key: str
    ) -> tuple[NotesSection, ...]:
        """The release's notes, drawn from git when never drawn; none when the project
        has no repository or git cannot answer: the draft then says what to write."""
        try:
            return self._notes.notes(principal, project_key, key).sections
        except (Conflict, Invalid):
            return ()

    def draft(
        self,
        principal: Principal,
        project_key: str,
        release_key: str,
        *,
        channel: str | None = None,
        recipients: Sequence[str] = (),
    ) -> MailoutView:
        with self._store.read() as tx:
            release_or_404(tx, principal, project_key, release_key, EDITS)
        kept = _recipients(recipients)
        sections = self._sections(principal, project_key, release_key)
        with self._store.transaction() as tx:
            project, release = release_or_404(tx, principal, project_key, release_key, EDITS)
            chosen = (
                email_channel(tx, project, channel)
                if channel is not None
                else _only_email_channel(tx, project)
            )
            subject, body = draft_from_notes(release.title, project.name, sections)
            record = tx.add_mailout(
                project_id=project.id,
                release_id=release.id,
                channel_id=None if chosen is None else chosen.id,
                subject=subject,
                body=body,
                recipients=kept,
                created_by=principal.actor,
            )
            after = {"release": release.key, "subject": subject, "recipients": len(kept)}
            audit(
                tx,
                principal,
                "mailout.draft",
                "mailout",
                str(record.id),
                project=project.key,
                after=after,
            )
            return view_of(tx, project, release.key, record)

    def list(self, principal: Principal, project_key: str) -> list[MailoutView]:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(EDITS, project)
            keys = {r.id: r.key for r in tx.list_releases(project.id)}
            return [
                view_of(tx, project, keys.get(m.release_id, ""), m)
                for m in tx.list_mailouts(project.id)
            ]

    def get(self, principal: Principal, project_key: str, mailout_id: int) -> MailoutView:
        with self._store.read() as tx:
            project, release_key, record = mailout_or_404(
                tx, principal, project_key, mailout_id, EDITS
            )
            return view_of(tx, project, release_key, record)

    def edit(
        self,
        principal: Principal,
        project_key: str,
        mailout_id: int,
        *,
        subject: str | None = None,
        body: str | None = None,
        recipients: Sequence[str] | None = None,
        channel: str | None = None,
        version: int | None = None,
    ) -> MailoutView:
        """Change what is given; the version goes up and a dry run is due again.
        ``version``: the one the editor read; refused (``StaleMailout``) if not current."""
        with self._store.transaction() as tx:
            project, release_key, record = mailout_or_404(
                tx, principal, project_key, mailout_id, EDITS, for_update=True
            )
            if record.status in (MailoutStatus.SENDING, MailoutStatus.SENT):
                sent = sum(1 for s in tx.recipient_sends(record.id) if s.state == "sent")
                where = (
                    f"is being sent ({sent} of {len(record.recipients)} recipient(s) so far)"
                    if record.status == MailoutStatus.SENDING
                    else f"has gone to {sent} recipient(s)"
                )
                raise Conflict(
                    f"email announcement {record.id} {where}: it no longer changes; draft "
                    f"a new one (`shipwise mailout draft {release_key}`)",
                    field="status",
                )
            if version is not None and version != record.version:
                raise _stale(tx, project, record, version)
            changed = replace(
                record,
                subject=record.subject if subject is None else _subject(subject),
                body=record.body if body is None else _body(body),
                recipients=record.recipients if recipients is None else _recipients(recipients),
                channel_id=(
                    record.channel_id if channel is None else email_channel(tx, project, channel).id
                ),
            )
            if changed == record:
                return view_of(tx, project, release_key, record)
            saved = tx.save_mailout(
                replace(changed, version=record.version + 1, status=MailoutStatus.DRAFT.value)
            )
            audit(
                tx,
                principal,
                "mailout.edit",
                "mailout",
                str(record.id),
                project=project.key,
                before=_summary(record),
                after=_summary(saved),
            )
            return view_of(tx, project, release_key, saved)

    def preview(self, principal: Principal, project_key: str, mailout_id: int) -> Preview:
        """Both parts exactly as they will be sent."""
        with self._store.read() as tx:
            project, release_key, record = mailout_or_404(
                tx, principal, project_key, mailout_id, EDITS
            )
            content = content_of(tx, project, release_key, record)
        rendered = self._mailer.render(content)
        return Preview(
            rendered.subject, rendered.plain, rendered.html, len(record.recipients), record.status
        )


def _stale(tx: MailoutTx, project: Project, record: MailoutRecord, read: int) -> StaleMailout:
    """The refusal of an edit of version ``read``, naming who saved the current one (the
    newest edit's audit record; the drafter for version 1)."""
    edits = tx.list_audit(
        AuditFilter(
            project=project.key,
            target_type="mailout",
            target_key=str(record.id),
            action="mailout.edit",
            limit=1,
        )
    )
    saved_by = edits[0].entry.actor if edits else record.created_by
    saved_at = edits[0].at if edits else record.created_at
    return StaleMailout(
        f"email announcement {record.id} is at version {record.version}, saved by "
        f"{saved_by} at {saved_at:%Y-%m-%d %H:%M} UTC, not version {read} that "
        f"you read: nothing changed; read it again (`shipwise mailout show {record.id}`) "
        "and make your change on it",
        current=record.version,
        saved_by=saved_by,
    )


def _summary(record: MailoutRecord) -> dict[str, object]:
    """What the audit keeps of a version: the words, not the addresses (personal data
    in an append-only log), only how many."""
    return {
        "version": record.version,
        "subject": record.subject,
        "body_chars": len(record.body),
        "recipients": len(record.recipients),
        "channel_id": record.channel_id,
    }

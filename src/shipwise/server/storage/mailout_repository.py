"""Email announcements and their recipients' sends: rows in, records out. Mixed into
``SqlTransaction``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shipwise.server.ports.mailout import MailoutRecord, RecipientSend
from shipwise.server.storage.mailout_tables import MailoutRow, MailoutSendRow
from shipwise.server.storage.timestamps import utc


def _mailout(row: MailoutRow) -> MailoutRecord:
    return MailoutRecord(
        row.id,
        row.project_id,
        row.release_id,
        row.channel_id,
        row.subject,
        row.body,
        tuple(row.recipients or ()),
        row.status,
        row.version,
        row.tested_version,
        row.created_by,
        utc(row.created_at),
        utc(row.updated_at),
    )


class MailoutQueries:
    session: Session
    _now: Callable[[], datetime]

    def add_mailout(
        self,
        *,
        project_id: int,
        release_id: int,
        channel_id: int | None,
        subject: str,
        body: str,
        recipients: Sequence[str],
        created_by: str,
    ) -> MailoutRecord:
        now = self._now()
        row = MailoutRow(
            project_id=project_id,
            release_id=release_id,
            channel_id=channel_id,
            subject=subject,
            body=body,
            recipients=list(recipients),
            status="draft",
            version=1,
            tested_version=None,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return _mailout(row)

    def get_mailout(self, mailout_id: int, *, for_update: bool = False) -> MailoutRecord | None:
        if not for_update:
            row = self.session.get(MailoutRow, mailout_id)
            return None if row is None else _mailout(row)
        # PostgreSQL: a concurrent writer waits here, then reads what the other committed
        # (SQLite has one writer at a time already: the clause is left out there).
        statement = select(MailoutRow).where(MailoutRow.id == mailout_id)
        statement = statement.with_for_update().execution_options(populate_existing=True)
        found = self.session.scalar(statement)
        return None if found is None else _mailout(found)

    def list_mailouts(self, project_id: int) -> list[MailoutRecord]:
        rows = self.session.scalars(
            select(MailoutRow).where(MailoutRow.project_id == project_id).order_by(MailoutRow.id)
        )
        return [_mailout(row) for row in rows]

    def save_mailout(self, record: MailoutRecord) -> MailoutRecord:
        row = self.session.get_one(MailoutRow, record.id)
        row.channel_id, row.subject, row.body = record.channel_id, record.subject, record.body
        row.recipients = list(record.recipients)
        row.status, row.version = record.status, record.version
        row.tested_version = record.tested_version
        row.updated_at = self._now()
        self.session.flush()
        return _mailout(row)

    def claim_recipient(self, mailout_id: int, address: str) -> bool:
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        seq = self.session.scalar(
            select(func.count()).where(MailoutSendRow.mailout_id == mailout_id)
        )
        values = {
            "mailout_id": mailout_id,
            "address": address,
            "seq": int(seq or 0) + 1,
            "state": "sending",
            "said": "",
            "at": self._now(),
        }
        claimed = self.session.execute(
            insert(MailoutSendRow)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(MailoutSendRow.address)
        )
        return claimed.first() is not None

    def finish_recipient(self, mailout_id: int, address: str, state: str, said: str) -> None:
        self.session.execute(
            update(MailoutSendRow)
            .where(MailoutSendRow.mailout_id == mailout_id, MailoutSendRow.address == address)
            .values(state=state, said=said[:300], at=self._now())
        )

    def release_recipient(self, mailout_id: int, address: str) -> None:
        self.session.execute(
            delete(MailoutSendRow).where(
                MailoutSendRow.mailout_id == mailout_id,
                MailoutSendRow.address == address,
                MailoutSendRow.state == "sending",
            )
        )

    def recipient_sends(self, mailout_id: int) -> list[RecipientSend]:
        rows = self.session.scalars(
            select(MailoutSendRow)
            .where(MailoutSendRow.mailout_id == mailout_id)
            .order_by(MailoutSendRow.seq, MailoutSendRow.address)
        )
        return [RecipientSend(r.address, r.state, r.said, utc(r.at)) for r in rows]

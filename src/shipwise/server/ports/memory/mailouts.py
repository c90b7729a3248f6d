"""Email announcements and their recipients' sends, in memory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from shipwise.server.ports.mailout import MailoutRecord, RecipientSend
from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import utc


class MailoutQueries(MemoryBase):
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
        now = utc(self._now())
        record = MailoutRecord(
            self._t.next_id("mailouts"),
            project_id,
            release_id,
            channel_id,
            subject,
            body,
            tuple(recipients),
            "draft",
            1,
            None,
            created_by,
            now,
            now,
        )
        self._t.mailouts[record.id] = record
        return record

    def get_mailout(self, mailout_id: int, *, for_update: bool = False) -> MailoutRecord | None:
        # One writer at a time: ``for_update`` has nothing to wait for.
        record = self._t.mailouts.get(mailout_id)
        if record is None or record.channel_id is None:
            return record
        if record.channel_id not in self._t.channels:  # the SQL store's ON DELETE SET NULL
            return replace(record, channel_id=None)
        return record

    def list_mailouts(self, project_id: int) -> list[MailoutRecord]:
        ids = [i for i, m in self._t.mailouts.items() if m.project_id == project_id]
        return [m for m in map(self.get_mailout, ids) if m is not None]

    def save_mailout(self, record: MailoutRecord) -> MailoutRecord:
        saved = replace(record, recipients=tuple(record.recipients), updated_at=utc(self._now()))
        self._t.mailouts[record.id] = saved
        return saved

    def claim_recipient(self, mailout_id: int, address: str) -> bool:
        sends = self._t.mailout_sends.setdefault(mailout_id, {})
        if address in sends:
            return False
        sends[address] = RecipientSend(address, "sending", "", utc(self._now()))
        return True

    def finish_recipient(self, mailout_id: int, address: str, state: str, said: str) -> None:
        sends = self._t.mailout_sends.get(mailout_id, {})
        if address in sends:
            sends[address] = RecipientSend(address, state, said[:300], utc(self._now()))

    def release_recipient(self, mailout_id: int, address: str) -> None:
        sends = self._t.mailout_sends.get(mailout_id, {})
        if address in sends and sends[address].state == "sending":
            del sends[address]

    def recipient_sends(self, mailout_id: int) -> list[RecipientSend]:
        return list(self._t.mailout_sends.get(mailout_id, {}).values())

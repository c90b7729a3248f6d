"""A project's notification channels and their threads: rows in, records out. Mixed
into ``SqlTransaction``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shipwise.server.ports import ChannelRecord
from shipwise.server.storage.communication_tables import ChannelRow, ChannelThreadRow
from shipwise.server.storage.timestamps import utc


def _channel(row: ChannelRow) -> ChannelRecord:
    return ChannelRecord(
        row.id,
        row.project_id,
        row.name,
        row.kind,
        dict(row.settings or {}),
        row.sealed,
        row.created_by,
        utc(row.created_at),
        utc(row.updated_at),
        row.version,
    )


class ChannelQueries:
    session: Session
    _now: Callable[[], datetime]
    _flush_new: Callable[[str], None]  # SqlTransaction's: a taken unique key is KeyTaken

    def add_channel(
        self,
        *,
        project_id: int,
        name: str,
        kind: str,
        settings: Mapping[str, Any],
        sealed: str | None,
        created_by: str,
    ) -> ChannelRecord:
        now = self._now()
        row = ChannelRow(
            project_id=project_id,
            name=name,
            kind=kind,
            settings=dict(settings),
            sealed=sealed,
            created_by=created_by,
            created_at=now,
            updated_at=now,
            version=1,
        )
        self.session.add(row)
        self._flush_new(f"channel {name!r}")
        return _channel(row)

    def list_channels(self, project_id: int) -> list[ChannelRecord]:
        rows = self.session.scalars(
            select(ChannelRow).where(ChannelRow.project_id == project_id).order_by(ChannelRow.id)
        )
        return [_channel(row) for row in rows]

    def get_channel(self, channel_id: int) -> ChannelRecord | None:
        row = self.session.get(ChannelRow, channel_id)
        return None if row is None else _channel(row)

    def update_channel(
        self, channel_id: int, *, settings: Mapping[str, Any], sealed: str | None
    ) -> ChannelRecord:
        row = self.session.get_one(ChannelRow, channel_id)
        row.settings = dict(settings)
        row.sealed = sealed
        row.updated_at = self._now()
        row.version += 1
        self.session.flush()
        return _channel(row)

    def remove_channel(self, channel_id: int) -> bool:
        # The threads first: SQLite enforces the cascade only with foreign keys on.
        self.session.execute(
            delete(ChannelThreadRow).where(ChannelThreadRow.channel_id == channel_id)
        )
        result = self.session.execute(delete(ChannelRow).where(ChannelRow.id == channel_id))
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    def channel_thread(self, channel_id: int, key: str) -> str | None:
        row = self.session.get(ChannelThreadRow, (channel_id, key))
        return None if row is None else row.ref

    def set_channel_thread(self, channel_id: int, key: str, ref: str) -> None:
        row = self.session.get(ChannelThreadRow, (channel_id, key))
        if row is None:
            self.session.add(ChannelThreadRow(channel_id=channel_id, key=key, ref=ref))
        else:
            row.ref = ref
        self.session.flush()

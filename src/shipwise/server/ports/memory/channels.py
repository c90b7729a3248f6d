"""A project's notification channels and their Slack threads, in memory."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from shipwise.server.ports.channels import ChannelRecord
from shipwise.server.ports.errors import KeyTaken
from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import as_json, utc


class ChannelQueries(MemoryBase):
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
        if any(c.project_id == project_id and c.name == name for c in self._t.channels.values()):
            raise KeyTaken(f"channel {name!r}")
        now = utc(self._now())
        record = ChannelRecord(
            self._t.next_id("channels"),
            project_id,
            name,
            kind,
            as_json(dict(settings)),
            sealed,
            created_by,
            now,
            now,
            1,
        )
        self._t.channels[record.id] = record
        return record

    def list_channels(self, project_id: int) -> list[ChannelRecord]:
        return [c for c in self._t.channels.values() if c.project_id == project_id]

    def get_channel(self, channel_id: int) -> ChannelRecord | None:
        return self._t.channels.get(channel_id)

    def update_channel(
        self, channel_id: int, *, settings: Mapping[str, Any], sealed: str | None
    ) -> ChannelRecord:
        record = self._t.channels[channel_id]
        updated = replace(
            record,
            settings=as_json(dict(settings)),
            sealed=sealed,
            updated_at=utc(self._now()),
            version=record.version + 1,
        )
        self._t.channels[channel_id] = updated
        return updated

    def remove_channel(self, channel_id: int) -> bool:
        if self._t.channels.pop(channel_id, None) is None:
            return False
        for key in [k for k in self._t.channel_threads if k[0] == channel_id]:
            del self._t.channel_threads[key]
        return True

    def channel_thread(self, channel_id: int, key: str) -> str | None:
        return self._t.channel_threads.get((channel_id, key))

    def set_channel_thread(self, channel_id: int, key: str, ref: str) -> None:
        self._t.channel_threads[(channel_id, key)] = ref

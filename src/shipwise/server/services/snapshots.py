"""Each environment's published snapshot, built once per revision and shared by every
SDK request, stream and evaluation endpoint until the next change."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from shipwise.domain.flags import parse_configuration
from shipwise.engine import FlagState, Snapshot, dump_snapshot, load_segment, state_to_unleash
from shipwise.server.ports import Change, EnvironmentState, SnapshotStore, StoreOf
from shipwise.server.services.errors import NotFound


def _json(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class PublishedSnapshot:
    environment_id: int
    project: str
    environment: str
    revision: int
    engine: Snapshot  # compiled, for server-side evaluation (frontend API, OFREP)
    document: bytes  # Shipwise snapshot JSON
    unleash_document: bytes  # Unleash client-API features JSON

    @property
    def etag(self) -> str:
        return f'"{self.environment_id}-{self.revision}"'

    @property
    def stream_event(self) -> bytes:
        """The server-sent event carrying this snapshot, encoded once for all streams."""
        return b"event: snapshot\nid: %d\ndata: %s\n\n" % (self.revision, self.document)


def build_state(state: EnvironmentState) -> FlagState:
    flags = {}
    for flag, config in state.flags:
        rules = {**config.rules(), "description": flag.description}
        flags[flag.key] = parse_configuration(flag.key, flag.kind, rules)
    segments = {
        s.id: load_segment({"id": s.id, "name": s.name, "constraints": s.constraints})
        for s in state.segments
    }
    return FlagState(
        flags=flags,
        segments=segments,
        revision=str(state.environment.revision),
        environment=state.environment.key,
    )


class SnapshotService:
    def __init__(self, store: StoreOf[SnapshotStore]) -> None:
        self._store = store
        self._published: dict[int, PublishedSnapshot] = {}
        self._known: dict[int, int] = {}  # newest revision heard of, per environment
        self._locks: dict[int, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def on_change(self, change: Change) -> None:
        """Bus listener: remember that a newer revision exists (built on next use)."""
        if change.revision > self._known.get(change.environment_id, 0):
            self._known[change.environment_id] = change.revision

    def cached(self, environment_id: int) -> PublishedSnapshot | None:
        """The published snapshot if it is up to date, without touching the database."""
        published = self._published.get(environment_id)
        if published is not None and published.revision >= self._known.get(environment_id, 0):
            return published
        return None

    def current(self, environment_id: int) -> PublishedSnapshot:
        published = self._published.get(environment_id)
        if published is not None and published.revision >= self._known.get(environment_id, 0):
            return published
        with self._lock_for(environment_id):
            published = self._published.get(environment_id)
            if published is not None and published.revision >= self._known.get(environment_id, 0):
                return published  # another request built it while we waited
            published = self._build(environment_id)
            self._published[environment_id] = published
            return published

    def _lock_for(self, environment_id: int) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(environment_id, threading.Lock())

    def _build(self, environment_id: int) -> PublishedSnapshot:
        with self._store.read() as tx:
            state = tx.environment_state(environment_id)
        if state is None:
            raise NotFound(f"environment {environment_id} no longer exists")
        flag_state = build_state(state)
        return PublishedSnapshot(
            environment_id=environment_id,
            project=state.project.key,
            environment=state.environment.key,
            revision=state.environment.revision,
            engine=Snapshot(flag_state),
            document=_json(dump_snapshot(flag_state)),
            unleash_document=_json(state_to_unleash(flag_state)),
        )

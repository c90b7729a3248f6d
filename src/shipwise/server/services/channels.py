"""A project's notification channels: created, listed, changed, removed and tested,
by admins and release managers (``manage-channels``); anyone on the project may list
them. Secrets are write-only: what leaves this service names the secrets that are set,
never their values; the store gets them sealed (``channel_secrets``).

``test`` sends a test message synchronously, outside the outbox, and answers what the
channel said (a refusal, a timeout, a 429 included): it is how a person checks a
channel before the first real notification needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shipwise.domain.access import Action
from shipwise.server.ports import (
    AuditStore,
    ChannelRecord,
    ChannelSenders,
    ChannelStore,
    Clocked,
    Notification,
    NotificationFailed,
    Project,
    ProjectStore,
    SecretBox,
    SecretsUnavailable,
    StoreOf,
)
from shipwise.server.services._common import audit, check_key, creating, project_or_404
from shipwise.server.services.channel_kinds import checked
from shipwise.server.services.channel_secrets import config_of, opened, seal
from shipwise.server.services.errors import Conflict, NotFound
from shipwise.server.services.principal import Principal


class ChannelTx(ChannelStore, ProjectStore, AuditStore, Clocked, Protocol):
    """Channels, the project they belong to, and the audit record of each change."""


@dataclass(frozen=True, slots=True)
class ChannelView:
    """A channel as it leaves the service: no secret value, only which are set."""

    id: int
    project: str
    name: str
    kind: str
    settings: Mapping[str, Any]
    secrets: list[str]  # the names of the secrets that are set
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class TestAnswer:
    ok: bool
    said: str  # what the channel answered, or why it could not be reached


class ChannelService:
    def __init__(self, store: StoreOf[ChannelTx], box: SecretBox, senders: ChannelSenders) -> None:
        self._store = store
        self._box = box
        self._senders = senders

    def _view(self, project: Project, record: ChannelRecord) -> ChannelView:
        try:
            names = sorted(opened(self._box, record))
        except SecretsUnavailable:
            names = ["(sealed with another key than this server's)"]
        return ChannelView(
            record.id,
            project.key,
            record.name,
            record.kind,
            dict(record.settings),
            names,
            record.created_by,
            record.created_at,
            record.updated_at,
            record.version,
        )

    def _seal(self, secrets: Mapping[str, str]) -> str | None:
        try:
            return seal(self._box, secrets)
        except SecretsUnavailable as error:
            raise Conflict(str(error), field="secrets") from None

    @staticmethod
    def _find(tx: ChannelStore, project: Project, channel: str) -> ChannelRecord:
        """By id (digits) or by name."""
        for record in tx.list_channels(project.id):
            if str(record.id) == channel or record.name == channel:
                return record
        raise NotFound(
            f"no channel {channel!r} in project {project.key!r}; `shipwise channel list` shows them"
        )

    def create(
        self,
        principal: Principal,
        project_key: str,
        name: str,
        kind: str,
        settings: Mapping[str, Any],
        secrets: Mapping[str, Any],
    ) -> ChannelView:
        check_key(name, "name")
        kept, secret_values = checked(kind, settings, secrets)
        sealed = self._seal(secret_values)
        with creating(self._store, "name") as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.MANAGE_CHANNELS, project)
            if any(c.name == name for c in tx.list_channels(project.id)):
                raise Conflict(f"project {project.key!r} has a channel {name!r}", field="name")
            record = tx.add_channel(
                project_id=project.id,
                name=name,
                kind=kind,
                settings=kept,
                sealed=sealed,
                created_by=principal.actor,
            )
            after = {"kind": kind, "settings": kept, "secrets": sorted(secret_values)}
            audit(
                tx, principal, "channel.create", "channel", name, project=project.key, after=after
            )
            return self._view(project, record)

    def list(self, principal: Principal, project_key: str) -> list[ChannelView]:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return [self._view(project, r) for r in tx.list_channels(project.id)]

    def get(self, principal: Principal, project_key: str, channel: str) -> ChannelView:
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            return self._view(project, self._find(tx, project, channel))

    def update(
        self,
        principal: Principal,
        project_key: str,
        channel: str,
        settings: Mapping[str, Any] | None,
        secrets: Mapping[str, Any] | None,
    ) -> ChannelView:
        """Given settings and secrets replace those of the same name; a null removes
        one; what is not given stays (a secret need not be typed again)."""
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.MANAGE_CHANNELS, project)
            record = self._find(tx, project, channel)
            try:
                current = opened(self._box, record)
            except SecretsUnavailable as error:
                if not secrets:
                    raise Conflict(str(error), field="secrets") from None
                current = {}  # entered again: the old ones are replaced whole
            merged_settings = _merged(record.settings, settings)
            merged_secrets = _merged(current, secrets)
            kept, secret_values = checked(record.kind, merged_settings, merged_secrets)
            updated = tx.update_channel(record.id, settings=kept, sealed=self._seal(secret_values))
            audit(
                tx,
                principal,
                "channel.update",
                "channel",
                record.name,
                project=project.key,
                before={"settings": dict(record.settings), "secrets": sorted(current)},
                after={"settings": kept, "secrets": sorted(secret_values)},
            )
            return self._view(project, updated)

    def remove(self, principal: Principal, project_key: str, channel: str) -> ChannelView:
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.MANAGE_CHANNELS, project)
            record = self._find(tx, project, channel)
            tx.remove_channel(record.id)
            before = {"kind": record.kind, "settings": dict(record.settings)}
            audit(
                tx,
                principal,
                "channel.remove",
                "channel",
                record.name,
                project=project.key,
                before=before,
            )
            return self._view(project, record)

    def test(self, principal: Principal, project_key: str, channel: str) -> TestAnswer:
        """Send a test message now and say what the channel answered."""
        with self._store.read() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.MANAGE_CHANNELS, project)
            record = self._find(tx, project, channel)
            now = tx.now()
        notification = Notification(
            kind="channel.test",
            project=project.key,
            title=f"Test message from Shipwise to channel {record.name}",
            text=(
                f"{principal.person} sent this test from project {project.key}: "
                "this channel will hear about the project's releases here."
            ),
            at=now,
            data={"channel": record.name},
        )
        try:
            sender = self._senders.sender(config_of(self._box, record))
        except (SecretsUnavailable, ValueError) as error:
            return TestAnswer(False, str(error))
        try:
            return TestAnswer(True, sender.send(notification).said)
        except NotificationFailed as failure:
            return TestAnswer(False, str(failure))
        finally:
            sender.close()


def _merged(current: Mapping[str, Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = dict(current)
    for name, value in (given or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged

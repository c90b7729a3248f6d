"""A channel's secrets between the service and the store: sealed as one JSON document
on the way in, opened only to hand a sender its configuration."""

from __future__ import annotations

import json
from collections.abc import Mapping

from shipwise.server.ports import ChannelConfig, ChannelRecord, SecretBox


def seal(box: SecretBox, secrets: Mapping[str, str]) -> str | None:
    """None when there is nothing to keep (a log channel needs no key at all)."""
    return box.seal(json.dumps(dict(secrets), sort_keys=True)) if secrets else None


def opened(box: SecretBox, record: ChannelRecord) -> dict[str, str]:
    """``SecretsUnavailable`` when this server's key cannot open them."""
    if record.sealed is None:
        return {}
    return {str(k): str(v) for k, v in json.loads(box.open(record.sealed)).items()}


def config_of(box: SecretBox, record: ChannelRecord) -> ChannelConfig:
    return ChannelConfig(record.kind, record.name, record.settings, opened(box, record))

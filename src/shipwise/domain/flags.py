"""Flags as the server keeps them: kinds, and validation of a per-environment
configuration using the engine's own parser, so the server accepts exactly what every
SDK can evaluate."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from shipwise.engine import Flag, load_flag


class FlagKind(StrEnum):
    RELEASE = "release"
    EXPERIMENT = "experiment"
    OPERATIONAL = "operational"
    KILL_SWITCH = "kill-switch"
    PERMISSION = "permission"


def parse_configuration(key: str, kind: str, configuration: Mapping[str, Any]) -> Flag:
    """The engine's flag for ``configuration`` ({enabled, strategies, variants,
    dependencies}); raises ``SnapshotError`` naming the field that is wrong."""
    document = {**configuration, "key": key, "kind": kind}
    return load_flag(document)

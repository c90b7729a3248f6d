"""Shipwise: a release control plane. ``from shipwise import Client`` for the SDK."""

from shipwise.sdk import (
    Client,
    Explanation,
    FlagExposure,
    Reason,
    Snapshot,
    SnapshotError,
    Variant,
)

__all__ = [
    "Client",
    "Explanation",
    "FlagExposure",
    "Reason",
    "Snapshot",
    "SnapshotError",
    "Variant",
]
__version__ = "0.1.0"

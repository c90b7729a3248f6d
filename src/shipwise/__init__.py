"""Shipwise: a release control plane. ``from shipwise import Client`` for the SDK."""

from shipwise.sdk import (
    Announcement,
    Client,
    Explanation,
    FlagExposure,
    Reason,
    Snapshot,
    SnapshotError,
    Variant,
)

__all__ = [
    "Announcement",
    "Client",
    "Explanation",
    "FlagExposure",
    "Reason",
    "Snapshot",
    "SnapshotError",
    "Variant",
]
__version__ = "0.1.0"

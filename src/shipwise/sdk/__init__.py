"""The Shipwise Python SDK: flags evaluated in-process by the shared engine.

``Client(url, sdk_key)`` keeps its flags current from a Shipwise server (stream, else
ETag polling), caches them on disk and sends exposure counts in the background;
``Client.offline`` and ``Client.from_unleash`` evaluate a snapshot with no server;
``Client.announcements(context)`` gives a release's in-app ``Announcement``s. The
OpenFeature provider is ``shipwise.sdk.openfeature.ShipwiseProvider`` (it needs
``openfeature-sdk``, so it is imported from there, never from here).
"""

from shipwise.engine import Explanation, Reason, Snapshot, SnapshotError, Variant
from shipwise.sdk._announcements import Announcement
from shipwise.sdk._client import Client
from shipwise.sdk._exposures import FlagExposure

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

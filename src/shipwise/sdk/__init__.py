"""The Shipwise Python SDK: flags evaluated in-process by the shared engine."""

from shipwise.engine import Explanation, Reason, SnapshotError, Variant
from shipwise.sdk._client import Client
from shipwise.sdk._exposures import FlagExposure

__all__ = ["Client", "Explanation", "FlagExposure", "Reason", "SnapshotError", "Variant"]

"""The last snapshot the server sent, kept on disk so a restart does not need the server.

The file is the snapshot document exactly as the server sent it, so ``Client.offline``
reads it too. Writes are atomic (a temporary file in the same directory, then
``os.replace``): a crash mid-write leaves the previous snapshot, never half of one. A
file that cannot be read as a snapshot is ignored with a warning; the client then
starts without flags and waits for the server, as if there were no cache.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from os import PathLike
from pathlib import Path

from shipwise.engine import Snapshot

log = logging.getLogger("shipwise.sdk")


class SnapshotCache:
    __slots__ = ("_failing", "path")

    def __init__(self, path: str | PathLike[str]) -> None:
        self.path = Path(path)
        self._failing = False  # warn once per run of failed writes, not on every change

    def load(self) -> tuple[Snapshot, bytes] | None:
        """The cached snapshot and its document, or None when there is no usable cache."""
        try:
            document = self.path.read_bytes()
        except FileNotFoundError:
            log.debug("no snapshot cache at %s yet", self.path)
            return None
        except OSError as error:
            log.warning(
                "shipwise: cannot read the snapshot cache %s, ignoring it: %s", self.path, error
            )
            return None
        try:
            return Snapshot.load(document), document
        except ValueError as error:  # SnapshotError, or bytes that are not text
            log.warning(
                "shipwise: the snapshot cache %s is not a usable snapshot, ignoring it: %s",
                self.path,
                error,
            )
            return None

    def save(self, document: bytes) -> bool:
        """Replace the cached snapshot atomically. Never raises: a cache that cannot be
        written is logged, and the client carries on without it."""
        temporary: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(
                dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
            )
            with os.fdopen(descriptor, "wb") as file:
                file.write(document)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except OSError as error:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            if not self._failing:
                log.warning("shipwise: cannot write the snapshot cache %s: %s", self.path, error)
            self._failing = True
            return False
        if self._failing:
            log.info("shipwise: writing the snapshot cache %s works again", self.path)
        self._failing = False
        return True

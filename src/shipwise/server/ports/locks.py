"""One runner among several server instances."""

from __future__ import annotations

from typing import Protocol


class RunnerLock(Protocol):
    """Makes one runner act among several server instances."""

    def acquire(self) -> bool:
        """Take or keep the lock without waiting; True while this holder has it."""
        ...

    def release(self) -> None: ...

"""What a store says when it cannot do what was asked: a key taken, a database in
trouble, and what a probe of its health found."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class KeyTaken(Exception):
    """A new project, environment, flag or segment whose key a concurrent transaction
    took first (the database's unique constraint said so, at insert)."""


class StorageProblem(StrEnum):
    """What is wrong with the database, in the words an operator acts on."""

    DISK_FULL = "disk full"
    LOCKED = "database locked"
    BUSY = "database busy"
    UNREACHABLE = "database unreachable"
    READ_ONLY = "database read-only"
    IO_ERROR = "disk I/O error"
    ERROR = "database error"  # a probe failed in a way none of the above names


class StorageUnavailable(Exception):
    """The database cannot do this now (the storage adapter's translation of a driver
    error, so nothing above it imports the driver). The unit of work was rolled back;
    ``advice`` says what to do, ``retry_after`` when trying again makes sense."""

    def __init__(self, problem: StorageProblem, advice: str, retry_after: int) -> None:
        super().__init__(f"{problem}: {advice}")
        self.problem = problem
        self.advice = advice
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class StorageHealth:
    """What a live probe of the database found. ``readable`` False: nothing that needs
    the database can be served (a load balancer should look elsewhere)."""

    ok: bool
    readable: bool
    problem: StorageProblem | None = None
    advice: str | None = None

"""Errors the engine raises. Only loading raises; evaluation never does.

SnapshotError (ValueError)   a snapshot or state document is malformed; the message
                             names the flag (or segment) and the field at fault.
"""

from __future__ import annotations


class SnapshotError(ValueError):
    """A flag document could not be loaded. ``where`` names the flag or segment,
    ``field`` the path inside it (``strategies[0].constraints[1].operator``)."""

    def __init__(self, where: str, field: str, problem: str) -> None:
        self.where = where
        self.field = field
        self.problem = problem
        location = f"{where}: {field}" if field else where
        super().__init__(f"{location}: {problem}")

"""Which of two GitHub events about the same thing stands: the one that happened last.

A CI result (a ``status``, a completed ``check_suite``) or a deployment status carries
the time GitHub gives the event itself (``domain.github`` reads it), because deliveries
arrive in any order and can be redelivered days later. ``why_stale`` says whether such
an event may replace the newest one recorded for its commit and context (the check, or
the environment): a newer one does, an older one never does, and one of the same
instant (GitHub's times have whole seconds) does only when it is more decisive — a
result over ``pending``, red (failure, error) over green — so a doubt falls on the safe
side. Pure: times and states in, a reason or None out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["Recorded", "why_stale"]


@dataclass(frozen=True, slots=True)
class Recorded:
    """The newest event already recorded for a commit and context: its own time and its
    state (a ``CiState`` or ``DeployState`` value)."""

    at: datetime
    state: str


# How decisive a state is, for events of the same instant: a result beats "still
# running", and red beats green (of two results in one second, trust the failure).
_DECISIVENESS = {"pending": 0, "success": 1, "failure": 2, "error": 2}


def why_stale(at: datetime, state: str, recorded: Recorded | None) -> str | None:
    """Why an event of time ``at`` in ``state`` must not replace ``recorded``, or None
    when it may."""
    if recorded is None or at > recorded.at:
        return None
    when = recorded.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if at < recorded.at:
        return f"older than the {recorded.state} of {when} already recorded"
    if _DECISIVENESS.get(state, 0) > _DECISIVENESS.get(recorded.state, 0):
        return None
    return f"from the same instant as the {recorded.state} of {when} already recorded, which stands"

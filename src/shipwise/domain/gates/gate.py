"""What a gate is: one definition holding its id, its label, when it applies, what it
asks for before any evidence, and how it judges the evidence.

A gate is judged against a ``Judging`` (the release, the target, the policy, the
evidence, the time) and describes itself against a ``Where`` (the same without
evidence). A family gate (sign-offs, checklist items) names its ``items`` for a stage and
is one gate per item, ``"signoff:qa"``; every other gate is one gate per promotion.
Judges say only what they found (``ok`` / ``no``): the registry adds the gate id and the
hotfix-path fields, so an id is written once, in the definition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shipwise.domain import wording
from shipwise.domain.policy_model import Policy, StageGates
from shipwise.domain.release_route import previous_environment
from shipwise.domain.releases import Evidence, OtherRelease, Release

__all__ = [
    "SINGLE",
    "Gate",
    "Item",
    "Judged",
    "Judging",
    "Where",
    "local_time",
    "no",
    "ok",
    "policy_zone",
    "stage_setting",
]


@dataclass(frozen=True, slots=True)
class Where:
    """A promotion of ``release`` into ``target``, before any evidence."""

    release: Release
    target: str
    policy: Policy
    hotfix: bool  # on the hotfix path: a critical fix going straight to its environment
    settings: StageGates | None  # the target's stage; None when it is not in the pipeline

    @property
    def stage(self) -> StageGates:
        """The target's stage; the registry asks only gates that need one when it exists."""
        if self.settings is None:
            raise ValueError(f"{self.target!r} is not a stage of the policy")
        return self.settings

    @property
    def previous(self) -> str | None:
        """The environment before the target."""
        return previous_environment(self.policy, self.target)


@dataclass(frozen=True, slots=True)
class Judging(Where):
    """A promotion with what was recorded about it, judged at ``now``."""

    evidence: Evidence
    others: tuple[OtherRelease, ...]
    zone: ZoneInfo
    now: datetime  # in the policy's time zone

    def at(self, when: datetime) -> str:
        return wording.moment(when, self.zone)


@dataclass(frozen=True, slots=True)
class Item:
    """One gate of a family: ``name`` goes into its id ("qa" in "signoff:qa"),
    ``subject`` is what it is about (the environment QA tests in)."""

    name: str
    subject: str = ""


SINGLE = Item("")  # the one item of a gate that is not a family


@dataclass(frozen=True, slots=True)
class Judged:
    """What a gate found: passed or not, in words, and what would satisfy it."""

    passed: bool
    detail: str
    remedy: str | None = None


def ok(detail: str) -> Judged:
    return Judged(True, detail)


def no(detail: str, remedy: str) -> Judged:
    return Judged(False, detail, remedy)


def _single(_where: Where) -> Sequence[Item]:
    return (SINGLE,)


@dataclass(frozen=True, slots=True)
class Gate:
    """One gate. ``describe`` returns None when there is nothing to ask for beforehand
    (the release's status, the pipeline order, a gate the hotfix path bypasses)."""

    id: str  # stable: in decisions, the API, audit records; a family's items add ":item"
    label: str  # in words, for tables and PR bodies
    applies: Callable[[Where], bool]
    describe: Callable[[Where, Item], str | None]  # the requirement in words
    judge: Callable[[Judging, Item], Judged]  # what was found
    needs_stage: bool = True  # False: judged even for a target outside the pipeline
    bypassable: bool = False  # the hotfix path reports it passed (business hours, freezes)
    items: Callable[[Where], Sequence[Item]] = _single  # a family's items at a stage
    item_label: Callable[[str], str] | None = None  # a family item's label

    @property
    def is_family(self) -> bool:
        return self.item_label is not None

    def instance_id(self, item: Item) -> str:
        return f"{self.id}:{item.name}" if self.is_family else self.id


_SETTINGS = frozenset(f.name for f in fields(StageGates))


def stage_setting(name: str) -> Callable[[Where], bool]:
    """``applies`` for a gate the stage setting ``name`` turns on, on the normal path
    (the hotfix path asks only for what its own gates say). Checked when defined, so a
    misspelt setting fails at import, not silently at promotion time."""
    if name not in _SETTINGS:
        raise ValueError(f"StageGates has no setting {name!r}")

    def applies(where: Where) -> bool:
        return not where.hotfix and bool(getattr(where.stage, name))

    return applies


def policy_zone(policy: Policy) -> ZoneInfo:
    try:
        return ZoneInfo(policy.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        message = f"policy timezone {policy.timezone!r} is not a known time zone, e.g. Europe/Oslo"
        raise ValueError(message) from error


def local_time(now: datetime, zone: ZoneInfo) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    return now.astimezone(zone)

"""The project board: every release of a project in the column of where it is, with the
first gate that holds it back, read in one transaction.

Columns follow the pipeline: "new" (not in any environment yet), the policy's stages in
order, then "rolling out" (in the last environment with a rollout plan still running or
paused) and "released". Rolled-back and abandoned releases are history, not work: the
audit log and the release page keep them.

A card's blocking gate comes from the same judgement ``promotion.decide`` makes for the
API's gate check (the gates of the release's next stage, its evidence and the other
releases in progress, at the store's ``now``), judged only up to the first unmet gate
(``gates.first_unmet_gate``): the card shows nothing after it. The board reads the
policy, the releases in progress and the evidence of every card once for all its cards
(``evidence_for``), instead of once per card.

The "released" column shows the newest ``RELEASED_SHOWN`` releases (as peers' boards cap
their done column) and says how many more there are; ``BoardFilter.all_released`` shows
them all. Without a filter only those are read, so a long history costs nothing.

A board is kept for a few seconds of the store's time and reused while nothing changed:
every change writes an audit record in its own transaction, so the audit chain's head
(one row) says whether anything did, on every instance. Open boards are redrawn on
each change (live updates), and several people watching one project ask for the same
board at once; what changes with time alone (a freeze or a business-hours gate opening,
a fix falling overdue) shows at most ``REUSE_FOR`` late.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shipwise.domain import gates
from shipwise.domain.access import Action
from shipwise.domain.policy_model import Policy
from shipwise.domain.release_timing import fix_by, is_overdue
from shipwise.domain.releases import (
    ChangeKind,
    Evidence,
    GateResult,
    OtherRelease,
    Release,
    ReleaseStatus,
    Severity,
)
from shipwise.server.ports import AuditStore, Clocked, RolloutPlanStore, StoreOf
from shipwise.server.services._common import project_or_404
from shipwise.server.services.errors import Invalid
from shipwise.server.services.principal import Principal
from shipwise.server.services.promotion import DecideTx
from shipwise.server.services.release_policy import ReleasePolicy

__all__ = [
    "MAX_OWNER_FILTER",
    "NEW",
    "RELEASED",
    "RELEASED_SHOWN",
    "ROLLING_OUT",
    "Board",
    "BoardFilter",
    "BoardTx",
    "Card",
    "Column",
    "ReleaseBoard",
]

NEW = "new"
ROLLING_OUT = "rolling-out"
RELEASED = "released"
MAX_OWNER_FILTER = 100  # a person's name; longer is not a name anyone has here
RELEASED_SHOWN = 10  # the newest released cards shown unless all are asked for
REUSE_FOR = timedelta(seconds=5)  # a board unchanged since is reused this long
KEPT_BOARDS = 64  # (project, filter) pairs remembered, the least recently asked dropped


class BoardTx(DecideTx, RolloutPlanStore, AuditStore, Clocked, Protocol):
    """What the board reads: the gates' inputs (``DecideTx``), the rollout plans that
    make a release "rolling out", and the store's clock."""


@dataclass(frozen=True, slots=True)
class BoardFilter:
    """Which cards to show; ``None`` shows all. Values are checked by ``ReleaseBoard``."""

    kind: str | None = None
    severity: str | None = None
    owner: str | None = None
    all_released: bool = False  # every released card, not only the newest

    @property
    def narrows(self) -> bool:
        return any(v is not None for v in (self.kind, self.severity, self.owner))


@dataclass(frozen=True, slots=True)
class Card:
    release: Release
    next_stage: str | None
    # The first gate, in the order the gate check reports them, that holds it back from
    # the next stage; None when nothing does (or there is no next stage).
    blocking: GateResult | None
    overdue: bool  # a bug fix past its fix-by time (the policy's severity SLA)
    due: datetime | None


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # an environment's key, or NEW, ROLLING_OUT, RELEASED
    title: str
    cards: tuple[Card, ...]


@dataclass(frozen=True, slots=True)
class Board:
    project: str
    columns: tuple[Column, ...]
    now: datetime
    shown: int  # cards after the filter
    total: int  # releases on the board before it
    released_hidden: int = 0  # released cards matching the filter beyond the newest shown


def _choice(kind: type[ChangeKind] | type[Severity], value: str | None, field: str) -> None:
    if value is None:
        return
    allowed = [k.value for k in kind]
    if value not in allowed:
        raise Invalid(f"unknown {field} {value!r}; choose one of {', '.join(allowed)}", field=field)


def _matches(release: Release, wanted: BoardFilter) -> bool:
    if wanted.kind is not None and release.kind.value != wanted.kind:
        return False
    if wanted.severity is not None and (
        release.severity is None or release.severity.value != wanted.severity
    ):
        return False
    return wanted.owner is None or release.owner == wanted.owner


def _column_of(release: Release, last_stage: str | None, rolling: set[str]) -> str:
    """The column of a release in progress."""
    if release.stage is None:
        return NEW
    if release.stage == last_stage and release.key in rolling:
        return ROLLING_OUT
    return release.stage


class _Others:
    """Every release in progress as the gates see the others (as ``promotion.decide``
    builds them), made once for the board; a card's list leaves out its own release."""

    def __init__(self, in_progress: Sequence[Release]) -> None:
        self._all = [
            OtherRelease(r.key, r.kind, r.status, frozenset({r.stage}) if r.stage else frozenset())
            for r in in_progress
        ]
        self._position = {r.id: i for i, r in enumerate(in_progress)}

    def besides(self, release: Release) -> list[OtherRelease]:
        position = self._position.get(release.id)
        if position is None:
            return list(self._all)
        return self._all[:position] + self._all[position + 1 :]


class ReleaseBoard:
    def __init__(self, store: StoreOf[BoardTx], policy: ReleasePolicy) -> None:
        self._store = store
        self._policy = policy
        # (project, filter) -> (the audit chain's head then, the board)
        self._kept: OrderedDict[tuple[str, BoardFilter], tuple[str | None, Board]] = OrderedDict()
        self._keeping = threading.Lock()

    def board(
        self, principal: Principal, project_key: str, wanted: BoardFilter = BoardFilter()
    ) -> Board:
        _choice(ChangeKind, wanted.kind, "kind")
        _choice(Severity, wanted.severity, "severity")
        if wanted.owner is not None and len(wanted.owner) > MAX_OWNER_FILTER:
            raise Invalid(f"an owner is at most {MAX_OWNER_FILTER} characters", field="owner")
        with self._store.read() as tx:
            now = tx.now()
            project = project_or_404(tx, project_key)
            principal.require(Action.READ, project)
            head = tx.audit_chain_head()
            kept = self._reusable((project_key, wanted), head, now)
            if kept is not None:
                return kept
            policy = self._policy.policy_for(tx, project)
            in_progress = tx.list_releases(project.id, status=ReleaseStatus.IN_PROGRESS)
            released, released_total = self._released(tx, project.id, wanted)
            plans = tx.list_plans(project.id, active_only=True)
            rolling = {p.release for p in plans if p.release is not None}
            last = policy.stages[-1].environment if policy.stages else None
            shown = [
                (_column_of(release, last, rolling), release)
                for release in in_progress
                if _matches(release, wanted)
            ]
            matching_released = [r for r in released if _matches(r, wanted)]
            hidden = 0
            if not wanted.all_released:
                hidden = max(0, len(matching_released) - RELEASED_SHOWN)
                if not wanted.narrows:  # only the newest were read: the count says the rest
                    hidden = max(0, released_total - RELEASED_SHOWN)
                matching_released = matching_released[:RELEASED_SHOWN]
            shown += [(RELEASED, release) for release in matching_released]
            # The evidence of every card with gates to judge in one read, not one per card.
            judged = [r for _, r in shown if self._policy.next_stage(r, policy) is not None]
            evidence = tx.evidence_for(project.id, judged)
            others = _Others(in_progress)
            placed: dict[str, list[Card]] = {}
            for column, release in shown:
                card = self._card(policy, release, evidence.get(release.id), others, now)
                placed.setdefault(column, []).append(card)
        columns = [(NEW, "New")]
        columns += [(s.environment, s.environment) for s in policy.stages]
        columns += [(ROLLING_OUT, "Rolling out"), (RELEASED, "Released")]
        board = Board(
            project=project_key,
            columns=tuple(Column(k, t, tuple(placed.get(k, ()))) for k, t in columns),
            now=now,
            shown=sum(len(cards) for cards in placed.values()),
            total=len(in_progress) + released_total,
            released_hidden=hidden,
        )
        self._keep((project_key, wanted), head, board)
        return board

    def _reusable(
        self, key: tuple[str, BoardFilter], head: str | None, now: datetime
    ) -> Board | None:
        """The board made for ``key`` when the audit chain's head was ``head``, if it is
        younger than ``REUSE_FOR``."""
        with self._keeping:
            kept = self._kept.get(key)
            if kept is None or kept[0] != head or not now - REUSE_FOR <= kept[1].now <= now:
                return None
            self._kept.move_to_end(key)
            return kept[1]

    def _keep(self, key: tuple[str, BoardFilter], head: str | None, board: Board) -> None:
        with self._keeping:
            self._kept[key] = (head, board)
            self._kept.move_to_end(key)
            while len(self._kept) > KEPT_BOARDS:
                self._kept.popitem(last=False)

    @staticmethod
    def _released(tx: BoardTx, project_id: int, wanted: BoardFilter) -> tuple[list[Release], int]:
        """Released releases to consider, newest first, and how many there are in all:
        without a filter only the newest are read."""
        if wanted.all_released or wanted.narrows:
            every = tx.list_releases(project_id, status=ReleaseStatus.RELEASED)[::-1]
            return every, len(every)
        newest = tx.newest_releases(project_id, ReleaseStatus.RELEASED, RELEASED_SHOWN)
        return newest, tx.count_releases(project_id, ReleaseStatus.RELEASED)

    def _card(
        self,
        policy: Policy,
        release: Release,
        evidence: Evidence | None,
        others: _Others,
        now: datetime,
    ) -> Card:
        target = self._policy.next_stage(release, policy)
        blocking = None
        if target is not None and evidence is not None:
            besides = others.besides(release)
            blocking = gates.first_unmet_gate(release, target, policy, evidence, besides, now)
        return Card(
            release=release,
            next_stage=target,
            blocking=blocking,
            overdue=is_overdue(release, policy, now),
            due=fix_by(release, policy),
        )

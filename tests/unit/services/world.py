"""The release services wired by ``server/bootstrap.py``'s own ``wire_services``, on the
memory store: no database, no server, no HTTP. The clock is the tests' own
(``SteppingClock``), given to the store alone (every service reads the time from it),
the bus the in-process one a SQLite server uses, the notifier the real log notifier
(notifications wait in the store's outbox, where a test reads them), GitHub deliveries
the documented payloads in ``tests/fixtures/github``.

The project under test: ``shop`` with the default pipeline (dev → staging → production
on branches dev, staging, main) and the default policy, a flag ``checkout``, and people
with api tokens of the roles the process needs: alice (developer) writes the release,
bob (developer, so a code owner while the policy lists none) reviews it, carol is a
release manager, quinn does QA, ``ci`` reports CI results and deploys, and vic may only
look.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from shipwise.domain.access import Role, TokenKind
from shipwise.domain.releases import Release
from shipwise.server.bootstrap import wire_services
from shipwise.server.notify.log import LogNotifier
from shipwise.server.ports import AuditFilter, AuditRecord, Notification
from shipwise.server.ports.memory import MemoryStore
from shipwise.server.services.audit import AuditService
from shipwise.server.services.change_requests import ChangeRequestService
from shipwise.server.services.evidence import EvidenceService
from shipwise.server.services.fix_sweep import FixSweep
from shipwise.server.services.flags import FlagService
from shipwise.server.services.github_intake import GitHubIntake, IntakeSummary
from shipwise.server.services.notifications import Notifications
from shipwise.server.services.policies import PolicyService
from shipwise.server.services.principal import SYSTEM, Principal
from shipwise.server.services.projects import ProjectService
from shipwise.server.services.promotion import PromotionService
from shipwise.server.services.release_board import ReleaseBoard
from shipwise.server.services.releases import ReleaseService
from shipwise.server.services.rollback import RollbackService
from shipwise.server.storage.bus import LocalBus

PROJECT = "shop"
FLAG = "checkout"
COMMIT = "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"  # the head of #42 in the fixtures
GITHUB_FIXTURES = Path(__file__).parents[2] / "fixtures" / "github"
GITHUB_SECRET = "whsec-for-unit-tests"  # a test value: intake is handed checked bodies


class SteppingClock:
    """A clock set by hand that can also move on every read: each read answers ``now``
    and then adds ``step`` (zero until a test sets it: a still clock). ``reads`` keeps
    every answer, so a test sees how often, and what, the services read."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("give the clock a timezone-aware time")
        self.now = now
        self.step = timedelta(0)
        self.reads: list[datetime] = []

    def __call__(self) -> datetime:
        answer = self.now
        self.reads.append(answer)
        self.now += self.step
        return answer

    def set(self, now: datetime) -> None:
        self.now = now


@dataclass
class World:
    """The services of one test, over one memory store and one clock."""

    clock: SteppingClock
    store: MemoryStore
    projects: ProjectService
    flags: FlagService
    audit_log: AuditService
    releases: ReleaseService
    evidence: EvidenceService
    promotion: PromotionService
    github: GitHubIntake
    notifications: Notifications
    rollback: RollbackService
    policies: PolicyService
    change_requests: ChangeRequestService
    board: ReleaseBoard
    fix_sweep: FixSweep
    deliveries: int = 0  # GitHub deliveries so far: each new one gets the next id

    def person(self, name: str, role: Role = Role.DEVELOPER) -> Principal:
        """``name``'s api token in the project, with ``role`` (what the API's token
        lookup gives the services for such a token)."""
        project = self.projects.get(SYSTEM, PROJECT).project
        return Principal(
            actor=f"token:{name} (api, {role})",
            kind=TokenKind.API,
            role=role,
            project_id=project.id,
            person=name,
        )

    def release(self, key: str) -> Release:
        return self.releases.show(SYSTEM, PROJECT, key).release

    def audit(self, **query: Any) -> list[AuditRecord]:
        """The project's audit records, newest first."""
        return self.audit_log.all(SYSTEM, AuditFilter(project=PROJECT, **query))

    def outbox(self) -> list[Notification]:
        """Every notification waiting to be delivered, oldest first."""
        with self.store.read() as tx:
            due = tx.due_outbox(self.clock.now + timedelta(days=365), 1000)
        return [item.notification for item in due]

    def deliver(
        self,
        event: str,
        fixture: str,
        edit: Callable[[dict[str, Any]], object] | None = None,
        delivery: str | None = None,
    ) -> IntakeSummary:
        """GitHub's ``fixture`` payload (changed by ``edit``), delivered as ``event``
        with the delivery id ``delivery`` (a fresh one by default)."""
        data = json.loads((GITHUB_FIXTURES / f"{fixture}.json").read_text())
        if edit is not None:
            edit(data)
        self.deliveries += 1
        ident = delivery or f"delivery-{self.deliveries}"
        return self.github.receive(PROJECT, event, ident, json.dumps(data).encode())


def new_release(world: World, **fields: Any) -> Release:
    """rel-1, alice's "New checkout" behind the flag, at ``COMMIT`` on its feature branch."""
    wanted: dict[str, Any] = {
        "title": "New checkout",
        "kind": "feature",
        "key": "rel-1",
        "flags": [FLAG],
        "commit": COMMIT,
        "branch": "feature/new-checkout",
        "rollback_plan": "Switch checkout off, then revert the merge.",
    }
    return world.releases.create(world.person("alice"), PROJECT, **(wanted | fields))


def green_ci(world: World, key: str = "rel-1") -> None:
    """A passing CI run on the release's commit, as the CI pipeline reports it."""
    commit = world.release(key).commit
    assert commit is not None
    world.evidence.report_ci(world.person("ci"), PROJECT, commit, "ci/tests", "success")


def in_dev(world: World, **fields: Any) -> Release:
    """rel-1 (with ``fields``) green in CI, approved by bob, promoted into dev by alice."""
    new_release(world, **fields)
    green_ci(world)
    world.evidence.approve(world.person("bob"), PROJECT, "rel-1")
    promoted, _, _ = world.promotion.promote(world.person("alice"), PROJECT, "rel-1")
    return promoted


def in_staging(world: World) -> Release:
    """rel-1 deployed to dev, approved by bob again and promoted into staging."""
    in_dev(world)
    world.evidence.report_deploy(world.person("ci"), PROJECT, "dev", COMMIT)
    world.evidence.approve(world.person("bob"), PROJECT, "rel-1")
    promoted, _, _ = world.promotion.promote(world.person("alice"), PROJECT, "rel-1")
    return promoted


def build_world(clock: SteppingClock) -> World:
    """The services as ``bootstrap.build`` wires them (the same ``wire_services``), over
    a memory store that keeps ``clock``."""
    bus = LocalBus()
    store = MemoryStore(clock, bus)
    wired = wire_services(store, bus, {"log": LogNotifier()}, {}, GITHUB_SECRET)
    return World(
        clock=clock,
        store=store,
        projects=wired.projects,
        flags=wired.flags,
        audit_log=wired.audit,
        releases=wired.releases,
        evidence=wired.evidence,
        promotion=wired.promotion,
        github=wired.github,
        notifications=wired.notifications,
        rollback=wired.rollback,
        policies=wired.policies,
        change_requests=wired.change_requests,
        board=wired.board,
        fix_sweep=wired.fix_sweep,
    )

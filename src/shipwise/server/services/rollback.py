"""Rolling a release back in one step, and rehearsing it.

``rollback`` does everything Shipwise can do at once, in one transaction: every flag of
the release off wherever it is switched on up to the release's stage (and wherever a
plan is rolling it out), running plans stopped as rolled back, the release marked
rolled back, the audit record, the notifications. What only a person can do (revert
the merge commits, tell customers) comes back as a list, with the exact git commands.

``drill`` rehearses the flag part in one environment (staging, normally): switch the
release's flags off, check through the SDK's own evaluator, on the snapshot SDKs are
served, that a sample of users now gets the feature off, then put every flag back as
it was, and record the drill (which the production gate asks for). A flag that is
already off there proves nothing when switched off, so then the drill fails at once,
changing no flag, and the failure is recorded (the gate then stays closed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from shipwise.domain import release_flow, rollout
from shipwise.domain.access import Action
from shipwise.domain.releases import EvidenceKind, Release, ReleaseStatus
from shipwise.sdk import Client
from shipwise.server.ports import (
    Clocked,
    Environment,
    FlagConfig,
    Notification,
    ProjectStore,
    RolloutCheck,
    StoreOf,
)
from shipwise.server.services._common import audit, environment_or_404, project_or_404
from shipwise.server.services.errors import Conflict, NotFound
from shipwise.server.services.evidence import (
    EvidenceTx,
    Witness,
    announce_drill,
    record_evidence_in,
)
from shipwise.server.services.flag_changes import ConfigChange, Target, apply_change_in
from shipwise.server.services.notifications import AnnounceTx, Notifications
from shipwise.server.services.principal import Principal
from shipwise.server.services.release_news import ReleaseNews
from shipwise.server.services.release_policy import ReleasePolicy
from shipwise.server.services.rollout_apply import CarryOutTx, switch_off
from shipwise.server.services.snapshots import SnapshotService

DRILL_SAMPLE = 500  # contexts evaluated to prove the flag is off


class _DrillRecordTx(EvidenceTx, AnnounceTx, Clocked, Protocol):
    """What recording a drill touches: the release's evidence, the audit log and the
    outbox (``drill.done``), stamped by the store's clock."""


@dataclass(frozen=True, slots=True)
class RollbackReport:
    release: Release
    switched_off: list[tuple[str, str]]  # (flag, environment)
    plans_stopped: list[int]
    git_commands: list[str]
    still_to_do: list[str]


@dataclass(frozen=True, slots=True)
class DrillReport:
    release: str
    environment: str
    succeeded: bool
    checked: int  # contexts evaluated per flag
    still_on: dict[str, int] = field(default_factory=dict)  # flag -> contexts still on
    restored: list[str] = field(default_factory=list)
    detail: str = ""


def git_commands(release: Release) -> list[str]:
    """How to take the code back out: revert each merge (first parent), newest first."""
    merges = [p.merge_commit for p in release.pull_requests if p.merged and p.merge_commit]
    if merges:
        return [f"git revert -m 1 {sha}" for sha in reversed(merges)]
    if release.commit:
        return [f"git revert {release.commit}"]
    return []


class RollbackService:
    def __init__(
        self,
        # The release's flags, plans and notifications, as a rollout decision touches them.
        store: StoreOf[CarryOutTx],
        notifications: Notifications,
        snapshots: SnapshotService,
        policy: ReleasePolicy,
        news: ReleaseNews | None = None,
    ) -> None:
        self._store = store
        self._notifications = notifications
        self._snapshots = snapshots
        self._policy = policy
        self._news = news

    def rollback(
        self, principal: Principal, project_key: str, release_key: str, reason: str
    ) -> RollbackReport:
        with self._store.transaction() as tx:
            now = tx.now()  # one time for the plans stopped, the release and the notice
            project = project_or_404(tx, project_key)
            principal.require(Action.KILL, project)
            release = tx.get_release(project.id, release_key, for_update=True)
            if release is None:
                raise NotFound(f"no release {release_key!r} in project {project_key!r}")
            if release.status in (ReleaseStatus.ROLLED_BACK, ReleaseStatus.ABANDONED):
                raise Conflict(f"{release_key} is already {release.status.value}")
            environments = tx.list_environments(project.id)
            # Every environment up to the release's stage (none before its first promotion).
            stage = next((e.position for e in environments if e.key == release.stage), -1)
            reached = {e.key for e in environments if e.position <= stage}
            stopped: list[int] = []
            off: list[tuple[str, str]] = []
            for plan in tx.list_plans(project.id, active_only=True):
                if plan.flag in release.flags:
                    locked = tx.get_plan(plan.id, for_update=True) or plan
                    state = rollout.rolled_back(locked.state, now, f"release rolled back: {reason}")
                    tx.save_plan(locked, state, None)
                    tx.add_check(RolloutCheck(plan.id, now, state.step, "rollback", reason, {}))
                    stopped.append(plan.id)
                    reached.add(plan.environment)
            for flag_key in release.flags:
                flag = tx.get_flag(project.id, flag_key)
                if flag is None:
                    continue
                for environment in environments:
                    if environment.key not in reached:
                        continue
                    config = tx.get_config(flag.id, environment.id)
                    if config is not None and config.enabled:
                        target = Target(project_key, flag_key, environment.key)
                        switch_off(tx, principal, target, reason)
                        off.append((flag_key, environment.key))
            rolled = release
            if release.stage is not None:
                rolled = tx.save_release(release_flow.mark_rolled_back(release, now))
            commands = git_commands(release)
            todo = _still_to_do(release, commands)
            audit(
                tx,
                principal,
                "release.rollback",
                "release",
                release_key,
                project=project_key,
                before={"status": release.status.value},
                after={
                    "status": rolled.status.value,
                    "flags_off": [f"{f}@{e}" for f, e in off],
                    "plans_stopped": stopped,
                    "git": commands,
                },
                reason=reason,
            )
            self._notifications.announce(
                tx,
                Notification(
                    kind="release.rolled-back",
                    project=project_key,
                    title=f"{release_key} ({release.title}) rolled back",
                    text="\n".join(
                        [
                            f"Reason: {reason}",
                            f"Flags off: {', '.join(f'{f} in {e}' for f, e in off) or 'none'}",
                            *(f"To do: {item}" for item in todo),
                        ]
                    ),
                    at=now,
                    release=release_key,
                    severity="critical",
                    data={"by": principal.person, "git": commands},
                ),
            )
        return RollbackReport(rolled, off, stopped, commands, todo)

    def drill(
        self,
        principal: Principal,
        project_key: str,
        release_key: str,
        environment_key: str | None = None,
        sample: int = DRILL_SAMPLE,
    ) -> DrillReport:
        """``environment_key`` defaults to where the pipeline tests before production."""
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.PROMOTE, project)
            principal.require(Action.WRITE_FLAGS, project)
            if environment_key is None:
                tested = self._policy.testing_stage(self._policy.policy_for(tx, project))
                environment_key = tested or ""
            environment = environment_or_404(tx, project, environment_key)
            release = tx.get_release(project.id, release_key, for_update=True)
            if release is None:
                raise NotFound(f"no release {release_key!r} in project {project_key!r}")
            if not release.flags:
                raise Conflict(f"{release_key} names no flags: there is nothing to switch off")
            saved: dict[str, FlagConfig] = {}
            already_off: list[str] = []
            for flag_key in release.flags:
                flag = tx.get_flag(project.id, flag_key)
                if flag is None:
                    raise NotFound(f"{release_key} names flag {flag_key!r}, which does not exist")
                config = tx.get_config(flag.id, environment.id)
                if config is None or not config.enabled:
                    already_off.append(flag_key)
                else:
                    saved[flag_key] = config
            if already_off:
                detail = _nothing_to_switch_off(tx, release, environment, already_off)
                self._record(tx, principal, release, environment_key, False, detail)
                return DrillReport(release_key, environment_key, False, 0, detail=detail)
            for flag_key in saved:
                target = Target(project_key, flag_key, environment_key)
                switch_off(tx, principal, target, "rollback drill")
        # Committed and published: what every SDK now receives for this environment.
        document = self._snapshots.current(environment.id).document
        still_on = _evaluate_off(document, release.flags, sample)
        succeeded = not still_on
        detail = (
            f"flags off for all {sample} sampled users through the SDK evaluator"
            if succeeded
            else "still on for some users: "
            + ", ".join(f"{flag} ({count}/{sample})" for flag, count in still_on.items())
        )
        with self._store.transaction() as tx:
            for flag_key, before in saved.items():
                change = ConfigChange(
                    "flag.restore",
                    _restore(before.rules()),
                    reason="after rollback drill",
                    # Back to exactly what the drill switched off, even where protected.
                    authority=f"rollback drill of {release_key}",
                )
                apply_change_in(
                    tx, principal, Target(project_key, flag_key, environment_key), change
                )
            current = tx.get_release(project.id, release_key, for_update=True) or release
            self._record(tx, principal, current, environment_key, succeeded, detail)
        return DrillReport(
            release_key, environment_key, succeeded, sample, still_on, sorted(saved), detail
        )

    def _record(
        self,
        tx: _DrillRecordTx,
        principal: Principal,
        release: Release,
        environment_key: str,
        succeeded: bool,
        detail: str,
    ) -> None:
        """The drill as evidence for the gates, in the audit log, and told (in the same
        unit of work)."""
        data = {"succeeded": succeeded, "detail": detail}
        by, kind, now = Witness.of(principal), EvidenceKind.DRILL, tx.now()
        record_evidence_in(tx, by, release, kind, environment_key, now, data)
        if self._news is not None:
            announce_drill(self._news, tx, release, environment_key, (succeeded, detail), now)


def _nothing_to_switch_off(
    tx: ProjectStore, release: Release, environment: Environment, flags: list[str]
) -> str:
    """Why a drill where ``flags`` are already off proves nothing, and what to do first:
    promote the release there (which switches its flags on for the stage's testers) or,
    when it has been promoted there already, switch them back on."""
    where = environment.key
    quoted = [repr(flag) for flag in flags]
    names = " and ".join([", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 1 else quoted)
    verb, it, the_flag = (
        ("is", "it", "the flag") if len(flags) == 1 else ("are", "them", "the flags")
    )
    positions = {e.key: e.position for e in tx.list_environments(environment.project_id)}
    stage = positions.get(release.stage or "", -1)
    if stage < environment.position:
        first = (
            f"promote {release.key} into {where} first (`shipwise release promote "
            f"{release.key} --env {where}`; it switches {the_flag} on for testers)"
        )
    else:
        commands = "; ".join(f"`shipwise flag enable {flag} -e {where}`" for flag in flags)
        first = f"switch {it} on in {where} first ({commands})"
    return (
        f"{names} {verb} already off in {where}, so switching {it} off proves nothing: "
        f"{first}, then drill again"
    )


def _restore(rules: dict[str, Any]) -> Callable[[FlagConfig], dict[str, Any]]:
    return lambda _current: rules


def _evaluate_off(document: bytes, flags: tuple[str, ...], sample: int) -> dict[str, int]:
    """How many of ``sample`` users each flag is still on for, evaluated by the SDK's
    client on the snapshot document (the same bytes ``/sdk/v1/snapshot`` serves)."""
    client = Client.offline(json.loads(document))
    try:
        contexts: list[Mapping[str, Any]] = [
            {"userId": f"drill-user-{n}", "sessionId": f"drill-session-{n}"} for n in range(sample)
        ]
        still_on: dict[str, int] = {}
        for flag in flags:
            count = sum(1 for context in contexts if client.is_enabled(flag, context))
            if count:
                still_on[flag] = count
        return still_on
    finally:
        client.close()


def _still_to_do(release: Release, commands: list[str]) -> list[str]:
    todo: list[str] = []
    if commands:
        todo.append(
            "revert the code: " + "; ".join(commands) + " — then open a pull request and let "
            "it go through the pipeline (the flags stay off meanwhile)"
        )
    else:
        todo.append("no merge commit is recorded: find the release's commits and revert them")
    if release.communication_plan:
        todo.append(f"tell people, per the communication plan: {release.communication_plan}")
    else:
        todo.append(f"tell the owner ({release.owner}) and the people who use the feature")
    todo.append("write down what went wrong while it is fresh (a follow-up release fixes it)")
    return todo

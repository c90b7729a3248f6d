"""Moving in: an Unleash client-API features document loaded into one environment.

All or nothing: the whole document is written in one transaction, every flag checked as
if it were written through the API; if anything cannot be represented (a custom
strategy, a name that is not a valid key, a constraint that could never work), every
such flag is reported by name and the transaction is rolled back, so nothing is written.
Into a protected environment, an import that would show flags already there to more
users is refused the same way (409), naming each; flags new to the project come as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from shipwise.domain.access import Action
from shipwise.domain.exposure import rules_widening
from shipwise.domain.flags import FlagKind
from shipwise.domain.keys import FLAG_KEY
from shipwise.domain.protected_paths import import_refusal
from shipwise.engine import (
    Flag,
    SnapshotError,
    dump_flag_document,
    dump_segment_document,
    state_from_unleash,
)
from shipwise.engine.validation import Problem
from shipwise.server.ports import (
    AuditStore,
    Clocked,
    Environment,
    FlagStore,
    Project,
    SegmentStore,
    StoreOf,
)
from shipwise.server.services._common import (
    audit,
    creating,
    environment_or_404,
    off_config,
    project_or_404,
)
from shipwise.server.services.errors import Invalid, Refused
from shipwise.server.services.flag_news import FlagNewsTx, tell_sentry
from shipwise.server.services.principal import Principal
from shipwise.server.services.project_policy import PolicyReader, project_policy
from shipwise.server.services.rules import check_constraints, rule_problems

_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_KINDS = frozenset(k.value for k in FlagKind)


@dataclass
class ImportReport:
    created_flags: list[str] = field(default_factory=list)
    updated_flags: list[str] = field(default_factory=list)
    segments: dict[int, str] = field(default_factory=dict)  # Unleash id -> Shipwise name
    notes: list[str] = field(default_factory=list)  # what was imported differently


def _segment_name(unleash_id: int, name: str | None) -> str:
    text = _UNSAFE.sub("-", (name or f"segment-{unleash_id}").lower()).strip("-._")
    return text[:63] or f"segment-{unleash_id}"


def _positions(document: Any, key: str = "features", name: str = "name") -> dict[Any, int]:
    """Each flag's (or segment's) index in the document, to name the field at fault."""
    items = document.get(key) if isinstance(document, Mapping) else None
    if not isinstance(items, list):
        return {}
    return {f[name]: i for i, f in enumerate(items) if isinstance(f, Mapping) and name in f}


def _document_field(error: SnapshotError, document: Any) -> str:
    """``features[2].strategies[0].name`` from the engine's "flag 'x'" and its field."""
    kind, _, which = error.where.partition(" ")
    index: int | None = None
    if which.startswith("#") and which[1:].isdigit():
        index = int(which[1:])
    elif kind == "flag":
        index = _positions(document).get(which.strip("'\""))
    elif kind == "segment" and which.isdigit():
        index = _positions(document, "segments", "id").get(int(which))
    if kind not in {"flag", "segment"} or index is None:
        return error.field or "features"
    prefix = f"{'features' if kind == 'flag' else 'segments'}[{index}]"
    return f"{prefix}.{error.field}" if error.field else prefix


class _ImportTx(FlagNewsTx, FlagStore, SegmentStore, AuditStore, Clocked, Protocol):
    """What an import writes: flags and their configurations, segments, the audit log,
    and the flag changes Sentry hears of (``flag_news``)."""


class _ImportServiceTx(_ImportTx, PolicyReader, Protocol):
    """An import, and the policy that says whether its environment is protected."""


class _Import:
    """One import's transaction: what it wrote so far, and what it could not represent."""

    def __init__(
        self,
        tx: _ImportTx,
        principal: Principal,
        project: Project,
        environment: Environment,
        *,
        guarded: bool,
    ) -> None:
        self.tx, self.principal = tx, principal
        self.project, self.environment = project, environment
        self.report = ImportReport()
        self.problems: dict[str, list[Problem]] = {}  # by flag name
        self.segment_ids: dict[int, int] = {}  # Unleash id -> Shipwise id
        # A protected environment, imported into without an authority: flags that exist
        # already may not be shown to more users (``widened``: each one, and why).
        self.guarded = guarded
        self.widened: list[tuple[str, str]] = []

    def record(self, action: str, kind: str, key: str, **details: Any) -> None:
        audit(self.tx, self.principal, action, kind, key, project=self.project.key, **details)

    def segment(
        self, index: int, unleash_id: int, name: str | None, constraints: list[Any]
    ) -> None:
        """Reuse a segment with the same name and constraints; never change one that
        exists (other flags, in other environments, may use it): pick a new name."""
        wanted = _segment_name(unleash_id, name)
        chosen, suffix = wanted, 1
        while (existing := self.tx.get_segment(self.project.id, chosen)) is not None:
            if existing.constraints == constraints:
                self.segment_ids[unleash_id] = existing.id
                self.report.segments[unleash_id] = chosen
                return
            suffix += 1
            chosen = f"{wanted[:58]}-{suffix}"
        if chosen != wanted:
            self.report.notes.append(
                f"segment {wanted!r} already exists with other constraints; "
                f"Unleash segment {unleash_id} was imported as {chosen!r}"
            )
        try:
            check_constraints(constraints)
        except Invalid as error:
            raise Invalid(
                f"nothing was imported: segment {unleash_id} ({name!r}): {error.message}",
                field=f"segments[{index}].{error.field}",
            ) from None
        saved = self.tx.save_segment(self.project.id, chosen, "imported from Unleash", constraints)
        self.segment_ids[unleash_id] = saved.id
        self.report.segments[unleash_id] = chosen
        after = {"id": saved.id, "constraints": constraints, "version": saved.version}
        self.record("segment.create", "segment", chosen, after=after)

    def ensure_flag(self, flag: Flag, environments: list[Environment]) -> None:
        problem = FLAG_KEY.problem(flag.name)  # Unleash's own rule: names arrive unchanged
        if problem is not None:
            self.problems.setdefault(flag.name, []).append(("name", problem))
            return
        if flag.description is not None and "\x00" in flag.description:
            problem = "contains a NUL character, which a description cannot hold"
            self.problems.setdefault(flag.name, []).append(("description", problem))
            return
        kind = flag.kind if flag.kind in _KINDS else FlagKind.RELEASE.value
        if kind != flag.kind:
            self.report.notes.append(f"flag {flag.name!r}: type {flag.kind!r} became 'release'")
        if self.tx.get_flag(self.project.id, flag.name) is not None:
            self.report.updated_flags.append(flag.name)
            return
        record = self.tx.add_flag(self.project.id, flag.name, kind, None, flag.description, ())
        for environment in environments:
            self.tx.save_config(off_config(self.tx, record.id, environment.id))
        self.report.created_flags.append(flag.name)
        after: dict[str, Any] = {"kind": kind, "description": flag.description, "tags": []}
        self.record("flag.create", "flag", flag.name, after=after)
        actor = self.principal.actor
        tell_sentry(self.tx, self.project, flag.name, "flag.create", actor, change="created")

    def configure(self, flag: Flag) -> None:
        record = self.tx.get_flag(self.project.id, flag.name)
        document = dump_flag_document(flag)
        rules: dict[str, Any] = {"enabled": flag.enabled}
        for key in ("strategies", "variants", "dependencies"):
            rules[key] = document.get(key, [])
        missing = []
        for index, strategy in enumerate(rules["strategies"]):
            for position, unleash_id in enumerate(strategy.get("segments", [])):
                if unleash_id not in self.segment_ids:
                    field = f"strategies[{index}].segments[{position}]"
                    missing.append((field, f"segment {unleash_id} is not in the document"))
                    continue
                strategy["segments"][position] = self.segment_ids[unleash_id]
        # A missing segment's id must not meet a Shipwise segment that happens to share it.
        kind = flag.kind if record is None else record.kind
        problems = missing or rule_problems(self.tx, self.project, flag.name, kind, rules)
        if problems:
            self.problems.setdefault(flag.name, []).extend(problems)
        if problems or record is None:  # None: its name was refused by ensure_flag
            return
        current = self.tx.get_config(record.id, self.environment.id, for_update=True)
        current = current or off_config(self.tx, record.id, self.environment.id)
        # A flag new to the project arrives as it is: a team moving in from Unleash brings
        # what its users already see. Only flags that were here before are held back.
        if self.guarded and flag.name not in self.report.created_flags:
            widening = rules_widening(current.rules(), rules)
            if widening.widens:
                self.widened.append((flag.name, widening.describe()))
        updated = self.tx.save_config(
            replace(
                current,
                enabled=flag.enabled,
                strategies=rules["strategies"],
                variants=rules["variants"],
                dependencies=rules["dependencies"],
            )
        )
        self.record(
            "flag.import",
            "flag",
            flag.name,
            environment=self.environment.key,
            before={**current.rules(), "version": current.version},
            after={**updated.rules(), "version": updated.version},
        )
        tell_sentry(
            self.tx,
            self.project,
            flag.name,
            "flag.import",
            self.principal.actor,
            environment=self.environment.key,
            change=updated.version,
        )


class ImportService:
    def __init__(self, store: StoreOf[_ImportServiceTx]) -> None:
        self._store = store

    def import_unleash(
        self,
        principal: Principal,
        project_key: str,
        environment_key: str,
        document: Any,
        *,
        authority: str | None = None,
    ) -> ImportReport:
        """Load ``document`` into one environment, all or nothing. In a protected
        environment, without an ``authority`` (the demo's seeding), a flag that exists
        already may not be shown to more users: such an import is refused whole (409)."""
        try:
            state = state_from_unleash(document)
        except SnapshotError as error:
            raise Invalid(str(error), field=_document_field(error, document)) from None
        with creating(self._store, "features") as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.WRITE_FLAGS, project)
            environment = environment_or_404(tx, project, environment_key)
            guarded = authority is None and project_policy(tx, project).is_protected(
                environment_key
            )
            job = _Import(tx, principal, project, environment, guarded=guarded)
            for index, segment in enumerate(state.segments.values()):
                constraints = dump_segment_document(segment)["constraints"]
                job.segment(index, segment.id, segment.name, constraints)
            environments = tx.list_environments(project.id)
            for flag in state.flags.values():  # all exist before any dependency is checked
                job.ensure_flag(flag, environments)
            for flag in state.flags.values():
                job.configure(flag)
            if job.problems:  # raising rolls the transaction back: nothing was written
                raise _refusal(job.problems, _positions(document))
            if job.widened:
                message = import_refusal(
                    project=project_key, environment=environment_key, widened=job.widened
                )
                first = _positions(document).get(job.widened[0][0])
                raise Refused(message, field="features" if first is None else f"features[{first}]")
            tx.touch([e.id for e in environments])
            report = job.report
            after: dict[str, Any] = {
                "created": report.created_flags,
                "updated": report.updated_flags,
                "segments": list(report.segments.values()),
                "notes": report.notes,
            }
            if authority is not None:
                after["authority"] = authority
            job.record("import.unleash", "environment", environment_key, after=after)
        return report


def _refusal(problems: Mapping[str, list[Problem]], positions: Mapping[str, int]) -> Invalid:
    described = [
        f"flag {name!r}: " + "; ".join(f"{field}: {problem}" for field, problem in found[:3])
        for name, found in problems.items()
    ]
    # The first in the document's order names the field; every one is in the message.
    first_name, first = min(problems.items(), key=lambda item: positions.get(item[0], 0))
    index = positions.get(first_name)
    where = "features" if index is None else f"features[{index}]"
    unrepresentable = ", ".join(repr(name) for name in problems)
    message = f"nothing was imported; cannot represent {unrepresentable}: " + " | ".join(described)
    return Invalid(message, field=f"{where}.{first[0][0]}")

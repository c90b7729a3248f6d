"""Moving in: an Unleash client-API features document loaded into one environment.

All or nothing: every flag and segment is checked first, anything Shipwise cannot
represent is reported by name, and only a clean document is written, in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from shipwise.domain.access import Action
from shipwise.domain.flags import FlagKind
from shipwise.engine import (
    SnapshotError,
    dump_flag_document,
    dump_segment_document,
    state_from_unleash,
)
from shipwise.engine.strategies import STRATEGIES
from shipwise.server.ports import Store
from shipwise.server.services._common import (
    audit,
    environment_or_404,
    flag_or_404,
    off_config,
    project_or_404,
)
from shipwise.server.services.errors import Invalid
from shipwise.server.services.flags import validate_rules
from shipwise.server.services.principal import Principal

_UNSAFE = re.compile(r"[^a-z0-9._-]+")


@dataclass
class ImportReport:
    created_flags: list[str] = field(default_factory=list)
    updated_flags: list[str] = field(default_factory=list)
    segments: dict[int, str] = field(default_factory=dict)  # Unleash id -> Shipwise name


def _segment_name(unleash_id: int, name: str | None) -> str:
    text = _UNSAFE.sub("-", (name or f"segment-{unleash_id}").lower()).strip("-._")
    return text[:63] or f"segment-{unleash_id}"


class ImportService:
    def __init__(self, store: Store) -> None:
        self._store = store

    def import_unleash(
        self, principal: Principal, project_key: str, environment_key: str, document: Any
    ) -> ImportReport:
        try:
            state = state_from_unleash(document)
        except SnapshotError as error:
            raise Invalid(str(error), field=error.field or error.where) from None
        problems = []
        for flag in state.flags.values():
            for index, strategy in enumerate(flag.strategies):
                if strategy.name not in STRATEGIES:
                    problems.append(
                        f"flag {flag.name!r}: strategies[{index}] uses custom strategy "
                        f"{strategy.name!r}, which Shipwise cannot evaluate"
                    )
            if flag.kind not in {k.value for k in FlagKind}:
                problems.append(f"flag {flag.name!r}: type {flag.kind!r} becomes kind 'release'")
        blocking = [p for p in problems if "cannot evaluate" in p]
        if blocking:
            raise Invalid("nothing was imported: " + "; ".join(blocking), field="features")

        report = ImportReport()
        with self._store.transaction() as tx:
            project = project_or_404(tx, project_key)
            principal.require(Action.WRITE_FLAGS, project)
            environment = environment_or_404(tx, project, environment_key)
            new_ids: dict[int, int] = {}
            for segment in state.segments.values():
                name = _segment_name(segment.id, segment.name)
                constraints = dump_segment_document(segment)["constraints"]
                saved = tx.save_segment(project.id, name, "imported from Unleash", constraints)
                new_ids[segment.id] = saved.id
                report.segments[segment.id] = name
            environments = tx.list_environments(project.id)
            for flag in state.flags.values():
                kind = flag.kind if flag.kind in {k.value for k in FlagKind} else "release"
                record = tx.get_flag(project.id, flag.name)
                if record is None:
                    record = tx.add_flag(project.id, flag.name, kind, None, flag.description, ())
                    for other in environments:
                        tx.save_config(off_config(record.id, other.id))
                    report.created_flags.append(flag.name)
                else:
                    report.updated_flags.append(flag.name)
            for flag in state.flags.values():
                record = flag_or_404(tx, project, flag.name)  # created above
                rules = dump_flag_document(flag)
                for strategy in rules.get("strategies", []):
                    if "segments" in strategy:
                        strategy["segments"] = [new_ids.get(i, i) for i in strategy["segments"]]
                rules = {
                    k: rules.get(k, []) for k in ("strategies", "variants", "dependencies")
                } | {"enabled": flag.enabled}
                try:
                    validate_rules(tx, project, record, rules)
                except Invalid as error:
                    raise Invalid(
                        f"nothing was imported: flag {flag.name!r}: {error.message}",
                        field=error.field,
                    ) from None
                current = tx.get_config(record.id, environment.id) or off_config(
                    record.id, environment.id
                )
                tx.save_config(
                    replace(
                        current,
                        enabled=flag.enabled,
                        strategies=rules["strategies"],
                        variants=rules["variants"],
                        dependencies=rules["dependencies"],
                    )
                )
            tx.touch([e.id for e in environments])
            audit(
                tx,
                principal,
                "import.unleash",
                "environment",
                environment_key,
                project=project_key,
                environment=environment_key,
                after={
                    "created": report.created_flags,
                    "updated": report.updated_flags,
                    "segments": list(report.segments.values()),
                    "notes": problems,
                },
            )
        return report

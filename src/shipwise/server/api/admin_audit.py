"""The audit log: every change, who made it, when, with before and after.

GET /audit?project=&target_type=&target_key=&limit=&before_id=   newest first, paged
GET /audit/verify     global admins: the hash chain checked; edits and deletions show
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

from shipwise.domain.access import Action
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import ServicesDep, may, only_global_admins
from shipwise.server.api.schemas import KEY_REGEX, errors
from shipwise.server.ports import AuditFilter, AuditRecord
from shipwise.server.services.principal import Principal

router = admin_router("audit")
MayReadAudit = Annotated[
    Principal, may(Action.READ, every_project="read the audit log of every project")
]
GlobalAdmin = Annotated[Principal, only_global_admins("verify the audit chain")]


class AuditRecordOut(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description="Who: the token's name, id and role, or 'system'")
    action: str = Field(description="What, e.g. flag.configure, flag.kill, token.revoke")
    project: str | None
    environment: str | None
    target_type: str
    target_key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    previous_hash: str
    hash: str

    @classmethod
    def of(cls, record: AuditRecord) -> AuditRecordOut:
        entry = record.entry
        return cls(
            id=record.id,
            at=record.at,
            actor=entry.actor,
            action=entry.action,
            project=entry.project,
            environment=entry.environment,
            target_type=entry.target_type,
            target_key=entry.target_key,
            before=None if entry.before is None else dict(entry.before),
            after=None if entry.after is None else dict(entry.after),
            reason=entry.reason,
            previous_hash=record.previous_hash,
            hash=record.hash,
        )


class AuditPage(BaseModel):
    records: list[AuditRecordOut] = Field(description="Newest first")
    next_before_id: int | None = Field(description="Pass as before_id for the next page")


class ChainBreakOut(BaseModel):
    record_id: int
    problem: str


class VerifyOut(BaseModel):
    ok: bool
    checked: int = Field(description="How many records were checked")
    breaks: list[ChainBreakOut] = Field(description="Each edited or deleted record found")


_Word = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._:-]{1,200}$")]


@router.get(
    "/audit",
    summary="The audit log, newest first (a project's: its members; all: global admins)",
    responses=errors(404, 422),
)
def audit_log(
    services: ServicesDep,
    who: MayReadAudit,
    project: Annotated[str | None, Query(pattern=KEY_REGEX)] = None,
    target_type: _Word = None,
    target_key: _Word = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> AuditPage:
    query = AuditFilter(project, target_type, target_key, limit, before_id)
    records = services.audit.all(who, query)
    more = len(records) == limit and records[-1].id > 1
    return AuditPage(
        records=[AuditRecordOut.of(r) for r in records],
        next_before_id=records[-1].id if more else None,
    )


@router.get(
    "/audit/verify",
    summary="Check the audit log's hash chain (global admins)",
    responses=errors(),
)
def verify(services: ServicesDep, who: GlobalAdmin) -> VerifyOut:
    checked, breaks = services.audit.verify(who)
    return VerifyOut(
        ok=not breaks,
        checked=checked,
        breaks=[ChainBreakOut(record_id=b.record_id, problem=b.problem) for b in breaks],
    )

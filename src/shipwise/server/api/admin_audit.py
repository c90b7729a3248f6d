"""The audit log: every change, who made it, when, with before and after.

GET /audit?project=&environment=&action=&actor=&target_type=&target_key=&since=&until=
          &limit=&before_id=      newest first, paged (next_before_id); filters combine
GET /audit/verify     global admins: the hash chain checked; edits and deletions show
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, BaseModel, Field

from shipwise.domain.access import Action
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.answers import fields_of
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
        return cls.model_validate(fields_of(record, record.entry))


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


_WORD = r"^[A-Za-z0-9._:~!*'()-]{1,200}$"  # any flag key (domain.keys) is a target key
MAX_PAGE = 500  # records per request; older ones through before_id


def _in_utc(moment: datetime | None) -> datetime | None:
    """A moment without a zone is UTC; one whose UTC is off the calendar is a 422."""
    if moment is None or moment.tzinfo is None:
        return None if moment is None else moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the range of dates") from None


_Moment = Annotated[datetime | None, AfterValidator(_in_utc)]


@router.get(
    "/audit",
    summary="The audit log, newest first (a project's: its members; all: global admins)",
    responses=errors(404, 422),
)
def audit_log(
    services: ServicesDep,
    who: MayReadAudit,
    project: Annotated[str | None, Query(pattern=KEY_REGEX)] = None,
    environment: Annotated[
        str | None, Query(pattern=KEY_REGEX, description="Only changes in this environment")
    ] = None,
    action: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z0-9._-]{1,64}(\.\*)?$",
            description="An action (flag.kill), or a family of them (flag.*)",
        ),
    ] = None,
    actor: Annotated[
        str | None,
        Query(
            pattern=r"^[^\x00-\x1f\x7f]{1,200}$",
            description="Part of who made the change, in any case: a token's name, 'system'",
        ),
    ] = None,
    target_type: Annotated[
        str | None, Query(pattern=_WORD, description="What was changed: flag, segment, token, …")
    ] = None,
    target_key: Annotated[
        str | None, Query(pattern=_WORD, description="Its key, e.g. the flag's")
    ] = None,
    since: Annotated[_Moment, Query(description="At or after (ISO 8601; UTC if no zone)")] = None,
    until: Annotated[_Moment, Query(description="Before (ISO 8601; UTC if no zone)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> AuditPage:
    query = AuditFilter(
        project,
        target_type,
        target_key,
        limit,
        before_id,
        environment=environment,
        action=action,
        actor=actor,
        since=since,
        until=until,
    )
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

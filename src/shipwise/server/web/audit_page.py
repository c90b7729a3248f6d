"""The audit log as a page: who did what, when, newest first, filtered through a GET form
so a filter is a URL one can share.

GET /audit                      every project's records (global admins, as the API)
GET /projects/{p}/audit         one project's (anyone who may read it)

    ?actor=&target_type=&target_key=&action=&since=&until=&before_id=&verify=1

``since`` and ``until`` take a duration back from now in the one grammar
(``domain.durations``: "7d", "1h30m") or an ISO date or time ("2026-12-01",
"2026-12-01T09:30", UTC unless it says otherwise). A filter the page cannot use is 422
with the message beside its field and no records. Paging is by id, as the API's
``before_id``: "Older" carries the last record's id and every filter.

The badge says whether the hash chain verifies, by the very check ``GET /audit/verify``
and ``shipwise audit verify`` run (``AuditService.verify``); only a global admin may run
it, so anyone else reads that it is not shown to their role. The check reads and hashes
every record (seconds for 100,000 on SQLite: ``bench/audit_chain.py``), so a page runs it
only when asked: a global admin's page offers a "Check the hash chain" button (the same
GET with ``verify=1``). Remembering a verified position instead would miss an edit to a
record already checked, which is what the check is for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from shipwise.domain.audit import ChainBreak
from shipwise.domain.durations import parse_duration
from shipwise.server.bootstrap import Services
from shipwise.server.ports import AuditFilter, AuditRecord
from shipwise.server.services.errors import Invalid
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedIn, Viewer
from shipwise.server.web.templating import render
from shipwise.server.web.typed_fields import TypedFields

__all__ = ["PAGE_SIZE", "AuditPage", "AuditQuery", "Badge", "router"]

router = web_router()
PAGE_SIZE = 50
MAX_FILTER = 200  # as the API's: the audit log's actor holds 200 characters
MAX_ID = 2**31 - 1
DATE_HINT = "a duration back from now (7d, 12h) or an ISO date or time (2026-12-01T09:30)"


class AuditQuery(TypedFields):
    """The filters as typed (kept in the form and in every link), stripped."""

    actor: str = ""
    target_type: str = ""
    target_key: str = ""
    action: str = ""
    since: str = ""
    until: str = ""

    def link(self, base: str, before_id: int | None = None) -> str:
        """``base`` with these filters (and ``before_id``) in its query."""
        values = {name: value for name, value in self.model_dump().items() if value}
        if before_id is not None:
            values["before_id"] = str(before_id)
        return f"{base}?{urlencode(values)}" if values else base


class AuditPage(AuditQuery):
    """The page's query string: the filters and where the page starts (FastAPI reads a
    query model only when it is a route's one query parameter)."""

    before_id: str = ""
    verify: str = ""  # "1": check the hash chain on this view (a global admin's button)

    @property
    def filters(self) -> AuditQuery:
        return AuditQuery(**self.model_dump(exclude={"before_id", "verify"}))


@dataclass(frozen=True, slots=True)
class Badge:
    """What the page says about the chain: checked (``breaks`` empty: intact), not
    checked on this view but ``offered`` (a button), or not shown (``checked`` None) to a
    role that may not run the check."""

    checked: int | None
    breaks: tuple[ChainBreak, ...] = ()
    offered: bool = False


def _moment(text: str, now: datetime) -> datetime:
    """A duration back from ``now``, or an ISO date (midnight UTC) or time (UTC when it
    names no zone). ValueError says what was expected."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        if len(text) == 10:  # an ISO date, "2026-12-01"
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{text!r} is not {DATE_HINT}") from None


def _problems(query: AuditQuery, before_id: str) -> dict[str, str]:
    errors = {}
    for name, value in query.model_dump().items():
        if len(value) > MAX_FILTER:
            errors[name] = f"at most {MAX_FILTER} characters ({len(value)} given)"
        elif any(ord(c) < 0x20 or c == "\x7f" for c in value):
            errors[name] = "contains a control character, which no record holds"
    if before_id and not (before_id.isdigit() and 1 <= int(before_id) <= MAX_ID):
        errors["before_id"] = "a record's number: a whole number from 1"
    return errors


def _filter(project: str | None, query: AuditQuery, before_id: str, now: datetime) -> AuditFilter:
    """The store's filter for ``query``; ``Invalid`` names the field it cannot use."""
    moments: dict[str, datetime | None] = {"since": None, "until": None}
    for name in moments:
        text = getattr(query, name)
        if text:
            try:
                moments[name] = _moment(text, now)
            except ValueError as error:
                raise Invalid(str(error), field=name) from None
    return AuditFilter(
        project,
        query.target_type or None,
        query.target_key or None,
        PAGE_SIZE,
        int(before_id) if before_id else None,
        action=query.action or None,
        actor=query.actor or None,
        since=moments["since"],
        until=moments["until"],
    )


def _badge(services: Services, viewer: Viewer, asked: bool) -> Badge:
    if not viewer.principal.global_admin:
        return Badge(None)
    if not asked:
        return Badge(None, offered=True)
    checked, breaks = services.audit.verify(viewer.principal)
    return Badge(checked, tuple(breaks))


def _page(
    request: Request,
    viewer: Viewer,
    services: Services,
    project: str | None,
    query: AuditQuery,
    before_id: str,
    verify: bool = False,
) -> HTMLResponse:
    base = "/audit" if project is None else f"/projects/{project}/audit"
    errors = _problems(query, before_id)
    records: list[AuditRecord] = []
    if not errors:
        try:
            found = _filter(project, query, before_id, services.store.now())
            records = services.audit.all(viewer.principal, found)
        except Invalid as error:  # a time the page cannot use, or until before since
            errors[error.field or "since"] = error.message
    else:  # still the reader's check: an unknown project or role is 404/403, not a form
        services.audit.all(viewer.principal, AuditFilter(project, limit=1))
    older = records[-1].id if len(records) == PAGE_SIZE and records[-1].id > 1 else None
    return render(
        request,
        "audit.html",
        viewer,
        status=422 if errors else 200,
        project=project,
        nav="audit",
        errors=errors,
        query=query,
        records=records,
        base=base,
        paged=bool(before_id) and not errors,
        older=None if older is None else query.link(base, older),
        badge=_badge(services, viewer, verify),
        before_id=before_id,
        date_hint=DATE_HINT,
    )


@router.get("/audit", response_class=HTMLResponse)
def every_project(
    request: Request, viewer: SignedIn, services: ServicesDep, page: Annotated[AuditPage, Query()]
) -> HTMLResponse:
    verify = page.verify == "1"
    return _page(request, viewer, services, None, page.filters, page.before_id, verify)


@router.get("/projects/{project}/audit", response_class=HTMLResponse)
def one_project(
    request: Request,
    project: str,
    viewer: SignedIn,
    services: ServicesDep,
    page: Annotated[AuditPage, Query()],
) -> HTMLResponse:
    verify = page.verify == "1"
    return _page(request, viewer, services, project, page.filters, page.before_id, verify)

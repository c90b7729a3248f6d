"""The flags table: ``GET /projects/{project}/flags``, one row per flag, one column per
environment (on or off, the rollout percentage, kill-switched), filtered by tag, kind,
owner and state through a GET form, so a filter is a URL one can share.

It reads what the API's ``GET …/flags`` reads (``services.flags.all``), plus the
project's kill records (``services.audit``) to tell a kill-switched flag from one that
is merely off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from shipwise.domain.flags import FlagKind
from shipwise.server.bootstrap import Services
from shipwise.server.ports import AuditFilter
from shipwise.server.services.flags import FlagView
from shipwise.server.services.principal import Principal
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.flag_words import KILL, Cell, Kill, State, cell, kills_in_force
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedIn
from shipwise.server.web.templating import render
from shipwise.server.web.typed_fields import TypedFields

router = web_router()

# Kill records read to mark kill-switched flags, newest first: a kill older than the
# newest this many is history on any project a person can take in at a glance.
KILLS_READ = 1_000
MAX_FILTER_LENGTH = 200  # a tag, an owner: longer matches nothing any flag can have


class StateFilter(StrEnum):
    """Which flags the table shows; "in any environment" unless it says every one."""

    ANY = ""  # every flag that is not archived
    ON = "on"
    OFF = "off"  # off in every environment
    KILLED = "killed"
    ROLLING = "rolling"  # a gradual rollout below 100%
    ARCHIVED = "archived"


STATE_LABELS = {
    StateFilter.ANY: "any (not archived)",
    StateFilter.ON: "on somewhere",
    StateFilter.OFF: "off everywhere",
    StateFilter.KILLED: "kill-switched somewhere",
    StateFilter.ROLLING: "rolling out (under 100%)",
    StateFilter.ARCHIVED: "archived",
}


@dataclass(frozen=True, slots=True)
class FlagRow:
    view: FlagView
    cells: tuple[Cell | None, ...]  # one per environment column; None: no rules there


class Filters(TypedFields):
    """The table's filters as typed, from the GET form (so a URL one can share)."""

    tag: str = ""
    kind: str = ""
    owner: str = ""
    state: str = ""


def _problems(filters: Filters) -> dict[str, str]:
    errors = {}
    if filters.kind and filters.kind not in {k.value for k in FlagKind}:
        choices = ", ".join(k.value for k in FlagKind)
        errors["kind"] = f"unknown kind {filters.kind!r}; choose one of {choices}"
    if filters.state not in {s.value for s in StateFilter}:
        choices = ", ".join(s.value for s in StateFilter if s.value)
        errors["state"] = f"unknown state {filters.state!r}; choose one of {choices}"
    for name in ("tag", "owner"):
        if len(getattr(filters, name)) > MAX_FILTER_LENGTH:
            errors[name] = f"at most {MAX_FILTER_LENGTH} characters"
    return errors


def _shows(row: FlagRow, filters: Filters) -> bool:
    flag = row.view.flag
    if filters.tag and filters.tag not in flag.tags:
        return False
    if filters.kind and flag.kind != filters.kind:
        return False
    if filters.owner and (flag.owner or "") != filters.owner:
        return False
    cells = [c for c in row.cells if c is not None]
    match StateFilter(filters.state):
        case StateFilter.ARCHIVED:
            return flag.archived
        case _ if flag.archived:
            return False
        case StateFilter.ON:
            return any(c.enabled for c in cells)
        case StateFilter.OFF:
            return not any(c.enabled for c in cells)
        case StateFilter.KILLED:
            return any(c.state is State.KILLED for c in cells)
        case StateFilter.ROLLING:
            return any(c.enabled and c.rollout is not None and c.rollout < 100 for c in cells)
    return True


def project_kills(
    services: Services, principal: Principal, project: str, flag: str | None = None
) -> Mapping[tuple[str, str], tuple[int, Kill]]:
    """The kills still in force might be among these: (flag, environment) → the newest."""
    query = AuditFilter(
        project=project, target_type="flag", target_key=flag, action=KILL, limit=KILLS_READ
    )
    return kills_in_force(services.audit.all(principal, query))


def flag_rows(
    views: Sequence[FlagView],
    environments: Sequence[str],
    kills: Mapping[tuple[str, str], tuple[int, Kill]],
) -> list[FlagRow]:
    rows = []
    for view in views:
        key = view.flag.key
        cells = tuple(
            cell(key, env, view.configs[env], kills) if env in view.configs else None
            for env in environments
        )
        rows.append(FlagRow(view, cells))
    return rows


@router.get("/projects/{project}/flags", response_class=HTMLResponse)
def flags_table(
    request: Request,
    project: str,
    viewer: SignedIn,
    services: ServicesDep,
    filters: Annotated[Filters, Query()],
) -> HTMLResponse:
    principal = viewer.principal
    environments = [e.key for e in services.projects.get(principal, project).environments]
    views = services.flags.all(principal, project)
    errors = _problems(filters)
    rows = flag_rows(views, environments, project_kills(services, principal, project))
    shown = rows if errors else [r for r in rows if _shows(r, filters)]
    return render(
        request,
        "flags.html",
        viewer,
        status=422 if errors else 200,
        nav="flags",
        errors=errors,
        environments=environments,
        rows=shown,
        total=len(rows),
        filters=filters,
        kinds=[k.value for k in FlagKind],
        states=STATE_LABELS,
        tags=sorted({t for v in views for t in v.flag.tags} | ({filters.tag} - {""})),
        owners=sorted({v.flag.owner for v in views if v.flag.owner} | ({filters.owner} - {""})),
    )

"""The flags table: ``GET /projects/{project}/flags``, one row per flag, one column per
environment (on or off, the rollout percentage, kill-switched), 50 flags to a page ("1 to
50 of 1,000" with Previous and Next), filtered by tag, kind, owner, state and a part of the
key through a GET form, so a filter and a page are a URL one can share.

A page reads its own flags only: the store filters by tag, kind, owner, key, archived
and on/off and counts the rest (``services.flags.page``). Two states are not in the
store's columns: a rollout under 100% is in the rules' JSON, and a kill switch in the
audit log (``flag_words``); for those the store narrows the candidates (flags on
somewhere; flags with a kill record) and the page judges them, then pages the result.
The project's kill records tell a kill-switched flag from one that is merely off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from shipwise.domain.flags import FlagKind
from shipwise.server.bootstrap import Services
from shipwise.server.ports import AuditFilter
from shipwise.server.ports.flags import FlagQuery
from shipwise.server.services.flags import FlagListing, FlagView
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
PAGE_SIZE = 50  # rows a page, as LaunchDarkly's and Unleash's flag lists


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

    q: str = ""  # a part of the key
    tag: str = ""
    kind: str = ""
    owner: str = ""
    state: str = ""
    page: str = ""  # 1 when empty

    @property
    def active(self) -> bool:
        """Whether a filter narrows the table (a page number alone does not)."""
        return any(v for k, v in self.model_dump().items() if k != "page")

    def link(self, base: str, page: int) -> str:
        """This filter's URL at ``page``: the filters the form sent, and the page."""
        values = {k: v for k, v in self.model_dump().items() if v and k != "page"}
        if page > 1:
            values["page"] = str(page)
        return f"{base}?{urlencode(values)}" if values else base

    def query(self, keys: frozenset[str] | None = None) -> FlagQuery:
        """What the store can filter; the state's rollout and kill are judged after."""
        state = StateFilter(self.state)
        enabled = {StateFilter.ON: True, StateFilter.OFF: False, StateFilter.ROLLING: True}
        return FlagQuery(
            archived=state is StateFilter.ARCHIVED,
            tag=self.tag or None,
            kind=self.kind or None,
            owner=self.owner or None,
            search=self.q or None,
            enabled=enabled.get(state),
            keys=keys,
        )


def _page_number(filters: Filters) -> int | None:
    """The page asked for, from 1; None when it is not a page number."""
    if not filters.page:
        return 1
    if not filters.page.isascii() or not filters.page.isdigit() or len(filters.page) > 6:
        return None
    number = int(filters.page)
    return number if number >= 1 else None


def _problems(filters: Filters) -> dict[str, str]:
    errors = {}
    if _page_number(filters) is None:
        errors["page"] = f"not a page number: {filters.page!r}; pages count from 1"
    if filters.kind and filters.kind not in {k.value for k in FlagKind}:
        choices = ", ".join(k.value for k in FlagKind)
        errors["kind"] = f"unknown kind {filters.kind!r}; choose one of {choices}"
    if filters.state not in {s.value for s in StateFilter}:
        choices = ", ".join(s.value for s in StateFilter if s.value)
        errors["state"] = f"unknown state {filters.state!r}; choose one of {choices}"
    for name in ("q", "tag", "owner"):
        if len(getattr(filters, name)) > MAX_FILTER_LENGTH:
            errors[name] = f"at most {MAX_FILTER_LENGTH} characters"
    return errors


def _shows(row: FlagRow, state: StateFilter) -> bool:
    """The states the store cannot judge: a rollout under 100%, a kill in force."""
    cells = [c for c in row.cells if c is not None]
    if state is StateFilter.KILLED:
        return any(c.state is State.KILLED for c in cells)
    if state is StateFilter.ROLLING:
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


@dataclass(frozen=True, slots=True)
class TablePage:
    rows: list[FlagRow]
    total: int  # flags the filter matches
    number: int  # this page, from 1 (the last one when asked for a page past it)
    listing: FlagListing  # environments, tags and owners

    @property
    def first(self) -> int:
        """The position of this page's first row, from 1 (0 when there is none)."""
        return (self.number - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def rows_shown(self) -> str:
        """The positions of this page's rows, 1 to 50 written with an en dash."""
        return _span(self.first, self.last)

    @property
    def previous_rows(self) -> str:
        return _span(self.first - PAGE_SIZE, self.first - 1)

    @property
    def next_rows(self) -> str:
        return _span(self.last + 1, min(self.last + PAGE_SIZE, self.total))


def _span(first: int, last: int) -> str:
    return f"{first:,}" if first == last else f"{first:,}\u2013{last:,}"


def _table_page(
    services: Services, principal: Principal, project: str, filters: Filters, number: int
) -> TablePage:
    state = StateFilter(filters.state)
    kills = project_kills(services, principal, project)
    if state in (StateFilter.KILLED, StateFilter.ROLLING):
        # The store narrows the candidates (flags with a kill record; flags on somewhere);
        # their rules and kills decide, then the page is cut from what is left.
        keys = frozenset(flag for flag, _ in kills) if state is StateFilter.KILLED else None
        listing = services.flags.page(principal, project, filters.query(keys))
        rows = flag_rows(listing.views, listing.environments, kills)
        matching = [row for row in rows if _shows(row, state)]
        pages = max(1, -(-len(matching) // PAGE_SIZE))
        number = min(number, pages)
        shown = matching[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        return TablePage(shown, len(matching), number, listing)
    query = filters.query()
    listing = services.flags.page(
        principal, project, query, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    if not listing.views and listing.total and number > 1:
        # Past the last page (flags archived since the link was made): show the last.
        number = -(-listing.total // PAGE_SIZE)
        listing = services.flags.page(
            principal, project, query, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
    rows = flag_rows(listing.views, listing.environments, kills)
    return TablePage(rows, listing.total, number, listing)


@router.get("/projects/{project}/flags", response_class=HTMLResponse)
def flags_table(
    request: Request,
    project: str,
    viewer: SignedIn,
    services: ServicesDep,
    filters: Annotated[Filters, Query()],
) -> HTMLResponse:
    principal = viewer.principal
    errors = _problems(filters)
    # A filter the page cannot read shows the first page of every flag, the message
    # beside the field at fault.
    shown = Filters() if errors else filters
    table = _table_page(services, principal, project, shown, _page_number(shown) or 1)
    base = f"/projects/{project}/flags"
    facets = table.listing.facets
    return render(
        request,
        "flags.html",
        viewer,
        status=422 if errors else 200,
        nav="flags",
        errors=errors,
        environments=table.listing.environments,
        table=table,
        rows=table.rows,
        filters=filters,
        previous=shown.link(base, table.number - 1) if table.number > 1 else None,
        next=shown.link(base, table.number + 1) if table.number < table.pages else None,
        kinds=[k.value for k in FlagKind],
        states=STATE_LABELS,
        tags=sorted(set(facets.tags) | ({filters.tag} - {""})),
        owners=sorted(set(facets.owners) | ({filters.owner} - {""})),
    )

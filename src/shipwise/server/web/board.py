"""The project board, and ``/``: where every release of a project is, at a glance.

GET /                            the first (only) project's board, or the list of projects
GET /projects/{p}/board          ?kind=&severity=&owner= (a GET form: the filter is the URL);
                                 &released=all: every released card, not the newest ten
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from fastapi.responses import RedirectResponse

from shipwise.domain.releases import ChangeKind, Severity
from shipwise.server.services.errors import Invalid
from shipwise.server.services.release_board import MAX_OWNER_FILTER, BoardFilter
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedIn
from shipwise.server.web.templating import render

__all__ = ["router"]

router = web_router()
# Longer than any kind, severity or name: the 422 page says so rather than echo it.
FilterText = Annotated[str, Query(max_length=MAX_OWNER_FILTER + 1)]


@router.get("/")
def home(request: Request, viewer: SignedIn, services: ServicesDep) -> Response:
    projects = services.projects.all(viewer.principal)
    if len(projects) == 1:
        key = projects[0].project.key
        return RedirectResponse(f"/projects/{key}/board", status_code=303)
    return render(request, "projects.html", viewer, projects=projects)


@router.get("/projects/{project}/board")
def board(
    request: Request,
    project: str,
    viewer: SignedIn,
    services: ServicesDep,
    kind: FilterText = "",
    severity: FilterText = "",
    owner: FilterText = "",
    released: FilterText = "",
) -> Response:
    filters = {"kind": kind, "severity": severity, "owner": owner.strip()}
    wanted = BoardFilter(
        **{name: value or None for name, value in filters.items()},
        all_released=released == "all",
    )
    kept = {name: value for name, value in filters.items() if value}
    context: dict[str, Any] = {
        "nav": "board",
        "filters": filters,
        # The board with every released card, the same filters kept.
        "all_released": f"/projects/{project}/board?{urlencode({**kept, 'released': 'all'})}",
        "kinds": [k.value for k in ChangeKind],
        "severities": [s.value for s in Severity],
    }
    try:
        found = services.board.board(viewer.principal, project, wanted)
    except Invalid as error:
        # The filter form again, the message beside the field it names; no cards.
        errors = {error.field or "kind": error.message}
        return render(request, "board.html", viewer, 422, board=None, errors=errors, **context)
    return render(request, "board.html", viewer, board=found, **context)

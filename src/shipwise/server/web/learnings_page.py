"""A release's learnings on the dashboard: read them with the timeline the audit record
fills, and write them in one form (keyboard only, CSRF-checked like every POST).

GET  /projects/{p}/releases/{key}/learnings
POST /projects/{p}/releases/{key}/learnings   version, went_well, went_badly,
     contributing_factors, action_items (a line each: what | owner | YYYY-MM-DD),
     timeline (a line each: YYYY-MM-DDTHH:MMZ | who | what)

The form carries the version it showed: a save over a newer one is the page again (409)
with who saved in between, what was typed kept, nothing changed. A bad line is the page
again (422) with the message beside its field. The service decides, as for the API.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request, Response

from shipwise.server.bootstrap import Services
from shipwise.server.services.errors import Conflict, Invalid, ServiceError
from shipwise.server.services.learnings import LearningsView
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.release_page import release_url
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedIn, SignedInPost, Viewer
from shipwise.server.web.templating import redirect_done, render

__all__ = ["router"]

router = web_router()
FormText = Annotated[str, Form()]
PATH = "/projects/{project}/releases/{key}/learnings"
FIELDS = ("went_well", "went_badly", "contributing_factors", "action_items", "timeline")


def _lines(view: LearningsView) -> dict[str, str]:
    """The saved learnings as the form's fields."""
    draft = view.draft
    return {
        "went_well": draft.went_well,
        "went_badly": draft.went_badly,
        "contributing_factors": draft.contributing_factors,
        "action_items": "\n".join(
            f"{i.what} | {i.owner} | {i.due.isoformat()}" for i in draft.action_items
        ),
        "timeline": "\n".join(
            f"{line.at:%Y-%m-%dT%H:%MZ} | {line.who} | {line.what}" for line in draft.added_lines
        ),
        "version": str(view.version),
    }


def _split(text: str, field: str, names: tuple[str, str, str]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 3:
            raise Invalid(
                f"line {number}: write {' | '.join(names)} (three parts, split by |)",
                field=field,
            )
        found.append(dict(zip(names, parts, strict=True)))
    return found


def _field(name: str) -> str:
    """``action_items[2].due`` → ``action_items``: the form's field that holds it."""
    return next((f for f in FIELDS if name.startswith(f)), "form")


def _page(
    request: Request,
    viewer: Viewer,
    services: Services,
    project: str,
    key: str,
    failure: ServiceError | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    view = services.learnings.show(viewer.principal, project, key)
    errors: dict[str, str] = {}
    if failure is not None:
        errors[_field(failure.field or "form")] = failure.message
    return render(
        request,
        "learnings.html",
        viewer,
        status=200 if failure is None else failure.status,
        project=project,
        nav="board",
        view=view,
        release=view.release,
        values=typed or _lines(view),
        errors=errors,
        url=f"{release_url(project, key)}/learnings",
        release_link=release_url(project, key),
    )


@router.get(PATH)
def learnings_page(
    request: Request, project: str, key: str, viewer: SignedIn, services: ServicesDep
) -> Response:
    return _page(request, viewer, services, project, key)


@router.post(PATH)
def save_learnings(
    request: Request,
    project: str,
    key: str,
    viewer: SignedInPost,
    services: ServicesDep,
    version: FormText = "",
    went_well: FormText = "",
    went_badly: FormText = "",
    contributing_factors: FormText = "",
    action_items: FormText = "",
    timeline: FormText = "",
) -> Response:
    typed = {
        "version": version,
        "went_well": went_well,
        "went_badly": went_badly,
        "contributing_factors": contributing_factors,
        "action_items": action_items,
        "timeline": timeline,
    }
    try:
        data: dict[str, Any] = {
            "went_well": went_well,
            "went_badly": went_badly,
            "contributing_factors": contributing_factors,
            "action_items": _split(action_items, "action_items", ("what", "owner", "due")),
            "timeline": _split(timeline, "timeline", ("at", "who", "what")),
        }
        read = int(version) if version.strip().isdigit() else -1
        saved = services.learnings.save(viewer.principal, project, key, data, read)
    except (Conflict, Invalid) as error:
        return _page(request, viewer, services, project, key, error, typed)
    return redirect_done(
        f"{release_url(project, key)}/learnings",
        f"Saved the learnings of {key} (version {saved.version})",
    )

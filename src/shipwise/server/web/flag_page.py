"""The flag page: ``GET /projects/{project}/flags/{flag}``.

What the flag is; its rules as a matrix of environments by rules, each column compared with
the environment named in ``?compare=``; the quick switches per environment (toggle,
rollout percentage, kill with a reason: ``flag_actions``), shown only to those whose role
may use them; "Who gets this?" (``GET …/who``, the same page with the answer); and the
flag's history from the audit log.

An action that failed renders this page again through ``flag_page`` with its status (409
for a stale version or a protected environment's refusal, 422 for a field at fault) and
the message beside the form that was sent (``Acted``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import HTMLResponse

from shipwise.server.bootstrap import Services
from shipwise.server.ports import AuditFilter
from shipwise.server.services.preview import EnvironmentAnswer, Preview
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.flag_matrix import build_matrix
from shipwise.server.web.flags_page import project_kills
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedIn, Viewer
from shipwise.server.web.templating import render
from shipwise.server.web.who_form import MAX_PROPERTIES, WhoQuery, read_who

router = web_router()

HISTORY = 50  # the flag's newest audit records on its page; the audit log has the rest


@dataclass(frozen=True, slots=True)
class Acted:
    """The form a failed action came from, and what to say beside it."""

    environment: str
    action: str  # "toggle", "rollout" or "kill"
    errors: dict[str, str] = field(default_factory=dict)  # field → message
    message: str | None = None  # for the form as a whole (a refusal, a stale version)
    values: dict[str, str] = field(default_factory=dict)  # what was typed, shown again


def flag_page(
    request: Request,
    viewer: Viewer,
    services: Services,
    project: str,
    flag: str,
    *,
    status: int = 200,
    compare: str = "",
    acted: Acted | None = None,
    who: WhoQuery | None = None,
    answers: list[EnvironmentAnswer] | None = None,
) -> HTMLResponse:
    principal = viewer.principal
    view = services.flags.get(principal, project, flag)
    errors: dict[str, str] = {}
    if compare and compare not in view.configs:
        errors["compare"] = f"no environment {compare!r}; choose one of {', '.join(view.configs)}"
        compare, status = "", max(status, 422)
    uses_segments = any(s.get("segments") for c in view.configs.values() for s in c.strategies)
    segments = (
        {s.id: s.name for s in services.segments.all(principal, project)} if uses_segments else {}
    )
    matrix = build_matrix(
        flag,
        view.configs,
        project_kills(services, principal, project, flag),
        segments,
        compare or None,
    )
    history = services.audit.all(
        principal, AuditFilter(project=project, target_type="flag", target_key=flag, limit=HISTORY)
    )
    who = who or WhoQuery()
    return render(
        request,
        "flag.html",
        viewer,
        status=status,
        nav="flags",
        errors=errors,
        flag=view.flag,
        matrix=matrix,
        compare=compare,
        acted=acted,
        who=who,
        answers=answers,
        max_properties=MAX_PROPERTIES,
        history=history,
        history_limit=HISTORY,
    )


@router.get("/projects/{project}/flags/{flag}", response_class=HTMLResponse)
def flag_detail(
    request: Request,
    project: str,
    flag: str,
    viewer: SignedIn,
    services: ServicesDep,
    compare: str = "",
) -> HTMLResponse:
    return flag_page(request, viewer, services, project, flag, compare=compare.strip())


@router.get("/projects/{project}/flags/{flag}/who", response_class=HTMLResponse)
def who_gets_this(
    request: Request, project: str, flag: str, viewer: SignedIn, services: ServicesDep
) -> HTMLResponse:
    """The flag page with the answer for the context in the query, per environment."""
    who = read_who(request.query_params.multi_items())
    answers = None
    if who.asked and not who.errors:
        services.flags.get(viewer.principal, project, flag)  # an unknown flag is a 404
        preview = Preview(services.projects, services.snapshots)
        answers = preview.who_gets(viewer.principal, project, flag, who.context())
    status = 422 if who.errors else 200
    return flag_page(
        request, viewer, services, project, flag, status=status, who=who, answers=answers
    )

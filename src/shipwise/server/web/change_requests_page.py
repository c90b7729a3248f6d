"""Change requests as pages: how a protected change (a flag's rules in production, a
segment, a weaker policy) is reviewed and made from the dashboard.

GET /projects/{p}/change-requests              ?state=&flag=  (kept in the URL)
GET /projects/{p}/change-requests/{id}         what it changes, who asked, the reviews

The pages call ``ChangeRequestService`` (the API's and the CLI's) as the signed-in
person. ``show`` is also how an action (``change_request_actions``) answers a refusal:
the same page, re-read, with why in place (409, or 422 beside a field).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse

from shipwise.domain.access import Action
from shipwise.domain.change_requests import PENDING, RequestKind, RequestState
from shipwise.server.bootstrap import Services
from shipwise.server.services.change_requests import RequestView
from shipwise.server.services.errors import Invalid, ServiceError
from shipwise.server.web.change_request_words import policy_source_diff, words_diff
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedIn, Viewer
from shipwise.server.web.templating import may, render
from shipwise.server.web.typed_fields import TypedFields

__all__ = ["Failure", "RequestId", "requests_url", "router", "show"]

router = web_router()
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_FILTER = 200  # a flag's key is at most this long
STATES = tuple(state.value for state in RequestState)


def requests_url(project: str, request_id: int | None = None) -> str:
    base = f"/projects/{quote(project, safe='')}/change-requests"
    return base if request_id is None else f"{base}/{request_id}"


class RequestFilter(TypedFields):
    """The list's filters as typed: a state, a flag's key."""

    state: str = ""
    flag: str = ""


@dataclass(frozen=True, slots=True)
class Failure:
    """Why an action did not happen, to show in place: ``action`` names its form, the
    message goes beside ``field`` when the form has it, else at the top of the form."""

    action: str
    error: ServiceError
    values: dict[str, str] = field(default_factory=dict)  # what was typed, kept

    @property
    def errors(self) -> dict[str, str]:
        return {self.error.field or "form": self.error.message}


@dataclass(frozen=True, slots=True)
class Controls:
    """The actions the viewer's role and the request's state allow, shown as forms (the
    service decides again whatever a form sends)."""

    review: bool
    withdraw: bool
    apply: bool

    @property
    def any(self) -> bool:
        return self.review or self.withdraw or self.apply


def controls(viewer: Viewer, view: RequestView) -> Controls:
    request = view.request
    needs = Action.MANAGE_POLICY if request.kind is RequestKind.POLICY else Action.WRITE_FLAGS
    person = viewer.principal.person
    may_act = may(viewer, needs) and may(viewer, Action.WRITE_FLAGS)  # _load asks for both
    pending = request.state in PENDING
    return Controls(
        review=may_act
        and pending
        and person != request.requested_by
        and person not in request.approvers,
        withdraw=pending and person == request.requested_by and may(viewer, Action.WRITE_FLAGS),
        apply=may_act and request.state is RequestState.APPROVED,
    )


def show(
    request: Request,
    viewer: Viewer,
    services: Services,
    project: str,
    request_id: int,
    failure: Failure | None = None,
) -> HTMLResponse:
    """The request's page as it stands now, with ``failure`` in place (its status)."""
    view = services.change_requests.show(viewer.principal, project, request_id)
    return render(
        request,
        "change_request.html",
        viewer,
        status=200 if failure is None else failure.error.status,
        project=project,
        nav="change-requests",
        view=view,
        change=view.request,
        words=words_diff(view.request),
        source_diff=policy_source_diff(view.request),
        controls=controls(viewer, view),
        failure=failure,
        url=requests_url(project, request_id),
    )


def _problems(query: RequestFilter) -> dict[str, str]:
    errors = {}
    if query.state and query.state not in STATES:
        errors["state"] = f"unknown state {query.state!r}; choose one of {', '.join(STATES)}"
    if len(query.flag) > MAX_FILTER:
        errors["flag"] = f"at most {MAX_FILTER} characters ({len(query.flag)} given)"
    return errors


@router.get("/projects/{project}/change-requests", response_class=HTMLResponse)
def request_list(
    request: Request,
    project: str,
    viewer: SignedIn,
    services: ServicesDep,
    query: Annotated[RequestFilter, Query()],
) -> HTMLResponse:
    errors = _problems(query)
    views: list[RequestView] = []
    try:
        views = services.change_requests.list(
            viewer.principal,
            project,
            state=None if errors or not query.state else query.state,
            flag=None if errors or not query.flag else query.flag,
        )
    except Invalid as error:
        errors[error.field or "state"] = error.message
    return render(
        request,
        "change_requests.html",
        viewer,
        status=422 if errors else 200,
        project=project,
        nav="change-requests",
        errors=errors,
        query=query,
        states=STATES,
        views=[] if errors else views,
    )


@router.get("/projects/{project}/change-requests/{request_id}", response_class=HTMLResponse)
def request_page(
    request: Request,
    project: str,
    request_id: RequestId,
    viewer: SignedIn,
    services: ServicesDep,
) -> HTMLResponse:
    return show(request, viewer, services, project, request_id)

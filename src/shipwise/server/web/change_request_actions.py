"""What a person does to a change request from its page, each a form that posts here
and calls the service method the API's route calls, as the signed-in person (so who may
review, the separation of duties, the version check and the audit record are the API's):

POST /projects/{p}/change-requests/{id}/approve   comment?   services.change_requests.approve
POST …/reject                                     reason     …reject
POST …/withdraw                                   reason?    …withdraw (the requester)
POST …/apply                                                 …apply (once approved)

Done: 303 to the request's page with what happened in ``?done=``. Refused (the
requester reviewing their own, too few approvals, a target that changed since) or
invalid: the page again, re-read, with why in place, 409 or 422. Not allowed (the role)
or not found: the error page, 403 or 404. Every form carries the CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request, Response

from shipwise.server.bootstrap import Services
from shipwise.server.services.errors import Conflict, Invalid
from shipwise.server.services.principal import Principal
from shipwise.server.web.change_requests_page import Failure, RequestId, requests_url, show
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedInPost, Viewer
from shipwise.server.web.templating import redirect_done

__all__ = ["MAX_REASON", "router"]

router = web_router()
MAX_REASON = 1000  # as the API's reasons (schemas.Reason)
FormText = Annotated[str, Form()]
BASE = "/projects/{project}/change-requests/{request_id}"


def _text(value: str, field: str, *, required: bool, what: str) -> str | None:
    text = value.strip()
    if required and not text:
        raise Invalid(f"say {what}", field=field)
    if len(text) > MAX_REASON:
        raise Invalid(f"at most {MAX_REASON} characters ({len(text)} given)", field=field)
    if "\x00" in text:
        raise Invalid("contains a NUL character, which cannot be stored", field=field)
    return text or None


@dataclass(frozen=True, slots=True)
class Reviewing:
    """What every action's form brings: the request, who sends it, the services, and
    the change request from the path."""

    request: Request
    viewer: Viewer
    services: Services
    project: str
    request_id: int

    def act(
        self, action: str, call: Callable[[Principal], str], values: Mapping[str, str] | None = None
    ) -> Response:
        """Run ``call`` as the viewer; it answers with what happened, for the flash. A
        refusal or a bad value: the page again, with why (a stale target was committed
        stale by the service, and the page shows it so)."""
        try:
            done = call(self.viewer.principal)
        except (Conflict, Invalid) as error:
            failure = Failure(action, error, dict(values or {}))
            return show(
                self.request, self.viewer, self.services, self.project, self.request_id, failure
            )
        return redirect_done(requests_url(self.project, self.request_id), done)


def _reviewing(
    request: Request,
    project: str,
    request_id: RequestId,
    viewer: SignedInPost,
    services: ServicesDep,
) -> Reviewing:
    return Reviewing(request, viewer, services, project, request_id)


ActionForm = Annotated[Reviewing, Depends(_reviewing)]


@router.post(f"{BASE}/approve")
def approve(at: ActionForm, comment: FormText = "") -> Response:
    def call(who: Principal) -> str:
        said = _text(comment, "comment", required=False, what="")
        view = at.services.change_requests.approve(who, at.project, at.request_id, said)
        return f"{who.person} approved {view.request.label}: {view.waiting_for}"

    return at.act("approve", call, {"comment": comment})


@router.post(f"{BASE}/reject")
def reject(at: ActionForm, reason: FormText = "") -> Response:
    def call(who: Principal) -> str:
        why = _text(reason, "reason", required=True, what="why the change is rejected") or ""
        view = at.services.change_requests.reject(who, at.project, at.request_id, why)
        return f"{who.person} rejected {view.request.label}"

    return at.act("reject", call, {"reason": reason})


@router.post(f"{BASE}/withdraw")
def withdraw(at: ActionForm, reason: FormText = "") -> Response:
    def call(who: Principal) -> str:
        why = _text(reason, "reason", required=False, what="")
        view = at.services.change_requests.withdraw(who, at.project, at.request_id, why)
        return f"{who.person} withdrew {view.request.label}"

    return at.act("withdraw", call, {"reason": reason})


@router.post(f"{BASE}/apply")
def apply(at: ActionForm) -> Response:
    def call(who: Principal) -> str:
        view = at.services.change_requests.apply(who, at.project, at.request_id)
        version = view.request.applied_version
        return f"Applied {view.request.label}: {view.request.what} is now version {version}"

    return at.act("apply", call)

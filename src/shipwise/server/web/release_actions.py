"""What a person does to a release from its page, each a form that posts here and calls
the same service method as the API's route, as the signed-in person (so the role check,
the separation of duties, the gates and the audit record are the API's own):

POST /projects/{p}/releases/{key}/approve    services.evidence.approve
POST …/signoff                               services.evidence.sign_off (QA)
POST …/drill     succeeded, detail           services.evidence.record_drill
POST …/promote                               services.promotion.promote
POST …/rollback  reason                      services.rollback.rollback
POST …/abandon   reason                      services.releases.abandon

Done: 303 to the release page with what happened in ``?done=``. Refused (a gate, a
conflict) or invalid: the release page again, unchanged, with the reason in place and
409 or 422. Not allowed (the role) or not found: the error page, 403 or 404.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated

from fastapi import Form, Request, Response

from shipwise.server.services.errors import Conflict, Invalid
from shipwise.server.services.principal import Principal
from shipwise.server.services.promotion import PromotionRefused
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.release_page import Failure, release_url, show
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedInPost, Viewer
from shipwise.server.web.templating import redirect_done

__all__ = ["MAX_REASON", "router"]

router = web_router()
MAX_REASON = 1000  # as the API's reasons (schemas.Reason)
# Read as text and judged here, so a bad value is the page again with the message
# beside its field, not FastAPI's generic 422. The body limit (64 KiB) bounds them first.
FormText = Annotated[str, Form()]
BASE = "/projects/{project}/releases/{key}"


def _text(value: str, field: str, *, required: bool, what: str) -> str:
    text = value.strip()
    if required and not text:
        raise Invalid(f"say {what}", field=field)
    if len(text) > MAX_REASON:
        raise Invalid(f"at most {MAX_REASON} characters ({len(text)} given)", field=field)
    if "\x00" in text:
        raise Invalid("contains a NUL character, which cannot be stored", field=field)
    return text


def _act(
    request: Request,
    viewer: Viewer,
    services: ServicesDep,
    where: tuple[str, str],
    action: str,
    call: Callable[[Principal], str],
    values: Mapping[str, str] | None = None,
) -> Response:
    """Run ``call`` as the viewer; it answers with what happened, for the flash."""
    project, key = where
    try:
        done = call(viewer.principal)
    except PromotionRefused as refused:
        failure = Failure(action, refused, refused.decision)
        return show(request, viewer, services, project, key, failure)
    except (Conflict, Invalid) as error:  # Refused is a Conflict
        failure = Failure(action, error, None, values or {})
        return show(request, viewer, services, project, key, failure)
    return redirect_done(release_url(project, key), done)


@router.post(f"{BASE}/approve")
def approve(
    request: Request, project: str, key: str, viewer: SignedInPost, services: ServicesDep
) -> Response:
    def call(who: Principal) -> str:
        services.evidence.approve(who, project, key)
        return f"{who.person} approved {key}"

    return _act(request, viewer, services, (project, key), "approve", call)


@router.post(f"{BASE}/signoff")
def sign_off(
    request: Request, project: str, key: str, viewer: SignedInPost, services: ServicesDep
) -> Response:
    def call(who: Principal) -> str:
        services.evidence.sign_off(who, project, key, "qa")
        return f"{who.person} signed {key} off for QA"

    return _act(request, viewer, services, (project, key), "signoff", call)


@router.post(f"{BASE}/drill")
def drill(
    request: Request,
    project: str,
    key: str,
    viewer: SignedInPost,
    services: ServicesDep,
    succeeded: FormText = "",
    detail: FormText = "",
) -> Response:
    def call(who: Principal) -> str:
        if succeeded not in {"yes", "no"}:
            raise Invalid("say whether the drill succeeded: yes or no", field="succeeded")
        text = _text(detail, "detail", required=False, what="what happened")
        services.evidence.record_drill(who, project, key, None, succeeded == "yes", text)
        outcome = "a successful" if succeeded == "yes" else "a failed"
        return f"Recorded {outcome} rollback drill of {key}"

    values = {"succeeded": succeeded, "detail": detail}
    return _act(request, viewer, services, (project, key), "drill", call, values)


@router.post(f"{BASE}/promote")
def promote(
    request: Request, project: str, key: str, viewer: SignedInPost, services: ServicesDep
) -> Response:
    def call(who: Principal) -> str:
        _release, decision, switched = services.promotion.promote(who, project, key)
        testers = f"; switched on for testers: {', '.join(switched)}" if switched else ""
        return f"Promoted {key} to {decision.target}{testers}"

    return _act(request, viewer, services, (project, key), "promote", call)


@router.post(f"{BASE}/rollback")
def rollback(
    request: Request,
    project: str,
    key: str,
    viewer: SignedInPost,
    services: ServicesDep,
    reason: FormText = "",
) -> Response:
    def call(who: Principal) -> str:
        why = _text(reason, "reason", required=True, what="why it is rolled back")
        report = services.rollback.rollback(who, project, key, why)
        left = f" Still to do: {'; '.join(report.still_to_do)}" if report.still_to_do else ""
        return f"Rolled {key} back: its flags are off.{left}"

    where = (project, key)
    return _act(request, viewer, services, where, "rollback", call, {"reason": reason})


@router.post(f"{BASE}/abandon")
def abandon(
    request: Request,
    project: str,
    key: str,
    viewer: SignedInPost,
    services: ServicesDep,
    reason: FormText = "",
) -> Response:
    def call(who: Principal) -> str:
        why = _text(reason, "reason", required=True, what="why the release is abandoned")
        services.releases.abandon(who, project, key, why)
        return f"Abandoned {key}"

    where = (project, key)
    return _act(request, viewer, services, where, "abandon", call, {"reason": reason})

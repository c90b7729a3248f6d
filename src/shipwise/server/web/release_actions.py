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
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request, Response

from shipwise.server.bootstrap import Services
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


@dataclass(frozen=True, slots=True)
class Acting:
    """What every release action's form brings: the request, who sends it, the
    services, and the release from the path."""

    request: Request
    viewer: Viewer
    services: Services
    project: str
    key: str

    def act(
        self, action: str, call: Callable[[Principal], str], values: Mapping[str, str] | None = None
    ) -> Response:
        """Run ``call`` as the viewer; it answers with what happened, for the flash. A
        refusal or a bad value: the release page again, unchanged, with why."""
        try:
            done = call(self.viewer.principal)
        except PromotionRefused as refused:
            return self._again(Failure(action, refused, refused.decision))
        except (Conflict, Invalid) as error:  # Refused is a Conflict
            return self._again(Failure(action, error, None, values or {}))
        return redirect_done(release_url(self.project, self.key), done)

    def _again(self, failure: Failure) -> Response:
        return show(self.request, self.viewer, self.services, self.project, self.key, failure)


def _acting(
    request: Request, project: str, key: str, viewer: SignedInPost, services: ServicesDep
) -> Acting:
    return Acting(request, viewer, services, project, key)


ActionForm = Annotated[Acting, Depends(_acting)]


@router.post(f"{BASE}/approve")
def approve(at: ActionForm) -> Response:
    def call(who: Principal) -> str:
        at.services.evidence.approve(who, at.project, at.key)
        return f"{who.person} approved {at.key}"

    return at.act("approve", call)


@router.post(f"{BASE}/signoff")
def sign_off(at: ActionForm) -> Response:
    def call(who: Principal) -> str:
        at.services.evidence.sign_off(who, at.project, at.key, "qa")
        return f"{who.person} signed {at.key} off for QA"

    return at.act("signoff", call)


@router.post(f"{BASE}/drill")
def drill(at: ActionForm, succeeded: FormText = "", detail: FormText = "") -> Response:
    def call(who: Principal) -> str:
        if succeeded not in {"yes", "no"}:
            raise Invalid("say whether the drill succeeded: yes or no", field="succeeded")
        text = _text(detail, "detail", required=False, what="what happened")
        ok = succeeded == "yes"
        at.services.evidence.record_drill(who, at.project, at.key, None, ok, text)
        outcome = "a successful" if ok else "a failed"
        return f"Recorded {outcome} rollback drill of {at.key}"

    return at.act("drill", call, {"succeeded": succeeded, "detail": detail})


@router.post(f"{BASE}/promote")
def promote(at: ActionForm) -> Response:
    def call(who: Principal) -> str:
        _release, decision, switched = at.services.promotion.promote(who, at.project, at.key)
        testers = f"; switched on for testers: {', '.join(switched)}" if switched else ""
        return f"Promoted {at.key} to {decision.target}{testers}"

    return at.act("promote", call)


@router.post(f"{BASE}/rollback")
def rollback(at: ActionForm, reason: FormText = "") -> Response:
    def call(who: Principal) -> str:
        why = _text(reason, "reason", required=True, what="why it is rolled back")
        report = at.services.rollback.rollback(who, at.project, at.key, why)
        left = f" Still to do: {'; '.join(report.still_to_do)}" if report.still_to_do else ""
        return f"Rolled {at.key} back: its flags are off.{left}"

    return at.act("rollback", call, {"reason": reason})


@router.post(f"{BASE}/abandon")
def abandon(at: ActionForm, reason: FormText = "") -> Response:
    def call(who: Principal) -> str:
        why = _text(reason, "reason", required=True, what="why the release is abandoned")
        at.services.releases.abandon(who, at.project, at.key, why)
        return f"Abandoned {at.key}"

    return at.act("abandon", call, {"reason": reason})

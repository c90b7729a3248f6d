"""What a person does to a rollout plan from its page, each a form that posts here and
calls the same service method as the API's route (``api.admin_rollouts``), as the
signed-in person (so the role, the plan's state and the audit record are the API's):

POST /projects/{p}/rollouts/{id}/pause    reason    services.rollouts.pause
POST …/resume                                       services.rollouts.resume
POST …/approve                                      services.rollouts.approve
POST …/skip                               reason    services.rollouts.skip
POST …/abort                              reason    services.rollouts.abort

Done: 303 to the rollout page with what happened in ``?done=``. Refused (the plan is
no longer in a state that allows it, e.g. someone paused it first) or invalid: the
rollout page again, unchanged, with the reason in place and 409 or 422. Not allowed
(the role) or not found: the error page, 403 or 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request, Response

from shipwise.domain.access import Action
from shipwise.server.bootstrap import Services
from shipwise.server.ports import RolloutPlanRecord
from shipwise.server.services.errors import Conflict, Forbidden, Invalid
from shipwise.server.services.principal import Principal
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.release_actions import MAX_REASON
from shipwise.server.web.release_page import Failure
from shipwise.server.web.rollout_page import plan_id_of, rollout_url, show
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedInPost, Viewer
from shipwise.server.web.templating import may, redirect_done

__all__ = ["router"]

router = web_router()
# Read as text and judged here, so a bad value is the page again with the message beside
# its field, not FastAPI's generic 422.
FormText = Annotated[str, Form()]
BASE = "/projects/{project}/rollouts/{plan_id}"


def _reason(value: str) -> str:
    """A reason as the API takes one (``schemas.Reason``): said, at most MAX_REASON
    characters, storable; the service itself refuses a blank one too."""
    text = value.strip()
    if not text:
        raise Invalid("say why (it goes in the audit log and the notification)", field="reason")
    if len(text) > MAX_REASON:
        raise Invalid(f"at most {MAX_REASON} characters ({len(text)} given)", field="reason")
    if "\x00" in text:
        raise Invalid("contains a NUL character, which cannot be stored", field="reason")
    return text


@dataclass(frozen=True, slots=True)
class Steering:
    """What every rollout action's form brings: the request, who sends it, the services,
    and the plan from the path."""

    request: Request
    viewer: Viewer
    services: Services
    project: str
    plan_id: str

    def act(
        self,
        action: tuple[str, Action],
        call: Callable[[Principal, int], RolloutPlanRecord],
        what: Callable[[RolloutPlanRecord], str],
        reason: str | None = None,
    ) -> Response:
        """Run ``call`` as the viewer; ``what`` says what happened, for the flash."""
        plan_id = plan_id_of(self.plan_id, self.project)
        form, needs = action
        if not may(self.viewer, needs):
            # Before the form's fields are judged: a forged post from a role that may not
            # is 403 whatever it carries (the service checks again, and decides).
            role = self.viewer.principal.role
            raise Forbidden(f"role {role} may not {needs} in project {self.project!r}")
        try:
            plan = call(self.viewer.principal, plan_id)
        except (Conflict, Invalid) as error:  # a refused action changed nothing
            values = {} if reason is None else {"reason": reason}
            failure = Failure(form, error, None, values)
            return show(self.request, self.viewer, self.services, self.project, plan_id, failure)
        done = f"Rollout plan #{plan.id} ({plan.flag} in {plan.environment}) {what(plan)}"
        return redirect_done(rollout_url(self.project, plan_id), done)


def _steering(
    request: Request, project: str, plan_id: str, viewer: SignedInPost, services: ServicesDep
) -> Steering:
    return Steering(request, viewer, services, project, plan_id)


ActionForm = Annotated[Steering, Depends(_steering)]


@router.post(f"{BASE}/pause")
def pause(at: ActionForm, reason: FormText = "") -> Response:
    def call(who: Principal, number: int) -> RolloutPlanRecord:
        return at.services.rollouts.pause(who, at.project, number, _reason(reason))

    return at.act(("pause", Action.ROLLOUT), call, lambda _: "paused", reason)


@router.post(f"{BASE}/resume")
def resume(at: ActionForm) -> Response:
    def call(who: Principal, number: int) -> RolloutPlanRecord:
        return at.services.rollouts.resume(who, at.project, number)

    return at.act(("resume", Action.ROLLOUT), call, lambda _: "resumed")


@router.post(f"{BASE}/approve")
def approve(at: ActionForm) -> Response:
    def call(who: Principal, number: int) -> RolloutPlanRecord:
        return at.services.rollouts.approve(who, at.project, number)

    def what(plan: RolloutPlanRecord) -> str:
        return f"may go on from step {plan.state.step + 1}: approved"

    return at.act(("approve", Action.OVERRIDE_ROLLOUT), call, what)


@router.post(f"{BASE}/skip")
def skip(at: ActionForm, reason: FormText = "") -> Response:
    def call(who: Principal, number: int) -> RolloutPlanRecord:
        return at.services.rollouts.skip(who, at.project, number, _reason(reason))

    def what(plan: RolloutPlanRecord) -> str:
        return f"skipped ahead to step {plan.state.step + 1}"

    return at.act(("skip", Action.OVERRIDE_ROLLOUT), call, what, reason)


@router.post(f"{BASE}/abort")
def abort(at: ActionForm, reason: FormText = "") -> Response:
    def call(who: Principal, number: int) -> RolloutPlanRecord:
        return at.services.rollouts.abort(who, at.project, number, _reason(reason))

    return at.act(
        ("abort", Action.ROLLOUT), call, lambda _: "aborted; the flag stays as it is", reason
    )

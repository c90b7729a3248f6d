"""The rollout page: a plan's steps as a timeline (the time each ran and has left), one
chart per guardrail, the verdict history with the domain's reasons, and the actions a
person's role allows (pause, resume, approve, skip, abort).

GET /projects/{p}/rollouts/{plan_id}          the plan (404 page for an unknown one)
GET /projects/{p}/releases/{key}/rollout      303 to the release's plan: the one under
                                              way, else the newest (the board's link)

Live: decisions and verdict changes write audit records, which open pages follow
(``live.py``); the checks in between are kept only as the charts' sampled points
(``domain.rollout_samples``) and write none, on purpose. So while the runner watches
the plan, the page declares ``data-live-every`` on the regions a check changes (state,
steps, charts, verdicts) and ``static/live.js`` re-fetches and swaps those every
``LIVE_EVERY_SECONDS`` while the tab is visible: the charts fill as the points arrive.
A plan the runner no longer checks (paused or finished) declares nothing, so its page
costs nothing. Why a cadence rather than a stream topic: an in-place sample overwrite
(the newest point moving) and the "next check" change no row id a hub could watch, and
a cadence needs no new read, no hub state, and works the same on every instance.

``show`` is also how an action answers when the service refused it: the same page,
re-read (nothing changed), with the refusal in place (409) or the message beside the
field (422).
"""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from shipwise.domain import watch_window
from shipwise.domain.rollout import ACTIVE, WATCHED, PlanStatus
from shipwise.server.bootstrap import Services
from shipwise.server.services.errors import NotFound
from shipwise.server.web import guardrail_charts, rollout_view
from shipwise.server.web.deps import ServicesDep
from shipwise.server.web.release_page import Failure, release_url
from shipwise.server.web.routing import web_router
from shipwise.server.web.session_auth import SignedIn, Viewer
from shipwise.server.web.templating import render

__all__ = ["LIVE_EVERY_SECONDS", "MAX_PLAN_ID", "plan_id_of", "rollout_url", "router", "show"]

router = web_router()
MAX_PLAN_ID = 2**31 - 1  # as the API's PlanId
# One page render every 5 s per visible tab watching a running plan (measured: 8 ms p50,
# 14 ms p95 on SQLite, two guardrails, 42 points): the demo's minute-long steps gain a
# point every ~2 s, so the charts visibly fill; a real week-long step changes less
# often, and 5 s still costs little. live.js never refreshes more often than every 2 s.
LIVE_EVERY_SECONDS = 5


def rollout_url(project: str, plan_id: int) -> str:
    return f"/projects/{project}/rollouts/{plan_id}"


def plan_id_of(text: str, project: str) -> int:
    """The plan number in a URL; anything else names no plan (404, not a form error)."""
    if (
        not (text.isascii() and text.isdigit())
        or len(text) > 10
        or not 1 <= int(text) <= MAX_PLAN_ID
    ):
        raise NotFound(f"no rollout plan #{text[:40]} in project {project!r}")
    return int(text)


def show(
    request: Request,
    viewer: Viewer,
    services: Services,
    project: str,
    plan_id: int,
    failure: Failure | None = None,
) -> Response:
    """The rollout page as it stands now, with ``failure`` shown in place (its status)."""
    view = services.rollouts.view(viewer.principal, project, plan_id)
    plan, state = view.plan, view.plan.state
    step = plan.spec.steps[state.step]
    return render(
        request,
        "rollout.html",
        viewer,
        status=200 if failure is None else failure.error.status,
        project=project,
        nav="board",
        plan=plan,
        state_words=rollout_view.state_words(plan),
        status_words=rollout_view.STATUS_WORDS,
        steps=rollout_view.steps(plan, view.checks, view.now),
        charts=guardrail_charts.guardrail_charts(plan.spec.guardrails, view.points),
        latest=rollout_view.verdicts(plan.judgements),
        history=rollout_view.history(view.checks),
        can={
            "pause": state.status in WATCHED,
            "resume": state.status is PlanStatus.PAUSED,
            "approve": state.status in ACTIVE and state.approved_step != state.step,
            "skip": (state.status in WATCHED or state.status is PlanStatus.PAUSED)
            and state.step + 1 < len(plan.spec.steps),
            "abort": state.status in ACTIVE,
        },
        waiting=state.status is PlanStatus.WAITING_APPROVAL,
        at_full=step.percentage == 100,
        failure=failure,
        url=rollout_url(project, plan_id),
        release_link=None if plan.release is None else release_url(project, plan.release),
        now=view.now,
        watching=watch_window.window_words(
            watch_window.watch_window(
                plan.spec,
                state,
                view.now,
                plan.next_check_at,
                watch_window.unreadable_of(plan.judgements),
            ),
            view.now,
        ),
        live_every=LIVE_EVERY_SECONDS if state.status in WATCHED else None,
    )


@router.get("/projects/{project}/rollouts/{plan_id}")
def rollout_page(
    request: Request, project: str, plan_id: str, viewer: SignedIn, services: ServicesDep
) -> Response:
    return show(request, viewer, services, project, plan_id_of(plan_id, project))


@router.get("/projects/{project}/releases/{key}/rollout")
def release_rollout(
    project: str, key: str, viewer: SignedIn, services: ServicesDep
) -> RedirectResponse:
    plans = services.rollouts.all(viewer.principal, project, release=key)
    if not plans:
        raise NotFound(f"release {key} has no rollout plan")
    chosen = max(plans, key=lambda p: (p.state.active, p.id))
    return RedirectResponse(rollout_url(project, chosen.id), status_code=303)

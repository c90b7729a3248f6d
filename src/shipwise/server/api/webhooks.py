"""Webhooks: deliveries from GitHub, trusted only once their signature holds.

POST /webhooks/github/{project}

The raw body, at most the webhook class's size (``limits``: 413 beyond, unread), is
checked against ``X-Hub-Signature-256`` (HMAC-SHA256 under the secret in
``SHIPWISE_GITHUB_WEBHOOK_SECRET``) before anything else is read or touched: 503 when
the server has no secret, 401 when the signature is missing or wrong. Then its JSON
nesting depth (422 beyond the limit), before it is parsed. Then
``X-GitHub-Event`` says what the body is: ``ping`` answers 200 (the webhook reaches an
existing project); every other event needs ``X-GitHub-Delivery`` (422 without it), is
applied by ``GitHubIntake`` in one transaction and answers 202 with what it changed and
what it left alone, and why. A delivery the project already received (the same id, or
the same signed body) answers 200 with ``duplicate`` true and changes nothing.

Configure the webhook in GitHub with content type ``application/json``, the secret, and
the events ``pull_request``, ``pull_request_review``, ``push``, ``status``,
``check_suite`` and ``deployment_status``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from shipwise.server.api.auth import services
from shipwise.server.api.bounds import depth_message
from shipwise.server.api.errors import error_body
from shipwise.server.api.limits import exceeds_depth
from shipwise.server.api.schemas import ErrorBody, ProjectKey
from shipwise.server.services.errors import Invalid

router = APIRouter(tags=["webhooks"])

_EVENT = re.compile(r"^[a-z_]{1,64}$")
_DELIVERY = re.compile(r"^[A-Za-z0-9-]{1,100}$")
_JSON = re.compile(r"^application/(?:[\w.+-]+\+)?json\b", re.IGNORECASE)


class DeliveryOut(BaseModel):
    project: str
    event: str = Field(description="X-GitHub-Event")
    delivery: str | None = Field(description="X-GitHub-Delivery")
    applied: list[str] = Field(description="What the delivery changed, one line each")
    skipped: list[str] = Field(description="What it left alone, and why")
    duplicate: bool = Field(
        default=False, description="Already received (answered 200): nothing changed"
    )


class PingOut(BaseModel):
    project: str
    pong: bool = True


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


@router.post(
    "/webhooks/github/{project}",
    status_code=202,
    summary="A GitHub webhook delivery",
    response_model=DeliveryOut,
    responses={
        200: {
            "model": PingOut | DeliveryOut,
            "description": "A ping (the webhook reaches the project), or a delivery the "
            "project already received (duplicate: nothing changed)",
        },
        401: _error("X-Hub-Signature-256 missing, or not the body's signature"),
        404: _error("No such project"),
        415: _error("Not JSON: set the webhook's content type to application/json"),
        422: _error(
            "Signed, but not a delivery Shipwise can read (or no X-GitHub-Delivery); "
            "nothing changed"
        ),
        503: _error("No webhook secret configured: set SHIPWISE_GITHUB_WEBHOOK_SECRET"),
    },
)
async def github_delivery(
    project: ProjectKey,
    request: Request,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
    x_github_event: Annotated[str | None, Header()] = None,
    x_github_delivery: Annotated[str | None, Header()] = None,
    content_type: Annotated[str | None, Header()] = None,
) -> Any:
    intake = services(request).github
    body = await request.body()
    intake.authenticate(body, x_hub_signature_256)  # before anything else is read
    depth = request.app.state.body_limits.depth  # the size was bounded before (bounds.py)
    if await run_in_threadpool(exceeds_depth, body, depth):  # bodies of megabytes: off the loop
        raise Invalid(depth_message(depth), field="body")
    if not x_github_event or not _EVENT.match(x_github_event):
        raise Invalid("X-GitHub-Event must name the event, e.g. push", field="X-GitHub-Event")
    if x_github_delivery is not None and not _DELIVERY.match(x_github_delivery):
        raise Invalid("X-GitHub-Delivery must be GitHub's delivery id", field="X-GitHub-Delivery")
    if x_github_event == "ping":
        await run_in_threadpool(intake.ping, project)
        return JSONResponse(PingOut(project=project).model_dump(), status_code=200)
    if not content_type or not _JSON.match(content_type):
        message = (
            f"the body is {content_type or 'untyped'}, not JSON: set the webhook's content "
            "type to application/json in GitHub"
        )
        return JSONResponse(error_body(415, message, "Content-Type"), status_code=415)
    summary = await run_in_threadpool(
        intake.receive, project, x_github_event, x_github_delivery, body
    )
    answer = DeliveryOut(
        project=summary.project,
        event=summary.event,
        delivery=summary.delivery,
        applied=list(summary.applied),
        skipped=list(summary.skipped),
        duplicate=summary.duplicate,
    )
    if summary.duplicate:  # 200, not 202: GitHub shows it as delivered, and nothing is new
        return JSONResponse(answer.model_dump(), status_code=200)
    return answer

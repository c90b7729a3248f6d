"""Vercel drains: web vitals, requests and custom events Vercel delivers for a project.

POST /webhooks/vercel/{project}

Configure a drain in Vercel (Speed Insights, Web Analytics or logs, JSON or NDJSON;
traces, JSON) to this address with a signature secret, and set
``SHIPWISE_VERCEL_DRAIN_SECRET`` to it. The raw body, at most the webhook class's size
(``limits``: 413 beyond, unread), is checked against ``x-vercel-signature`` (hex
HMAC-SHA1) before anything else: 503 when the server has no secret, 403 when the
signature is missing or wrong. Then its content type (415 for a protobuf trace
delivery: Shipwise reads OTLP's JSON), its JSON depth (422 beyond the limit), then the
records (400 naming the line or position when it is not JSON; nothing kept). An
accepted delivery answers 202 with how many records were kept and how many skipped,
and why. When ``SHIPWISE_VERCEL_VERIFY`` is set, every
answer of the route carries it as ``x-vercel-verify``: Vercel's check that the endpoint
is yours. ``?environment=production`` names the Vercel environment of records that do
not carry one (trace spans without ``deployment.environment``). The check may come as a
GET (or HEAD) with no body, so those answer 200 with the header and read nothing (404
naming the variable when it is not set).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from shipwise.server.api.auth import services
from shipwise.server.api.bounds import depth_message
from shipwise.server.api.errors import error_body, service_error_response
from shipwise.server.api.limits import exceeds_depth
from shipwise.server.api.schemas import ErrorBody, ProjectKey
from shipwise.server.services.errors import Invalid, ServiceError
from shipwise.server.services.vercel_drains import VercelDrains

router = APIRouter(tags=["webhooks"])


class DrainDeliveryOut(BaseModel):
    project: str
    stored: int = Field(description="Records kept")
    skipped: int = Field(description="Records left out")
    skipped_reasons: dict[str, int] = Field(description="Why, and how many each")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


def _verified(response: JSONResponse, drains: VercelDrains) -> JSONResponse:
    if drains.verify_token is not None:
        response.headers["x-vercel-verify"] = drains.verify_token
    return response


@router.get(
    "/webhooks/vercel/{project}",
    summary="Vercel's endpoint verification",
    responses={
        200: {"description": "x-vercel-verify carries SHIPWISE_VERCEL_VERIFY"},
        404: _error("No verification token configured: set SHIPWISE_VERCEL_VERIFY"),
    },
)
@router.head("/webhooks/vercel/{project}", include_in_schema=False)
async def vercel_verification(project: ProjectKey, request: Request) -> Any:
    drains = services(request).vercel_drains
    if drains.verify_token is None:
        message = "no verification token is set: set SHIPWISE_VERCEL_VERIFY to Vercel's"
        return JSONResponse(error_body(404, message, "SHIPWISE_VERCEL_VERIFY"), status_code=404)
    return _verified(JSONResponse({"project": project, "verify": True}), drains)


@router.post(
    "/webhooks/vercel/{project}",
    status_code=202,
    summary="A Vercel drain delivery",
    response_model=DrainDeliveryOut,
    responses={
        400: _error("Not JSON or NDJSON (the line or position is named); nothing kept"),
        403: _error("x-vercel-signature missing, or not the body's signature; nothing kept"),
        404: _error("No such project"),
        413: _error("Body over the webhook size limit; not read"),
        415: _error("A protobuf trace delivery: choose JSON in the drain; nothing kept"),
        422: _error("JSON nested too deep; nothing kept"),
        503: _error("No drain secret configured: set SHIPWISE_VERCEL_DRAIN_SECRET"),
    },
)
async def vercel_drain(
    project: ProjectKey,
    request: Request,
    x_vercel_signature: Annotated[str | None, Header()] = None,
    content_type: Annotated[str | None, Header()] = None,
    # No length or pattern here: FastAPI would refuse it (422) before the signature is
    # checked; receive() validates it after authentication.
    environment: Annotated[
        str | None,
        Query(
            description="Vercel's environment of the records that do not name theirs "
            "(trace spans without deployment.environment), e.g. production",
        ),
    ] = None,
) -> Any:
    drains = services(request).vercel_drains
    try:
        body = await request.body()
        drains.authenticate(body, x_vercel_signature)  # before anything else is read
        drains.check_content_type(content_type)  # protobuf is not JSON to measure
        depth = request.app.state.body_limits.depth  # the size was bounded (bounds.py)
        if await run_in_threadpool(exceeds_depth, body, depth):
            raise Invalid(depth_message(depth), field="body")
        summary = await run_in_threadpool(drains.receive, project, body, environment)
    except ServiceError as error:
        return _verified(service_error_response(error), drains)
    answer = DrainDeliveryOut(
        project=summary.project,
        stored=summary.stored,
        skipped=summary.skipped,
        skipped_reasons=summary.skipped_reasons,
    )
    return _verified(JSONResponse(answer.model_dump(), status_code=202), drains)

"""The release policy as code (shipwise.toml): the one in force, and applying a new one.

GET /projects/{p}/policy    the policy in force, and the applied file and its version
PUT /projects/{p}/policy    200: applied at once (it weakens nothing);
                            202: it weakens a rule, so it waits as a change request for a
                            second release manager or admin (``weakenings`` says what)
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel, Field

from shipwise.server.api.admin_change_requests import ChangeRequestOut
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayManagePolicy, MayRead, ServicesDep
from shipwise.server.api.schemas import ProjectKey, StrictBody, errors

router = admin_router("releases")


class PolicyIn(StrictBody):
    source: str = Field(max_length=100_000, description="The text of shipwise.toml")


class PolicyOut(BaseModel):
    effective: str = Field(description="The policy in force, as shipwise.toml")
    source: str | None = Field(description="The applied file; null while the defaults rule")
    version: int | None = Field(description="The applied file's version")
    applied: bool = Field(default=True, description="False: the file waits for review")
    weakenings: list[str] = Field(
        default_factory=list, description="What the file loosens, in words (then it waits)"
    )
    diff: list[str] = Field(
        default_factory=list, description="The file against the policy in force"
    )
    change_request: ChangeRequestOut | None = Field(
        default=None, description="The request a second release manager or admin approves"
    )

    @classmethod
    def of(cls, answer: tuple[str, str | None, int | None]) -> PolicyOut:
        effective, source, version = answer
        return cls(effective=effective, source=source, version=version)


@router.get("/projects/{project}/policy", summary="The policy in force", responses=errors(404))
def get_policy(project: ProjectKey, services: ServicesDep, who: MayRead) -> PolicyOut:
    return PolicyOut.of(services.policies.effective(who, project))


@router.put(
    "/projects/{project}/policy",
    summary="Apply shipwise.toml (202 when it weakens a rule: it waits for review)",
    responses={
        202: {"model": PolicyOut, "description": "It weakens a rule: a change request waits"},
        **errors(404),
    },
)
def put_policy(
    project: ProjectKey,
    body: PolicyIn,
    response: Response,
    services: ServicesDep,
    who: MayManagePolicy,
) -> PolicyOut:
    outcome = services.policies.apply(who, project, body.source)
    answer = PolicyOut.of(services.policies.effective(who, project))
    answer.diff = outcome.diff
    if outcome.request is not None:
        response.status_code = 202
        answer.applied = False
        answer.weakenings = outcome.weakenings
        answer.change_request = ChangeRequestOut.of(outcome.request)
    return answer

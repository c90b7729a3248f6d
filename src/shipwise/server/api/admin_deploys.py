"""Deploys: a CI pipeline tells Shipwise what commit now runs where.

POST  /projects/{p}/deploys   {environment, commit, succeeded, vercel_deployment?}

The "deployed to the previous environment first" gate reads them. A deploy may name
the Vercel deployment serving it (``dpl_...``): a successful one is then tied to its
commit, so the records Vercel drains from that deployment count as this deploy's, and a
release shipped by a revert can be judged against the deploy before it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from shipwise.domain.vercel_deployments import MAX_LENGTH, deployment_problem
from shipwise.server.api.admin_releases import Commit
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayReport, ServicesDep
from shipwise.server.api.schemas import Key, ProjectKey, StrictBody, errors

router = admin_router("releases")  # documented beside the releases its deploys gate


def _deployment(value: str) -> str:
    problem = deployment_problem(value)
    if problem is not None:
        # A custom error keeps pydantic's "Value error, " prefix out of the message.
        raise PydanticCustomError("vercel_deployment", "{problem}", {"problem": problem})
    return value


VercelDeploymentId = Annotated[
    str,
    Field(max_length=MAX_LENGTH, description="Vercel's deployment id: dpl_ and letters, digits"),
    AfterValidator(_deployment),
]


class DeployIn(StrictBody):
    environment: Key
    commit: Commit
    succeeded: bool = True
    vercel_deployment: VercelDeploymentId | None = Field(
        default=None, description="The Vercel deployment serving this deploy, if any"
    )


class DeployOut(BaseModel):
    recorded: bool
    vercel_deployment: str | None = Field(description="As reported; null when none was")
    vercel_linked: bool = Field(
        description="Whether the deployment now counts as this commit's (never for a failed deploy)"
    )


@router.post(
    "/projects/{project}/deploys", status_code=201, summary="Record a deploy", responses=errors(404)
)
def report_deploy(
    project: ProjectKey, body: DeployIn, services: ServicesDep, who: MayReport
) -> DeployOut:
    link = services.evidence.report_deploy(
        who, project, body.environment, body.commit, body.succeeded, body.vercel_deployment
    )
    return DeployOut(
        recorded=True, vercel_deployment=body.vercel_deployment, vercel_linked=link is not None
    )

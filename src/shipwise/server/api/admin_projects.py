"""Projects and their pipelines of environments.

GET  /projects                             the projects the token may see
POST /projects                             global admins
GET  /projects/{project}
GET  /projects/{project}/environments      in promotion order
POST /projects/{project}/environments      appended to the pipeline; every flag off there
GET  /projects/{project}/environments/{environment}
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shipwise.domain.pipeline import DEFAULT_PIPELINE, Stage
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayCreateProjects, MayManageEnvironments, MayRead, ServicesDep
from shipwise.server.api.schemas import (
    Branch,
    EnvironmentKey,
    EnvironmentKeyIn,
    Name,
    ProjectKey,
    ProjectKeyIn,
    StrictBody,
    TimeZone,
    errors,
)
from shipwise.server.ports import Environment
from shipwise.server.services.projects import ProjectView

router = admin_router("projects")


class EnvironmentIn(StrictBody):
    key: EnvironmentKeyIn
    name: Name | None = Field(default=None, description="Defaults to the key")
    branch: Branch | None = Field(default=None, description="Its git branch; defaults to the key")


class ProjectIn(StrictBody):
    key: ProjectKeyIn
    name: Name | None = Field(default=None, description="Defaults to the key")
    timezone: TimeZone = Field(default="UTC", description="IANA time zone, e.g. Europe/Oslo")
    environments: list[EnvironmentIn] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="The pipeline in promotion order; by default dev, staging, production",
    )


class EnvironmentOut(BaseModel):
    key: str
    name: str
    branch: str
    position: int = Field(description="Place in the pipeline, 0 first")
    revision: int = Field(description="Bumped by every change to its snapshot")

    @classmethod
    def of(cls, environment: Environment) -> EnvironmentOut:
        return cls(
            key=environment.key,
            name=environment.name,
            branch=environment.branch,
            position=environment.position,
            revision=environment.revision,
        )


class ProjectOut(BaseModel):
    key: str
    name: str
    timezone: str
    created_at: datetime
    environments: list[EnvironmentOut]

    @classmethod
    def of(cls, view: ProjectView) -> ProjectOut:
        project = view.project
        return cls(
            key=project.key,
            name=project.name,
            timezone=project.timezone,
            created_at=project.created_at,
            environments=[EnvironmentOut.of(e) for e in view.environments],
        )


class ProjectList(BaseModel):
    projects: list[ProjectOut]


class EnvironmentList(BaseModel):
    environments: list[EnvironmentOut]


@router.get("/projects", summary="Projects this token may see", responses=errors())
def list_projects(services: ServicesDep, who: MayRead) -> ProjectList:
    return ProjectList(projects=[ProjectOut.of(v) for v in services.projects.all(who)])


@router.post(
    "/projects",
    status_code=201,
    summary="Create a project with its pipeline (global admins)",
    responses=errors(409, 422),
)
def create_project(body: ProjectIn, services: ServicesDep, who: MayCreateProjects) -> ProjectOut:
    pipeline: tuple[Stage, ...] = DEFAULT_PIPELINE
    if body.environments is not None:
        pipeline = tuple(
            Stage(e.key, e.name or e.key, e.branch or e.key) for e in body.environments
        )
    view = services.projects.create(who, body.key, body.name, body.timezone, pipeline)
    return ProjectOut.of(view)


@router.get("/projects/{project}", summary="One project", responses=errors(404, 422))
def get_project(project: ProjectKey, services: ServicesDep, who: MayRead) -> ProjectOut:
    return ProjectOut.of(services.projects.get(who, project))


@router.get(
    "/projects/{project}/environments",
    summary="The project's environments, in promotion order",
    responses=errors(404, 422),
)
def list_environments(project: ProjectKey, services: ServicesDep, who: MayRead) -> EnvironmentList:
    view = services.projects.get(who, project)
    return EnvironmentList(environments=[EnvironmentOut.of(e) for e in view.environments])


@router.post(
    "/projects/{project}/environments",
    status_code=201,
    summary="Add an environment at the end of the pipeline (release managers, admins)",
    responses=errors(404, 409, 422),
)
def create_environment(
    project: ProjectKey, body: EnvironmentIn, services: ServicesDep, who: MayManageEnvironments
) -> EnvironmentOut:
    environment = services.projects.add_environment(who, project, body.key, body.name, body.branch)
    return EnvironmentOut.of(environment)


@router.get(
    "/projects/{project}/environments/{environment}",
    summary="One environment, with its snapshot revision",
    responses=errors(404, 422),
)
def get_environment(
    project: ProjectKey, environment: EnvironmentKey, services: ServicesDep, who: MayRead
) -> EnvironmentOut:
    return EnvironmentOut.of(services.projects.environment(who, project, environment))

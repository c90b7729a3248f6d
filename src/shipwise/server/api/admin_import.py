"""Moving in from Unleash.

POST /projects/{project}/environments/{environment}/import/unleash
    body: what Unleash's client API answers (GET /api/client/features), with segments.
    All or nothing: a flag Shipwise cannot represent is a 422 naming it (and every
    other such flag), and nothing is written.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, StrictInt

from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import MayWriteFlags, ServicesDep
from shipwise.server.api.schemas import EnvironmentKey, JsonObject, ProjectKey, StrictBody, errors

router = admin_router("import")


class UnleashDocument(StrictBody):
    """Unleash's features document: its envelope fields, and nothing else. Its flags and
    segments are checked by the engine's Unleash parser, which names the field at fault
    (``features[2].strategies[0]``)."""

    version: StrictInt | None = None
    features: list[JsonObject] = Field(max_length=10_000)
    segments: list[JsonObject] = Field(default_factory=list, max_length=10_000)
    query: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None


class ImportReportOut(BaseModel):
    created_flags: list[str]
    updated_flags: list[str]
    segments: dict[str, str] = Field(description="Unleash segment id -> Shipwise segment name")
    notes: list[str] = Field(description="What was imported differently, e.g. a flag's kind")


@router.post(
    "/projects/{project}/environments/{environment}/import/unleash",
    summary="Import an Unleash features document into one environment, all or nothing",
    responses=errors(404, 422),
)
def import_unleash(
    project: ProjectKey,
    environment: EnvironmentKey,
    document: UnleashDocument,
    services: ServicesDep,
    who: MayWriteFlags,
) -> ImportReportOut:
    raw = document.model_dump(exclude_none=True)
    report = services.importing.import_unleash(who, project, environment, raw)
    return ImportReportOut(
        created_flags=report.created_flags,
        updated_flags=report.updated_flags,
        segments={str(k): v for k, v in report.segments.items()},
        notes=report.notes,
    )

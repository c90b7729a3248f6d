"""Release notes drawn from git, and where a project's repository is.

GET   /projects/{p}/repository                        where notes are drawn from
PUT   /projects/{p}/repository                        {"location": PATH_OR_URL | null}
GET   /projects/{p}/releases/{key}/notes              ?refresh=true draws them from git again
                                                      ?format=markdown: text/markdown
POST  /projects/{p}/releases/{key}/notes/refresh      the same as ?refresh=true
PATCH /projects/{p}/releases/{key}/notes/entries/{entry}  {"text": …, "hidden": …}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from shipwise.domain.release_notes import NoteEntry
from shipwise.server.api.admin_routing import admin_router
from shipwise.server.api.auth import (
    MayManagePolicy,
    MayManageReleases,
    MayRead,
    ServicesDep,
)
from shipwise.server.api.schemas import ProjectKey, ReleaseKey, StrictBody, errors
from shipwise.server.services.release_notes import MAX_ENTRY_TEXT, NotesView

router = admin_router("release notes")

EntryKey = Annotated[
    str,
    Path(
        pattern=r"^(pr-[0-9]{1,9}|commit-[0-9a-f]{40,64})$",
        description='An entry\'s key: "pr-<number>" or "commit-<sha>"',
    ),
]


class RepositoryIn(StrictBody):
    location: str | None = Field(
        max_length=1000,
        description="An absolute path on the server, or an https/http/ssh/git/file URL; "
        "null forgets it",
    )


class RepositoryOut(BaseModel):
    location: str | None


class EntryOut(BaseModel):
    key: str
    type: str
    scope: str | None
    breaking: bool
    text: str
    pull_request: int | None
    labels: list[str]
    commits: list[str]
    hidden: bool
    edited: bool

    @classmethod
    def of(cls, entry: NoteEntry) -> EntryOut:
        return cls(
            key=entry.key,
            type=entry.type,
            scope=entry.scope,
            breaking=entry.breaking,
            text=entry.text,
            pull_request=entry.pull_request,
            labels=list(entry.labels),
            commits=list(entry.commits),
            hidden=entry.hidden,
            edited=entry.edited,
        )


class NotesOut(BaseModel):
    release: str
    title: str
    base_commit: str | None = Field(description="The previous production release's commit")
    head_commit: str
    refreshed_at: str
    entries: list[EntryOut] = Field(description="Every entry, hidden ones included")
    excluded: list[str] = Field(description="Commits the policy's [notes] exclude left out")
    sections: list[dict[str, Any]] = Field(description="The visible entries, laid out")
    markdown: str

    @classmethod
    def of(cls, view: NotesView) -> NotesOut:
        return cls(
            release=view.release,
            title=view.title,
            base_commit=view.base_commit,
            head_commit=view.head_commit,
            refreshed_at=view.refreshed_at.isoformat(),
            entries=[EntryOut.of(e) for e in view.entries],
            excluded=list(view.excluded),
            sections=view.structure()["sections"],
            markdown=view.markdown,
        )


class EntryChange(StrictBody):
    text: str | None = Field(
        default=None, max_length=MAX_ENTRY_TEXT, description="null: git's words again"
    )
    hidden: bool | None = None


def _answer(view: NotesView, format: str) -> Response | NotesOut:
    if format == "markdown":
        return PlainTextResponse(view.markdown, media_type="text/markdown; charset=utf-8")
    return NotesOut.of(view)


@router.get("/projects/{project}/repository", summary="The git repository", responses=errors(404))
def get_repository(project: ProjectKey, services: ServicesDep, who: MayRead) -> RepositoryOut:
    return RepositoryOut(location=services.release_notes.repository(who, project))


@router.put(
    "/projects/{project}/repository", summary="Set the git repository", responses=errors(404)
)
def set_repository(
    project: ProjectKey, body: RepositoryIn, services: ServicesDep, who: MayManagePolicy
) -> RepositoryOut:
    services.release_notes.set_repository(who, project, body.location)
    return RepositoryOut(location=body.location)


@router.get(
    "/projects/{project}/releases/{key}/notes",
    summary="A release's notes",
    response_model=NotesOut,
    responses=errors(404, 409),
)
def get_notes(
    project: ProjectKey,
    key: ReleaseKey,
    services: ServicesDep,
    who: MayRead,
    refresh: bool = False,
    format: Annotated[Literal["json", "markdown"], Query()] = "json",
) -> Response | NotesOut:
    return _answer(services.release_notes.notes(who, project, key, refresh=refresh), format)


@router.post(
    "/projects/{project}/releases/{key}/notes/refresh",
    summary="Draw a release's notes from git again",
    responses=errors(404, 409),
)
def refresh_notes(
    project: ProjectKey, key: ReleaseKey, services: ServicesDep, who: MayManageReleases
) -> NotesOut:
    return NotesOut.of(services.release_notes.refresh(who, project, key))


@router.patch(
    "/projects/{project}/releases/{key}/notes/entries/{entry}",
    summary="Edit or hide an entry (kept across refreshes)",
    responses=errors(404),
)
def edit_entry(
    project: ProjectKey,
    key: ReleaseKey,
    entry: EntryKey,
    body: EntryChange,
    services: ServicesDep,
    who: MayManageReleases,
) -> NotesOut:
    changes = body.model_dump(exclude_unset=True)
    return NotesOut.of(services.release_notes.edit_entry(who, project, key, entry, changes))

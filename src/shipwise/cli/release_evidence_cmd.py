"""``shipwise release approve|check|signoff|drill``: the evidence a release's gates ask
for, recorded by the person who gives it; each says what the next promotion still needs.

Where evidence is for a stage and none is named, the server picks: the release's next
environment for an approval or a check, the stage before production (the pipeline's
own, not a fixed name) for a sign-off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from shipwise.cli.command import Api, command
from shipwise.cli.gate_view import unmet_labels
from shipwise.cli.options import ProjectOption, ReleaseArgument, env_option
from shipwise.cli.output import say
from shipwise.cli.remote import Remote, api_path
from shipwise.cli.shapes import items

# Merged into ``shipwise release`` (release_cmd.py): these are its commands too.
evidence_app = typer.Typer()

StageOption = Annotated[
    str | None,
    env_option(
        "The environment it is for. (default: where the release goes next)", "--stage", "-s"
    ),
]
BEFORE_PRODUCTION = "(default: the stage before production)"


def release_path(project: str, key: str | None = None, *rest: str) -> str:
    return api_path("projects", project, "releases", *([key] if key else []), *rest)


def _recorded(remote: Remote, project: str, key: str, done: Callable[[str], str]) -> None:
    """Say ``done(next environment)``, then what that promotion still needs."""
    detail = remote.get(release_path(project, key))
    target = detail.get("next_stage")
    say(done(target or "its next environment"))
    if not target:
        return
    missing = unmet_labels(items(detail, "gates"))
    if missing:
        say(f"Still needed for {target}: {missing}", style="dim")
    else:
        say(
            f"Every gate for {target} is met: shipwise release promote {key} -p {project}",
            style="green",
        )


@command(evidence_app, "approve")
def approve(
    api: Api, key: ReleaseArgument, project: ProjectOption = "default", stage: StageOption = None
) -> None:
    """Approve a release, as the token's person, for one promotion. Its authors cannot."""
    body = {"stage": stage} if stage else {}
    release = api.post(release_path(project, key, "approve"), body)
    if api.json(release):
        return
    _recorded(api, project, key, lambda target: f"Approved {key} for {stage or target}.")


@command(evidence_app, "check")
def check(
    api: Api,
    key: ReleaseArgument,
    item: Annotated[
        str,
        typer.Argument(metavar="ITEM", help="The checklist item, as the policy words it."),
    ],
    project: ProjectOption = "default",
    note: Annotated[str | None, typer.Option(help="A note for the record.")] = None,
    stage: StageOption = None,
) -> None:
    """Tick a checklist item of the policy, e.g. "Release notes shared with the team"."""
    body: dict[str, Any] = {"item": item}
    body |= {k: v for k, v in {"note": note, "stage": stage}.items() if v}
    release = api.post(release_path(project, key, "check"), body)
    if api.json(release):
        return
    done = f'Checked "{item}" on {key} for '
    _recorded(api, project, key, lambda target: f"{done}{stage or target}.")


@command(evidence_app, "signoff")
def signoff(
    api: Api,
    key: ReleaseArgument,
    project: ProjectOption = "default",
    kind: Annotated[str, typer.Option(help="What kind of sign-off.")] = "qa",
    stage: Annotated[
        str | None,
        env_option(f"The environment it was tested in. {BEFORE_PRODUCTION}", "--stage", "-s"),
    ] = None,
) -> None:
    """Sign a release off after testing it (QA, on the stage before production, by
    default)."""
    body = {"kind": kind} | ({"stage": stage} if stage else {})
    release = api.post(release_path(project, key, "signoff"), body)
    if api.json(release):
        return
    label = "QA" if kind == "qa" else kind
    where = f" on {stage}" if stage else ""
    _recorded(api, project, key, lambda _: f"{label} signed {key} off{where}.")


@command(evidence_app, "drill")
def drill(
    api: Api,
    key: ReleaseArgument,
    environment: Annotated[str, env_option("Where the rollback was rehearsed.", "--environment")],
    project: ProjectOption = "default",
    failed: Annotated[bool, typer.Option("--failed", help="The rehearsal did not work.")] = False,
    detail: Annotated[str | None, typer.Option(help="What was done and seen.")] = None,
) -> None:
    """Record a rehearsal of the rollback plan (production wants one before it)."""
    body: dict[str, Any] = {"environment": environment, "succeeded": not failed}
    if detail:
        body["detail"] = detail
    release = api.post(release_path(project, key, "drills"), body)
    if api.json(release):
        return
    outcome = "failed" if failed else "successful"
    done = f"Recorded a {outcome} rollback drill of {key} in {environment}."
    _recorded(api, project, key, lambda _: done)

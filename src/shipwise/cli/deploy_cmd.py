"""``shipwise deploy report`` and ``shipwise ci report``: evidence from CI pipelines.

Gates ask about both: "CI green" wants the release's commit green in CI, "deployed to
the previous environment first" wants a successful deploy of the same commit there. A
pipeline reports them right after the fact (see docs/ci.md). A deploy served by Vercel
names its deployment (``--vercel-deployment dpl_...``), so the records Vercel drains from
it count as this deploy's (docs/monitoring.md).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.text import Text

from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption, env_option
from shipwise.cli.output import say
from shipwise.cli.params import commit_sha
from shipwise.cli.remote import api_path
from shipwise.domain.vercel_deployments import deployment_problem

deploy_app = typer.Typer(
    help="Deploys: tell Shipwise what commit is running where.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
ci_app = typer.Typer(
    help="CI results: tell Shipwise whether a commit's checks passed.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

RefOption = Annotated[
    str,
    typer.Option(
        "--ref",
        help="The full commit SHA (40 or 64 hex digits), e.g. ${{ github.sha }}.",
        callback=commit_sha,
    ),
]


def _vercel_deployment(value: str | None) -> str | None:
    """An option callback: Vercel's deployment id, refused in words before any call."""
    problem = None if value is None else deployment_problem(value)
    if problem is not None:
        raise typer.BadParameter(problem)
    return value


VercelDeploymentOption = Annotated[
    str | None,
    typer.Option(
        "--vercel-deployment",
        help="The Vercel deployment serving this deploy (its id, dpl_...), so the records "
        "Vercel drains from it count as this deploy's.",
        callback=_vercel_deployment,
    ),
]


class CiState(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    PENDING = "pending"
    ERROR = "error"


@command(deploy_app, "report")
def report_deploy(
    api: Api,
    environment: Annotated[
        str, env_option("Where it was deployed, e.g. staging.", "--environment")
    ],
    ref: RefOption,
    failed: Annotated[bool, typer.Option("--failed", help="The deploy failed.")] = False,
    vercel_deployment: VercelDeploymentOption = None,
    project: ProjectOption = "default",
) -> None:
    """Record that a commit was deployed to an environment (or failed to be, --failed)."""
    body: dict[str, object] = {"environment": environment, "commit": ref, "succeeded": not failed}
    if vercel_deployment is not None:
        body["vercel_deployment"] = vercel_deployment
    answer = api.post(api_path("projects", project, "deploys"), body)
    if api.json(answer):
        return
    outcome = Text("failed", style="red") if failed else Text("succeeded", style="green")
    served = ""
    if vercel_deployment is not None:
        served = f" as Vercel deployment {vercel_deployment}"
        if not answer.get("vercel_linked"):
            served += " (not linked: a failed deploy served nobody)"
    say(f"Recorded a deploy of {ref[:12]} to {project}/{environment}{served}: ", outcome, ".")


@command(ci_app, "report")
def report_ci(
    api: Api,
    ref: RefOption,
    context: Annotated[
        str, typer.Option(help="The check's name, e.g. tests or ${{ github.workflow }}.")
    ],
    state: Annotated[CiState, typer.Option(help="How it ended (or pending while it runs).")],
    project: ProjectOption = "default",
) -> None:
    """Record a CI check's result for a commit; a red result closes the CI gate."""
    body = {"commit": ref, "context": context, "state": state.value}
    if api.json(api.post(api_path("projects", project, "ci"), body)):
        return
    style = {"success": "green", "pending": "yellow"}.get(state.value, "red")
    say(f"Recorded {context} ", Text(state.value, style=style), f" for {ref[:12]} in {project}.")

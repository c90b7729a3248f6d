"""``shipwise gate check RELEASE --env ENVIRONMENT``: may the promotion proceed? For CI.

Exit codes, exactly (a pipeline step can rely on them):

    0  every gate is met: the promotion may proceed
    1  a gate is unmet: the list says which, and what would satisfy each
    2  anything else: usage, configuration, connection, an unknown release,
       environment or project, a bad token or one of the wrong kind or role, a server
       error

So a typo in the release's key or the environment never reads as a closed gate.

Asking changes nothing on the server.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from shipwise.cli.command import Api, command
from shipwise.cli.gate_view import gate_summary, gates_table, unmet
from shipwise.cli.options import ProjectOption, ReleaseArgument, env_option
from shipwise.cli.output import Exit, console, fail, say
from shipwise.cli.release_evidence_cmd import release_path
from shipwise.cli.remote import Refusal
from shipwise.cli.shapes import items

gate_app = typer.Typer(
    help="Gates: may a release be promoted now? (exit 0 yes, 1 no, 2 error)",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@command(gate_app, "check")
def check(
    api: Api,
    key: ReleaseArgument,
    environment: Annotated[
        str | None,
        env_option(
            "The environment to promote into, e.g. production. "
            "(default: where the release goes next)",
            "--environment",
        ),
    ] = None,
    project: ProjectOption = "default",
) -> None:
    """Exit 0 if RELEASE may be promoted into --env now, 1 with the unmet gates if not,
    2 on any error. Changes nothing.

    In a CI step before deploying to production:
    shipwise gate check rel-12 --env production
    """
    decision = _decision(api, key, environment, project)
    allowed = decision.get("allowed")
    if not isinstance(allowed, bool):
        fail(
            "the server's answer does not say whether the promotion is allowed",
            hint="Is --url (or SHIPWISE_URL) a Shipwise server, of this version or newer?",
        )
    if not api.json(decision):
        _report(key, decision)
    raise typer.Exit(Exit.OK if allowed else Exit.NO)


def _decision(api: Api, key: str, environment: str | None, project: str) -> dict[str, Any]:
    try:
        answer = api.get(release_path(project, key, "gates"), {"environment": environment})
    except Refusal as refusal:
        # Asking refuses nothing; were the server to answer 409 all the same, it would
        # not be an unmet gate, and 1 here means only that.
        fail(refusal.message)
    return dict(answer) if isinstance(answer, dict) else {}


def _report(key: str, decision: dict[str, Any]) -> None:
    target = decision.get("target") or "its next environment"
    gates = items(decision, "gates")
    if decision.get("allowed"):
        say(Text(f"{key} may go to {target}: {gate_summary(gates)}.", style="green"))
        return
    say(Text(f"{key} may not go to {target} yet: {gate_summary(gates)}.", style="red"))
    console.print(gates_table(unmet(gates)))

"""``shipwise policy apply FILE`` and ``shipwise policy show``: the release policy as code.

The policy (``shipwise.toml``, described in docs/policy.md) says which gates a release
passes into each environment. A file with a mistake is refused whole, naming the line
and the key, and exits 2; nothing of it is applied.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption
from shipwise.cli.output import fail, note, say
from shipwise.cli.remote import ApiError, api_path

policy_app = typer.Typer(
    help="Release policy as code: shipwise.toml, the gates of each environment.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

# How the server names the file in its messages: "shipwise.toml line 9, key window.start: …"
_SERVER_NAME = re.compile(r"^shipwise\.toml(?=[ ,:])")


@command(policy_app, "apply")
def apply(
    api: Api,
    path: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="The policy file, e.g. shipwise.toml.", dir_okay=False),
    ],
    project: ProjectOption = "default",
) -> None:
    """Upload a policy file; it takes effect for the next gate checks and promotions.

    A mistake is reported with its line and key (exit 2), and nothing is applied. A file
    that weakens a rule (fewer approvals, a wider window, a gate off, an environment no
    longer protected) waits for a second release manager or admin: it is recorded as a
    change request (exit 0) that they approve and apply.
    """
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text", hint="Save the policy file as UTF-8.")
    try:
        answer = api.put(api_path("projects", project, "policy"), {"source": source})
    except ApiError as error:
        if error.status != 422:
            raise
        message = _SERVER_NAME.sub(lambda _: str(path), error.message)
        if error.field and f"key {error.field}" not in message:
            message += f" (key: {error.field})"
        fail(
            message,
            hint=f"Nothing was applied. Fix {path} and apply it again; docs/policy.md "
            "lists every key.",
        )
    if api.json(answer):
        return
    request = answer.get("change_request")
    if answer.get("applied") is False and isinstance(request, dict):
        # Recorded, not refused: it takes effect once a second person approves it.
        number = request["id"]
        weakens = "; ".join(str(w) for w in answer.get("weakenings") or ())
        say(
            f"{path} is change request #{number}, waiting for a second release manager: "
            f"it weakens {weakens}; they run `shipwise change approve {number} "
            f"-p {project}` and `shipwise change apply {number} -p {project}`."
        )
        say(f"See the request: shipwise change show {number} -p {project}", style="dim")
        return
    version = f" (version {answer['version']})" if answer.get("version") else ""
    say(f"Applied {path} to {project}{version}.")
    say(f"See the policy in force: shipwise policy show -p {project}", style="dim")


@command(policy_app, "show")
def show(
    api: Api,
    project: ProjectOption = "default",
    source: Annotated[
        bool,
        typer.Option("--source", help="Print the file as uploaded, not the effective policy."),
    ] = False,
) -> None:
    """Print the policy in force as shipwise.toml, with every setting written out.

    The output is a valid policy file: shipwise policy show > shipwise.toml
    """
    answer = api.get(api_path("projects", project, "policy"))
    if api.json(answer):
        return
    if source:
        if "source" not in answer:
            fail(
                f"{api.url} does not return the uploaded policy file",
                hint="Upgrade the server, or leave out --source for the policy in force.",
            )
        if not answer["source"]:
            fail(
                f"{project} has no uploaded policy: the defaults are in force",
                hint=f"See them with shipwise policy show -p {project}.",
            )  # exit 2: nothing to print is not a refusal
        text = str(answer["source"])
    else:
        text = str(answer.get("effective") or "")
    if answer.get("source"):
        version = f" (version {answer['version']})" if answer.get("version") else ""
        note(f"Release policy of {project}: from the file uploaded{version}")
    elif "source" in answer:
        note(f"Release policy of {project}: the defaults (no policy uploaded)")
    typer.echo(text, nl=not text.endswith("\n"))

"""``shipwise release create|list|show|update|promote|abandon|pr-body``; the evidence
commands (approve, check, signoff, drill) are in ``release_evidence_cmd.py``, ``notes``
in ``release_notes_cmd.py``.

A release is one change moving through a project's environments; each promotion passes
the target stage's gates (``shipwise.toml``, see ``shipwise policy``). ``show`` lists
each gate's state, the evidence commands say what is still missing, and a refused
``promote`` prints the unmet gates and exits 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NoReturn

import typer
from rich.text import Text

from shipwise.cli.command import Api, command
from shipwise.cli.gate_view import gate_summary, gates_table, unmet
from shipwise.cli.options import CommitOption, ProjectOption, ReleaseArgument, env_option
from shipwise.cli.output import Exit, console, fail, print_json, say, table
from shipwise.cli.params import pull_requests, text_or_file
from shipwise.cli.release_evidence_cmd import evidence_app, release_path
from shipwise.cli.release_notes_cmd import notes_app
from shipwise.cli.remote import Refusal
from shipwise.cli.schedule_cmd import schedule_app
from shipwise.cli.shapes import items
from shipwise.domain.releases import ChangeKind, ReleaseStatus, Severity

release_app = typer.Typer(
    help="Releases: one change through the pipeline, promoted only through its gates.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

BranchOption = Annotated[
    str | None, typer.Option(help="The branch it is built from, e.g. main for a hotfix.")
]
FlagsOption = Annotated[
    list[str] | None,
    typer.Option("--flag", help="A feature flag it ships behind; repeat for more."),
]
PullsOption = Annotated[
    list[str] | None,
    typer.Option("--pr", help="A pull request: its number or URL; repeat for more."),
]
PlanText = "Text, or @FILE to read it from a file."
RollbackOption = Annotated[
    str | None, typer.Option(help=f"How to take it back out. {PlanText}", show_default=False)
]
CommunicationOption = Annotated[
    str | None, typer.Option(help=f"Who is told what, when. {PlanText}", show_default=False)
]
JustificationOption = Annotated[
    str | None,
    typer.Option(
        help=f"Why a hotfix cannot wait for the normal path. {PlanText}", show_default=False
    ),
]


def _plans(
    rollback_plan: str | None, communication_plan: str | None, justification: str | None
) -> dict[str, str | None]:
    return {
        "rollback_plan": text_or_file(rollback_plan, "--rollback-plan"),
        "communication_plan": text_or_file(communication_plan, "--communication-plan"),
        "justification": text_or_file(justification, "--justification"),
    }


LabelsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--label",
        help="What kind of change it is, e.g. major (a stage may ask major features for "
        "help docs); repeat for more.",
    ),
]


# -- commands -------------------------------------------------------------------------------


@command(release_app, "create")
def create(
    api: Api,
    title: Annotated[str, typer.Argument(metavar="TITLE", help="What it changes, in words.")],
    project: ProjectOption = "default",
    kind: Annotated[ChangeKind, typer.Option(help="What kind of change.")] = ChangeKind.FEATURE,
    key: Annotated[
        str | None,
        typer.Option(help="Its key. (default: rel-N, numbered by the server)", show_default=False),
    ] = None,
    severity: Annotated[
        Severity | None,
        typer.Option(help="For a bug fix or hotfix: how bad the bug is.", show_default=False),
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="Who answers for it. (default: you)", show_default=False)
    ] = None,
    flag: FlagsOption = None,
    commit: CommitOption = None,
    branch: BranchOption = None,
    pr: PullsOption = None,
    rollback_plan: RollbackOption = None,
    communication_plan: CommunicationOption = None,
    justification: JustificationOption = None,
    author: Annotated[
        list[str] | None,
        typer.Option(help="Someone else who wrote it (cannot approve it); repeat for more."),
    ] = None,
    label: LabelsOption = None,
) -> None:
    """Start a release; it is in no environment until it is promoted."""
    body: dict[str, Any] = {"title": title, "kind": kind.value}
    optional = {
        "key": key,
        "severity": None if severity is None else severity.value,
        "owner": owner,
        "flags": flag,
        "commit": commit,
        "branch": branch,
        "pull_requests": pull_requests(pr),
        **_plans(rollback_plan, communication_plan, justification),
        "authors": author,
        "labels": label,
    }
    body |= {k: v for k, v in optional.items() if v is not None}
    release = api.post(release_path(project), body)
    if api.json(release):
        return
    say(
        f"Created {release.get('kind')} release ",
        Text(str(release.get("key")), style="bold"),
        f" in {project}: {release.get('title')}",
    )
    say(f"Next: shipwise release show {release.get('key')} -p {project}", style="dim")


@command(release_app, "list")
def list_releases(
    api: Api,
    project: ProjectOption = "default",
    stage: Annotated[
        str | None, env_option("Only releases in this environment.", "--stage", "-s")
    ] = None,
    status: Annotated[
        ReleaseStatus | None,
        typer.Option(help="Only releases in this state. (default: all)", show_default=False),
    ] = None,
) -> None:
    """A project's releases: where each one is and in what state."""
    params = {"stage": stage, "status": None if status is None else status.value}
    answer = api.get(release_path(project), params)
    releases = [
        r
        for r in items(answer, "releases")
        if (stage is None or r.get("stage") == stage)
        and (status is None or r.get("status") == status.value)
    ]
    if api.json({"releases": releases}):
        return
    rows = (
        (
            r.get("key"),
            r.get("kind"),
            r.get("severity"),
            r.get("title"),
            r.get("stage") or Text("not promoted yet", style="dim"),
            r.get("status"),
            r.get("owner"),
            r.get("flags"),
        )
        for r in releases
    )
    where = "".join(
        (f" in {stage}" if stage else "", f" that are {status.value}" if status else "")
    )
    title = f"Releases of {project}{where}" if releases else f"No releases of {project}{where}"
    columns = ("release", "kind", "severity", "title", "stage", "status", "owner", "flags")
    console.print(table(columns, rows, title=title))


@command(release_app, "show")
def show(api: Api, key: ReleaseArgument, project: ProjectOption = "default") -> None:
    """One release: what it is, where it is, and each gate of its next promotion."""
    detail = api.get(release_path(project, key))
    if api.json(detail):
        return
    release = dict(detail.get("release") or {})
    _describe(release)
    _next(detail, key, project)


def _describe(release: Mapping[str, Any]) -> None:
    say(Text(str(release.get("key")), style="bold"), f"  {release.get('title')}")
    kind = str(release.get("kind"))
    if release.get("severity"):
        kind += f" ({release['severity']})"
    where = f"in {release['stage']}" if release.get("stage") else "not promoted yet"
    say(
        f"{kind} · {release.get('status')} · {where} · owner {release.get('owner')} · "
        f"content version {release.get('content_version')}"
    )
    facts = {
        "commit": release.get("commit"),
        "branch": release.get("branch"),
        "flags": ", ".join(release.get("flags") or []),
        "pull requests": ", ".join(f"#{p.get('number')}" for p in items(release, "pull_requests")),
        "authors": ", ".join(release.get("authors") or []),
        "labels": ", ".join(release.get("labels") or []),
        "help docs": release.get("help_docs"),
        "rollback plan": _first_line(release.get("rollback_plan")),
        "communication plan": _first_line(release.get("communication_plan")),
        "justification": _first_line(release.get("justification")),
    }
    for label, value in facts.items():
        if value:
            say(f"{label}: ", str(value))


def _next(detail: Mapping[str, Any], key: str, project: str) -> None:
    target = detail.get("next_stage")
    gates = items(detail, "gates")
    if not target:
        release = detail.get("release") or {}
        say(f"No promotion ahead: {key} is {release.get('status')}", style="dim")
        return
    style = "green" if detail.get("allowed") else "yellow"
    say(Text(f"Next: {target} — {gate_summary(gates)}", style=style))
    console.print(gates_table(gates))
    if detail.get("allowed"):
        say(f"Promote it: shipwise release promote {key} -p {project}", style="dim")


def _first_line(value: Any) -> str | None:
    if not value:
        return None
    lines = str(value).strip().splitlines()
    first = lines[0] if lines else ""
    return f"{first} …" if len(lines) > 1 else first


@command(release_app, "update")
def update(
    api: Api,
    key: ReleaseArgument,
    project: ProjectOption = "default",
    title: Annotated[str | None, typer.Option(help="A new title.", show_default=False)] = None,
    commit: CommitOption = None,
    branch: BranchOption = None,
    flag: Annotated[
        list[str] | None,
        typer.Option("--flag", help="The feature flags it ships behind (replaces the list)."),
    ] = None,
    pr: Annotated[
        list[str] | None,
        typer.Option("--pr", help="Its pull requests, by number or URL (replaces the list)."),
    ] = None,
    rollback_plan: RollbackOption = None,
    communication_plan: CommunicationOption = None,
    justification: JustificationOption = None,
    label: LabelsOption = None,
) -> None:
    """Change a release. A change to what is released (commit, flags, pull requests, the
    rollback or communication plan) withdraws its approvals, sign-offs and drills; its
    labels (--label, replacing people's) do not."""
    changes = {
        "title": title,
        "commit": commit,
        "branch": branch,
        "flags": flag,
        "pull_requests": pull_requests(pr),
        **_plans(rollback_plan, communication_plan, justification),
        "labels": label,
    }
    body = {k: v for k, v in changes.items() if v is not None}
    if not body:
        fail(
            "nothing to change",
            hint="Give at least one of --title, --ref, --branch, --flag, --pr, "
            "--rollback-plan, --communication-plan, --justification, --label.",
        )
    before = api.get(release_path(project, key)).get("release") or {}
    release = api.patch(release_path(project, key), body)
    if api.json(release):
        return
    say(f"Updated {key}: ", ", ".join(k.replace("_", " ") for k in body), ".")
    old, new = before.get("content_version"), release.get("content_version")
    if old != new:
        say(
            Text(
                f"Content version {new}: approvals, sign-offs and drills of version {old} "
                "no longer count.",
                style="yellow",
            )
        )


@command(release_app, "promote")
def promote(
    api: Api,
    key: ReleaseArgument,
    project: ProjectOption = "default",
    environment: Annotated[
        str | None, env_option("Where to. (default: the next environment)", "--environment")
    ] = None,
) -> None:
    """Promote a release into its next environment, if every gate there is met.

    Refused (exit 1) with a table of the unmet gates, saying what would satisfy each;
    nothing changes then.
    """
    body = {"environment": environment} if environment else {}
    try:
        answer = api.post(release_path(project, key, "promote"), body)
    except Refusal as refusal:
        _refused(refusal, key, environment, api.as_json)
    if api.json(answer):
        return
    release = answer.get("release") or {}
    target = answer.get("target") or release.get("stage")
    gates = items(answer, "gates")
    say("Promoted ", Text(key, style="bold"), f" into {target}: {gate_summary(gates)}.")
    if "HOTFIX" in (release.get("labels") or []):
        say("It went on the hotfix path and is labelled HOTFIX.", style="yellow")
    if switched := answer.get("switched_on"):
        say(f"Switched on in {target} for the policy's testers: {', '.join(switched)}.")


def _refused(refusal: Refusal, key: str, environment: str | None, as_json: bool) -> NoReturn:
    gates = refusal.body.get("gates")
    if not isinstance(gates, list):  # a conflict that is not about gates
        raise refusal
    if as_json:
        print_json({"allowed": False, "message": refusal.message, "gates": gates})
        raise typer.Exit(Exit.NO)
    where = f" to {environment}" if environment else ""
    say(
        Text(f"{key} was not promoted{where}: {gate_summary(gates)}; nothing changed.", "red"),
    )
    console.print(gates_table(unmet(gates)))
    passed = len(gates) - len(unmet(gates))
    if passed:
        say(
            f"{passed} other gate{'s' if passed != 1 else ''} met; "
            f"shipwise release show {key} lists all.",
            style="dim",
        )
    raise typer.Exit(Exit.NO)


@command(release_app, "abandon")
def abandon(
    api: Api,
    key: ReleaseArgument,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (kept in the audit log).")],
    project: ProjectOption = "default",
) -> None:
    """Give a release up before it is released."""
    release = api.post(release_path(project, key, "abandon"), {"reason": reason})
    if api.json(release):
        return
    say(Text(key, style="bold"), f" is {release.get('status')}; the reason is in the audit log.")


@command(release_app, "pr-body")
def pr_body(api: Api, key: ReleaseArgument, project: ProjectOption = "default") -> None:
    """Print the pull-request description (Markdown) to paste into the PR.

    For GitHub: shipwise release pr-body rel-12 | gh pr edit 42 --body-file -
    """
    markdown = api.text(release_path(project, key, "pr-body"))
    if api.json({"release": key, "body": markdown}):
        return
    typer.echo(markdown, nl=not markdown.endswith("\n"))


# approve, check, signoff, drill: the evidence commands, in their own module.
release_app.add_typer(evidence_app)
# notes: drawn from git, in their own module.
release_app.add_typer(notes_app)
release_app.add_typer(schedule_app)

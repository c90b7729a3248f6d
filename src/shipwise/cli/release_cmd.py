"""``shipwise release create|list|show|update|approve|check|signoff|drill|promote|abandon|pr-body``.

A release is one change moving through a project's environments; each promotion passes
the target stage's gates (``shipwise.toml``, see ``shipwise policy``). ``show`` lists
each gate's state, the evidence commands (approve, check, signoff, drill) say what is
still missing, and a refused ``promote`` prints the unmet gates and exits 1.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table
from rich.text import Text

from shipwise.cli.options import JsonOption, ProjectOption, TokenOption, UrlOption
from shipwise.cli.output import Exit, console, fail, print_json, say, table
from shipwise.cli.remote import TIMEOUT_SECONDS, Connection, Remote, api_path, resolve
from shipwise.cli.shapes import items
from shipwise.domain.commits import normalize_commit
from shipwise.domain.gates import gate_label
from shipwise.domain.releases import ChangeKind, ReleaseStatus, Severity

release_app = typer.Typer(
    help="Releases: one change through the pipeline, promoted only through its gates.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

# -- talking to the server: text answers, and refusals a command shows its own way ---------


class Refusal(Exception):
    """An error answer (``{"error": {...}}``) that the command shows itself: the gates of
    a refused promotion, the line and key of a policy mistake."""

    def __init__(self, status: int, error: Mapping[str, Any]) -> None:
        self.status = status
        self.error = dict(error)
        self.message = str(error.get("message") or "")
        self.field: str | None = error.get("field") or None
        super().__init__(self.message)


class ReleaseRemote(Remote):
    """``Remote`` that also reads text answers (the PR body), and raises ``Refusal`` for
    the error statuses in ``handle`` instead of printing them and exiting."""

    def __init__(self, connection: Connection, handle: Collection[int] = ()) -> None:
        super().__init__(connection)
        self._handle = frozenset(handle)

    def __enter__(self) -> ReleaseRemote:
        return self

    def _fail(self, response: Any) -> NoReturn:
        if response.status_code in self._handle:
            try:
                error = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                error = None
            if isinstance(error, Mapping) and "message" in error:
                raise Refusal(response.status_code, error)
        super()._fail(response)

    def text(self, path: str) -> str:
        """GET ``path`` for a text answer (Markdown); errors as for JSON."""
        import httpx  # noqa: PLC0415 (lazy)

        try:
            response = self._http.get(path, headers={"Accept": "text/markdown, text/plain"})
        except httpx.TimeoutException:
            fail(
                f"{self.url} did not answer within {TIMEOUT_SECONDS:.0f} s",
                hint="The server may be overloaded or stuck; try again, or check its log.",
            )
        except httpx.TransportError as error:
            fail(
                f"cannot reach Shipwise at {self.url}: {error}",
                hint="Is the server running (shipwise serve)? Check --url or SHIPWISE_URL.",
            )
        if not response.is_success:
            self._fail(response)
        return response.text


def connect(url: str | None, token: str | None, handle: Collection[int] = ()) -> ReleaseRemote:
    return ReleaseRemote(resolve(url, token), handle)


# -- gates, as people read them -------------------------------------------------------------


def unmet(gates: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [g for g in gates if not g.get("passed")]


def gates_table(gates: Sequence[Mapping[str, Any]], *, title: str | None = None) -> Table:
    """One row per gate: met or not, what was found, and what would satisfy it."""
    rows = (
        (
            Text("✓", style="green") if g.get("passed") else Text("✗", style="bold red"),
            gate_label(str(g.get("gate"))),
            g.get("detail"),
            None if g.get("passed") else g.get("remedy"),
        )
        for g in gates
    )
    return table(("", "gate", "found", "what would satisfy it"), rows, title=title)


def gate_summary(gates: Sequence[Mapping[str, Any]]) -> str:
    missing = len(unmet(gates))
    if not missing:
        return f"all {len(gates)} gate{'s' if len(gates) != 1 else ''} met"
    return f"{missing} of {len(gates)} gate{'s' if len(gates) != 1 else ''} unmet"


# -- values from the command line -----------------------------------------------------------

_PULL_URL = re.compile(r"/pull/(\d+)/?(?:[?#].*)?$")


def commit_sha(value: str | None) -> str | None:
    """An option callback: the full git commit SHA, lowered (domain/commits.py)."""
    if value is None:
        return None
    try:
        return normalize_commit(value)
    except ValueError as problem:
        raise typer.BadParameter(
            f"{problem}; in CI, ${{{{ github.sha }}}} is the full SHA"
        ) from None


def pull_request(value: str) -> dict[str, Any]:
    """``--pr 42``, ``--pr '#42'`` or ``--pr https://github.com/o/r/pull/42``."""
    text = value.strip()
    link = _PULL_URL.search(text)
    if link and text.startswith(("http://", "https://")):
        return {"number": int(link.group(1)), "url": text}
    number = text.removeprefix("#")
    if number.isdigit() and int(number) >= 1:
        return {"number": int(number)}
    raise typer.BadParameter(
        f"{value!r} is not a pull request; give its number (42) or its URL "
        "(https://github.com/owner/repo/pull/42)",
        param_hint="--pr",
    )


def text_or_file(value: str | None, option: str) -> str | None:
    """The option's text, or the contents of FILE when it is ``@FILE``."""
    if value is None or not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"{option}: cannot read {path}: {error.strerror}")


ReleaseArgument = Annotated[
    str, typer.Argument(metavar="RELEASE", help="The release's key, e.g. rel-12.")
]
StageOption = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        "--stage",
        "-s",
        help="The environment it is for. (default: where the release goes next)",
        show_default=False,
    ),
]
CommitOption = Annotated[
    str | None,
    typer.Option(
        "--ref",
        "--commit",
        help="The full commit SHA being released (40 or 64 hex digits).",
        callback=commit_sha,
        show_default=False,
    ),
]
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


def _path(project: str, key: str | None = None, *rest: str) -> str:
    return api_path("projects", project, "releases", *([key] if key else []), *rest)


def _pulls(values: list[str] | None) -> list[dict[str, Any]] | None:
    return None if values is None else [pull_request(v) for v in values]


# -- commands -------------------------------------------------------------------------------


@release_app.command("create")
def create(
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
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
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
        "pull_requests": _pulls(pr),
        "rollback_plan": text_or_file(rollback_plan, "--rollback-plan"),
        "communication_plan": text_or_file(communication_plan, "--communication-plan"),
        "justification": text_or_file(justification, "--justification"),
        "authors": author,
    }
    body |= {k: v for k, v in optional.items() if v is not None}
    with connect(url, token) as remote:
        release = remote.post(_path(project), body)
    if as_json:
        print_json(release)
        return
    say(
        f"Created {release.get('kind')} release ",
        Text(str(release.get("key")), style="bold"),
        f" in {project}: {release.get('title')}",
    )
    say(f"Next: shipwise release show {release.get('key')} -p {project}", style="dim")


@release_app.command("list")
def list_releases(
    project: ProjectOption = "default",
    stage: Annotated[
        str | None,
        typer.Option(
            "--env",
            "-e",
            "--stage",
            "-s",
            help="Only releases in this environment.",
            show_default=False,
        ),
    ] = None,
    status: Annotated[
        ReleaseStatus | None,
        typer.Option(help="Only releases in this state. (default: all)", show_default=False),
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A project's releases: where each one is and in what state."""
    params = {"stage": stage, "status": None if status is None else status.value}
    with connect(url, token) as remote:
        answer = remote.get(_path(project), params)
    releases = [
        r
        for r in items(answer, "releases")
        if (stage is None or r.get("stage") == stage)
        and (status is None or r.get("status") == status.value)
    ]
    if as_json:
        print_json({"releases": releases})
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


@release_app.command("show")
def show(
    key: ReleaseArgument,
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """One release: what it is, where it is, and each gate of its next promotion."""
    with connect(url, token) as remote:
        detail = remote.get(_path(project, key))
    if as_json:
        print_json(detail)
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
    if detail.get("allowed"):
        say(Text(f"Next: {target} — {gate_summary(gates)}", style="green"))
    else:
        say(Text(f"Next: {target} — {gate_summary(gates)}", style="yellow"))
    console.print(gates_table(gates))
    if detail.get("allowed"):
        say(f"Promote it: shipwise release promote {key} -p {project}", style="dim")


def _first_line(value: Any) -> str | None:
    if not value:
        return None
    lines = str(value).strip().splitlines()
    first = lines[0] if lines else ""
    return f"{first} …" if len(lines) > 1 else first


@release_app.command("update")
def update(
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
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a release. A change to what is released (commit, flags, pull requests, the
    rollback or communication plan) withdraws its approvals, sign-offs and drills."""
    changes = {
        "title": title,
        "commit": commit,
        "branch": branch,
        "flags": flag,
        "pull_requests": _pulls(pr),
        "rollback_plan": text_or_file(rollback_plan, "--rollback-plan"),
        "communication_plan": text_or_file(communication_plan, "--communication-plan"),
        "justification": text_or_file(justification, "--justification"),
    }
    body = {k: v for k, v in changes.items() if v is not None}
    if not body:
        fail(
            "nothing to change",
            hint="Give at least one of --title, --ref, --branch, --flag, --pr, "
            "--rollback-plan, --communication-plan, --justification.",
        )
    with connect(url, token) as remote:
        before = remote.get(_path(project, key)).get("release") or {}
        release = remote.request("PATCH", _path(project, key), body=body)
    if as_json:
        print_json(release)
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


def _recorded(remote: ReleaseRemote, project: str, key: str, done: Callable[[str], str]) -> None:
    """Say ``done(next environment)``, then what that promotion still needs."""
    detail = remote.get(_path(project, key))
    target = detail.get("next_stage")
    say(done(target or "its next environment"))
    if not target:
        return
    missing = unmet(items(detail, "gates"))
    if missing:
        labels = ", ".join(gate_label(str(g.get("gate"))) for g in missing)
        say(f"Still needed for {target}: {labels}", style="dim")
    else:
        say(
            f"Every gate for {target} is met: shipwise release promote {key} -p {project}",
            style="green",
        )


@release_app.command("approve")
def approve(
    key: ReleaseArgument,
    project: ProjectOption = "default",
    stage: StageOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a release, as the token's person, for one promotion. Its authors cannot."""
    body = {"stage": stage} if stage else {}
    with connect(url, token) as remote:
        release = remote.post(_path(project, key, "approve"), body)
        if as_json:
            print_json(release)
            return
        _recorded(remote, project, key, lambda target: f"Approved {key} for {stage or target}.")


@release_app.command("check")
def check(
    key: ReleaseArgument,
    item: Annotated[
        str,
        typer.Argument(metavar="ITEM", help="The checklist item, as the policy words it."),
    ],
    project: ProjectOption = "default",
    note: Annotated[str | None, typer.Option(help="A note for the record.")] = None,
    stage: StageOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Tick a checklist item of the policy, e.g. "Release notes shared with the team"."""
    body: dict[str, Any] = {"item": item}
    body |= {k: v for k, v in {"note": note, "stage": stage}.items() if v}
    with connect(url, token) as remote:
        release = remote.post(_path(project, key, "check"), body)
        if as_json:
            print_json(release)
            return
        done = f'Checked "{item}" on {key} for '
        _recorded(remote, project, key, lambda target: f"{done}{stage or target}.")


@release_app.command("signoff")
def signoff(
    key: ReleaseArgument,
    project: ProjectOption = "default",
    kind: Annotated[str, typer.Option(help="What kind of sign-off.")] = "qa",
    stage: Annotated[
        str,
        typer.Option("--env", "-e", "--stage", "-s", help="The environment it was tested in."),
    ] = "staging",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sign a release off after testing it (QA, on staging, by default)."""
    with connect(url, token) as remote:
        release = remote.post(_path(project, key, "signoff"), {"kind": kind, "stage": stage})
        if as_json:
            print_json(release)
            return
        label = "QA" if kind == "qa" else kind
        _recorded(remote, project, key, lambda _: f"{label} signed {key} off on {stage}.")


@release_app.command("drill")
def drill(
    key: ReleaseArgument,
    environment: Annotated[
        str,
        typer.Option("--env", "-e", "--environment", help="Where the rollback was rehearsed."),
    ],
    project: ProjectOption = "default",
    failed: Annotated[bool, typer.Option("--failed", help="The rehearsal did not work.")] = False,
    detail: Annotated[str | None, typer.Option(help="What was done and seen.")] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a rehearsal of the rollback plan (production wants one on staging)."""
    body: dict[str, Any] = {"environment": environment, "succeeded": not failed}
    if detail:
        body["detail"] = detail
    with connect(url, token) as remote:
        release = remote.post(_path(project, key, "drills"), body)
        if as_json:
            print_json(release)
            return
        outcome = "failed" if failed else "successful"
        done = f"Recorded a {outcome} rollback drill of {key} in {environment}."
        _recorded(remote, project, key, lambda _: done)


@release_app.command("promote")
def promote(
    key: ReleaseArgument,
    project: ProjectOption = "default",
    environment: Annotated[
        str | None,
        typer.Option(
            "--env",
            "-e",
            "--environment",
            help="Where to. (default: the next environment)",
            show_default=False,
        ),
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Promote a release into its next environment, if every gate there is met.

    Refused (exit 1) with a table of the unmet gates, saying what would satisfy each;
    nothing changes then.
    """
    body = {"environment": environment} if environment else {}
    try:
        with connect(url, token, handle={409}) as remote:
            answer = remote.post(_path(project, key, "promote"), body)
    except Refusal as refusal:
        _refused(refusal, key, environment, as_json)
    if as_json:
        print_json(answer)
        return
    release = answer.get("release") or {}
    target = answer.get("target") or release.get("stage")
    gates = items(answer, "gates")
    say(
        "Promoted ",
        Text(key, style="bold"),
        f" into {target}: {gate_summary(gates)}.",
    )
    if "HOTFIX" in (release.get("labels") or []):
        say("It went on the hotfix path and is labelled HOTFIX.", style="yellow")
    if switched := answer.get("switched_on"):
        say(f"Switched on in {target} for the policy's testers: {', '.join(switched)}.")


def _refused(refusal: Refusal, key: str, environment: str | None, as_json: bool) -> NoReturn:
    gates = refusal.error.get("gates")
    if not isinstance(gates, list):  # a conflict that is not about gates
        fail(refusal.message, code=Exit.NO)
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


@release_app.command("abandon")
def abandon(
    key: ReleaseArgument,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (kept in the audit log).")],
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give a release up before it is released."""
    with connect(url, token) as remote:
        release = remote.post(_path(project, key, "abandon"), {"reason": reason})
    if as_json:
        print_json(release)
        return
    say(Text(key, style="bold"), f" is {release.get('status')}; the reason is in the audit log.")


@release_app.command("pr-body")
def pr_body(
    key: ReleaseArgument,
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the pull-request description (Markdown) to paste into the PR.

    For GitHub: shipwise release pr-body rel-12 | gh pr edit 42 --body-file -
    """
    with connect(url, token) as remote:
        markdown = remote.text(_path(project, key, "pr-body"))
    if as_json:
        print_json({"release": key, "body": markdown})
        return
    typer.echo(markdown, nl=not markdown.endswith("\n"))

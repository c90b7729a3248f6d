"""``shipwise mailout draft|list|show|edit|preview|test|send``: an email announcement of
a release to its users, drafted from the release's notes.

    shipwise mailout draft rel-12 --channel customers --recipients-file users.txt
    shipwise mailout edit 3 --subject "Checkout in one page" --body-file mail.md --version 2
    shipwise mailout preview 3 --html preview.html
    shipwise mailout test 3 --to me@example.com     # the dry run: to you alone
    shipwise mailout send 3                         # to everyone, each alone

A send is refused (exit 1) until the current version had a dry run; every edit asks for
a new one. A send that stops on a channel's failure exits 1 and says how many are still
pending; running ``send`` again sends only to them. ``edit --version N`` (the version
``show`` printed) is refused (exit 1) when someone saved another version since.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption, ReleaseArgument
from shipwise.cli.output import console, errors, fail, say, shown, table
from shipwise.cli.remote import api_path
from shipwise.cli.shapes import items

mailout_app = typer.Typer(
    help="Email announcements of a release to its users: draft, preview, dry run, send.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

MailoutArgument = Annotated[int, typer.Argument(metavar="ID", help="The announcement's id.")]
ChannelOption = Annotated[
    str | None, typer.Option(help="The email channel to send through (its name).")
]
RecipientsOption = Annotated[
    Path | None,
    typer.Option("--recipients-file", help="A file of addresses, one a line (# comments allowed)."),
]
BATCH = 50  # recipients a send request reaches: the progress bar moves between them


def _path(project: str, *rest: str) -> str:
    return api_path("projects", project, "mailouts", *rest)


def _read(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{option}: cannot read {path}: {error}")


def _recipients(path: Path | None) -> list[str] | None:
    if path is None:
        return None
    return [line for line in _read(path, "--recipients-file").splitlines() if line.strip()]


def _describe(mailout: dict[str, Any]) -> None:
    say(
        Text(f"Email announcement {mailout.get('id')}", style="bold"),
        f" of {mailout.get('release')}: {mailout.get('status')} "
        f"(version {mailout.get('version')}, channel {mailout.get('channel') or 'none'})",
    )
    say("Subject: ", str(mailout.get("subject")))
    recipients = mailout.get("recipients") or []
    say(
        f"{len(recipients)} recipient(s): {mailout.get('sent')} sent, "
        f"{mailout.get('refused')} refused, {mailout.get('pending')} pending"
    )
    console.print(shown(str(mailout.get("body")), keep_newlines=True))
    if mailout.get("tested_version") != mailout.get("version"):
        say(f"Next: a dry run, `shipwise mailout test {mailout.get('id')}`", style="dim")


@command(mailout_app, "draft")
def draft(
    api: Api,
    release: ReleaseArgument,
    project: ProjectOption = "default",
    channel: ChannelOption = None,
    recipients_file: RecipientsOption = None,
) -> None:
    """Draft an announcement from the release's notes (features and fixes), to edit."""
    body: dict[str, Any] = {"recipients": _recipients(recipients_file) or []}
    if channel is not None:
        body["channel"] = channel
    answer = api.post(api_path("projects", project, "releases", release, "mailouts"), body)
    if api.json(answer):
        return
    _describe(answer)
    say(f"Edit it: shipwise mailout edit {answer.get('id')} --body-file FILE", style="dim")


@command(mailout_app, "list")
def list_mailouts(api: Api, project: ProjectOption = "default") -> None:
    """The project's email announcements."""
    answer = api.get(_path(project))
    if api.json(answer):
        return
    found = items(answer, "mailouts")
    rows = (
        (
            m.get("id"),
            m.get("release"),
            m.get("subject"),
            m.get("status"),
            f"{m.get('sent')} / {len(m.get('recipients') or [])}",
        )
        for m in found
    )
    title = f"Email announcements of {project}" if found else f"No email announcements in {project}"
    console.print(table(("id", "release", "subject", "status", "sent"), rows, title=title))


@command(mailout_app, "show")
def show(api: Api, mailout: MailoutArgument, project: ProjectOption = "default") -> None:
    """One announcement: its words, recipients and how far it got."""
    answer = api.get(_path(project, str(mailout)))
    if api.json(answer):
        return
    _describe(answer)


@command(mailout_app, "edit")
def edit(
    api: Api,
    mailout: MailoutArgument,
    project: ProjectOption = "default",
    subject: Annotated[str | None, typer.Option(help="The subject line.")] = None,
    body_file: Annotated[
        Path | None, typer.Option("--body-file", help="The body, Markdown, from a file.")
    ] = None,
    recipients_file: RecipientsOption = None,
    channel: ChannelOption = None,
    version: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="The version you read (`mailout show`): refused (exit 1) if another "
            "was saved since.",
        ),
    ] = None,
) -> None:
    """Change the subject, body, recipients or channel (a dry run is due again)."""
    body: dict[str, Any] = {}
    if subject is not None:
        body["subject"] = subject
    if body_file is not None:
        body["body"] = _read(body_file, "--body-file")
    if (recipients := _recipients(recipients_file)) is not None:
        body["recipients"] = recipients
    if channel is not None:
        body["channel"] = channel
    if not body:
        fail("nothing to change: give --subject, --body-file, --recipients-file or --channel")
    if version is not None:
        body["version"] = version
    answer = api.patch(_path(project, str(mailout)), body)
    if api.json(answer):
        return
    _describe(answer)


@command(mailout_app, "preview")
def preview(
    api: Api,
    mailout: MailoutArgument,
    project: ProjectOption = "default",
    html: Annotated[
        Path | None, typer.Option(help="Write the HTML part to this file, to open in a browser.")
    ] = None,
) -> None:
    """Print the message as it will be sent (the plain-text part; --html writes the other)."""
    answer = api.get(_path(project, str(mailout), "preview"))
    if html is not None:
        try:
            html.write_text(str(answer.get("html")), encoding="utf-8")
        except OSError as error:
            fail(f"--html: cannot write {html}: {error}")
    if api.json(answer):
        return
    say(Text("Subject: ", style="bold"), str(answer.get("subject")))
    console.print(shown(str(answer.get("plain")), keep_newlines=True))
    if html is not None:
        say(f"HTML part written to {html}", style="dim")


@command(mailout_app, "test")
def dry_run(
    api: Api,
    mailout: MailoutArgument,
    project: ProjectOption = "default",
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            help="Send the dry run here (default: your token's name, if an "
            "address); repeat for more.",
        ),
    ] = None,
) -> None:
    """The dry run: the exact message to you alone; then it may be sent (exit 1 if not sent)."""
    answer = api.post(_path(project, str(mailout), "test"), {"to": to or []})
    if not api.json(answer):
        if answer.get("ok"):
            say(f"Dry run of version {answer.get('version')} sent: ", str(answer.get("said")))
            say(
                f"The real send would reach {answer.get('would_reach')} recipient(s): "
                f"shipwise mailout send {mailout}",
                style="dim",
            )
        else:
            say("Dry run NOT sent: ", str(answer.get("said")))
    if not answer.get("ok"):
        raise typer.Exit(1)


@command(mailout_app, "send")
def send(api: Api, mailout: MailoutArgument, project: ProjectOption = "default") -> None:
    """Send to every recipient not sent yet, each alone (exit 1 if the channel failed)."""
    path = _path(project, str(mailout), "send")
    with Progress(
        TextColumn("sending"),
        BarColumn(),
        MofNCompleteColumn(),
        console=errors,
        transient=True,
        disable=api.as_json,
    ) as progress:
        bar = progress.add_task("send", total=None)
        while True:
            answer = api.post(path, {"limit": BATCH})
            done = int(answer.get("sent", 0)) + int(answer.get("refused", 0))
            progress.update(bar, total=done + int(answer.get("pending", 0)), completed=done)
            if (
                not answer.get("ok")
                or not answer.get("pending")
                or not (answer.get("sent_now") or answer.get("refused_now"))
            ):
                break
    if not api.json(answer):
        mark = "Sent" if answer.get("ok") else "Stopped"
        say(
            f"{mark}: {answer.get('sent')} sent, {answer.get('refused')} refused, "
            f"{answer.get('pending')} pending. ",
            str(answer.get("said")),
        )
        if answer.get("pending") and not answer.get("ok"):
            say(f"Send again to continue: shipwise mailout send {mailout}", style="dim")
    if not answer.get("ok"):
        raise typer.Exit(1)

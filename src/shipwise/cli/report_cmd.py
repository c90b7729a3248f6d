"""``shipwise release report REL`` (the whole release record as Markdown) and
``shipwise release learnings REL [--file FILE]`` (print the learnings, or save them from
a TOML or JSON file).

A learnings file has the API's fields::

    went_well = "The 10% step caught the slow query early."
    went_badly = "Nobody watched the first hour."
    contributing_factors = "The dashboard's link was not in the notice."
    version = 3            # optional: the version you read; without it, the current one

    [[action_items]]
    what = "Put the rollout page in the upcoming notice"
    owner = "carol"
    due = 2026-12-31

    [[timeline]]
    at = 2026-12-06T14:30:00Z
    who = "dan"
    what = "Saw the slow query in the traces"

Saving replaces every field. With ``version`` in the file, a save over someone else's
newer one is refused (exit 1, naming who saved and when); without it, the file wins.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption, ReleaseArgument
from shipwise.cli.output import console, fail, say, shown, table
from shipwise.cli.release_evidence_cmd import release_path

report_app = typer.Typer()

OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the Markdown to FILE instead of stdout."),
]
FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        "-f",
        help="Save the learnings from this TOML or JSON file (every field is replaced).",
    ),
]


@command(report_app, "report")
def report(
    api: Api,
    key: ReleaseArgument,
    output: OutputOption = None,
    project: ProjectOption = "default",
) -> None:
    """Print the release's whole record as Markdown: notes, gates, approvals and
    sign-offs, checklist, drills, promotions, rollout plans, the success report, the
    learnings and the timeline."""
    markdown = api.text(release_path(project, key, "record.md"))
    if output is not None:
        try:
            output.write_text(markdown, encoding="utf-8")
        except OSError as error:
            fail(f"cannot write {output}: {error.strerror}")
        if not api.json({"release": key, "output": str(output)}):
            say(f"Wrote the record of {key} to {output}.", style="green")
        return
    if api.json({"release": key, "markdown": markdown}):
        return
    typer.echo(markdown, nl=not markdown.endswith("\n"))


@command(report_app, "learnings")
def learnings(
    api: Api,
    key: ReleaseArgument,
    file: FileOption = None,
    project: ProjectOption = "default",
) -> None:
    """Print the release's learnings and timeline, or save them from --file."""
    path = release_path(project, key, "learnings")
    if file is None:
        answer = api.get(path)
    else:
        data = _read(file)
        if "version" not in data:
            data["version"] = api.get(path)["version"]
        answer = api.put(path, _plain(data))
    if api.json(answer):
        return
    if file is not None:
        say(f"Saved the learnings of {key} (version {answer['version']}).", style="green")
        return
    _print(answer)


def _read(file: Path) -> dict[str, Any]:
    try:
        raw = file.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror}")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text")
    try:
        data = tomllib.loads(raw) if file.suffix.lower() == ".toml" else json.loads(raw)
    except (tomllib.TOMLDecodeError, ValueError) as error:
        kind = "TOML" if file.suffix.lower() == ".toml" else "JSON"
        fail(f"{file} is not valid {kind}: {error}", hint="A .toml file is read as TOML.")
    if not isinstance(data, dict):
        fail(f"{file} holds {type(data).__name__}, not the learnings' fields")
    return data


def _plain(value: Any) -> Any:
    """TOML's dates and times as the API's text (ISO 8601)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _print(answer: dict[str, Any]) -> None:
    saved = answer.get("updated_by")
    head = f"Learnings of {answer['release']}, version {answer['version']}"
    head += f", saved by {saved} at {answer.get('updated_at')}" if saved else " (not written yet)"
    console.print(shown(head))
    for title, name in (
        ("What went well", "went_well"),
        ("What did not", "went_badly"),
        ("Contributing factors", "contributing_factors"),
    ):
        console.print()  # ``shown`` writes a newline inside the text as "\n"
        console.print(shown(f"{title}:"), style="bold")
        console.print(shown(answer.get(name) or "—", keep_newlines=True))
    items = answer.get("action_items") or []
    rows = [[i["what"], i["owner"], i["due"]] for i in items]
    console.print(table(["What", "Owner", "Due"], rows, title="Action items"))
    lines = [[t["at"], t["who"], t["what"]] for t in answer.get("timeline") or []]
    console.print(table(["When", "Who", "What"], lines, title="Timeline"))

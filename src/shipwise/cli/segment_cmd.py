"""``shipwise segment list|show|create|update|delete``: named constraint sets that a
project's flags share (e.g. beta-testers), over the admin API.

Constraints come from ``--file`` (JSON: a list of Unleash constraint objects, or an object
with ``constraints`` and ``description`` such as ``segment show --json`` prints; ``-``
reads stdin), or from repeated ``--constraint`` in a short form::

    --constraint 'plan IN pro,team'            a list operator: values split at commas
    --constraint 'appVersion SEMVER_GT 2.1.0'  a one-value operator: the rest is the value
    --constraint 'email NOT STR_ENDS_WITH @example.com'   NOT inverts it

Values holding a comma, or options such as ``caseInsensitive``, need the JSON file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption
from shipwise.cli.output import console, fail, say, table
from shipwise.cli.params import json_document
from shipwise.cli.remote import api_path
from shipwise.cli.shapes import items, when
from shipwise.engine.operators import MATCHERS_BY_OPERATOR

segment_app = typer.Typer(
    help="Segments: named sets of constraints (e.g. beta-testers) that flags share.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

# Operators that compare with one value (``value``); every other takes a list (``values``).
ONE_VALUE = frozenset(
    {op for op in MATCHERS_BY_OPERATOR if op.startswith(("NUM_", "DATE_", "SEMVER_"))} | {"REGEX"}
)
_FORM = "'CONTEXT [NOT] OPERATOR VALUES', e.g. 'plan IN pro,team'"

NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="The segment's name, e.g. beta-testers.")
]
ConstraintOption = Annotated[
    list[str] | None,
    typer.Option(
        "--constraint",
        "-c",
        help="A constraint, 'CONTEXT [NOT] OPERATOR VALUES': 'plan IN pro,team', "
        "'appVersion SEMVER_GT 2.1.0'. Repeat for more (all must match).",
        show_default=False,
    ),
]
FileOption = Annotated[
    str | None,
    typer.Option(
        "--file",
        "-f",
        metavar="PATH",
        help="The constraints as JSON (a list, or {constraints, description}); - reads stdin.",
        show_default=False,
    ),
]
DescriptionOption = Annotated[
    str | None, typer.Option(help="What the segment is for.", show_default=False)
]


def parse_constraint(text: str) -> dict[str, Any]:
    """``'plan IN pro,team'`` as the API's constraint object; exit 2 explaining a typo."""
    words = text.split(None, 2)
    inverted = len(words) == 3 and words[1].upper() == "NOT"
    if inverted:
        words = [words[0], *words[2].split(None, 1)]
    if len(words) < 3:
        fail(f"--constraint {text!r} is not of the form {_FORM}")
    context, operator, rest = words[0], words[1].upper(), words[2].strip()
    if operator not in MATCHERS_BY_OPERATOR:
        fail(
            f"--constraint {text!r}: unknown operator {words[1]!r}",
            hint="Operators: " + ", ".join(MATCHERS_BY_OPERATOR) + ".",
        )
    constraint: dict[str, Any] = {"contextName": context, "operator": operator}
    if operator in ONE_VALUE:
        constraint["value"] = rest
    else:
        values = [value.strip() for value in rest.split(",")]
        if "" in values:
            fail(
                f"--constraint {text!r} has an empty value between commas",
                hint="A value holding a comma needs --file with the constraints as JSON.",
            )
        constraint["values"] = values
    if inverted:
        constraint["inverted"] = True
    return constraint


def _content(
    file: str | None, constraints: list[str] | None, description: str | None
) -> tuple[list[Any] | None, str | None]:
    """The constraints given (None: none given) and the description (the option's, else
    the file's)."""
    if file is not None and constraints:
        fail("give the constraints with --file or with --constraint, not both")
    if constraints:
        return [parse_constraint(c) for c in constraints], description
    if file is None:
        return None, description
    document = json_document(file)
    if isinstance(document, Mapping) and isinstance(document.get("constraints"), list):
        found = document.get("description")
        return list(document["constraints"]), description or (found if found else None)
    if isinstance(document, list):
        return document, description
    fail(
        f"{file} holds neither a list of constraints nor an object with 'constraints'",
        hint='E.g. [{"contextName": "plan", "operator": "IN", "values": ["pro"]}]',
    )


def describe(constraint: Any) -> str:
    """``plan IN pro, team``; ``NOT email STR_ENDS_WITH @example.com``."""
    if not isinstance(constraint, Mapping):
        return str(constraint)
    value = constraint.get("value")
    values = ", ".join(str(v) for v in constraint.get("values") or [])
    text = f"{constraint.get('contextName')} {constraint.get('operator')} {value or values}"
    if constraint.get("caseInsensitive"):
        text += " (any case)"
    return f"NOT {text}" if constraint.get("inverted") else text


def _path(project: str, *name: str) -> str:
    return api_path("projects", project, "segments", *name)


@command(segment_app, "list")
def list_segments(api: Api, project: ProjectOption = "default") -> None:
    """The project's segments, with their constraints."""
    answer = api.get(_path(project))
    if api.json(answer):
        return
    segments = items(answer, "segments")
    rows = (
        (
            s.get("name"),
            s.get("id"),
            "; ".join(describe(c) for c in s.get("constraints") or []) or "everyone",
            s.get("description"),
            s.get("version"),
        )
        for s in segments
    )
    columns = ("name", "id", "constraints (all must match)", "description", "version")
    console.print(table(columns, rows, title=f"Segments of {project!r}"))
    if not segments:
        say(f"No segments yet: shipwise segment create NAME -p {project} -c '...'", style="dim")


@command(segment_app, "show")
def show(api: Api, name: NameArgument, project: ProjectOption = "default") -> None:
    """One segment: its constraints, one per line."""
    segment = api.get(_path(project, name))
    if api.json(segment):
        return
    _print(segment)


def _print(segment: Mapping[str, Any]) -> None:
    say(
        f"Segment {segment.get('name')} (id {segment.get('id')}, version "
        f"{segment.get('version')}, updated {when(segment.get('updated_at'))} UTC)"
    )
    if segment.get("description"):
        say(str(segment["description"]), style="dim")
    constraints = segment.get("constraints") or []
    rows = [(index, describe(c)) for index, c in enumerate(constraints, 1)]
    console.print(table(("#", "constraint (all must match)"), rows))
    if not constraints:
        say("No constraints: everyone is in it.", style="yellow")


@command(segment_app, "create")
def create(
    api: Api,
    name: NameArgument,
    project: ProjectOption = "default",
    constraint: ConstraintOption = None,
    file: FileOption = None,
    description: DescriptionOption = None,
) -> None:
    """Create a segment; flags then use it in a strategy by its id."""
    constraints, description = _content(file, constraint, description)
    if constraints is None:
        fail(
            "a segment needs constraints: --constraint 'plan IN pro,team' (repeat for "
            "more) or --file PATH",
            hint="A segment without constraints holds everyone: say so with --file and [].",
        )
    body: dict[str, Any] = {"name": name, "constraints": constraints}
    if description is not None:
        body["description"] = description
    segment = api.post(_path(project), body)
    if api.json(segment):
        return
    say(f"Created segment {name} in {project} (id {segment.get('id')}).", style="green")
    _print(segment)


@command(segment_app, "update")
def update(
    api: Api,
    name: NameArgument,
    project: ProjectOption = "default",
    constraint: ConstraintOption = None,
    file: FileOption = None,
    description: DescriptionOption = None,
) -> None:
    """Replace a segment's constraints (and description, if given), changing every flag
    that uses it. Refused (exit 1) if someone changed it meanwhile, or, in a protected
    environment, if it would widen who gets a feature."""
    constraints, description = _content(file, constraint, description)
    if constraints is None and description is None:
        fail("nothing to change: give --constraint, --file or --description")
    current = api.get(_path(project, name))
    body = {
        "constraints": current.get("constraints", []) if constraints is None else constraints,
        "description": current.get("description") if description is None else description,
    }
    # The version read above: a change someone made since is refused, not overwritten.
    segment = api.put(_path(project, name), body, {"If-Match": f'"{current.get("version")}"'})
    if api.json(segment):
        return
    say(f"Updated segment {name} in {project}.", style="green")
    _print(segment)


@command(segment_app, "delete")
def delete(api: Api, name: NameArgument, project: ProjectOption = "default") -> None:
    """Delete a segment no flag and no active rollout plan uses (else exit 1 naming them)."""
    deleted = api.delete(_path(project, name))
    if api.json(deleted):
        return
    say(f"Deleted segment {name} from {project}.", style="green")

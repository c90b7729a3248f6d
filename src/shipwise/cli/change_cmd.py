"""``shipwise change request|segment|list|show|approve|reject|withdraw|apply``: changes
that other people review before they take effect.

A change to a flag in a protected environment (production, by default) that would show
it to more users goes through here when it is not a release's: one person requests it,
the number of others the policy asks for (two by default, never the requester) approve
it, and then anyone who may change flags applies it, once. A policy change that weakens
a rule arrives here from ``shipwise policy apply`` and waits for a second release manager.

Exit codes: 0 done, 1 refused (the server said 409: why is printed), 2 a mistake.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from shipwise.cli.options import (
    EnvironmentOption,
    JsonOption,
    ProjectOption,
    TokenOption,
    UrlOption,
)
from shipwise.cli.output import console, fail, print_json, say, shown, table
from shipwise.cli.remote import api_path, connect
from shipwise.cli.shapes import items

change_app = typer.Typer(
    help="Change requests: flag, segment and policy changes that others approve first.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

NumberArgument = Annotated[
    int, typer.Argument(metavar="N", min=1, help="The change request's number, e.g. 5.")
]
OptionalReason = Annotated[
    str | None, typer.Option("--reason", "-r", help="Why: reviewers read it.", show_default=False)
]
_RULE_KEYS = ("enabled", "strategies", "variants", "dependencies")


def _path(project: str, *rest: str | int) -> str:
    return api_path("projects", project, "change-requests", *rest)


def _read_json(source: str, what: str) -> Any:
    """A JSON document from a file, or from stdin when ``source`` is ``-``."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        fail(f"cannot read {source}: {error.strerror}")
    except UnicodeDecodeError:
        fail(f"{source} is not UTF-8 text")
    try:
        return json.loads(text)
    except ValueError as error:
        fail(f"{'stdin' if source == '-' else source} is not valid JSON: {error}", hint=what)


def _rules_from(document: Any, source: str) -> dict[str, Any]:
    """The four rule fields of a rules document (the body of PUT …/environments/{env},
    or its GET answer, whose other fields are left out)."""
    if not isinstance(document, Mapping) or "enabled" not in document:
        fail(
            f"{source} holds no flag rules",
            hint='Write {"enabled": true, "strategies": [...]}, as `shipwise flag show KEY '
            "--json` shows them for each environment.",
        )
    return {key: document[key] for key in _RULE_KEYS if key in document}


def with_rollout(rules: Mapping[str, Any], percentage: int, group_id: str) -> dict[str, Any]:
    """``rules`` switched on with their gradual rollout at ``percentage`` (the server's
    ``flag rollout`` does the same: an existing rollout keeps its group, so everyone who
    had the flag keeps it)."""
    strategies = [dict(s) for s in rules.get("strategies") or []]
    rollouts = [s for s in strategies if s.get("name") == "flexibleRollout"]
    if rollouts:
        rollouts[0]["parameters"] = {
            **dict(rollouts[0].get("parameters") or {}),
            "rollout": str(percentage),
        }
    else:
        parameters = {"rollout": str(percentage), "stickiness": "default", "groupId": group_id}
        strategies.append({"name": "flexibleRollout", "parameters": parameters})
    return {**rules, "enabled": True, "strategies": strategies}


def _announce(answer: Mapping[str, Any], verb: str) -> None:
    number = answer["id"]
    heading = f"{verb} change request #{number}" if verb else f"Change request #{number}"
    say(
        Text(heading, style="bold"),
        f": {answer['what']} ({answer['state']}, {answer['waiting_for']}).",
    )


@change_app.command("request")
def request(
    flag: Annotated[str, typer.Argument(metavar="FLAG", help="The flag's key.")],
    environment: EnvironmentOption,
    rules: Annotated[
        str | None,
        typer.Option(
            "--rules",
            metavar="FILE|-",
            help='The new rules as JSON ({"enabled": ..., "strategies": [...]}); - reads stdin.',
        ),
    ] = None,
    enable: Annotated[
        bool, typer.Option("--enable", help="Request the current rules, switched on.")
    ] = False,
    rollout: Annotated[
        int | None,
        typer.Option(
            "--rollout",
            metavar="PCT",
            min=0,
            max=100,
            help="Request the current rules at this gradual-rollout percentage, switched on.",
        ),
    ] = None,
    reason: OptionalReason = None,
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ask for new rules for a flag in one environment; others approve, then it applies.

    Give the rules whole (--rules FILE, or - for stdin), or change the current ones:
    --enable switches them on, --rollout PCT sets the gradual rollout.
    """
    chosen = [name for name, given in (("--rules", rules), ("--enable", enable or None)) if given]
    if rollout is not None:
        chosen.append("--rollout")
    if len(chosen) != 1:
        fail(
            "say what to request: one of --rules FILE, --enable or --rollout PCT"
            + (f" (not {' and '.join(chosen)} together)" if chosen else ""),
            hint=f"e.g. shipwise change request {flag} -e {environment} --enable",
        )
    with connect(url, token) as remote:
        if rules is not None:
            proposed = _rules_from(_read_json(rules, "The rules file is JSON."), rules)
        else:
            current = remote.get(
                api_path("projects", project, "flags", flag, "environments", environment)
            )
            base = {key: current.get(key) for key in _RULE_KEYS if key in current}
            proposed = (
                {**base, "enabled": True} if enable else with_rollout(base, rollout or 0, flag)
            )
        body: dict[str, Any] = {
            "kind": "flag",
            "flag": flag,
            "environment": environment,
            "rules": proposed,
        }
        if reason:
            body["reason"] = reason
        answer = remote.post(_path(project), body)
    if as_json:
        print_json(answer)
        return
    _announce(answer, "Opened")
    say(
        f"Reviewers (never you) run: shipwise change approve {answer['id']} -p {project}; "
        f"once approved: shipwise change apply {answer['id']} -p {project}",
        style="dim",
    )


@change_app.command("segment")
def segment(
    name: Annotated[str, typer.Argument(metavar="SEGMENT", help="The segment's name.")],
    constraints: Annotated[
        str,
        typer.Option(
            "--constraints",
            metavar="FILE|-",
            help="The new constraints as a JSON list; - reads stdin.",
        ),
    ],
    description: Annotated[
        str | None, typer.Option(help="A new description (else it stays).", show_default=False)
    ] = None,
    reason: OptionalReason = None,
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ask for new constraints for a segment (every flag using it follows)."""
    document = _read_json(constraints, "The constraints file is a JSON list.")
    if not isinstance(document, list):
        fail(f"{constraints} holds no list of constraints", hint='Write [{"contextName": ...}].')
    body: dict[str, Any] = {"kind": "segment", "segment": name, "constraints": document}
    if description is not None:
        body["description"] = description
    if reason:
        body["reason"] = reason
    with connect(url, token) as remote:
        answer = remote.post(_path(project), body)
    if as_json:
        print_json(answer)
        return
    _announce(answer, "Opened")


@change_app.command("list")
def list_requests(
    state: Annotated[
        str | None,
        typer.Option(help="open, approved, applied, rejected, withdrawn or stale."),
    ] = None,
    flag: Annotated[str | None, typer.Option(help="Only this flag's.")] = None,
    environment: Annotated[
        str | None, typer.Option("--env", "-e", help="Only this environment's.")
    ] = None,
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change requests, newest first."""
    params = {"state": state, "flag": flag, "environment": environment}
    with connect(url, token) as remote:
        answer = remote.get(_path(project), params=params)
    if as_json:
        print_json(answer)
        return
    found = items(answer, "change_requests")
    rows = [
        (r["id"], r["state"], r["what"], r["requested_by"], r["waiting_for"], r.get("reason"))
        for r in found
    ]
    title = f"Change requests in {project}" if found else f"No change requests in {project}"
    console.print(table(("#", "state", "change", "by", "approvals", "reason"), rows, title=title))


@change_app.command("show")
def show(
    number: NumberArgument,
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """One change request: who asked, who approved, and the diff."""
    with connect(url, token) as remote:
        answer = remote.get(_path(project, number))
    if as_json:
        print_json(answer)
        return
    _announce(answer, "")
    say(f"requested by {answer['requested_by']}, based on version {answer['base_version']}")
    if answer.get("reason"):
        say(f"reason: {answer['reason']}")
    for review in answer.get("reviews") or []:
        verdict = "approved" if review["approved"] else "rejected"
        comment = f": {review['comment']}" if review.get("comment") else ""
        say(f"{verdict} by {review['person']}{comment}")
    if answer.get("closed_reason"):
        say(f"closed: {answer['closed_reason']}")
    for line in answer.get("diff") or []:
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else None
        console.print(shown(Text(line, style=style or "")), soft_wrap=True)


def _act(
    action: str, number: int, body: Any, project: str, url: str | None, token: str | None
) -> Any:
    with connect(url, token) as remote:
        return remote.post(_path(project, number, action), body)


@change_app.command("approve")
def approve(
    number: NumberArgument,
    comment: Annotated[
        str | None, typer.Option(help="A note for the record.", show_default=False)
    ] = None,
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve someone else's change request (never your own, never twice)."""
    answer = _act("approve", number, {"comment": comment} if comment else None, project, url, token)
    if as_json:
        print_json(answer)
        return
    _announce(answer, "Approved")
    if answer["state"] == "approved":
        say(
            f"It takes effect when applied: shipwise change apply {number} -p {project}",
            style="dim",
        )


@change_app.command("reject")
def reject(
    number: NumberArgument,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (the requester reads it).")],
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject a change request, saying why."""
    answer = _act("reject", number, {"reason": reason}, project, url, token)
    if as_json:
        print_json(answer)
        return
    _announce(answer, "Rejected")


@change_app.command("withdraw")
def withdraw(
    number: NumberArgument,
    reason: OptionalReason = None,
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Withdraw your own change request."""
    answer = _act("withdraw", number, {"reason": reason} if reason else None, project, url, token)
    if as_json:
        print_json(answer)
        return
    _announce(answer, "Withdrew")


@change_app.command("apply")
def apply(
    number: NumberArgument,
    project: ProjectOption = "default",
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Apply an approved change request; it takes effect now, once."""
    answer = _act("apply", number, None, project, url, token)
    if as_json:
        print_json(answer)
        return
    say(
        Text(f"Applied change request #{number}", style="bold"),
        f": {answer['what']} is now at version {answer['applied_version']}.",
    )

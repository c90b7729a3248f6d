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

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.text import Text

from shipwise.cli.command import Api, command
from shipwise.cli.options import (
    EnvironmentOption,
    ProjectOption,
)
from shipwise.cli.output import console, fail, say, shown, table
from shipwise.cli.params import json_document
from shipwise.cli.remote import api_path
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


@command(change_app, "request")
def request(
    api: Api,
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
    if rules is not None:
        proposed = _rules_from(json_document(rules, hint="The rules file is JSON."), rules)
    else:
        current = api.get(api_path("projects", project, "flags", flag, "environments", environment))
        base = {key: current.get(key) for key in _RULE_KEYS if key in current}
        proposed = {**base, "enabled": True} if enable else with_rollout(base, rollout or 0, flag)
    body: dict[str, Any] = {"kind": "flag", "flag": flag, "environment": environment}
    body |= {"rules": proposed} | ({"reason": reason} if reason else {})
    answer = api.post(_path(project), body)
    if api.json(answer):
        return
    _announce(answer, "Opened")
    say(
        f"Reviewers (never you) run: shipwise change approve {answer['id']} -p {project}; "
        f"once approved: shipwise change apply {answer['id']} -p {project}",
        style="dim",
    )


@command(change_app, "segment")
def segment(
    api: Api,
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
) -> None:
    """Ask for new constraints for a segment (every flag using it follows)."""
    document = json_document(constraints, hint="The constraints file is a JSON list.")
    if not isinstance(document, list):
        fail(f"{constraints} holds no list of constraints", hint='Write [{"contextName": ...}].')
    body: dict[str, Any] = {"kind": "segment", "segment": name, "constraints": document}
    if description is not None:
        body["description"] = description
    if reason:
        body["reason"] = reason
    answer = api.post(_path(project), body)
    if api.json(answer):
        return
    _announce(answer, "Opened")


@command(change_app, "list")
def list_requests(
    api: Api,
    state: Annotated[
        str | None,
        typer.Option(help="open, approved, applied, rejected, withdrawn or stale."),
    ] = None,
    flag: Annotated[str | None, typer.Option(help="Only this flag's.")] = None,
    environment: Annotated[
        str | None, typer.Option("--env", "-e", help="Only this environment's.")
    ] = None,
    project: ProjectOption = "default",
) -> None:
    """Change requests, newest first."""
    params = {"state": state, "flag": flag, "environment": environment}
    answer = api.get(_path(project), params=params)
    if api.json(answer):
        return
    found = items(answer, "change_requests")
    rows = [
        (r["id"], r["state"], r["what"], r["requested_by"], r["waiting_for"], r.get("reason"))
        for r in found
    ]
    title = f"Change requests in {project}" if found else f"No change requests in {project}"
    console.print(table(("#", "state", "change", "by", "approvals", "reason"), rows, title=title))


@command(change_app, "show")
def show(api: Api, number: NumberArgument, project: ProjectOption = "default") -> None:
    """One change request: who asked, who approved, and the diff."""
    answer = api.get(_path(project, number))
    if api.json(answer):
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


def _act(api: Api, action: str, number: int, project: str, body: Any = None) -> Any:
    """POST the review ``action`` on request ``number``; its answer, or None when it was
    printed as JSON (the command is done then)."""
    answer = api.post(_path(project, number, action), body)
    return None if api.json(answer) else answer


@command(change_app, "approve")
def approve(
    api: Api,
    number: NumberArgument,
    comment: Annotated[
        str | None, typer.Option(help="A note for the record.", show_default=False)
    ] = None,
    project: ProjectOption = "default",
) -> None:
    """Approve someone else's change request (never your own, never twice)."""
    answer = _act(api, "approve", number, project, {"comment": comment} if comment else None)
    if answer is None:
        return
    _announce(answer, "Approved")
    if answer["state"] == "approved":
        say(
            f"It takes effect when applied: shipwise change apply {number} -p {project}",
            style="dim",
        )


@command(change_app, "reject")
def reject(
    api: Api,
    number: NumberArgument,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (the requester reads it).")],
    project: ProjectOption = "default",
) -> None:
    """Reject a change request, saying why."""
    if answer := _act(api, "reject", number, project, {"reason": reason}):
        _announce(answer, "Rejected")


@command(change_app, "withdraw")
def withdraw(
    api: Api,
    number: NumberArgument,
    reason: OptionalReason = None,
    project: ProjectOption = "default",
) -> None:
    """Withdraw your own change request."""
    if answer := _act(api, "withdraw", number, project, {"reason": reason} if reason else None):
        _announce(answer, "Withdrew")


@command(change_app, "apply")
def apply(api: Api, number: NumberArgument, project: ProjectOption = "default") -> None:
    """Apply an approved change request; it takes effect now, once."""
    answer = _act(api, "apply", number, project)
    if answer is None:
        return
    say(
        Text(f"Applied change request #{number}", style="bold"),
        f": {answer['what']} is now at version {answer['applied_version']}.",
    )

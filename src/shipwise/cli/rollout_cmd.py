"""``shipwise rollout start|list|show|timeline|pause|resume|approve|skip|abort|template``.

A rollout plan takes a flag to 100% in one environment step by step (10% + beta testers,
25%, 50%, 100%), each step held until its time and sample are in and its guardrails are
healthy; a regression rolls the flag back or pauses the plan. ``show`` prints the steps
with the current one marked, each guardrail's last verdict with its one-line summary,
and when the next check is due. Plans are JSON (see docs); ``template save`` keeps one
for ``start --template``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from shipwise.cli.command import Api, command
from shipwise.cli.options import ProjectOption, ReasonOption, env_option
from shipwise.cli.output import console, fail, say, table
from shipwise.cli.params import json_document
from shipwise.cli.remote import api_path
from shipwise.cli.shapes import items, when
from shipwise.domain.rollout import SAMPLE_RATIO

rollout_app = typer.Typer(
    help="Rollout plans: a flag to 100% step by step, watched by guardrails.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
template_app = typer.Typer(
    help="Rollout templates: saved plans to start from (start --template NAME).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
rollout_app.add_typer(template_app, name="template")

PlanId = Annotated[
    int, typer.Argument(metavar="ID", min=1, help="The plan's number, as `rollout list` shows.")
]
EnvOption = Annotated[
    str,
    typer.Option("--env", "-e", "--environment", help="The environment, e.g. production."),
]

# How a plan's state reads, coloured.
_STATUS_STYLE = {
    "running": "yellow",
    "waiting-approval": "bold yellow",
    "paused": "bold red",
    "baking": "cyan",
    "released": "green",
    "rolled-back": "bold red",
    "aborted": "dim",
}
_VERDICT_STYLE = {
    "healthy": "green",
    "inconclusive": "yellow",
    "regressed": "bold red",
    "error": "red",
    "not-applicable": "dim",
}


def _plans(project: str, *rest: str | int) -> str:
    return api_path("projects", project, "rollouts", *rest)


def _templates(project: str, *rest: str) -> str:
    return api_path("projects", project, "rollout-templates", *rest)


def read_plan_file(path: Path, option: str = "--plan") -> Any:
    """A plan's JSON from a file; exit 2 naming the file when it cannot be read."""
    hint = 'A plan looks like {"steps": [{"percentage": 10}, {"percentage": 100}]}.'
    return json_document(path, option=option, hint=hint)


def status_text(status: Any) -> Text:
    return Text(str(status), style=_STATUS_STYLE.get(str(status), ""))


def _where(plan: Mapping[str, Any]) -> str:
    state = plan.get("state") or {}
    return f"step {state.get('step')} of {state.get('steps')}, {state.get('label')}"


def _said(plan: Mapping[str, Any], done: str) -> None:
    """``Plan #3 (new-checkout in production) approved: running at step 1 of 4, 10%.``"""
    state = plan.get("state") or {}
    status = state.get("status")
    say(
        Text(f"Plan #{plan.get('id')}", style="bold"),
        f" ({plan.get('flag')} in {plan.get('environment')}) {done}",
        *(() if status == done else (": ", status_text(status))),
        f" at {_where(plan)}.",
    )
    if state.get("reason"):
        say(f"Reason: {state['reason']}", style="dim")


# -- starting and reading --------------------------------------------------------------------


@command(rollout_app, "start")
def start(
    api: Api,
    flag: Annotated[str, typer.Argument(metavar="FLAG", help="The flag to roll out.")],
    environment: EnvOption,
    project: ProjectOption = "default",
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="A plan as JSON (steps, guardrails, watch).", dir_okay=False),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(help="A saved template's name. (default: the project's default plan)"),
    ] = None,
    release: Annotated[
        str | None, typer.Option(help="The release that ships the flag, e.g. rel-12.")
    ] = None,
) -> None:
    """Start a plan on a flag in one environment; its first step applies at once."""
    if plan is not None and template is not None:
        fail("give --plan or --template, not both")
    body: dict[str, Any] = {"flag": flag, "environment": environment}
    if plan is not None:
        body["plan"] = read_plan_file(plan)
    body |= {k: v for k, v in {"template": template, "release": release}.items() if v}
    started = api.post(_plans(project), body)
    if api.json(started):
        return
    _said(started, "started")
    state = started.get("state") or {}
    if state.get("next_check_at"):
        say(f"First check: {when(state['next_check_at'])} UTC", style="dim")
    say(f"Watch it: shipwise rollout show {started.get('id')} -p {project}", style="dim")


@command(rollout_app, "list")
def list_plans(
    api: Api,
    project: ProjectOption = "default",
    flag: Annotated[str | None, typer.Option(help="Only this flag's plans.")] = None,
    environment: Annotated[
        str | None, env_option("Only plans in this environment.", "--environment")
    ] = None,
    active: Annotated[bool, typer.Option("--active", help="Only plans under way.")] = False,
) -> None:
    """A project's rollout plans: where each stands and when it is next checked."""
    params = {"flag": flag, "environment": environment, "active": "true" if active else None}
    plans = items(api.get(_plans(project), params), "rollouts")
    if api.json({"rollouts": plans}):
        return
    rows = []
    for plan in plans:
        state = plan.get("state") or {}
        rows.append(
            (
                plan.get("id"),
                plan.get("flag"),
                plan.get("environment"),
                status_text(state.get("status")),
                f"{state.get('step')}/{state.get('steps')}",
                state.get("label"),
                when(state.get("next_check_at")),
                plan.get("release"),
            )
        )
    title = f"Rollout plans of {project}" if rows else f"No rollout plans in {project}"
    columns = ("plan", "flag", "environment", "status", "step", "now", "next check", "release")
    console.print(table(columns, rows, title=title))


@command(rollout_app, "show")
def show(api: Api, plan_id: PlanId, project: ProjectOption = "default") -> None:
    """One plan: its steps (the current one marked), its guardrails' last verdicts, and
    the next check."""
    plan = api.get(_plans(project, plan_id))
    if api.json(plan):
        return
    describe(plan)


def describe(plan: Mapping[str, Any]) -> None:
    state = dict(plan.get("state") or {})
    spec = dict(plan.get("spec") or {})
    release = f" (release {plan['release']})" if plan.get("release") else ""
    say(
        Text(f"Rollout plan #{plan.get('id')}", style="bold"),
        f": {plan.get('flag')} in {plan.get('environment')}{release}",
    )
    say(
        status_text(state.get("status")),
        f" · step {state.get('step')} of {state.get('steps')} · started "
        f"{when(state.get('started_at'))} UTC by {plan.get('created_by')}",
    )
    if state.get("reason"):
        say(f"Reason: {state['reason']}")
    console.print(steps_table(spec, state))
    console.print(guardrails_table(spec, dict(plan.get("judgements") or {})))
    _next_check(state, spec, plan.get("watch_window"))


def steps_table(spec: Mapping[str, Any], state: Mapping[str, Any]) -> Any:
    current = int(state.get("step") or 0)
    finished = state.get("status") in ("released",)
    rows = []
    for number, step in enumerate(items(spec, "steps"), start=1):
        if number == current and not finished:
            mark = Text("▶", style="bold yellow")
        elif number < current or finished:
            mark = Text("✓", style="green")
        else:
            mark = Text("")
        approval = "a person approves" if step.get("approval") else None
        if number == current and state.get("approved"):
            approval = "approved"
        rows.append(
            (
                mark,
                number,
                f"{step.get('percentage')}%",
                step.get("audiences"),
                step.get("min_duration"),
                step.get("min_sample") or None,
                approval,
            )
        )
    columns = ("", "step", "share", "also", "at least", "min sample", "to go on")
    return table(columns, rows, title="Steps")


def rule_text(guardrail: Mapping[str, Any]) -> str:
    worse = "higher" if guardrail.get("direction") == "higher-is-worse" else "lower"
    if "max_worse" in guardrail:
        share = float(guardrail.get("max_worse") or 0) * 100
        return f"at most {share:g}% worse than without ({worse} is worse)"
    limit = "below" if worse == "higher" else "above"
    threshold = guardrail.get("threshold")
    shown = f"{threshold:g}" if isinstance(threshold, int | float) else str(threshold)
    return f"stays {limit} {shown}"


def guardrails_table(spec: Mapping[str, Any], judgements: Mapping[str, Any]) -> Any:
    rows = []
    for guardrail in items(spec, "guardrails"):
        name = str(guardrail.get("metric"))
        action = guardrail.get("action")
        rows.append((name, rule_text(guardrail), action, *_verdict(judgements, name)))
    if SAMPLE_RATIO in judgements:  # checked by every plan that splits by percentage alone
        split = "users split as the percentage says"
        rows.append((SAMPLE_RATIO, split, "pause", *_verdict(judgements, SAMPLE_RATIO)))
    title = "Guardrails" if rows else "Guardrails: none (the plan moves on time and sample)"
    return table(("metric", "rule", "on regression", "verdict", "summary"), rows, title=title)


def _verdict(judgements: Mapping[str, Any], name: str) -> tuple[Text, Any]:
    judgement = judgements.get(name)
    if not isinstance(judgement, Mapping):
        return Text("not checked yet", style="dim"), None
    verdict = str(judgement.get("verdict"))
    return Text(verdict, style=_VERDICT_STYLE.get(verdict, "")), judgement.get("summary")


def _next_check(state: Mapping[str, Any], spec: Mapping[str, Any], window: Any = None) -> None:
    watch = spec.get("watch") or {}
    if isinstance(window, Mapping) and window.get("summary"):
        # GET of one plan says which watch window it is in (``api/rollout_watch.py``).
        say(str(window["summary"]), style="yellow" if window.get("held_by") else None)
        if state.get("status") == "paused":
            say("shipwise rollout resume carries on from this step.", style="dim")
    elif state.get("next_check_at"):
        say(f"Next check: {when(state['next_check_at'])} UTC")
    elif state.get("status") == "paused":
        say("No checks while paused: shipwise rollout resume to carry on.", style="yellow")
    else:
        say(f"No more checks: the plan is {state.get('status')}.", style="dim")
    if watch:
        say(
            f"Checked every {watch.get('close_every')} for the first {watch.get('close_for')} "
            f"of a step, then every {watch.get('then_every')}; 100% bakes for "
            f"{watch.get('bake')}.",
            style="dim",
        )


@command(rollout_app, "timeline")
def timeline(api: Api, plan_id: PlanId, project: ProjectOption = "default") -> None:
    """Every check of a plan that decided something, oldest first."""
    answer = api.get(_plans(project, plan_id, "timeline"))
    if api.json(answer):
        return
    checks = items(answer, "checks")
    rows = ((when(c.get("at")), c.get("step"), c.get("decision"), c.get("reason")) for c in checks)
    title = f"Timeline of plan #{plan_id}" if checks else f"Plan #{plan_id} has no checks yet"
    console.print(table(("at (UTC)", "step", "decision", "reason"), rows, title=title))


# -- what people do to a running plan ------------------------------------------------------


def _act(
    api: Api, target: tuple[str, int], action: str, done: str, reason: str | None = None
) -> None:
    """POST ``action`` on plan ``target`` (project, id), and say it was ``done``."""
    project, plan_id = target
    body = None if reason is None else {"reason": reason}
    plan = api.post(_plans(project, plan_id, action), body)
    if not api.json(plan):
        _said(plan, done)


@command(rollout_app, "pause")
def pause(
    api: Api,
    plan_id: PlanId,
    reason: ReasonOption,
    project: ProjectOption = "default",
) -> None:
    """Hold a plan at its step; the flag stays as it is until it resumes."""
    _act(api, (project, plan_id), "pause", "paused", reason)


@command(rollout_app, "resume")
def resume(api: Api, plan_id: PlanId, project: ProjectOption = "default") -> None:
    """Carry on from the step it paused at (the step's clock starts again)."""
    _act(api, (project, plan_id), "resume", "resumed")


@command(rollout_app, "approve")
def approve(api: Api, plan_id: PlanId, project: ProjectOption = "default") -> None:
    """Approve leaving the current step (release managers); it moves at the next check."""
    _act(api, (project, plan_id), "approve", "approved")


@command(rollout_app, "skip")
def skip(
    api: Api,
    plan_id: PlanId,
    reason: ReasonOption,
    project: ProjectOption = "default",
) -> None:
    """Move to the next step now, whatever its conditions (release managers)."""
    _act(api, (project, plan_id), "skip", "skipped ahead", reason)


@command(rollout_app, "abort")
def abort(
    api: Api,
    plan_id: PlanId,
    reason: ReasonOption,
    project: ProjectOption = "default",
) -> None:
    """Stop a plan for good; the flag stays as it is (turn it off with flag disable)."""
    _act(api, (project, plan_id), "abort", "aborted", reason)


# -- templates ------------------------------------------------------------------------------

TemplateArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="The template's name, e.g. careful.")
]


@command(template_app, "save")
def save_template(
    api: Api,
    name: TemplateArgument,
    path: Annotated[Path, typer.Argument(metavar="FILE", help="The plan as JSON.", dir_okay=False)],
    project: ProjectOption = "default",
) -> None:
    """Save a plan as a template (replacing one of that name); "default" is the plan
    `rollout start` uses without --plan or --template."""
    body = {"plan": read_plan_file(path, "FILE")}
    saved = api.request("PUT", _templates(project, name), body=body)
    if api.json(saved):
        return
    steps = items(saved.get("plan") or {}, "steps")
    shares = " → ".join(f"{s.get('percentage')}%" for s in steps)
    say("Saved rollout template ", Text(name, style="bold"), f" in {project}: {shares}.")


@command(template_app, "list")
def list_templates(api: Api, project: ProjectOption = "default") -> None:
    """The project's templates, with the built-in default."""
    answer = api.get(_templates(project))
    if api.json(answer):
        return
    rows = []
    for template in items(answer, "templates"):
        plan = template.get("plan") or {}
        steps = items(plan, "steps")
        rows.append(
            (
                template.get("name"),
                " → ".join(f"{s.get('percentage')}%" for s in steps),
                [str(g.get("metric")) for g in items(plan, "guardrails")],
            )
        )
    console.print(table(("template", "steps", "guardrails"), rows, title=f"Templates of {project}"))


@command(template_app, "delete")
def delete_template(api: Api, name: TemplateArgument, project: ProjectOption = "default") -> None:
    """Delete a template (plans started from it keep their steps)."""
    answer = api.delete(_templates(project, name))
    if api.json(answer):
        return
    say(f"Deleted rollout template {name} from {project}.")

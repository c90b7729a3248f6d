"""What a rollout decision tells people: one notification a person can act on alone.

    title   the flag, its release, the environment and what happened, with the step
    text    the decision in words; for a rollback the metric, what was observed and what
            was allowed, and the step; for a pause or a wait what a person must do next;
            one line per guardrail with both arms' numbers, the interval and the verdict
            in words (``domain.guardrail_lines``); the rollout page and the release page
    data    ``plan``, ``step``, ``status`` (as before), ``url`` (the rollout page),
            ``release_url`` when there is a release, and ``guardrails``: each one's
            name, verdict, numbers with and without the feature, estimate, lower, upper,
            its line and the words shown, for webhook consumers and the channels'
            tables (``notify/slack_blocks``, ``notify/email``)

The judgements are the check's that made the decision; a person's action (a pause, a
skip) has none of its own, so the plan's last check's are shown, said to be that.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from shipwise.domain.guardrail_lines import GuardrailLine, describe, judgement_from_dict
from shipwise.domain.guardrails import Guardrail, GuardrailAction, Judgement, Verdict
from shipwise.domain.rollout import Decision, DecisionKind, step_label
from shipwise.server.ports import Notification, RolloutPlanRecord
from shipwise.server.services.notifications import AnnounceTx, Notifications
from shipwise.server.services.release_news import Links

_SEVERITY = {
    DecisionKind.ROLLBACK: "critical",
    DecisionKind.PAUSE: "warning",
    DecisionKind.NOTIFY: "warning",
    DecisionKind.WAIT_FOR_APPROVAL: "info",
}


class RolloutNews:
    """Announces rollout decisions through ``Notifications``, linking to the dashboard."""

    def __init__(self, notifications: Notifications, links: Links) -> None:
        self._notifications = notifications
        self.links = links

    def announce(
        self,
        tx: AnnounceTx,
        plan: RolloutPlanRecord,
        decision: Decision,
        now: datetime,
        judgements: Mapping[str, Judgement] | None = None,
    ) -> Notification:
        """Queue the notification of ``decision`` on ``plan`` (as saved after it) in
        ``tx``; ``judgements`` are the check's that decided it, None for a person's."""
        notification = rollout_notification(plan, decision, now, self.links, judgements)
        self._notifications.announce(tx, notification)
        return notification


def rollout_notification(
    plan: RolloutPlanRecord,
    decision: Decision,
    now: datetime,
    links: Links,
    judgements: Mapping[str, Judgement] | None = None,
) -> Notification:
    steps = plan.spec.steps
    index = plan.state.step
    at = f"step {index + 1} of {len(steps)}"
    label = step_label(steps[index])
    what = {
        DecisionKind.ADVANCE: f"moved to {label} ({at})",
        DecisionKind.BAKE: f"reached 100%, baking ({at})",
        DecisionKind.RELEASE: "released",
        DecisionKind.ROLLBACK: f"ROLLED BACK at {at} (flag off)",
        DecisionKind.PAUSE: f"paused at {at}: a person must look",
        DecisionKind.WAIT_FOR_APPROVAL: f"{at} done, waiting for approval to go on",
        DecisionKind.NOTIFY: f"guardrail report at {at}",
        DecisionKind.HOLD: "holding",
    }[decision.kind]
    lines = described(plan, judgements)
    url = links.rollout(plan.project, plan.id)
    text = [*_lead(plan, decision, at, label, lines), ""]
    if lines:
        text += [_heading(plan, decision, judgements is not None), *[f"- {g.line}" for g in lines]]
        text.append("")
    text.append(f"Rollout page: {url}")
    data: dict[str, object] = {
        "plan": plan.id,
        "step": index + 1,
        "status": plan.state.status.value,
        "url": url,
        "guardrails": [g.to_dict() for g in lines],
    }
    if plan.release is not None:
        release_url = links.release(plan.project, plan.release)
        text.append(f"Release {plan.release}: {release_url}")
        data["release_url"] = release_url
    release = f" ({plan.release})" if plan.release else ""
    return Notification(
        kind=f"rollout.{decision.kind.value}",
        project=plan.project,
        title=f"{plan.flag}{release} in {plan.environment}: {what}",
        text="\n".join(text),
        at=now,
        release=plan.release,
        flag=plan.flag,
        environment=plan.environment,
        severity=_SEVERITY.get(decision.kind, "info"),
        data=data,
    )


def described(
    plan: RolloutPlanRecord, judgements: Mapping[str, Judgement] | None
) -> list[GuardrailLine]:
    """Each guardrail's judgement in words, in the plan's order, then the checks that
    are no guardrail (the sample ratio). Without ``judgements``, the last check's."""
    if judgements is None:
        judgements = {
            name: found
            for name, stored in plan.judgements.items()
            if isinstance(stored, Mapping) and (found := judgement_from_dict(stored)) is not None
        }
    guardrails: dict[str, Guardrail] = {g.name: g for g in plan.spec.guardrails}
    ordered = [name for name in guardrails if name in judgements]
    ordered += sorted(name for name in judgements if name not in guardrails)
    return [describe(guardrails.get(name), judgements[name], name) for name in ordered]


def _lead(
    plan: RolloutPlanRecord, decision: Decision, at: str, label: str, lines: list[GuardrailLine]
) -> list[str]:
    """The decision in words, and what a person does next."""
    plan_ref = f"{plan.id} -p {plan.project}"
    reason = _sentence(decision.reason)
    match decision.kind:
        case DecisionKind.ROLLBACK:
            lead = [f"Rolled back at {at} ({label}): the flag is off in {plan.environment}."]
            culprits = _culprits(plan, lines)
            lead += [
                f"{g.name}: observed {g.observed()}; allowed {g.allowed}"
                + (f" ({g.interval})." if g.interval else ".")
                for g in culprits
            ]
            if not culprits:
                lead.append(f"Why: {reason}.")
            lead.append(
                "Next: find the cause, then start a new plan when it is fixed; "
                f"the timeline has every check: `shipwise rollout timeline {plan_ref}`."
            )
            return lead
        case DecisionKind.PAUSE:
            return [
                f"Paused at {at} ({label}): {reason}.",
                "Next: a person looks at the numbers on the rollout page, then resumes "
                f"(`shipwise rollout resume {plan_ref}`) or stops it "
                f"(`shipwise rollout abort {plan_ref} -r WHY`; the flag stays as it is).",
            ]
        case DecisionKind.WAIT_FOR_APPROVAL:
            return [
                f"{reason[:1].upper()}{reason[1:]}.",
                "Next: a release manager approves going on "
                f"(`shipwise rollout approve {plan_ref}`); it moves at the next check.",
            ]
        case DecisionKind.NOTIFY:
            return [
                f"At {at} ({label}): {reason}.",
                "The plan carries on. If the numbers worry you, pause it: "
                f"`shipwise rollout pause {plan_ref} -r WHY`.",
            ]
        case DecisionKind.ADVANCE | DecisionKind.BAKE:
            return [f"Now at {at}: {label}. {reason[:1].upper()}{reason[1:]}."]
        case _:
            return [f"{reason[:1].upper()}{reason[1:]}."]


def _culprits(plan: RolloutPlanRecord, lines: list[GuardrailLine]) -> list[GuardrailLine]:
    """The guardrails whose regression rolled the plan back (the domain's rule)."""
    rolls_back = {g.name for g in plan.spec.guardrails if g.action is GuardrailAction.ROLLBACK}
    return [g for g in lines if g.verdict is Verdict.REGRESSED and g.name in rolls_back]


def _heading(plan: RolloutPlanRecord, decision: Decision, from_the_check: bool) -> str:
    if not from_the_check:
        return "Guardrails at the last check:"
    index = plan.state.step
    # A move is decided on the numbers of the step it leaves.
    if decision.kind in (DecisionKind.ADVANCE, DecisionKind.BAKE) and index > 0:
        index -= 1
    step = plan.spec.steps[index]
    return f"Guardrails at step {index + 1} ({step_label(step)}):"


def _sentence(text: str) -> str:
    return " ".join(text.split()).rstrip(".")

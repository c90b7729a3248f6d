"""The success report of a released rollout plan: what each step showed, how each
guardrail ended, how long it took, what went wrong on the way and who acted.

Built from values the service reads (the plan, its timeline of checks, the audit records
about the plan and its release, earlier plans on the same flag, hotfixes touching it)
and nothing else: pure, time comes in with the records. The numbers are the ones the
guardrails were judged on; "adoption" is the exposures with and without the feature
that the step's last check counted (evaluations, not distinct users: a returning user
counts each time, as the sample-ratio check says).

What counts as an incident, each a judgement call written down:

* a pause, a wait for a person, a guardrail report (``notify``) or a rollback on the
  plan's timeline;
* a guardrail still inconclusive, or unreadable, after its step's minimum duration was
  up (inconclusive at a step's start is how every step begins, not an incident);
* an earlier plan on the same flag in the same environment that was rolled back;
* a promotion of the release on the hotfix path, and hotfix releases on its flags
  created while the plan ran.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shipwise.domain.durations import describe_duration
from shipwise.domain.guardrails import Verdict
from shipwise.domain.rollout import SAMPLE_RATIO, PlanSpec, PlanState, PlanStatus, step_label

SAMPLE = "sample"  # a check kept only as a chart point (``domain.rollout_samples``)
_MOVES = frozenset({"advance", "bake"})  # the check is stamped with the step it moved to

# Actors that are Shipwise itself, not people.
MACHINES = frozenset({"rollout-runner", "system"})
_TOKEN_ACTOR = re.compile(r"^token:(?P<name>[^\s(]+)")
_PREFIXED_ACTOR = re.compile(r"^(?:github|host|demo|web):(?P<name>[^\s(]+)")

# What a person's audit action is, in words ("approved it for production").
ACTS: Mapping[str, str] = {
    "release.create": "created the release",
    "release.approval": "approved it",
    "release.signoff": "signed it off",
    "release.check": "checked a checklist item",
    "release.drill": "rehearsed the rollback",
    "release.promote": "promoted it",
    "release.update": "changed it",
    "release.rollback": "rolled it back",
    "rollout.start": "started the rollout plan",
    "rollout.pause": "paused the plan",
    "rollout.resume": "resumed the plan",
    "rollout.approve": "approved going on from a step",
    "rollout.skip": "skipped the plan ahead",
    "rollout.abort": "aborted the plan",
    # the runner's, for the timeline
    "rollout.advance": "moved the plan on",
    "rollout.bake": "reached 100% and began the bake",
    "rollout.release": "finished the plan",
    "rollout.rollback": "rolled the plan back",
    "rollout.wait-for-approval": "asked for a person's approval",
    "rollout.notify": "reported a guardrail",
    "release.released": "marked the release released",
    "release.rolled-back": "marked the release rolled back",
    "release.learnings": "wrote the learnings",
    # communication: the notes, what users are told, the help docs
    "release.notes.refresh": "drew the release notes from git",
    "release.notes.edit": "edited an entry of the release notes",
    "release.announcement.add": "added an in-app announcement",
    "release.announcement.end": "ended an in-app announcement",
    "release.announcement.remove": "removed an in-app announcement",
    "release.help_docs": "recorded the help-docs page",
    "mailout.draft": "drafted an email announcement",
    "mailout.edit": "edited the email announcement",
    "mailout.test": "sent the email announcement as a dry run",
    "mailout.send": "sent the email announcement",
    "mailout.sent": "finished sending the email announcement",
    "mailout.stopped": "saw the email announcement stop",
}


class IncidentKind(StrEnum):
    PAUSE = "pause"
    WAIT = "wait"
    NOTICE = "notice"  # a guardrail reported (action notify), the plan carried on
    ROLLBACK = "rollback"
    INCONCLUSIVE = "inconclusive"
    UNREADABLE = "unreadable"
    EARLIER_ROLLBACK = "earlier-rollback"
    HOTFIX = "hotfix"


_DECISION_INCIDENTS = {
    "pause": IncidentKind.PAUSE,
    "wait-for-approval": IncidentKind.WAIT,
    "notify": IncidentKind.NOTICE,
    "rollback": IncidentKind.ROLLBACK,
}


@dataclass(frozen=True, slots=True)
class CheckLine:
    """One line of a plan's timeline (``RolloutCheck``), samples included."""

    at: datetime
    step: int
    decision: str
    reason: str
    judgements: Mapping[str, Mapping[str, Any]]

    @property
    def judged_step(self) -> int:
        """The step the judgements were made at: a check that moved the plan on is
        stamped with the step it moved to, but judged the one it left."""
        if self.decision in _MOVES and self.judgements:
            return max(0, self.step - 1)
        return self.step


@dataclass(frozen=True, slots=True)
class Act:
    """One audit record about the plan or its release."""

    at: datetime
    actor: str
    action: str
    reason: str | None = None
    environment: str | None = None
    after: Mapping[str, Any] | None = None  # the record's "after" (a hotfix path says so)
    seq: int = 0  # the record's number: the order of records made at the same moment


@dataclass(frozen=True, slots=True)
class PlanRun:
    """A rollout plan as it ran: its spec, its final state and its timeline."""

    id: int
    flag: str
    environment: str
    spec: PlanSpec
    state: PlanState
    checks: tuple[CheckLine, ...] = ()


@dataclass(frozen=True, slots=True)
class OtherRelease:
    key: str
    title: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class GuardrailResult:
    name: str
    verdict: str  # a ``Verdict`` value
    summary: str  # the judgement's own words, with its numbers
    step: int  # 1-based: the step it was judged at


@dataclass(frozen=True, slots=True)
class StepReport:
    number: int  # 1-based
    label: str  # "10% + beta-testers for 7d"
    percentage: int
    audiences: tuple[str, ...]
    entered_at: datetime | None  # None: the plan never reached it
    left_at: datetime | None
    with_feature: float | None  # exposures the step's last counted check saw
    without_feature: float | None
    guardrails: tuple[GuardrailResult, ...]

    @property
    def lasted(self) -> timedelta | None:
        if self.entered_at is None or self.left_at is None:
            return None
        return self.left_at - self.entered_at


@dataclass(frozen=True, slots=True)
class Incident:
    at: datetime
    kind: IncidentKind
    text: str


@dataclass(frozen=True, slots=True)
class PersonAct:
    at: datetime
    person: str
    what: str  # "resumed the plan: <reason>"


@dataclass(frozen=True, slots=True)
class SuccessReport:
    release: str
    title: str
    plan: int
    flag: str
    environment: str
    status: str  # the plan's status (a report is made of a released one)
    created_at: datetime  # the release's
    started_at: datetime  # the plan's
    finished_at: datetime | None
    steps: tuple[StepReport, ...]
    guardrails: tuple[GuardrailResult, ...]  # each one's last applicable judgement
    incidents: tuple[Incident, ...]
    people: tuple[PersonAct, ...]

    @property
    def rollout_took(self) -> timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at

    @property
    def release_took(self) -> timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.created_at

    def lines(self) -> list[str]:
        """The report in words, one fact a line (a message's body)."""
        return report_lines(self)


def person_of(actor: str) -> str | None:
    """The person an audit actor stands for ("token:alice (#3, developer)" → "alice"),
    or None for Shipwise itself (the runner, the system)."""
    if actor in MACHINES:
        return None
    for pattern in (_TOKEN_ACTOR, _PREFIXED_ACTOR):
        found = pattern.match(actor)
        if found:
            return found.group("name")
    return actor


def build_report(
    *,
    release: str,
    title: str,
    created_at: datetime,
    plan: PlanRun,
    acts: Sequence[Act],
    earlier: Sequence[PlanRun] = (),
    hotfixes: Sequence[OtherRelease] = (),
) -> SuccessReport:
    """The report of ``plan`` (a plan of ``release``), from its timeline and ``acts``
    (the audit records about the plan and the release, in any order)."""
    checks = sorted(plan.checks, key=lambda c: c.at)
    entered = _entered(plan, checks)
    steps = tuple(_step(plan, i, entered, checks) for i in range(len(plan.spec.steps)))
    incidents = [
        *_timeline_incidents(checks),
        *_late_verdicts(plan.spec, steps, checks),
        *_earlier_rollbacks(earlier),
        *_hotfixes(plan, acts, hotfixes),
    ]
    return SuccessReport(
        release=release,
        title=title,
        plan=plan.id,
        flag=plan.flag,
        environment=plan.environment,
        status=plan.state.status.value,
        created_at=created_at,
        started_at=plan.state.started_at,
        finished_at=plan.state.finished_at,
        steps=steps,
        guardrails=_overall(checks),
        incidents=tuple(sorted(incidents, key=lambda i: (i.at, i.kind.value, i.text))),
        people=_people(acts),
    )


def _entered(plan: PlanRun, checks: Sequence[CheckLine]) -> dict[int, datetime]:
    entered = {0: plan.state.started_at}
    for check in checks:
        if check.decision in _MOVES:
            entered[check.step] = check.at  # a later entry (after a skip back) wins
    return entered


def _step(
    plan: PlanRun, index: int, entered: Mapping[int, datetime], checks: Sequence[CheckLine]
) -> StepReport:
    step = plan.spec.steps[index]
    at = entered.get(index)
    later = [entered[i] for i in entered if i > index]
    left = min(later) if later else None
    if left is None and at is not None and index == plan.state.step:
        left = plan.state.finished_at
    judged = [c for c in checks if c.judged_step == index and c.judgements]
    return StepReport(
        number=index + 1,
        label=step_label(step),
        percentage=step.percentage,
        audiences=step.audiences,
        entered_at=at,
        left_at=left if at is not None else None,
        with_feature=_arms(judged)[0],
        without_feature=_arms(judged)[1],
        guardrails=_last_verdicts(judged, index),
    )


def _arms(judged: Sequence[CheckLine]) -> tuple[float | None, float | None]:
    """Exposures with and without the feature in the step's newest check that counted
    both: the sample-ratio check's, else the largest a comparison saw."""
    for check in reversed(judged):
        ratio = check.judgements.get(SAMPLE_RATIO)
        if ratio is not None and _both(ratio) is not None:
            return _both(ratio) or (None, None)
        found = [b for j in check.judgements.values() if (b := _both(j)) is not None]
        if found:
            return max(found)
    return None, None


def _both(judgement: Mapping[str, Any]) -> tuple[float, float] | None:
    details = judgement.get("details") or {}
    treated, control = details.get("treatment_units"), details.get("control_units")
    if isinstance(treated, int | float) and isinstance(control, int | float):
        return float(treated), float(control)
    return None


def _last_verdicts(judged: Sequence[CheckLine], index: int) -> tuple[GuardrailResult, ...]:
    last: dict[str, GuardrailResult] = {}
    for check in judged:
        for name, judgement in check.judgements.items():
            last[name] = _result(name, judgement, index)
    return tuple(last[name] for name in sorted(last))


def _result(name: str, judgement: Mapping[str, Any], index: int) -> GuardrailResult:
    return GuardrailResult(
        name, str(judgement.get("verdict", "")), str(judgement.get("summary", "")), index + 1
    )


def _overall(checks: Sequence[CheckLine]) -> tuple[GuardrailResult, ...]:
    """Each guardrail's last judgement that applied (a comparison at 100% has nobody
    left to compare with: its last word is the step before)."""
    last: dict[str, GuardrailResult] = {}
    for check in checks:
        for name, judgement in check.judgements.items():
            if judgement.get("verdict") != Verdict.NOT_APPLICABLE.value:
                last[name] = _result(name, judgement, check.judged_step)
    return tuple(last[name] for name in sorted(last))


def _timeline_incidents(checks: Sequence[CheckLine]) -> list[Incident]:
    found: list[Incident] = []
    for check in checks:
        kind = _DECISION_INCIDENTS.get(check.decision)
        if kind is not None:
            found.append(Incident(check.at, kind, f"step {check.step + 1}: {check.reason}"))
    return found


def _late_verdicts(
    spec: PlanSpec, steps: Sequence[StepReport], checks: Sequence[CheckLine]
) -> list[Incident]:
    """A guardrail still inconclusive or unreadable once its step's time was up: once
    per step and guardrail, at the first such check."""
    found: list[Incident] = []
    told: set[tuple[int, str]] = set()
    kinds = {
        Verdict.INCONCLUSIVE.value: (IncidentKind.INCONCLUSIVE, "still inconclusive"),
        Verdict.ERROR.value: (IncidentKind.UNREADABLE, "could not be read"),
    }
    for check in checks:
        index = check.judged_step
        step = steps[index] if index < len(steps) else None
        if step is None or step.entered_at is None:
            continue
        due = step.entered_at + spec.steps[index].min_duration
        if check.at < due:
            continue
        for name, judgement in sorted(check.judgements.items()):
            kind = kinds.get(str(judgement.get("verdict")))
            if kind is None or (index, name) in told:
                continue
            told.add((index, name))
            when = "when its time was up" if spec.steps[index].min_duration else ""
            text = f"step {index + 1}: {name} {kind[1]} {when}".rstrip()
            found.append(Incident(check.at, kind[0], f"{text}: {judgement.get('summary', '')}"))
    return found


def _earlier_rollbacks(earlier: Sequence[PlanRun]) -> list[Incident]:
    return [
        Incident(
            p.state.finished_at or p.state.started_at,
            IncidentKind.EARLIER_ROLLBACK,
            f"rollout plan #{p.id} on {p.flag} in {p.environment} was rolled back at step "
            f"{p.state.step + 1}: {p.state.reason or 'no reason recorded'}",
        )
        for p in earlier
        if p.state.status is PlanStatus.ROLLED_BACK
    ]


def _hotfixes(
    plan: PlanRun, acts: Sequence[Act], hotfixes: Sequence[OtherRelease]
) -> list[Incident]:
    found = [
        Incident(
            a.at,
            IncidentKind.HOTFIX,
            f"promoted into {a.environment or '?'} on the hotfix path: {a.reason or 'no reason'}",
        )
        for a in acts
        if a.action == "release.promote" and "hotfix" in (a.after or {})
    ]
    ends = plan.state.finished_at
    found += [
        Incident(h.created_at, IncidentKind.HOTFIX, f"hotfix {h.key} ({h.title}) on {plan.flag}")
        for h in hotfixes
        if plan.state.started_at <= h.created_at and (ends is None or h.created_at <= ends)
    ]
    return found


def _people(acts: Sequence[Act]) -> tuple[PersonAct, ...]:
    found: list[PersonAct] = []
    for act in sorted(acts, key=lambda a: (a.at, a.seq)):
        person = person_of(act.actor)
        what = ACTS.get(act.action)
        if person is None or what is None:
            continue
        where = f" in {act.environment}" if act.environment else ""
        why = f": {act.reason}" if act.reason else ""
        found.append(PersonAct(act.at, person, f"{what}{where}{why}"))
    return tuple(found)


def _count(value: float | None) -> str:
    return "?" if value is None else f"{value:,.0f}"


def _moment(at: datetime | None) -> str:
    return "-" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")


def _span(span: timedelta | None) -> str:
    return "-" if span is None else describe_duration(span)


def report_lines(report: SuccessReport) -> list[str]:
    lines = [
        f"{report.flag} reached everyone in {report.environment} with rollout plan "
        f"#{report.plan}: the rollout took {_span(report.rollout_took)}, "
        f"{_span(report.release_took)} from the release's creation.",
        "Steps:",
    ]
    for step in report.steps:
        if step.entered_at is None:
            lines.append(f"- step {step.number}, {step.label}: skipped")
            continue
        adoption = (
            f"{_count(step.with_feature)} exposures with the feature, "
            f"{_count(step.without_feature)} without"
            if step.with_feature is not None
            else "no exposures counted"
        )
        lines.append(f"- step {step.number}, {step.label}: {_span(step.lasted)}; {adoption}")
    lines.append("Guardrails:")
    lines += [f"- {g.name}: {g.verdict} (step {g.step}): {g.summary}" for g in report.guardrails]
    if not report.guardrails:
        lines.append("- none were judged")
    lines.append(f"Incidents: {len(report.incidents) or 'none'}")
    lines += [f"- {_moment(i.at)} {i.kind.value}: {i.text}" for i in report.incidents]
    people = sorted({p.person for p in report.people})
    lines.append(f"Who acted: {', '.join(people) if people else 'nobody; it ran on its own'}")
    return lines

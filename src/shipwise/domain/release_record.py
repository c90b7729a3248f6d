"""A release's whole record as one Markdown document: what it is, its notes, its gates as
now judged, approvals and sign-offs, checklist, drills, promotions, each rollout plan with
its steps and decisions, the success report, the learnings and the timeline.

What ``shipwise release report REL`` prints and ``GET …/record.md`` serves: a document to
keep with the release, readable as text and well-formed as CommonMark. Everything people
or git wrote is escaped (``text``), so a title with ``|`` or ``#`` or a fence cannot break
a table or open a heading. Pure: the service gathers the values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shipwise.domain.durations import describe_duration
from shipwise.domain.learnings import LearningsDraft, TimelineLine
from shipwise.domain.release_notes_render import NotesSection
from shipwise.domain.releases import Evidence, PromotionDecision, Release
from shipwise.domain.rollout import step_label
from shipwise.domain.success_report import SAMPLE, Act, PlanRun, SuccessReport, person_of

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~!])")
_BULLET_START = re.compile(r"^(\s*)([-+=])")
_NUMBER_START = re.compile(r"^(\s*\d+)([.)])")


@dataclass(frozen=True, slots=True)
class RecordInputs:
    release: Release
    evidence: Evidence
    decision: PromotionDecision | None  # the next promotion's gates, judged now
    notes: Sequence[NotesSection] | None  # None: not drawn (``notes_problem`` says why)
    notes_problem: str | None
    promotions: Sequence[Act]  # the audit's ``release.promote`` records
    plans: Sequence[PlanRun]
    report: SuccessReport | None
    learnings: LearningsDraft
    learnings_by: str | None
    learnings_at: datetime | None
    timeline: Sequence[TimelineLine]


def text(value: str) -> str:
    """Plain text, inline: one line, every character Markdown would read escaped."""
    flat = " ".join(value.split())
    escaped = _SPECIAL.sub(r"\\\1", flat)
    return _NUMBER_START.sub(r"\1\\\2", _BULLET_START.sub(r"\1\\\2", escaped))


def paragraphs(value: str) -> list[str]:
    """Plain text of several lines: each line escaped, blank lines kept as breaks."""
    lines = [text(line) if line.strip() else "" for line in value.strip().splitlines()]
    return lines or ["_(nothing written)_"]


def _at(moment: datetime | None) -> str:
    return "—" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _span(span: timedelta | None) -> str:
    return "—" if span is None else describe_duration(span)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> list[str]:
    if not rows:
        return [f"_{empty}_", ""]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell or "—" for cell in row) + " |" for row in rows]
    return [*lines, ""]


def render_record(inputs: RecordInputs) -> str:
    release = inputs.release
    out = [f"# Release record: {text(release.key)} ({text(release.title)})", ""]
    out += _summary(release)
    out += _notes(inputs)
    out += _gates(inputs.decision, release)
    out += _evidence(inputs.evidence)
    out += _promotions(inputs.promotions)
    out += _plans(inputs.plans)
    out += _report(inputs.report)
    out += _learnings(inputs)
    out += ["## Timeline", ""]
    out += _table(
        ("When", "Who", "What"),
        [
            (_at(line.at), text(line.who), text(line.what) + (" (added)" if line.added else ""))
            for line in inputs.timeline
        ],
        "Nothing recorded.",
    )
    return "\n".join(out).rstrip("\n") + "\n"


def _summary(release: Release) -> list[str]:
    facts = [
        f"Kind: {release.kind.value}"
        + (f", {release.severity.value} severity" if release.severity else ""),
        f"Owner: {text(release.owner)}",
        f"Status: {release.status.value}, stage: {text(release.stage or 'not promoted')}",
        f"Flags: {text(', '.join(release.flags)) or 'none'}",
        f"Commit: {text(release.commit or 'none')}",
        f"Created: {_at(release.created_at)}",
        f"Rollback plan: {text(release.rollback_plan or 'none written')}",
    ]
    if release.pull_requests:
        pulls = ", ".join(f"#{p.number} {p.title}".strip() for p in release.pull_requests)
        facts.append(f"Pull requests: {text(pulls)}")
    return [*(f"- {fact}" for fact in facts), ""]


def _notes(inputs: RecordInputs) -> list[str]:
    out = ["## Release notes", ""]
    if inputs.notes is None:
        return [*out, text(inputs.notes_problem or "No notes drawn."), ""]
    if not inputs.notes:
        return [*out, "_No changes listed._", ""]
    for section in inputs.notes:
        out += [f"### {text(section.title)}", ""]
        for group in section.groups:
            if group.label:
                out += [f"#### {text(group.label)}", ""]
            out += [f"- {text(entry.text)}" for entry in group.entries]
            out.append("")
    return out


def _gates(decision: PromotionDecision | None, release: Release) -> list[str]:
    if decision is None:
        where = text(release.stage or "?")
        return ["## Gates", "", f"In {where}, the last environment: no promotion left.", ""]
    out = [f"## Gates for {text(decision.target)}, as judged now", ""]
    rows = [
        (text(g.gate), "passed" if g.passed else "not met", text(g.detail), text(g.remedy or ""))
        for g in decision.gates
    ]
    return out + _table(("Gate", "Result", "Detail", "Remedy"), rows, "No gates.")


def _evidence(evidence: Evidence) -> list[str]:
    rows = [
        (_at(a.at), text(a.approver), "approval", text(a.stage), str(a.content_version))
        for a in evidence.approvals
    ]
    rows += [
        (_at(s.at), text(s.by), f"{text(s.kind)} sign-off", text(s.stage), str(s.content_version))
        for s in evidence.signoffs
    ]
    rows.sort(key=lambda row: row[0])
    out = ["## Approvals and sign-offs", ""]
    out += _table(("When", "Who", "What", "For", "Content version"), rows, "None.")
    out += ["## Checklist", ""]
    out += _table(
        ("When", "Who", "Item", "Stage", "Note"),
        [
            (_at(c.at), text(c.by), text(c.item), text(c.stage), text(c.note or ""))
            for c in evidence.checks
        ],
        "No items checked.",
    )
    out += ["## Rollback drills", ""]
    out += _table(
        ("When", "Where", "Result", "Detail"),
        [
            (_at(d.at), text(d.environment), "passed" if d.succeeded else "failed", text(d.detail))
            for d in evidence.drills
        ],
        "No drill recorded.",
    )
    return out


def _promotions(promotions: Sequence[Act]) -> list[str]:
    rows = [
        (
            _at(p.at),
            text(person_of(p.actor) or p.actor),
            text(p.environment or "?"),
            "hotfix path" if "hotfix" in (p.after or {}) else "gates",
        )
        for p in promotions
    ]
    return ["## Promotions", "", *_table(("When", "Who", "Into", "Through"), rows, "None.")]


def _plans(plans: Sequence[PlanRun]) -> list[str]:
    out = ["## Rollout", ""]
    if not plans:
        return [*out, "_No rollout plan._", ""]
    for plan in plans:
        state = plan.state
        out += [
            f"### Plan #{plan.id}: {text(plan.flag)} in {text(plan.environment)} "
            f"({state.status.value})",
            "",
            f"Started {_at(state.started_at)}, finished {_at(state.finished_at)}.",
            "",
        ]
        steps = [
            (str(i + 1), text(step_label(s)), "yes" if s.approval else "no")
            for i, s in enumerate(plan.spec.steps)
        ]
        out += _table(("Step", "What", "A person approves"), steps, "No steps.")
        decisions = [
            (_at(c.at), str(c.step + 1), text(c.decision), text(c.reason))
            for c in sorted(plan.checks, key=lambda c: c.at)
            if c.decision != SAMPLE
        ]
        out += _table(("When", "Step", "Decision", "Why"), decisions, "No decisions yet.")
    return out


def _report(report: SuccessReport | None) -> list[str]:
    out = ["## Success report", ""]
    if report is None:
        return [*out, "_No report: the release has no rollout plan._", ""]
    out += [
        f"Plan #{report.plan} on {text(report.flag)} in {text(report.environment)}, "
        f"{report.status}: the rollout took {_span(report.rollout_took)}, "
        f"{_span(report.release_took)} from the release's creation.",
        "",
    ]
    rows = [
        (
            str(s.number),
            text(s.label),
            _at(s.entered_at),
            _span(s.lasted),
            "—" if s.with_feature is None else f"{s.with_feature:,.0f}",
            "—" if s.without_feature is None else f"{s.without_feature:,.0f}",
        )
        for s in report.steps
    ]
    head = ("Step", "What", "Entered", "Lasted", "Exposures with", "Exposures without")
    out += _table(head, rows, "No steps.")
    out += ["### Guardrails", ""]
    out += _table(
        ("Guardrail", "Verdict", "At step", "Numbers"),
        [(text(g.name), g.verdict, str(g.step), text(g.summary)) for g in report.guardrails],
        "No guardrail was judged.",
    )
    out += ["### Incidents", ""]
    out += _table(
        ("When", "Kind", "What"),
        [(_at(i.at), i.kind.value, text(i.text)) for i in report.incidents],
        "None.",
    )
    out += ["### Who acted", ""]
    out += _table(
        ("When", "Who", "What"),
        [(_at(p.at), text(p.person), text(p.what)) for p in report.people],
        "Nobody: it ran on its own.",
    )
    return out


def _learnings(inputs: RecordInputs) -> list[str]:
    draft = inputs.learnings
    out = ["## Learnings", ""]
    if draft.empty:
        return [*out, "_Not written yet._", ""]
    out += [f"Last saved by {text(inputs.learnings_by or '?')} at {_at(inputs.learnings_at)}.", ""]
    for title, value in (
        ("What went well", draft.went_well),
        ("What did not", draft.went_badly),
        ("Contributing factors", draft.contributing_factors),
    ):
        out += [f"### {title}", "", *paragraphs(value), ""]
    out += ["### Action items", ""]
    out += _table(
        ("What", "Owner", "Due"),
        [(text(i.what), text(i.owner), i.due.isoformat()) for i in draft.action_items],
        "None.",
    )
    return out

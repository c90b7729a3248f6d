"""Learnings as people send them (refused naming the field at fault), the timeline from
the audit record, and the release record as well-formed Markdown."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from markdown_it import MarkdownIt
from tests.unit.domain.test_success_report import ACTS, PLAN, T0, _report

from shipwise.domain.learnings import (
    MAX_ITEMS,
    ActionItem,
    LearningsDraft,
    LearningsInvalid,
    TimelineLine,
    parse_learnings,
    timeline,
)
from shipwise.domain.release_record import RecordInputs, render_record, text
from shipwise.domain.releases import ChangeKind, Evidence, Release, ReleaseStatus

GOOD = {
    "went_well": "The 10% step caught it.",
    "went_badly": "Nobody watched the first hour.",
    "contributing_factors": "",
    "action_items": [{"what": "Watch the first hour", "owner": "carol", "due": "2026-12-31"}],
    "timeline": [{"at": "2026-11-02T10:00:00Z", "who": "dan", "what": "saw the traces"}],
}


def test_parse_learnings__good_fields__give_the_draft() -> None:
    draft = parse_learnings(GOOD)

    assert draft.action_items == (ActionItem("Watch the first hour", "carol", date(2026, 12, 31)),)
    assert draft.added_lines == (
        TimelineLine(datetime(2026, 11, 2, 10, tzinfo=UTC), "dan", "saw the traces", added=True),
    )
    assert parse_learnings(draft.to_data()) == draft  # what is stored reads back the same


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"went_well": "x" * 5001}, "went_well"),
        ({"went_badly": 3}, "went_badly"),
        (
            {"action_items": [{"what": "", "owner": "a", "due": "2026-01-01"}]},
            "action_items[0].what",
        ),
        ({"action_items": [{"what": "w", "owner": "a", "due": "soon"}]}, "action_items[0].due"),
        (
            {"action_items": [{"what": "w", "owner": "a", "due": "2026-01-01", "x": 1}]},
            "action_items[0].x",
        ),
        ({"action_items": [GOOD["action_items"][0]] * (MAX_ITEMS + 1)}, "action_items"),
        ({"timeline": [{"at": "2026-11-02T10:00:00", "who": "d", "what": "w"}]}, "timeline[0].at"),
        ({"mood": "great"}, "mood"),
    ],
    ids=[
        "long",
        "not-text",
        "empty-what",
        "bad-date",
        "unknown-item-field",
        "too-many",
        "naive-time",
        "unknown",
    ],
)
def test_parse_learnings__bad_field__is_refused_naming_it(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(LearningsInvalid) as refused:
        parse_learnings(GOOD | change)

    assert refused.value.field == field


def test_timeline__audit_lines_in_words_with_peoples_lines_in_place() -> None:
    added = TimelineLine(T0 + timedelta(minutes=30), "dan", "saw the traces", added=True)

    lines = timeline(ACTS[2:5], [added])

    assert [(line.at, line.who, line.what) for line in lines] == [
        (T0 - timedelta(hours=1), "alice", "promoted it in production"),
        (T0, "alice", "started the rollout plan in production"),
        (T0 + timedelta(minutes=30), "dan", "saw the traces"),
        (T0 + timedelta(days=8), "Shipwise", "moved the plan on in production"),
    ]


def _release() -> Release:
    return Release(
        1,
        "shop",
        "rel-1",
        "New | checkout",
        ChangeKind.FEATURE,
        "alice",
        T0,
        T0,
        flags=("checkout",),
        stage="production",
        status=ReleaseStatus.RELEASED,
    )


def _record(draft: LearningsDraft) -> str:
    return render_record(
        RecordInputs(
            release=_release(),
            evidence=Evidence(),
            decision=None,
            notes=None,
            notes_problem="Notes not drawn: no repository set",
            promotions=[ACTS[2]],
            plans=[PLAN],
            report=_report(),
            learnings=draft,
            learnings_by="alice",
            learnings_at=T0 + timedelta(days=20),
            timeline=timeline(ACTS),
        )
    )


def test_render_record__has_every_part_as_a_section_in_order() -> None:
    markdown = _record(parse_learnings(GOOD | {"went_well": "# not a heading\n```\nfence"}))

    parser = MarkdownIt("commonmark").enable("table")
    tokens = parser.parse(markdown)
    headings = re.findall(r"<h[12]>(.*?)</h[12]>", parser.render(markdown))
    assert headings == [
        "Release record: rel-1 (New | checkout)",
        "Release notes",
        "Gates",
        "Approvals and sign-offs",
        "Checklist",
        "Rollback drills",
        "Promotions",
        "Rollout",
        "Success report",
        "Learnings",
        "Timeline",
    ]
    # What people wrote stays text: no fence opened, no heading made, tables intact.
    assert not [t for t in tokens if t.type in ("fence", "code_block")]
    assert "\\# not a heading" in markdown
    tables = [t for t in tokens if t.type == "table_open"]
    assert len(tables) == markdown.count("\n|---") == 9  # every table the text has parses


def test_render_record__success_report_and_learnings_rows() -> None:
    markdown = _record(parse_learnings(GOOD))

    assert "| 1 | 10% + beta for 7d | 2026-11-02 09:00 UTC | 8d | 1,000 | 9,000 |" in markdown
    assert "| Watch the first hour | carol | 2026-12-31 |" in markdown
    assert "| 2026-11-02 08:00 UTC | alice | production | gates |" in markdown


def test_text__escapes_what_markdown_would_read() -> None:
    assert text("a | b # c [x](y) `z`") == "a \\| b \\# c \\[x\\](y) \\`z\\`"
    assert text("1. not a list\nnext") == "1\\. not a list next"

"""After a release, through the API on SQLite and PostgreSQL: the success report as
JSON, the learnings saved with their version (a stale save is 409 and changes nothing,
a bad field is 422 naming it), and the whole record as Markdown."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx
from markdown_it import MarkdownIt
from tests.integration.api.helpers import error_field
from tests.support.server import RunningServer

from shipwise.domain.releases import ReleaseStatus
from shipwise.domain.rollout import PlanSpec, PlanState, PlanStatus, Step
from shipwise.server.ports import RolloutCheck

RELEASES = "/api/v1/projects/default/releases"
REL = f"{RELEASES}/rel-1"
SPEC = PlanSpec(
    steps=(Step(25, min_duration=timedelta(days=1)), Step(100, min_duration=timedelta(0)))
)
LEARNINGS = {
    "went_well": "The 25% step was quiet.",
    "went_badly": "The | bake | ran over a weekend.",
    "contributing_factors": "No one on call.",
    "action_items": [{"what": "Start on Mondays", "owner": "carol", "due": "2026-12-31"}],
    "timeline": [{"at": "2026-11-02T10:00:00Z", "who": "dan", "what": "checked the traces"}],
}


def _released(server: RunningServer, admin: httpx.Client) -> None:
    """rel-1 on flag checkout, released in production by a plan that ran two days."""
    assert admin.post("/api/v1/projects/default/flags", json={"key": "checkout"}).status_code == 201
    body = {"title": "New checkout", "kind": "feature", "flags": ["checkout"]}
    assert admin.post(RELEASES, json=body).status_code == 201
    with server.services.database.transaction() as tx:  # as if through its gates and plan
        project = tx.get_project("default")
        assert project is not None
        release = tx.get_release(project.id, "rel-1")
        flag = tx.get_flag(project.id, "checkout")
        assert release is not None
        assert flag is not None
        tx.save_release(replace(release, stage="production", status=ReleaseStatus.RELEASED))
        production = next(e for e in tx.list_environments(project.id) if e.key == "production")
        start = tx.now() - timedelta(days=2)
        done = start + timedelta(days=2)
        state = PlanState(
            PlanStatus.RELEASED, 1, start, start + timedelta(days=1), finished_at=done
        )
        plan = tx.add_plan(
            project.id, flag.id, production.id, release.id, SPEC, state, None, "admin"
        )
        judged = {
            "verdict": "healthy",
            "summary": "errors fine",
            "details": {"treatment_units": 40, "control_units": 120},
        }
        tx.add_check(
            RolloutCheck(plan.id, start + timedelta(days=1), 1, "bake", "100%", {"errors": judged})
        )
        tx.add_check(RolloutCheck(plan.id, done, 1, "release", "baked", {}))


def test_report__of_a_released_release__gives_steps_guardrails_and_time(
    server: RunningServer,
) -> None:
    with server.admin() as admin:
        _released(server, admin)

        answer = admin.get(f"{REL}/report")

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["status"] == "released"
    assert report["rollout_seconds"] == 2 * 86400
    assert [(s["label"], s["exposures_with"], s["exposures_without"]) for s in report["steps"]] == [
        ("25% for 1d", 40.0, 120.0),
        ("100%", None, None),
    ]
    assert report["guardrails"] == [
        {"name": "errors", "verdict": "healthy", "step": 1, "summary": "errors fine"}
    ]


def test_report__of_a_release_without_a_plan__is_404_naming_the_way(server: RunningServer) -> None:
    with server.admin() as admin:
        assert admin.post(RELEASES, json={"title": "t", "kind": "feature"}).status_code == 201

        answer = admin.get(f"{REL}/report")

    assert answer.status_code == 404
    assert "has no rollout plan yet" in answer.json()["error"]["message"]


def test_learnings__saved_then_stale_save__409_and_nothing_changed(server: RunningServer) -> None:
    with server.admin() as admin:
        _released(server, admin)
        first = admin.put(f"{REL}/learnings", json={"version": 0, **LEARNINGS})
        assert first.status_code == 200, first.text

        stale = admin.put(f"{REL}/learnings", json={"version": 0, "went_well": "other"})
        shown = admin.get(f"{REL}/learnings").json()

    assert first.json()["version"] == 1
    assert stale.status_code == 409
    assert error_field(stale) == "version"
    assert shown["went_well"] == LEARNINGS["went_well"]
    assert shown["action_items"] == LEARNINGS["action_items"]
    assert [line["what"] for line in shown["timeline"] if line["added"]] == ["checked the traces"]
    assert "wrote the learnings" in [line["what"] for line in shown["timeline"]]


def test_learnings__bad_field__422_naming_it_and_nothing_changed(server: RunningServer) -> None:
    with server.admin() as admin:
        _released(server, admin)
        naive = {"at": "2026-11-02T10:00:00", "who": "d", "what": "w"}

        answer = admin.put(f"{REL}/learnings", json={"version": 0, "timeline": [naive]})
        empty = admin.put(
            f"{REL}/learnings",
            json={"version": 0, "action_items": [{"what": " ", "owner": "a", "due": "2026-01-01"}]},
        )
        shown = admin.get(f"{REL}/learnings").json()

    assert answer.status_code == 422
    assert error_field(answer) == "timeline[0].at"
    assert empty.status_code == 422
    assert error_field(empty) == "action_items[0].what"
    assert shown["version"] == 0


def test_record__as_markdown__well_formed_with_report_and_learnings(server: RunningServer) -> None:
    with server.admin() as admin:
        _released(server, admin)
        assert admin.put(f"{REL}/learnings", json={"version": 0, **LEARNINGS}).status_code == 200

        answer = admin.get(f"{REL}/record.md")

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/markdown")
    markdown = answer.text
    parser = MarkdownIt("commonmark").enable("table")
    html = parser.render(markdown)
    assert "<h1>Release record: rel-1 (New checkout)</h1>" in html
    assert "<h2>Success report</h2>" in html
    assert "<h2>Learnings</h2>" in html
    assert "Notes not drawn:" in markdown  # no repository set: said, and the record goes on
    assert "| Start on Mondays | carol | 2026-12-31 |" in markdown
    assert "The \\| bake \\| ran over a weekend." in markdown
    tables = [t for t in parser.parse(markdown) if t.type == "table_open"]
    assert len(tables) == markdown.count("\n|---")

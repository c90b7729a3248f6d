"""Rollout plans and their metrics through the CLI, against a real server: metrics defined
with --set or --settings, a plan started from a file, shown as a table with the current
step marked and each guardrail's verdict and summary, moved by people (pause, resume,
approve, skip, abort) and read back as a timeline; templates saved and used; mistakes
printed with the server's message and field (exit 2), refusals exit 1, nothing changed.

The server runs no runner: the test checks a plan itself (``services.runner.check``)
after feeding it traffic through the services the SDK endpoints call. Plans run in
staging: production is protected (a plan there ships a release that passed its gates).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer

FLAG = "new-checkout"
PLAN = {
    "steps": [{"percentage": 10}, {"percentage": 50, "approval": True}, {"percentage": 100}],
    "guardrails": [
        {"metric": "errors", "max_worse": 0.1},
        {"metric": "tickets", "threshold": 5, "action": "pause"},
    ],
}


@pytest.fixture
def project(shipwise: Shipwise, remote: tuple[str, ...], request: pytest.FixtureRequest) -> str:
    """A project of this test's own with the flag and the two metrics its plans watch."""
    key = f"ro-{abs(hash(request.node.name)) % 10**8}"
    for command in (
        ("project", "create", key),
        ("flag", "create", FLAG, "-p", key),
        ("metric", "define", "errors", "--source", "sdk", "--set", "event=error", "-p", key),
        ("metric", "define", "tickets", "--source", "pushed", "-p", key),
    ):
        result = shipwise(*command, *remote)
        assert result.exit_code == 0, result.output
    return key


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN), encoding="utf-8")
    return path


def _start(shipwise: Shipwise, remote: tuple[str, ...], project: str, plan: Path) -> int:
    started = shipwise.json(
        "rollout", "start", FLAG, "--env", "staging", "--plan", str(plan), "-p", project,
        *remote,
    )  # fmt: skip
    return int(started["id"])


def _row(output: str, text: str) -> str:
    return next(line for line in output.splitlines() if text in line)


def _traffic(server: RunningServer, project: str) -> None:
    """An hour of checkout traffic at 10%, errors alike in both arms; one support ticket."""
    services = server.services
    with services.database.read() as tx:
        found = tx.get_project(project)
        assert found is not None
        environment = tx.get_environment(found.id, "staging")
        assert environment is not None
    services.metrics.record_exposures(environment.id, "shop", {FLAG: (1_000, 9_000, {})})
    services.metric_catalog.record_tracked(
        environment.id,
        "shop",
        [
            {"flag": FLAG, "arm": "on", "event": "error", "count": 10},
            {"flag": FLAG, "arm": "off", "event": "error", "count": 90},
        ],
    )


# -- a plan, start to finish -------------------------------------------------------------


def test_rollout_start_show__steps_marked__verdicts_with_summaries(
    shipwise: Shipwise,
    remote: tuple[str, ...],
    server: RunningServer,
    project: str,
    plan_file: Path,
) -> None:
    # When a plan starts from a file
    started = shipwise(
        "rollout", "start", FLAG, "-e", "staging", "--plan", str(plan_file), "-p", project,
        *remote,
    )  # fmt: skip

    # Then it says where it is and how to watch it
    assert started.exit_code == 0, started.output
    assert "started: running at step 1 of 3, 10% for 7d." in started.stdout
    plan_id = shipwise.json("rollout", "list", "-p", project, *remote)["rollouts"][0]["id"]
    assert f"shipwise rollout show {plan_id} -p {project}" in started.stdout

    # And before any check, show marks step 1 and says no guardrail was checked yet
    shown = shipwise("rollout", "show", str(plan_id), "-p", project, *remote)
    assert shown.exit_code == 0, shown.output
    assert f"Rollout plan #{plan_id}: {FLAG} in staging" in shown.stdout
    assert "▶" in _row(shown.stdout, "10%")
    assert "a person approves" in _row(shown.stdout, "50%")
    assert "not checked yet" in _row(shown.stdout, "errors")
    assert "at most 10% worse than without" in _row(shown.stdout, "errors")
    assert "stays below 5" in _row(shown.stdout, "tickets")
    # And which watch window it is in: the first hour of the step, read every minute
    assert (
        "Watching closely: first hour of step 1 (10% for 7d), a reading every minute until "
        in shown.stdout
    )
    assert "; next reading " in _row(shown.stdout, "Watching closely")
    window = shipwise.json("rollout", "show", str(plan_id), "-p", project, *remote)
    assert (window["watch_window"]["kind"], window["watch_window"]["every"]) == (
        "close-watch",
        "1m",
    )
    assert window["watch_window"]["next_reading_at"] == window["state"]["next_check_at"]

    # When a person approves (the plan is due at once), traffic arrives and it is checked
    approved = shipwise("rollout", "approve", str(plan_id), "-p", project, *remote)
    assert approved.exit_code == 0, approved.output
    assert "approved: running at step 1 of 3" in approved.stdout
    shipwise("metric", "push", "tickets", "1", "--env", "staging", "-p", project, *remote)
    _traffic(server, project)
    assert server.services.runner.check(plan_id) is not None

    # Then show prints each guardrail's verdict with its one-line summary
    detail = shipwise.json("rollout", "show", str(plan_id), "-p", project, *remote)
    judgements = detail["judgements"]
    assert set(judgements) >= {"errors", "tickets"}
    shown = shipwise("rollout", "show", str(plan_id), "-p", project, *remote)
    for name in ("errors", "tickets"):
        row = _row(shown.stdout, f"│ {name}")
        assert judgements[name]["verdict"] in row
        assert judgements[name]["summary"][:20] in row
    assert "approved" in _row(shown.stdout, "10%")
    # Held at step 1: a week has not passed
    assert detail["state"]["step"] == 1
    assert detail["state"]["status"] == "running"


def test_rollout_people__pause_resume_skip_abort__and_the_timeline(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, plan_file: Path
) -> None:
    plan_id = str(_start(shipwise, remote, project, plan_file))

    paused = shipwise(
        "rollout", "pause", plan_id, "--reason", "errors in Grafana", "-p", project, *remote
    )
    assert paused.exit_code == 0, paused.output
    assert "paused at step 1 of 3" in paused.stdout
    assert "Reason: errors in Grafana" in paused.stdout
    shown = shipwise("rollout", "show", plan_id, "-p", project, *remote)
    assert (
        "Not watching: paused (errors in Grafana): no readings until a person resumes it"
        in shown.stdout
    )

    resumed = shipwise.json("rollout", "resume", plan_id, "-p", project, *remote)
    assert resumed["state"]["status"] == "running"
    skipped = shipwise.json(
        "rollout", "skip", plan_id, "-r", "beta went well", "-p", project, *remote
    )
    assert (skipped["state"]["step"], skipped["state"]["percentage"]) == (2, 50)
    aborted = shipwise("rollout", "abort", plan_id, "-r", "redesign", "-p", project, *remote)
    assert aborted.exit_code == 0, aborted.output
    assert "aborted at step 2 of 3, 50% for 7d." in aborted.stdout

    # The timeline has each step people took, oldest first
    timeline = shipwise("rollout", "timeline", plan_id, "-p", project, *remote)
    assert timeline.exit_code == 0, timeline.output
    lines = [line for line in timeline.stdout.splitlines() if "│" in line]
    decisions = [line.split("│")[3].strip() for line in lines]
    assert decisions == ["advance", "pause", "hold", "advance", "hold"]
    assert "paused by first admin: errors in Grafana" in timeline.stdout
    as_json = shipwise.json("rollout", "timeline", plan_id, "-p", project, *remote)
    assert [c["step"] for c in as_json["checks"]] == [1, 1, 1, 2, 2]

    # A finished plan is listed, but not as active
    listed = shipwise.json("rollout", "list", "-p", project, *remote)["rollouts"]
    assert [p["state"]["status"] for p in listed] == ["aborted"]
    assert shipwise.json("rollout", "list", "--active", "-p", project, *remote) == {"rollouts": []}
    table = shipwise("rollout", "list", "--flag", FLAG, "-e", "staging", "-p", project, *remote)
    assert "aborted" in _row(table.stdout, FLAG)


# -- mistakes and refusals -----------------------------------------------------------------


def test_rollout_start__bad_plan__server_message_and_field__exit_2(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"steps": [{"percentage": 10}, {"percentage": 5}]}), "utf-8")

    result = shipwise(
        "rollout", "start", FLAG, "-e", "staging", "--plan", str(bad), "-p", project, *remote
    )

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: steps[1].percentage: 5 is not above step 1's 10")
    assert "(field: steps[1].percentage)" in result.stderr
    assert result.stdout == ""
    assert shipwise.json("rollout", "list", "-p", project, *remote) == {"rollouts": []}


def test_rollout_start__unknown_metric__names_the_guardrail(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, tmp_path: Path
) -> None:
    plan = {"steps": [{"percentage": 100}], "guardrails": [{"metric": "latency", "threshold": 1}]}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan), "utf-8")

    result = shipwise(
        "rollout", "start", FLAG, "-e", "staging", "--plan", str(path), "-p", project, *remote
    )

    assert result.exit_code == 2
    assert "(field: guardrails[0].metric)" in result.stderr
    assert "shipwise metric define" in result.stderr


def test_rollout_start__unreadable_plan_or_both_sources__usage_error(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, tmp_path: Path, plan_file: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{steps: [", "utf-8")
    start = ("rollout", "start", FLAG, "-e", "staging", "-p", project)

    not_json = shipwise(*start, "--plan", str(broken), *remote)
    missing = shipwise(*start, "--plan", str(tmp_path / "nope.json"), *remote)
    both = shipwise(*start, "--plan", str(plan_file), "--template", "default", *remote)

    assert (not_json.exit_code, missing.exit_code, both.exit_code) == (2, 2, 2)
    assert "is not valid JSON" in not_json.stderr
    assert "cannot read" in missing.stderr
    assert "not both" in both.stderr
    assert shipwise.json("rollout", "list", "-p", project, *remote) == {"rollouts": []}


def test_rollout_start__twice__refused_exit_1(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, plan_file: Path
) -> None:
    plan_id = _start(shipwise, remote, project, plan_file)

    again = shipwise(
        "rollout", "start", FLAG, "-e", "staging", "--plan", str(plan_file), "-p", project,
        *remote,
    )  # fmt: skip

    assert again.exit_code == 1
    assert f"already has rollout plan #{plan_id}" in again.stderr
    assert "(field: flag)" in again.stderr


def test_rollout_skip_and_approve__developer__wrong_role_exit_2(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, plan_file: Path
) -> None:
    plan_id = str(_start(shipwise, remote, project, plan_file))
    created = shipwise(
        "token", "create", "--kind", "api", "-p", project, "--role", "developer", "--name", "dev",
        *remote,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    developer = (*remote[:2], "--token", created.stdout.strip())

    skip = shipwise("rollout", "skip", plan_id, "-r", "impatient", "-p", project, *developer)
    approve = shipwise("rollout", "approve", plan_id, "-p", project, *developer)
    pause = shipwise("rollout", "pause", plan_id, "-r", "odd numbers", "-p", project, *developer)

    for refused in (skip, approve):
        assert refused.exit_code == 2  # 403: a token of the wrong role is a mistake
        assert "may not override-rollout" in refused.stderr
    assert pause.exit_code == 0, pause.output


def test_rollout_actions__missing_reason_or_plan__exit_codes(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    no_reason = shipwise("rollout", "abort", "1", "-p", project, *remote)
    no_plan = shipwise("rollout", "show", "999999", "-p", project, *remote)
    not_a_number = shipwise("rollout", "show", "first", "-p", project, *remote)

    assert no_reason.exit_code == 2
    assert "--reason" in no_reason.output
    assert no_plan.exit_code == 2
    assert f"no rollout plan #999999 in project '{project}'" in no_plan.stderr
    assert not_a_number.exit_code == 2


# -- templates -----------------------------------------------------------------------------


def test_rollout_template__save_list_start_delete(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, plan_file: Path
) -> None:
    saved = shipwise(
        "rollout", "template", "save", "careful", str(plan_file), "-p", project, *remote
    )
    assert saved.exit_code == 0, saved.output
    assert f"Saved rollout template careful in {project}: 10% → 50% → 100%." in saved.stdout

    listed = shipwise("rollout", "template", "list", "-p", project, *remote)
    assert "10% → 25% → 50% → 100%" in _row(listed.stdout, "default")
    assert "errors, tickets" in _row(listed.stdout, "careful")

    started = shipwise.json(
        "rollout", "start", FLAG, "-e", "staging", "--template", "careful", "-p", project,
        *remote,
    )  # fmt: skip
    assert [s["percentage"] for s in started["spec"]["steps"]] == [10, 50, 100]

    deleted = shipwise.json("rollout", "template", "delete", "careful", "-p", project, *remote)
    assert deleted == {"name": "careful", "deleted": True}
    again = shipwise("rollout", "template", "delete", "careful", "-p", project, *remote)
    assert again.exit_code == 2  # no such template: a mistake
    assert "no rollout template 'careful'" in again.stderr


# -- metrics -------------------------------------------------------------------------------


def test_metric_define_list_show_delete(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    settings = '{"event": "checkout.latency"}'
    defined = shipwise(
        "metric", "define", "latency", "--source", "sdk", "--settings", settings,
        "--set", "measure=mean", "--description", "checkout time [ms]", "-p", project, *remote,
    )  # fmt: skip
    assert defined.exit_code == 0, defined.output
    assert "Defined metric latency" in defined.stdout
    assert "event=checkout.latency, measure=mean" in defined.stdout

    shown: dict[str, Any] = shipwise.json("metric", "show", "latency", "-p", project, *remote)
    assert shown == {
        "name": "latency",
        "source": "sdk",
        "settings": {"event": "checkout.latency", "measure": "mean"},
        "description": "checkout time [ms]",
    }
    listed = shipwise("metric", "list", "-p", project, *remote)
    assert "checkout time [ms]" in _row(listed.stdout, "latency")
    assert "pushed" in _row(listed.stdout, "tickets")

    deleted = shipwise("metric", "delete", "latency", "-p", project, *remote)
    assert deleted.exit_code == 0, deleted.output
    gone = shipwise("metric", "show", "latency", "-p", project, *remote)
    assert gone.exit_code == 2
    assert "no metric 'latency'" in gone.stderr


def test_metric_define__mistakes__field_named_exit_2(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    define = ("metric", "define", "latency", "-p", project)

    no_event = shipwise(*define, "--source", "sdk", "--set", "measure=mean", *remote)
    unknown = shipwise(*define, "--source", "carrier-pigeon", *remote)
    not_pair = shipwise(*define, "--source", "sdk", "--set", "event", *remote)
    not_json = shipwise(*define, "--source", "sdk", "--settings", "{event}", *remote)

    assert no_event.exit_code == 2
    assert "(field: settings.event)" in no_event.stderr
    assert unknown.exit_code == 2
    assert "unknown source 'carrier-pigeon'" in unknown.stderr
    assert "(field: source)" in unknown.stderr
    assert not_pair.exit_code == 2
    assert "KEY=VALUE" in not_pair.output
    assert not_json.exit_code == 2
    assert "--settings is not valid JSON" in not_json.stderr
    assert "latency" not in shipwise("metric", "list", "-p", project, *remote).stdout


def test_metric_push__counts_and_refusals(
    shipwise: Shipwise, remote: tuple[str, ...], server: RunningServer, project: str
) -> None:
    pushed = shipwise("metric", "push", "tickets", "2", "--env", "staging", "-p", project, *remote)
    assert pushed.exit_code == 0, pushed.output
    assert pushed.stdout.strip() == "Added 2 to tickets in staging."
    answer = shipwise.json("metric", "push", "tickets", "0.5", "-p", project, *remote)
    assert answer == {"metric": "tickets", "value": 0.5, "environment": None}

    not_pushed = shipwise("metric", "push", "errors", "1", "-p", project, *remote)
    unknown = shipwise("metric", "push", "nothing", "1", "-p", project, *remote)
    nowhere = shipwise("metric", "push", "tickets", "1", "-e", "moon", "-p", project, *remote)
    not_finite = shipwise("metric", "push", "tickets", "nan", "-p", project, *remote)

    assert not_pushed.exit_code == 2
    assert "only 'pushed' metrics take values" in not_pushed.stderr
    assert unknown.exit_code == 2
    assert "define it first" in unknown.stderr
    assert nowhere.exit_code == 2
    assert "(field: environment)" in nowhere.stderr
    assert not_finite.exit_code == 2
    with server.services.database.read() as tx:
        found = tx.get_project(project)
        assert found is not None
        total = tx.pushed_total(found.id, "staging", "tickets", found.created_at)
    assert total == (2.5, 2)

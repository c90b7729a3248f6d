"""Rollout plans, their templates, metrics and tracked SDK events through the API, on
SQLite and PostgreSQL: a plan started applies its first step to the flag; a bad plan is
a 422 naming the field inside it, with nothing changed; people pause, resume, skip and
abort it, each recorded in the audit log and the plan's timeline; only release managers
skip or approve; metrics are checked by their source and never echo secrets; SDK keys
send tracked events that are stored for the guardrails.

No runner runs in these servers: a plan moves only when a person moves it. Plans run in
staging: production is protected, and a plan there ships a release that passed its
gates (`test_protected_environments` walks that path).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.integration.api.helpers import (
    as_token,
    create_flag,
    error_field,
    issue,
    newest_audit_id,
    rules_path,
)
from tests.support.server import RunningServer

from shipwise import Client

P = "/api/v1/projects/default"
PLANS = f"{P}/rollouts"
TEMPLATES = f"{P}/rollout-templates"
METRICS = f"{P}/metrics"
FLAG = "new-checkout"
BETTY = {"contextName": "userId", "operator": "IN", "values": ["betty"]}
BETA = {"name": "beta-testers", "constraints": [BETTY]}
FAST = {"steps": [{"percentage": 20}, {"percentage": 60}, {"percentage": 100}]}
ENV = "staging"  # not protected: any plan may start here


@pytest.fixture
def admin(server: RunningServer) -> Iterator[httpx.Client]:
    """The global admin, on a project with the flag and a beta-testers segment."""
    with server.admin() as client:
        create_flag(client, FLAG)
        assert client.post(f"{P}/segments", json=BETA).status_code == 201
        yield client


def start(admin: httpx.Client, **body: Any) -> dict[str, Any]:
    response = admin.post(PLANS, json={"flag": FLAG, "environment": ENV, **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def rollout_audit(admin: httpx.Client) -> list[dict[str, Any]]:
    """The rollout records of the audit log, oldest first."""
    params = {"project": "default", "target_type": "rollout"}
    response = admin.get("/api/v1/audit", params=params)
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["records"]))


def rules(admin: httpx.Client, environment: str = ENV) -> dict[str, Any]:
    response = admin.get(rules_path(FLAG, environment))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# -- starting ---------------------------------------------------------------------------


def test_start__default_plan__applies_10_percent_plus_beta_testers(admin: httpx.Client) -> None:
    # When a plan starts without a plan or a template
    plan = start(admin)

    # Then it runs the default plan from its first step
    state = plan["state"]
    assert (plan["flag"], plan["environment"], plan["release"]) == (FLAG, ENV, None)
    assert [s["percentage"] for s in plan["spec"]["steps"]] == [10, 25, 50, 100]
    assert plan["spec"]["steps"][0]["audiences"] == ["beta-testers"]
    assert state["status"] == "running"
    assert (state["step"], state["steps"], state["percentage"]) == (1, 4, 10)
    assert state["label"] == "10% + beta-testers for 7d"
    assert state["audiences"] == ["beta-testers"]
    assert state["reason"] is None
    assert state["approved"] is False
    started = datetime.fromisoformat(state["started_at"])
    assert started == datetime.fromisoformat(state["step_started_at"])
    assert datetime.fromisoformat(state["next_check_at"]) - started == timedelta(minutes=1)
    assert plan["judgements"] == {}

    # And the flag is on in staging for 10% and the beta testers, off elsewhere
    staging = rules(admin)
    assert staging["enabled"] is True
    shares = [s["parameters"].get("rollout") for s in staging["strategies"]]
    assert "10" in shares
    assert any(s.get("segments") for s in staging["strategies"])
    assert rules(admin, "dev")["enabled"] is False

    # And it is listed, read back and audited
    read_back = admin.get(f"{PLANS}/{plan['id']}").json()
    assert {**read_back, "watch_window": None} == plan  # only reading one says its window
    window = read_back["watch_window"]
    assert (window["kind"], window["every"], window["then_every"]) == ("close-watch", "1m", "5m")
    assert window["next_reading_at"] == state["next_check_at"]
    listed = admin.get(PLANS, params={"active": "true", "flag": FLAG}).json()["rollouts"]
    assert [p["id"] for p in listed] == [plan["id"]]
    assert admin.get(PLANS, params={"environment": "dev"}).json() == {"rollouts": []}
    assert [r["action"] for r in rollout_audit(admin)] == ["rollout.start"]


def test_start__with_a_release__names_it(admin: httpx.Client) -> None:
    body = {"key": "rel-9", "title": "checkout", "kind": "feature", "flags": [FLAG]}
    assert admin.post(f"{P}/releases", json=body).status_code == 201

    plan = start(admin, plan=FAST, release="rel-9")

    assert plan["release"] == "rel-9"
    assert plan["state"]["label"] == "20% for 7d"


BAD_PLANS = [
    pytest.param(
        {"steps": [{"percentage": 10}, {"percentage": 5}, {"percentage": 100}]},
        "steps[1].percentage",
        "percentages only go up",
        id="percentage-going-down",
    ),
    pytest.param(
        {"steps": [{"percentage": 10}, {"percentage": 100}], "guardrails": [{"metric": "nope"}]},
        "guardrails[0].metric",
        "unknown metric 'nope'",
        id="unknown-metric",
    ),
    pytest.param(
        {"steps": [{"percentage": 50}]},
        "steps[0].percentage",
        "the last step must be 100",
        id="not-ending-at-100",
    ),
    pytest.param(
        {"steps": [{"percentage": 10, "audiences": ["nobody"]}, {"percentage": 100}]},
        "steps[0].audiences[0]",
        "no segment 'nobody'",
        id="unknown-segment",
    ),
    pytest.param(
        {"steps": [{"percentage": 10, "min_duration": "soon"}, {"percentage": 100}]},
        "steps[0].min_duration",
        "expected a duration",
        id="bad-duration",
    ),
    pytest.param(
        {"steps": [{"percentage": 10, "audiences": ["a\x00b"]}, {"percentage": 100}]},
        "plan",
        "NUL",
        id="nul-character",
    ),
    pytest.param([1, 2], "plan", "valid dictionary", id="not-an-object"),
]


@pytest.mark.parametrize(("plan", "field", "words"), BAD_PLANS)
def test_start__bad_plan__422_naming_the_field_and_nothing_changes(
    admin: httpx.Client, plan: Any, field: str, words: str
) -> None:
    # Given the flag's rules and the audit log as they are
    before_rules, before_audit = rules(admin), newest_audit_id(admin)

    # When a plan with a mistake is started
    response = admin.post(PLANS, json={"flag": FLAG, "environment": ENV, "plan": plan})

    # Then it is refused, naming the field inside the plan
    assert response.status_code == 422, response.text
    assert error_field(response) == field
    assert words in response.json()["error"]["message"]
    # And nothing changed: no plan, the same rules, no audit record
    assert admin.get(PLANS).json() == {"rollouts": []}
    assert rules(admin) == before_rules
    assert newest_audit_id(admin) == before_audit


def test_start__guardrail_mistakes__all_named_in_one_answer(admin: httpx.Client) -> None:
    plan = {
        "steps": [{"percentage": 10}, {"percentage": 100}],
        "guardrails": [{"metric": "nope"}],
        "alpha": 5,
    }
    response = admin.post(PLANS, json={"flag": FLAG, "environment": ENV, "plan": plan})
    assert response.status_code == 422
    assert error_field(response) == "guardrails[0].metric"
    assert "alpha: must be above 0 and at most 0.2" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"flag": "missing", "environment": ENV}, 404, None),
        ({"flag": FLAG, "environment": "moon"}, 404, None),
        ({"flag": FLAG, "environment": ENV, "template": "nope"}, 404, None),
        ({"flag": FLAG, "environment": ENV, "release": "rel-404"}, 404, None),
        (
            {"flag": FLAG, "environment": ENV, "plan": FAST, "template": "x"},
            422,
            "template",
        ),
        ({"flag": "Not A Key", "environment": ENV}, 422, "flag"),
        ({"flag": FLAG, "environment": ENV, "steps": []}, 422, "steps"),
    ],
    ids=["flag", "environment", "template", "release", "plan-and-template", "bad-key", "extra"],
)
def test_start__refused__nothing_changes(
    admin: httpx.Client, body: dict[str, Any], status: int, field: str | None
) -> None:
    before = newest_audit_id(admin)
    response = admin.post(PLANS, json=body)
    assert response.status_code == status, response.text
    assert error_field(response) == field
    assert newest_audit_id(admin) == before
    assert admin.get(PLANS).json() == {"rollouts": []}


def test_start__second_plan_on_the_same_flag_and_environment__409(admin: httpx.Client) -> None:
    first = start(admin, plan=FAST)
    before_rules, before_audit = rules(admin), newest_audit_id(admin)

    again = admin.post(PLANS, json={"flag": FLAG, "environment": ENV})

    assert again.status_code == 409
    assert error_field(again) == "flag"
    assert f"#{first['id']}" in again.json()["error"]["message"]
    assert rules(admin) == before_rules
    assert newest_audit_id(admin) == before_audit
    # Another environment is another plan
    assert admin.post(PLANS, json={"flag": FLAG, "environment": "dev"}).status_code == 201


# -- what people do ---------------------------------------------------------------------


def act(admin: httpx.Client, plan_id: int, action: str, **body: Any) -> httpx.Response:
    return admin.post(f"{PLANS}/{plan_id}/{action}", json=body or None)


def test_lifecycle__pause_resume_skip_abort__audited_and_on_the_timeline(
    admin: httpx.Client,
) -> None:
    plan_id = start(admin, plan=FAST)["id"]

    paused = act(admin, plan_id, "pause", reason="checkout errors up in Grafana")
    assert paused.status_code == 200, paused.text
    assert paused.json()["state"]["status"] == "paused"
    assert paused.json()["state"]["reason"] == "checkout errors up in Grafana"
    assert paused.json()["state"]["next_check_at"] is None
    assert act(admin, plan_id, "pause", reason="again").status_code == 409

    resumed = act(admin, plan_id, "resume").json()["state"]
    assert (resumed["status"], resumed["step"], resumed["reason"]) == ("running", 1, None)

    skipped = act(admin, plan_id, "skip", reason="beta went well").json()["state"]
    assert (skipped["status"], skipped["step"], skipped["percentage"]) == ("running", 2, 60)
    assert "60" in [s["parameters"].get("rollout") for s in rules(admin)["strategies"]]

    aborted = act(admin, plan_id, "abort", reason="redesign").json()["state"]
    assert (aborted["status"], aborted["reason"]) == ("aborted", "redesign")
    assert aborted["finished_at"] is not None
    assert aborted["next_check_at"] is None
    # The flag stays where the plan left it
    assert "60" in [s["parameters"].get("rollout") for s in rules(admin)["strategies"]]

    # Each action is in the audit log with its reason, and on the plan's timeline
    records = rollout_audit(admin)
    assert [r["action"] for r in records] == [
        "rollout.start",
        "rollout.pause",
        "rollout.resume",
        "rollout.skip",
        "rollout.abort",
    ]
    assert {r["target_key"] for r in records} == {f"{FLAG}@{ENV}#{plan_id}"}
    assert "checkout errors up in Grafana" in records[1]["reason"]
    assert (records[3]["before"]["step"], records[3]["after"]["step"]) == (1, 2)
    assert records[4]["after"]["status"] == "aborted"
    timeline = admin.get(f"{PLANS}/{plan_id}/timeline").json()
    assert timeline["plan"] == plan_id
    decisions = [(c["step"], c["decision"]) for c in timeline["checks"]]
    assert decisions == [(1, "advance"), (1, "pause"), (1, "hold"), (2, "advance"), (2, "hold")]
    assert timeline["checks"][-1]["reason"].startswith("aborted by first admin: redesign")

    # And a finished plan takes nothing more; the flag is free for a new plan
    for action, body in [("resume", {}), ("abort", {"reason": "x"}), ("skip", {"reason": "x"})]:
        refused = act(admin, plan_id, action, **body)
        assert refused.status_code == 409, (action, refused.text)
        assert error_field(refused) == "status"
    assert start(admin, plan=FAST)["id"] != plan_id


def test_approve__marks_the_step_and_makes_the_plan_due(admin: httpx.Client) -> None:
    plan_id = start(admin, plan=FAST)["id"]

    approved = act(admin, plan_id, "approve")

    assert approved.status_code == 200, approved.text
    state = approved.json()["state"]
    assert (state["status"], state["approved"]) == ("running", True)
    assert [r["action"] for r in rollout_audit(admin)][-1] == "rollout.approve"


def test_skip__at_the_last_step__409(admin: httpx.Client) -> None:
    plan_id = start(admin, plan={"steps": [{"percentage": 50}, {"percentage": 100}]})["id"]
    assert act(admin, plan_id, "skip", reason="go").json()["state"]["status"] == "baking"
    last = act(admin, plan_id, "skip", reason="go")
    assert last.status_code == 409
    assert "last step" in last.json()["error"]["message"]


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("pause", {}, "reason"),
        ("pause", {"reason": ""}, "reason"),
        ("skip", {"reason": "   "}, "reason"),
        ("abort", {"reason": "x" * 1001}, "reason"),
        ("abort", {"reason": "ok", "extra": 1}, "extra"),
    ],
)
def test_actions__without_a_reason__422(
    admin: httpx.Client, action: str, body: dict[str, Any], field: str
) -> None:
    plan_id = start(admin, plan=FAST)["id"]
    before = newest_audit_id(admin)
    response = admin.post(f"{PLANS}/{plan_id}/{action}", json=body)
    assert response.status_code == 422, response.text
    assert error_field(response) == field
    assert newest_audit_id(admin) == before


def test_plans__unknown_or_of_another_project__404(admin: httpx.Client) -> None:
    plan_id = start(admin, plan=FAST)["id"]
    assert admin.post("/api/v1/projects", json={"key": "other"}).status_code == 201
    assert admin.get(f"/api/v1/projects/other/rollouts/{plan_id}").status_code == 404
    assert admin.get(f"{PLANS}/{plan_id + 1}").status_code == 404
    assert admin.get(f"{PLANS}/{plan_id + 1}/timeline").status_code == 404
    assert admin.post(f"{PLANS}/{plan_id + 1}/resume").status_code == 404
    assert error_field(admin.get(f"{PLANS}/0")) == "plan_id"


def test_skip_and_approve__developer__403_while_pause_is_allowed(
    server: RunningServer, admin: httpx.Client
) -> None:
    plan_id = start(admin, plan=FAST)["id"]
    developer = issue(admin, kind="api", project="default", role="developer", name="dev")
    manager = issue(admin, kind="api", project="default", role="release-manager", name="rm")
    before = newest_audit_id(admin)

    with as_token(server, developer) as dev:
        skip = dev.post(f"{PLANS}/{plan_id}/skip", json={"reason": "impatient"})
        approve = dev.post(f"{PLANS}/{plan_id}/approve")

    for refused in (skip, approve):
        assert refused.status_code == 403, refused.text
        assert "override-rollout" in refused.json()["error"]["message"]
    assert newest_audit_id(admin) == before
    assert admin.get(f"{PLANS}/{plan_id}").json()["state"]["step"] == 1

    with as_token(server, developer) as dev:
        assert dev.post(f"{PLANS}/{plan_id}/pause", json={"reason": "odd"}).status_code == 200
    with as_token(server, manager) as rm:
        skipped = rm.post(f"{PLANS}/{plan_id}/skip", json={"reason": "numbers are fine"})
    assert skipped.status_code == 200, skipped.text
    assert skipped.json()["state"]["step"] == 2
    assert rollout_audit(admin)[-1]["actor"].startswith("token:rm")


# -- templates --------------------------------------------------------------------------


def test_templates__save_list_start_from_delete(admin: httpx.Client) -> None:
    listed = admin.get(TEMPLATES).json()["templates"]
    assert [t["name"] for t in listed] == ["default"]

    saved = admin.put(f"{TEMPLATES}/careful", json={"plan": FAST})
    assert saved.status_code == 200, saved.text
    assert saved.json()["plan"]["steps"][1]["min_duration"] == "7d"

    names = [t["name"] for t in admin.get(TEMPLATES).json()["templates"]]
    assert names == ["default", "careful"]
    plan = start(admin, template="careful")
    assert [s["percentage"] for s in plan["spec"]["steps"]] == [20, 60, 100]

    assert admin.delete(f"{TEMPLATES}/careful").json() == {"name": "careful", "deleted": True}
    assert admin.delete(f"{TEMPLATES}/careful").status_code == 404
    actions = [r["action"] for r in _audit_of(admin, "rollout-template")]
    assert actions == ["rollout.template", "rollout.template.delete"]


def test_templates__bad_plan__422_naming_the_field(admin: httpx.Client) -> None:
    before = newest_audit_id(admin)
    plan = {"steps": [{"percentage": 10}, {"percentage": 100, "approval": "yes"}]}
    response = admin.put(f"{TEMPLATES}/careful", json={"plan": plan})
    assert response.status_code == 422
    assert error_field(response) == "steps[1].approval"
    assert newest_audit_id(admin) == before
    assert error_field(admin.put(f"{TEMPLATES}/Bad Name", json={"plan": FAST})) == "name"


def _audit_of(admin: httpx.Client, target_type: str) -> list[dict[str, Any]]:
    params = {"project": "default", "target_type": target_type}
    return list(reversed(admin.get("/api/v1/audit", params=params).json()["records"]))


# -- metrics ----------------------------------------------------------------------------


def test_metrics__define_read_list_and_guard_a_plan(admin: httpx.Client) -> None:
    errors = {"source": "sdk", "settings": {"event": "error"}, "description": "5xx per user"}
    defined = admin.put(f"{METRICS}/errors", json=errors)
    assert defined.status_code == 200, defined.text
    assert defined.json() == {"name": "errors", **errors}
    assert admin.get(f"{METRICS}/errors").json() == defined.json()
    assert admin.put(f"{METRICS}/tickets", json={"source": "pushed"}).status_code == 200
    listed = admin.get(METRICS).json()["metrics"]
    assert [m["name"] for m in listed] == ["errors", "tickets"]

    # A plan may now watch it; while it does, the metric cannot go
    guarded = {**FAST, "guardrails": [{"metric": "errors", "max_worse": 0.1}]}
    plan = start(admin, plan=guarded)
    assert plan["spec"]["guardrails"][0]["metric"] == "errors"
    refused = admin.delete(f"{METRICS}/errors")
    assert refused.status_code == 409
    assert f"#{plan['id']}" in refused.json()["error"]["message"]
    act(admin, plan["id"], "abort", reason="done")
    assert admin.delete(f"{METRICS}/errors").json() == {"name": "errors", "deleted": True}
    assert admin.get(f"{METRICS}/errors").status_code == 404
    actions = [r["action"] for r in _audit_of(admin, "metric")]
    assert actions == ["metric.define", "metric.define", "metric.delete"]


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("errors", {"source": "sdk", "settings": {}}, "settings.event"),
        (
            "errors",
            {"source": "sdk", "settings": {"event": "e", "measure": "p99"}},
            "settings.measure",
        ),
        ("errors", {"source": "carrier-pigeon"}, "source"),
        ("errors", {"source": "pushed", "settings": {"window": "soon"}}, "settings.window"),
        ("errors", {"source": "pushed", "settings": {"window": "1h\x00"}}, "settings"),
        ("errors", {"source": "pushed", "settings": []}, "settings"),
        ("errors", {"settings": {}}, "source"),
        ("Errors", {"source": "pushed"}, "name"),
    ],
    ids=[
        "sdk-without-event",
        "sdk-bad-measure",
        "unknown-source",
        "bad-window",
        "nul",
        "settings-not-object",
        "no-source",
        "bad-name",
    ],
)
def test_metrics__bad_definition__422_naming_the_field(
    admin: httpx.Client, name: str, body: dict[str, Any], field: str
) -> None:
    before = newest_audit_id(admin)
    response = admin.put(f"{METRICS}/{name}", json=body)
    assert response.status_code == 422, response.text
    assert error_field(response) == field
    assert newest_audit_id(admin) == before
    assert admin.get(METRICS).json() == {"metrics": []}


def test_metrics__secrets__never_echoed(admin: httpx.Client) -> None:
    sentry = {
        "source": "sentry",
        "settings": {"organization": "acme", "project": 42, "token": "sntrys_SECRET"},
    }
    prometheus = {
        "source": "prometheus",
        "settings": {
            "url": "http://prometheus:9090",
            "query": "sum(rate(errors[5m]))",
            "headers": {"Authorization": "Bearer SECRET-2", "X-Scope-OrgID": "shop"},
        },
    }
    answers = [
        admin.put(f"{METRICS}/sentry-errors", json=sentry),
        admin.put(f"{METRICS}/prom-errors", json=prometheus),
        admin.get(f"{METRICS}/sentry-errors"),
        admin.get(f"{METRICS}/prom-errors"),
        admin.get(METRICS),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert "SECRET" not in answer.text
    assert answers[2].json()["settings"]["token"] == "***"
    headers = answers[3].json()["settings"]["headers"]
    assert headers == {"Authorization": "***", "X-Scope-OrgID": "shop"}


def test_metrics__push_values__stored_per_environment(
    server: RunningServer, admin: httpx.Client
) -> None:
    assert admin.put(f"{METRICS}/tickets", json={"source": "pushed"}).status_code == 200
    before = newest_audit_id(admin)

    # When tickets are pushed for production, for every environment, and for dev
    answers = [
        admin.post(f"{METRICS}/tickets/values", json={"value": 1, "environment": "production"}),
        admin.post(f"{METRICS}/tickets/values", json={"value": 2.5}),
        admin.post(f"{METRICS}/tickets/values", json={"value": 4, "environment": "dev"}),
    ]

    # Then each is accepted, and production counts its own and the ones for everywhere
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert answers[0].json() == {"metric": "tickets", "value": 1.0, "environment": "production"}
    since = datetime.now(UTC) - timedelta(hours=1)
    with server.services.database.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        assert tx.pushed_total(project.id, "production", "tickets", since) == (3.5, 2)
        assert tx.pushed_total(project.id, None, "tickets", since) == (7.5, 3)
    assert newest_audit_id(admin) == before  # observations, not changes


@pytest.mark.parametrize(
    ("name", "body", "status", "field"),
    [
        ("tickets", {"value": True}, 422, "value"),
        ("tickets", {"value": "1"}, 422, "value"),
        ("tickets", {"value": 1e13}, 422, "value"),
        ("tickets", {}, 422, "value"),
        ("tickets", {"value": 1, "environment": "moon"}, 422, "environment"),
        ("errors", {"value": 1}, 422, "name"),
        ("nothing", {"value": 1}, 404, None),
    ],
    ids=["bool", "string", "huge", "missing", "environment", "not-pushed", "unknown"],
)
def test_metrics__push_refused(
    server: RunningServer,
    admin: httpx.Client,
    name: str,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    assert admin.put(f"{METRICS}/tickets", json={"source": "pushed"}).status_code == 200
    errors = {"source": "sdk", "settings": {"event": "error"}}
    assert admin.put(f"{METRICS}/errors", json=errors).status_code == 200

    response = admin.post(f"{METRICS}/{name}/values", json=body)

    assert response.status_code == status, response.text
    assert error_field(response) == field
    with server.services.database.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        since = datetime.now(UTC) - timedelta(hours=1)
        assert tx.pushed_total(project.id, None, "tickets", since) == (0.0, 0)


def test_metrics__push_nan__422(admin: httpx.Client) -> None:
    assert admin.put(f"{METRICS}/tickets", json={"source": "pushed"}).status_code == 200
    response = admin.post(
        f"{METRICS}/tickets/values",
        content=b'{"value": NaN}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert error_field(response) == "value"


# -- tracked events from SDKs -----------------------------------------------------------


def _environment_id(server: RunningServer, key: str = "production") -> int:
    with server.services.database.read() as tx:
        project = tx.get_project("default")
        assert project is not None
        environment = tx.get_environment(project.id, key)
        assert environment is not None
        return environment.id


def _line(arm: str, count: int, **more: Any) -> dict[str, Any]:
    return {"flag": FLAG, "arm": arm, "event": "checkout.latency", "count": count, **more}


def test_sdk_events__accepted_and_stored_by_arm(server: RunningServer, admin: httpx.Client) -> None:
    # Given a server key and a frontend key of production
    server_key = issue(admin, kind="server", project="default", environment="production")
    frontend_key = issue(admin, kind="frontend", project="default", environment="production")
    since = datetime.now(UTC) - timedelta(minutes=1)

    # When each sends a batch (a line with nothing in it is dropped)
    batch = {
        "appName": "shop",
        "instanceId": "shop-1",
        "events": [
            _line("on", 3, valued=3, sum=600.0, sumSq=130_000.0),
            _line("off", 2, valued=2, sum=300.0, sumSq=45_000.0),
            _line("off", 0),
        ],
    }
    with httpx.Client(base_url=server.url, headers={"Authorization": server_key}) as sdk:
        first = sdk.post("/sdk/v1/events", json=batch)
    with httpx.Client(base_url=server.url, headers={"Authorization": frontend_key}) as sdk:
        second = sdk.post(
            "/sdk/v1/events",
            json={"appName": None, "instanceId": "web", "events": [_line("on", 1)]},
        )

    # Then both are accepted, and the guardrails' store has them by arm
    assert (first.status_code, first.json()) == (202, {"accepted": 2})
    assert (second.status_code, second.json()) == (202, {"accepted": 1})
    with server.services.database.read() as tx:
        totals = tx.tracked_totals(_environment_id(server), FLAG, "checkout.latency", since)
    assert totals["on"].count == 4
    assert (totals["on"].valued, totals["on"].total, totals["on"].total_sq) == (3, 600, 130_000)
    assert (totals["off"].count, totals["off"].total) == (2, 300)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"arm": "maybe"}, "events[0].arm"),
        ({"count": -1}, "events[0].count"),
        ({"count": 2**31}, "events[0].count"),
        ({"count": 1.5}, "events[0].count"),
        ({"flag": "x" * 201}, "events[0].flag"),
        ({"event": ""}, "events[0].event"),
        ({"event": "a\x00b"}, "events[0].event"),
        ({"sum": 1e300}, "events[0].sum"),
        ({"sumSq": -1.0}, "events[0].sumSq"),
    ],
    ids=lambda value: json.dumps(value)[:30] if isinstance(value, dict) else value,
)
def test_sdk_events__malformed_line__422_and_nothing_stored(
    server: RunningServer, admin: httpx.Client, change: dict[str, Any], field: str
) -> None:
    key = issue(admin, kind="server", project="default", environment="production")
    since = datetime.now(UTC) - timedelta(minutes=1)
    batch = {"instanceId": "shop-1", "events": [_line("on", 1) | change, _line("off", 1)]}

    with httpx.Client(base_url=server.url, headers={"Authorization": key}) as sdk:
        response = sdk.post("/sdk/v1/events", json=batch)

    assert response.status_code == 422, response.text
    assert error_field(response) == field
    with server.services.database.read() as tx:
        assert tx.tracked_totals(_environment_id(server), FLAG, "checkout.latency", since) == {}


def test_sdk_events__too_many_lines_or_no_instance__422(
    server: RunningServer, admin: httpx.Client
) -> None:
    key = issue(admin, kind="server", project="default", environment="production")
    # 10,001 lines are a 1 MB body: on a loaded machine its validation alone can outlast
    # httpx's default 5 s, so the client waits longer (a hang still fails the test).
    headers = {"Authorization": key}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as sdk:
        many = sdk.post(
            "/sdk/v1/events", json={"instanceId": "i", "events": [_line("on", 1)] * 10_001}
        )
        anonymous = sdk.post("/sdk/v1/events", json={"events": []})
    assert error_field(many) == "events"
    assert error_field(anonymous) == "instanceId"


def test_sdk_events__api_token__403(server: RunningServer) -> None:
    with server.admin() as admin:
        response = admin.post("/sdk/v1/events", json={"instanceId": "i", "events": []})
    assert response.status_code == 403
    assert "server key or a frontend key" in response.json()["error"]["message"]


def test_sdk_events__from_the_python_sdk__reach_the_guardrails_store(
    server: RunningServer, admin: httpx.Client
) -> None:
    # Given a plan rolling the flag out at 20%, and a client of that environment
    start(admin, plan=FAST)
    key = issue(admin, kind="server", project="default", environment=ENV)
    since = datetime.now(UTC) - timedelta(minutes=1)

    # When the application tracks checkout times for a hundred users and flushes
    with Client(server.url, key, stream=False, metrics_interval=3600) as client:
        assert client.wait_until_ready(5)
        for n in range(100):
            client.track("checkout.latency", {"userId": f"user-{n}"}, 250.0)
        assert client.flush() is True

    # Then the server has them by arm, as the SDK counted them
    with server.services.database.read() as tx:
        totals = tx.tracked_totals(_environment_id(server, ENV), FLAG, "checkout.latency", since)
    assert totals["on"].count + totals["off"].count == 100
    assert 0 < totals["on"].count < 50  # about 20%, never most
    assert totals["on"].total == 250.0 * totals["on"].valued

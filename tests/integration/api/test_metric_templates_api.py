"""Metric templates through the API: the list says per source what to give, the default
rule and whether this server can read it; a metric defined with ``template`` is the
recipe filled in, and a bad pick is a 422 naming the field, with nothing saved."""

from __future__ import annotations

import httpx
import pytest
from tests.integration.api.helpers import error_field, newest_audit_id
from tests.support.server import RunningServer

METRICS = "/api/v1/projects/default/metrics"


def test_list__every_template__with_its_recipes_and_availability(admin: httpx.Client) -> None:
    answer = admin.get("/api/v1/metric-templates")
    assert answer.status_code == 200, answer.text
    templates = {t["name"]: t for t in answer.json()["templates"]}
    cpu = templates["cpu"]["recipes"][0]
    assert cpu["source"] == "prometheus"
    assert cpu["available"] is True
    assert cpu["compares_arms"] is False
    assert [a["name"] for a in cpu["asks"]] == ["url", "job"]
    assert cpu["guardrail"] == {"direction": "higher-is-worse", "threshold": 0.8}
    sdk = templates["error-rate"]["recipes"][0]
    assert sdk["compares_arms"] is True
    assert sdk["guardrail"]["max_worse"] == 0.1
    vercel = templates["lcp-p75"]["recipes"][0]
    assert vercel["available"] is True  # read from what Vercel's drains deliver
    assert vercel["compares_arms"] is False
    assert vercel["guardrail"] == {"direction": "higher-is-worse", "threshold": 2500}


def test_define__from_a_template__saves_the_filled_recipe(server: RunningServer) -> None:
    with server.admin() as admin:
        answer = admin.put(
            f"{METRICS}/db.connections",
            json={
                "source": "prometheus",
                "template": "db-connections",
                "settings": {"url": "http://127.0.0.1:9", "job": "pg"},
            },
        )
        assert answer.status_code == 200, answer.text
        saved = admin.get(f"{METRICS}/db.connections").json()
    assert saved["settings"]["query"] == (
        'sum(pg_stat_activity_count{job="pg"}) / sum(pg_settings_max_connections{job="pg"})'
    )
    assert "max_connections" in saved["description"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "prometheus", "template": "nope", "settings": {}}, "template"),
        (
            {"source": "vercel", "template": "lcp-p75", "settings": {"measure": "fid"}},
            "settings.measure",
        ),
        ({"source": "sdk", "template": "cpu", "settings": {}}, "source"),
        (
            {"source": "prometheus", "template": "cpu", "settings": {"url": "http://p"}},
            "settings.job",
        ),
        (
            {"source": "prometheus", "template": "cpu", "settings": {"url": "x", "job": "n"}},
            "settings.url",
        ),
    ],
    ids=["unknown-template", "vercel-bad-measure", "no-recipe", "missing-job", "bad-url"],
)
def test_define__a_bad_pick__is_422_naming_the_field_and_changes_nothing(
    admin: httpx.Client, body: dict[str, object], field: str
) -> None:
    before = newest_audit_id(admin)
    answer = admin.put(f"{METRICS}/picked", json=body)
    assert answer.status_code == 422, answer.text
    assert error_field(answer) == field
    assert admin.get(f"{METRICS}/picked").status_code == 404
    assert newest_audit_id(admin) == before

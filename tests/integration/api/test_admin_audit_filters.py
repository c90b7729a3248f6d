"""Filtering the audit log through the admin API, on SQLite and PostgreSQL: by action (or
a family of them), actor (any case), environment and time; bad filters are a 422 naming
the parameter, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from tests.integration.api.helpers import as_token, create_flag, error_field, issue, rules_path
from tests.support.server import RunningServer

from shipwise.server.storage.tables import AuditRow

AUDIT = "/api/v1/audit"


def _actions(response: httpx.Response) -> list[tuple[str, str, str | None]]:
    assert response.status_code == 200, response.text
    return [(r["action"], r["target_key"], r["environment"]) for r in response.json()["records"]]


def _ana_changes(server: RunningServer) -> None:
    """Ana (a release manager) creates a flag, switches it on in staging, kills it in
    production; the admin creates another flag."""
    with server.admin() as admin:
        manager = issue(admin, kind="api", project="default", role="release-manager", name="Ana")
        create_flag(admin, "other")
    with as_token(server, manager) as ana:
        create_flag(ana, "checkout")
        on = {"enabled": True, "strategies": [{"name": "default"}]}
        put = ana.put(rules_path("checkout", "staging"), json=on, headers={"If-Match": '"1"'})
        assert put.is_success, put.text
        kill = ana.post(f"{rules_path('checkout')}/kill", json={"reason": "INC-7"})
        assert kill.is_success, kill.text


def test_audit__filters_by_actor_any_case_action_family_and_environment(
    server: RunningServer,
) -> None:
    # Given changes by Ana and by the admin
    _ana_changes(server)
    with server.admin() as admin:
        # When the log is asked for Ana's changes, written in another case
        by_ana = admin.get(AUDIT, params={"project": "default", "actor": "ANA"})
        # Then they are hers alone, newest first (on PostgreSQL too, whose LIKE minds case)
        assert _actions(by_ana) == [
            ("flag.kill", "checkout", "production"),
            ("flag.configure", "checkout", "staging"),
            ("flag.create", "checkout", None),
        ]
        # And a family of actions, and an environment, narrow it the same way
        flag_family = admin.get(AUDIT, params={"project": "default", "action": "flag.*"})
        assert {a for a, _, _ in _actions(flag_family)} == {
            "flag.kill",
            "flag.configure",
            "flag.create",
        }
        exact = admin.get(AUDIT, params={"action": "flag.kill", "environment": "production"})
        assert _actions(exact) == [("flag.kill", "checkout", "production")]
        staging = admin.get(AUDIT, params={"project": "default", "environment": "staging"})
        assert _actions(staging) == [("flag.configure", "checkout", "staging")]
        # And LIKE's wildcards in a filter are taken literally
        assert _actions(admin.get(AUDIT, params={"actor": "a_a"})) == []
        assert _actions(admin.get(AUDIT, params={"action": "fla_.*"})) == []


def test_audit__since_and_until__compare_moments_across_time_zones(
    server: RunningServer,
) -> None:
    # Given records at known moments (rewritten in the database: the server's clock is real)
    _ana_changes(server)
    with server.admin() as admin:
        ids = [r["id"] for r in admin.get(AUDIT, params={"project": "default"}).json()["records"]]
    newest, middle, oldest = ids[0], ids[1], ids[2]
    base = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    with server.services.database.engine.begin() as connection:
        for record, hours in ((oldest, 0), (middle, 2), (newest, 4)):
            moment = base + timedelta(hours=hours)
            connection.execute(update(AuditRow).where(AuditRow.id == record).values(at=moment))

    with server.admin() as admin:
        # When asked from 13:00 UTC, written as 15:00 at +02:00, until 16:00 UTC (no zone)
        window = admin.get(
            AUDIT, params={"since": "2030-06-01T15:00:00+02:00", "until": "2030-06-01T16:00:00"}
        )
        # Then only the record at 14:00 UTC is in it (until is exclusive, since inclusive)
        assert [r["id"] for r in window.json()["records"]] == [middle]
        at_since = admin.get(AUDIT, params={"since": "2030-06-01T14:00:00Z"})
        assert [r["id"] for r in at_since.json()["records"]] == [newest, middle]


def test_audit__filters_and_paging__combine(server: RunningServer) -> None:
    _ana_changes(server)
    with server.admin() as admin:
        first = admin.get(AUDIT, params={"actor": "ana", "limit": 2}).json()
        rest = admin.get(
            AUDIT, params={"actor": "ana", "limit": 2, "before_id": first["next_before_id"]}
        ).json()
    pages = [r["action"] for r in first["records"]] + [r["action"] for r in rest["records"]]
    assert pages == ["flag.kill", "flag.configure", "flag.create"]
    assert rest["next_before_id"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "9999-12-31T23:00:00-05:00"}, "until"),
        ({"since": "0001-01-01T00:00:00+05:00"}, "since"),
        ({"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"}, "until"),
        ({"action": "flag kill"}, "action"),
        ({"action": "*"}, "action"),
        ({"actor": "a\nb"}, "actor"),
        ({"actor": "x" * 201}, "actor"),
        ({"environment": "Not An Env"}, "environment"),
    ],
    ids=[
        "since-not-a-date",
        "until-off-the-calendar-in-utc",
        "since-before-the-calendar-in-utc",
        "until-before-since",
        "action-with-a-space",
        "action-wildcard-alone",
        "actor-with-a-line-break",
        "actor-too-long",
        "environment-not-a-key",
    ],
)
def test_audit__bad_filter__is_a_422_naming_it(
    admin: httpx.Client, params: dict[str, str], field: str
) -> None:
    response = admin.get(AUDIT, params=params)
    assert response.status_code == 422, response.text
    assert error_field(response) == field

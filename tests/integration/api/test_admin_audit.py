"""The audit log through the admin API, on SQLite and PostgreSQL: every change recorded
with who, what, before and after; filtered and paged; and its hash chain verified, so
that editing or deleting a record directly in the database shows."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from tests.integration.api.helpers import as_token, create_flag, issue, rules_path
from tests.support.server import RunningServer

AUDIT = "/api/v1/audit"


def _changes(admin: httpx.Client) -> None:
    """A few audited changes: a flag created, configured, killed."""
    create_flag(admin, "checkout")
    rules = {"enabled": True, "strategies": [{"name": "default"}]}
    assert admin.put(
        rules_path("checkout", "staging"), json=rules, headers={"If-Match": '"1"'}
    ).is_success
    assert admin.post(
        f"{rules_path('checkout', 'staging')}/kill", json={"reason": "INC-7"}
    ).is_success


def test_audit__records_actor_action_before_and_after_newest_first(server: RunningServer) -> None:
    with server.admin() as admin:
        manager = issue(admin, kind="api", project="default", role="release-manager", name="ana")
        with as_token(server, manager) as client:
            _changes(client)
        records = admin.get(AUDIT, params={"project": "default", "target_type": "flag"}).json()
    actions = [(r["action"], r["actor"].split(" ")[0]) for r in records["records"]]
    assert actions == [
        ("flag.kill", "token:ana"),
        ("flag.configure", "token:ana"),
        ("flag.create", "token:ana"),
    ]
    kill, configure, _create = records["records"]
    assert (configure["before"]["enabled"], configure["after"]["enabled"]) == (False, True)
    assert configure["after"]["strategies"] == [{"name": "default"}]
    assert (kill["reason"], kill["environment"]) == ("INC-7", "staging")
    assert kill["previous_hash"] == configure["hash"]


def test_audit__pages_with_before_id(admin: httpx.Client) -> None:
    _changes(admin)
    everything = [r["id"] for r in admin.get(AUDIT).json()["records"]]
    first = admin.get(AUDIT, params={"limit": 2}).json()
    assert [r["id"] for r in first["records"]] == everything[:2]
    second = admin.get(AUDIT, params={"limit": 2, "before_id": first["next_before_id"]}).json()
    assert [r["id"] for r in second["records"]] == everything[2:4]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"before_id": -1}, "before_id"),
        ({"project": "Not A Key"}, "project"),
        ({"target_key": "a\x00b"}, "target_key"),
    ],
)
def test_audit__invalid_query__is_a_422_naming_it(
    admin: httpx.Client, params: dict[str, object], field: str
) -> None:
    response = admin.get(AUDIT, params=params)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_verify__an_untouched_log__is_intact(server: RunningServer) -> None:
    with server.admin() as admin:
        _changes(admin)
        result = admin.get(f"{AUDIT}/verify").json()
    assert result["ok"] is True
    assert result["breaks"] == []
    assert result["checked"] >= 4  # first admin, default project, three flag changes


def test_verify__a_record_edited_in_the_database__is_reported(server: RunningServer) -> None:
    with server.admin() as admin:
        _changes(admin)
        kill = admin.get(AUDIT, params={"limit": 1}).json()["records"][0]
        with server.services.database.engine.begin() as connection:
            connection.execute(
                text("UPDATE audit_log SET reason = :reason WHERE id = :id"),
                {"reason": "nothing happened", "id": kill["id"]},
            )
        result = admin.get(f"{AUDIT}/verify").json()
    assert result["ok"] is False
    assert [b["record_id"] for b in result["breaks"]] == [kill["id"]]
    assert "edited" in result["breaks"][0]["problem"]


@pytest.mark.parametrize("which", ["middle", "newest"])
def test_verify__a_record_deleted_in_the_database__is_reported(
    server: RunningServer, which: str
) -> None:
    with server.admin() as admin:
        _changes(admin)
        ids = [r["id"] for r in admin.get(AUDIT).json()["records"]]
        victim = ids[2] if which == "middle" else ids[0]
        with server.services.database.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": victim})
        result = admin.get(f"{AUDIT}/verify").json()
    assert result["ok"] is False
    assert len(result["breaks"]) == 1
    assert "deleted" in result["breaks"][0]["problem"]


def test_verify__is_for_global_admins_only(sqlite_server: RunningServer) -> None:
    with sqlite_server.admin() as admin:
        project_admin = issue(admin, kind="api", project="default", role="admin")
    with as_token(sqlite_server, project_admin) as client:
        assert client.get(f"{AUDIT}/verify").status_code == 403
        assert client.get(AUDIT).status_code == 403  # every project's log
        assert client.get(AUDIT, params={"project": "default"}).status_code == 200

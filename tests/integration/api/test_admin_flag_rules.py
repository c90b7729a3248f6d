"""A flag's rules in one environment: versions and If-Match (no lost updates), and rules
checked by the engine with the field named. The version tests run on SQLite and
PostgreSQL. The switches are in `test_admin_flag_switches`. Rules are written in staging:
production is protected (`test_protected_environments`)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from tests.integration.api.helpers import (
    create_flag,
    error_field,
    newest_audit_id,
    rules_path,
)
from tests.support.server import RunningServer

ON_FOR_EVERYONE = {"enabled": True, "strategies": [{"name": "default"}]}


def _read(admin: httpx.Client, flag: str = "checkout") -> tuple[dict[str, Any], str]:
    response = admin.get(rules_path(flag, "staging"))
    assert response.status_code == 200, response.text
    return response.json(), response.headers["ETag"]


def test_get_rules__carries_the_version_as_etag(server: RunningServer) -> None:
    with server.admin() as admin:
        create_flag(admin, "checkout")
        rules, tag = _read(admin)
    assert tag == '"1"'
    assert (rules["version"], rules["enabled"], rules["flag"]) == (1, False, "checkout")


def test_put_rules__with_the_current_version__replaces_them_and_bumps_the_version(
    server: RunningServer,
) -> None:
    with server.admin() as admin:
        create_flag(admin, "checkout")
        _rules, tag = _read(admin)
        response = admin.put(
            rules_path("checkout", "staging"), json=ON_FOR_EVERYONE, headers={"If-Match": tag}
        )
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"2"'
        assert response.json()["version"] == 2
        assert _read(admin)[0]["strategies"] == [{"name": "default"}]
        record = admin.get("/api/v1/audit", params={"limit": 1}).json()["records"][0]
    assert record["action"] == "flag.configure"
    assert record["environment"] == "staging"
    assert (record["before"]["enabled"], record["after"]["enabled"]) == (False, True)
    assert (record["before"]["version"], record["after"]["version"]) == (1, 2)


def test_put_rules__without_if_match__is_a_428_and_changes_nothing(server: RunningServer) -> None:
    with server.admin() as admin:
        create_flag(admin, "checkout")
        before = newest_audit_id(admin)
        response = admin.put(rules_path("checkout", "staging"), json=ON_FOR_EVERYONE)
        assert response.status_code == 428
        assert error_field(response) == "If-Match"
        rules, tag = _read(admin)
        assert (rules["enabled"], tag) == (False, '"1"')
        assert newest_audit_id(admin) == before


def test_put_rules__with_a_stale_version__is_a_409_naming_both_and_changes_nothing(
    server: RunningServer,
) -> None:
    with server.admin() as admin:
        # Given someone changed the rules after we read version 1
        create_flag(admin, "checkout")
        first = admin.put(
            rules_path("checkout", "staging"), json=ON_FOR_EVERYONE, headers={"If-Match": '"1"'}
        )
        assert first.status_code == 200
        current, _tag = _read(admin)
        before = newest_audit_id(admin)

        # When we write what we based on version 1
        response = admin.put(
            rules_path("checkout", "staging"), json={"enabled": False}, headers={"If-Match": '"1"'}
        )

        # Then we are told who is where, and nothing changed
        assert response.status_code == 409
        assert error_field(response) == "If-Match"
        assert "version 2, not 1" in response.json()["error"]["message"]
        assert _read(admin)[0] == current
        assert newest_audit_id(admin) == before


def test_put_rules__eight_concurrent_writers_with_one_version__exactly_one_wins(
    server: RunningServer,
) -> None:
    with server.admin() as admin:
        create_flag(admin, "checkout")
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def write(percentage: int) -> None:
        rules = {
            "enabled": True,
            "strategies": [{"name": "flexibleRollout", "parameters": {"rollout": str(percentage)}}],
        }
        with server.admin() as client:
            barrier.wait()
            response = client.put(
                rules_path("checkout", "staging"), json=rules, headers={"If-Match": '"1"'}
            )
            statuses.append(response.status_code)

    writers = [threading.Thread(target=write, args=(p,)) for p in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=30)

    assert sorted(statuses) == [200] + [409] * 7
    with server.admin() as admin:
        rules, tag = _read(admin)
        configures = admin.get(
            "/api/v1/audit", params={"target_key": "checkout", "target_type": "flag"}
        ).json()["records"]
    assert tag == '"2"'
    assert rules["version"] == 2
    assert [r["action"] for r in configures].count("flag.configure") == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"enabled": "yes"}, "enabled", id="wrong-type"),
        pytest.param({"strategies": []}, "enabled", id="missing-enabled"),
        pytest.param({"enabled": True, "segments": []}, "segments", id="unknown-field"),
        pytest.param({"enabled": True, "strategies": "default"}, "strategies", id="not-a-list"),
        pytest.param({"enabled": True, "strategies": [1]}, "strategies[0]", id="not-an-object"),
        pytest.param(
            {"enabled": True, "strategies": [{"name": "everyone"}]},
            "strategies[0].name",
            id="unknown-strategy",
        ),
        pytest.param(
            {"enabled": True, "strategies": [{"parameters": {}}]},
            "strategies[0].name",
            id="strategy-without-name",
        ),
        pytest.param(
            {"enabled": True, "strategies": [{"name": "default", "sortOrder": 1}]},
            "strategies[0].sortOrder",
            id="unknown-strategy-field",
        ),
        pytest.param(
            {
                "enabled": True,
                "strategies": [
                    {
                        "name": "default",
                        "constraints": [
                            {"contextName": "plan", "operator": "IN", "values": ["a"]},
                            {"contextName": "plan", "operator": "EQUALS", "values": ["b"]},
                        ],
                    }
                ],
            },
            "strategies[0].constraints[1].operator",
            id="unknown-operator",
        ),
        pytest.param(
            {
                "enabled": True,
                "strategies": [
                    {
                        "name": "default",
                        "constraints": [{"contextName": "v", "operator": "NUM_GT", "value": "x"}],
                    }
                ],
            },
            "strategies[0].constraints[0].value",
            id="operand-that-is-not-a-number",
        ),
        pytest.param(
            {
                "enabled": True,
                "strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "150"}}],
            },
            "strategies[0].parameters.rollout",
            id="rollout-over-100",
        ),
        pytest.param(
            {"enabled": True, "strategies": [{"name": "default", "segments": [99]}]},
            "strategies[0].segments[0]",
            id="unknown-segment",
        ),
        pytest.param(
            {"enabled": True, "variants": [{"name": "a", "weight": -1}]},
            "variants[0].weight",
            id="negative-variant-weight",
        ),
        pytest.param(
            {"enabled": True, "dependencies": [{"feature": "nothing-like-it"}]},
            "dependencies[0].feature",
            id="unknown-parent-flag",
        ),
    ],
)
def test_put_rules__invalid_rules__are_a_422_naming_the_field_and_change_nothing(
    admin: httpx.Client, body: dict[str, Any], field: str
) -> None:
    create_flag(admin, "checkout")
    before_rules = _read(admin)
    before = newest_audit_id(admin)
    response = admin.put(rules_path("checkout", "staging"), json=body, headers={"If-Match": '"1"'})
    assert response.status_code == 422, response.text
    assert error_field(response) == field
    assert _read(admin) == before_rules
    assert newest_audit_id(admin) == before


@pytest.mark.parametrize(
    "if_match",
    [
        pytest.param(b"*", id="star"),
        pytest.param(b"W/x", id="weak-not-a-number"),
        pytest.param(b'"-1"', id="negative"),
        pytest.param(b'"\xb2"', id="superscript-two"),  # latin-1 "²": isdigit(), not int()
        pytest.param(b'"' + b"9" * 41 + b'"', id="too-long"),
    ],
)
def test_put_rules__if_match_that_is_not_a_version__is_a_422(
    admin: httpx.Client, if_match: bytes
) -> None:
    create_flag(admin, "checkout")
    response = admin.put(
        rules_path("checkout", "staging"), json=ON_FOR_EVERYONE, headers={"If-Match": if_match}
    )
    assert response.status_code == 422
    assert error_field(response) == "If-Match"
    assert _read(admin)[0]["version"] == 1


def test_put_rules__bare_or_weak_version__is_read_as_that_version(admin: httpx.Client) -> None:
    create_flag(admin, "checkout")
    stale = admin.put(
        rules_path("checkout", "staging"), json=ON_FOR_EVERYONE, headers={"If-Match": "3"}
    )
    assert stale.status_code == 409
    weak = admin.put(
        rules_path("checkout", "staging"), json=ON_FOR_EVERYONE, headers={"If-Match": 'W/"1"'}
    )
    assert weak.status_code == 200

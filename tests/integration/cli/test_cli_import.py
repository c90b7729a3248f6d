"""``shipwise import unleash``: an Unleash features document with segments moves in; one
with something Shipwise cannot represent is refused by name, and nothing is imported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer

WITH_SEGMENTS: dict[str, Any] = {
    "version": 2,
    "features": [
        {
            "name": "beta-banner",
            "type": "release",
            "enabled": True,
            "description": "Banner for beta users",
            "strategies": [
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "50", "stickiness": "userId", "groupId": "beta"},
                    "segments": [7],
                }
            ],
        },
        {"name": "ops-toggle", "type": "operational", "enabled": False, "strategies": []},
    ],
    "segments": [
        {
            "id": 7,
            "name": "Beta testers",
            "constraints": [{"contextName": "plan", "operator": "IN", "values": ["beta"]}],
        }
    ],
}
WITH_CUSTOM_STRATEGY: dict[str, Any] = {
    "version": 2,
    "features": [
        {"name": "fine-flag", "enabled": True, "strategies": [{"name": "default"}]},
        {
            "name": "geo-flag",
            "enabled": True,
            "strategies": [{"name": "byCountry", "parameters": {"countries": "NO,SE"}}],
        },
    ],
}


@pytest.fixture
def project(shipwise: Shipwise, remote: tuple[str, ...], request: pytest.FixtureRequest) -> str:
    key = f"import-{abs(hash(request.node.name)) % 10**8}"
    assert shipwise("project", "create", key, *remote).exit_code == 0
    return key


def _write(tmp_path: Path, document: object) -> str:
    path = tmp_path / "features.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def test_import_unleash__with_segments__creates_flags_and_segment(
    shipwise: Shipwise,
    remote: tuple[str, ...],
    project: str,
    server: RunningServer,
    tmp_path: Path,
) -> None:
    # When an Unleash document with a segment is imported into production
    features = _write(tmp_path, WITH_SEGMENTS)
    result = shipwise("import", "unleash", features, "-p", project, "-e", "production", *remote)

    # Then the report names what was created
    assert result.exit_code == 0, result.output
    assert "2 flags created, 0 updated, 1 segments" in result.stdout
    for name in ("beta-banner", "ops-toggle", "beta-testers"):
        assert name in result.stdout

    # And the flag uses the new segment in production only
    with server.admin() as admin:
        segments = admin.get(f"/api/v1/projects/{project}/segments").json()["segments"]
    assert [s["name"] for s in segments] == ["beta-testers"]
    flag = shipwise.json("flag", "show", "beta-banner", "-p", project, *remote)
    production = flag["environments"]["production"]
    assert production["enabled"] is True
    assert production["strategies"][0]["segments"] == [segments[0]["id"]]
    assert flag["environments"]["dev"]["enabled"] is False
    shown = shipwise("flag", "show", "beta-banner", "-p", project, *remote).stdout
    assert "flexibleRollout 50% by userId; segments beta-testers" in shown


def test_import_unleash__json_report__parses(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, tmp_path: Path
) -> None:
    features = _write(tmp_path, WITH_SEGMENTS)
    report = shipwise.json("import", "unleash", features, "-p", project, "-e", "dev", *remote)
    assert sorted(report["created_flags"]) == ["beta-banner", "ops-toggle"]
    assert report["segments"] == {"7": "beta-testers"}


def test_import_unleash__custom_strategy__refused_by_name_nothing_imported(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, tmp_path: Path
) -> None:
    # When a document with a custom strategy is imported
    features = _write(tmp_path, WITH_CUSTOM_STRATEGY)
    result = shipwise("import", "unleash", features, "-p", project, "-e", "production", *remote)

    # Then it is refused naming the flag and the strategy
    assert result.exit_code == 2
    assert "nothing was imported" in result.stderr
    assert "geo-flag" in result.stderr
    assert "byCountry" in result.stderr
    # And not even the flag that could be represented was imported
    assert shipwise.json("flag", "list", "-p", project, *remote)["flags"] == []


def test_import_unleash__not_json__exits_2_before_calling_the_server(
    shipwise: Shipwise, tmp_path: Path
) -> None:
    path = tmp_path / "features.json"
    path.write_text("{not json", encoding="utf-8")
    # No server is needed: --url points nowhere.
    result = shipwise(
        "import", "unleash", str(path), "-e", "dev", "--url", "http://127.0.0.1:9", "--token", "x"
    )
    assert result.exit_code == 2
    assert "is not valid JSON" in result.stderr

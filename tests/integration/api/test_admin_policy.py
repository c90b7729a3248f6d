"""Policy as code through the API: a shipwise.toml with a mistake is refused with the
line and key named, and nothing changes; a good one takes effect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.server import running_server

P = "/api/v1/projects/default"


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[httpx.Client]:
    with running_server(data_dir=tmp_path) as server, server.admin() as client:
        yield client


@pytest.mark.parametrize(
    ("source", "line", "key"),
    [
        pytest.param('timezone = "UTC"\nbusiness = true\n', 2, "business", id="unknown key"),
        pytest.param(
            "one_feature_per_release = 1\n", 1, "one_feature_per_release", id="wrong type"
        ),
        pytest.param(
            '[[stage]]\nenvironment = "qa"\nbranch = "qa"\n',
            2,
            "stage[0].environment",
            id="environment that does not exist",
        ),
        pytest.param(
            '[window]\nstart = "17:00"\nend = "09:00"\n', 3, "window.end", id="impossible window"
        ),
    ],
)
def test_policy_with_a_mistake__is_refused_naming_line_and_key(
    admin: httpx.Client, source: str, line: int, key: str
) -> None:
    before = admin.get(f"{P}/policy").json()
    response = admin.put(f"{P}/policy", json={"source": source})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert f"line {line}" in error["message"]
    assert error["field"] == key
    assert admin.get(f"{P}/policy").json() == before


def test_policy__applied__is_in_force(admin: httpx.Client) -> None:
    source = '[[freeze]]\nname = "Launch week"\nstart = 2026-12-07\nend = 2026-12-11\n'
    assert admin.put(f"{P}/policy", json={"source": source}).status_code == 200
    effective = admin.get(f"{P}/policy").json()["effective"]
    assert "Launch week" in effective

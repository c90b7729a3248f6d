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
        pytest.param(  # was a 500: the timedelta overflowed inside the policy reader
            '[sla]\nlow = "99999999999999w"\n', 2, "sla.low", id="duration off the calendar"
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


def test_policy_with_three_mistakes__is_refused_naming_each_line(admin: httpx.Client) -> None:
    before = admin.get(f"{P}/policy").json()
    source = 'timezone = "Europe/Olso"\n[window]\nstart = "9am"\n[sla]\nhigh = "a day"\n'

    response = admin.put(f"{P}/policy", json={"source": source})

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"].startswith("shipwise.toml has 3 problems: (1) line 1, key timezone")
    assert "(2) line 3, key window.start" in error["message"]
    assert "(3) line 5, key sla.high" in error["message"]
    assert error["field"] == "timezone"
    assert admin.get(f"{P}/policy").json() == before


def test_policy__sla_in_the_plan_grammar__is_in_force(admin: httpx.Client) -> None:
    source = '[sla]\nhigh = "0.5d"\n'  # refused before: [sla] took whole numbers only

    assert admin.put(f"{P}/policy", json={"source": source}).status_code == 200, source

    assert 'high = "12h"' in admin.get(f"{P}/policy").json()["effective"]

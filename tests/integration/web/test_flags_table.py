"""The flags table (``/projects/{p}/flags``): each flag's state in each environment, and
filters by tag, kind, owner and state kept in the URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.web.flag_pages import API, PAGES, FlagWorld, Page, flag_world, ok, page

ON = {"enabled": True, "strategies": [], "variants": [], "dependencies": []}


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[FlagWorld]:
    with flag_world(database_url, tmp_path) as running:
        yield running


def _states(table: Page, flag: str) -> dict[str, str]:
    """The row of ``flag``: environment → the cell's words."""
    rows: dict[str, str] = {}
    for cell in table.cells:
        if cell.attrs.get("data-flag") == flag:
            rows[cell.attrs["data-env"]] = " ".join(cell.text.split())
    return rows


def _shown(table: Page) -> set[str]:
    return {c.attrs["data-flag"] for c in table.cells}


def test_flags_table__shows_each_flags_state_in_every_environment(world: FlagWorld) -> None:
    world.flag("checkout", tags=["payments"], owner="alice")
    world.flag("search")
    ok(world.admin.post(f"{API}/flags/checkout/environments/dev/enable"))
    ok(
        world.admin.post(
            f"{API}/flags/checkout/environments/staging/rollout", json={"percentage": 25}
        )
    )
    world.set_up("checkout", "production", ON)
    kill = {"reason": "error spike"}
    ok(world.admin.post(f"{API}/flags/checkout/environments/production/kill", json=kill))

    table = page(world.signed_in("vic", "viewer").get(PAGES))

    assert table.mains == 1
    assert _states(table, "checkout") == {
        "dev": "on",
        "staging": "on 25%",
        "production": "killed (kill switch: error spike)",
    }
    assert _states(table, "search") == {"dev": "off", "staging": "off", "production": "off"}


def test_flags_table__when_a_killed_flag_is_switched_on_again__no_longer_shows_the_kill(
    world: FlagWorld,
) -> None:
    world.flag("checkout")
    ok(world.admin.post(f"{API}/flags/checkout/environments/dev/enable"))
    ok(world.admin.post(f"{API}/flags/checkout/environments/dev/kill", json={"reason": "oops"}))
    ok(world.admin.post(f"{API}/flags/checkout/environments/dev/enable"))

    table = page(world.signed_in("vic", "viewer").get(PAGES))

    assert _states(table, "checkout")["dev"] == "on"


def test_flags_table__filters_by_tag_kind_owner_and_state__kept_in_the_url(
    world: FlagWorld,
) -> None:
    world.flag("checkout", tags=["payments"], owner="alice")
    world.flag("refunds", tags=["payments"], owner="bob", kind="operational")
    world.flag("search", owner="alice", kind="experiment")
    ok(world.admin.post(f"{API}/flags/refunds/environments/staging/enable"))
    browser = world.signed_in("vic", "viewer")

    def shown(**query: str) -> set[str]:
        answer = browser.get(PAGES, params=query)
        assert answer.status_code == 200, answer.text
        return _shown(page(answer))

    assert shown() == {"checkout", "refunds", "search"}
    assert shown(tag="payments") == {"checkout", "refunds"}
    assert shown(kind="experiment") == {"search"}
    assert shown(owner="alice") == {"checkout", "search"}
    assert shown(state="on") == {"refunds"}
    assert shown(state="off") == {"checkout", "search"}
    assert shown(tag="payments", owner="alice") == {"checkout"}
    # The form shows the filter it applied, so the URL is the whole state.
    filtered = browser.get(PAGES, params={"tag": "payments", "state": "on"}).text
    assert '<option value="payments" selected>' in filtered
    assert '<option value="on" selected>' in filtered


def test_flags_table__when_a_filter_is_unknown__answers_422_beside_the_field(
    world: FlagWorld,
) -> None:
    world.flag("checkout")
    answer = world.signed_in("vic", "viewer").get(PAGES, params={"kind": "bogus", "state": "x"})

    assert answer.status_code == 422
    form = page(answer)
    assert "unknown kind 'bogus'" in form.text_of("error-kind")
    assert form.by_id["filter-kind"].attrs["aria-describedby"] == "error-kind"
    assert "unknown state 'x'" in form.text_of("error-state")

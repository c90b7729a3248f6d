"""The flags table (``/projects/{p}/flags``): each flag's state in each environment,
filters by tag, kind, owner, state and a part of the key, and 50 flags a page, all kept
in the URL."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.web.flag_pages import (
    API,
    PAGES,
    PROJECT,
    FlagWorld,
    Page,
    flag_world,
    ok,
    page,
)

from shipwise.server.services.principal import SYSTEM

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


def _many(world: FlagWorld, count: int, **fields: Any) -> None:
    """``count`` flags flag-000, flag-001, ..., written in-process (the table is tested)."""
    for i in range(count):
        world.server.services.flags.create(SYSTEM, PROJECT, f"flag-{i:03}", **fields)


def _keys(table: Page) -> list[str]:
    """The flags of the table's rows, in order."""
    return list(dict.fromkeys(c.attrs["data-flag"] for c in table.cells))


def _summary(table: Page) -> str:
    """The line above the table, its en dash as a hyphen: "1-50 of 120 flags, ..."."""
    return table.text_of("flags-summary").replace("\u2013", "-")


class _Links(HTMLParser):
    """The links of a page that have a ``rel`` (the pager's): rel → href."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: dict[str, str] = {}
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("rel"):
            self.found[str(values["rel"])] = str(values.get("href"))


def _table(answer: httpx.Response) -> tuple[Page, dict[str, str]]:
    """The page, and its pager's links."""
    assert answer.status_code == 200, answer.text
    return page(answer), _Links(answer.text).found


def test_flags_table__with_121_flags__shows_50_a_page_with_the_count__and_pages_keep_the_filter(
    world: FlagWorld,
) -> None:
    _many(world, 120, tags=["bench"])
    world.flag("untagged")
    browser = world.signed_in("vic", "viewer")

    first, links = _table(browser.get(PAGES, params={"tag": "bench"}))

    # Before: all 120 rows on one page, and no pager.
    assert _keys(first) == [f"flag-{i:03}" for i in range(50)]
    assert _summary(first) == "1-50 of 120 flags matching the filter, page 1 of 3."
    assert links == {"next": f"{PAGES}?tag=bench&page=2"}

    second, links = _table(browser.get(links["next"]))
    assert _keys(second) == [f"flag-{i:03}" for i in range(50, 100)]
    assert links == {"prev": f"{PAGES}?tag=bench", "next": f"{PAGES}?tag=bench&page=3"}

    last, links = _table(browser.get(links["next"]))
    assert _keys(last) == [f"flag-{i:03}" for i in range(100, 120)]
    assert _summary(last) == "101-120 of 120 flags matching the filter, page 3 of 3."
    assert links == {"prev": f"{PAGES}?tag=bench&page=2"}

    everything, _ = _table(browser.get(PAGES))
    assert _summary(everything) == "1-50 of 121 flags, page 1 of 3."


def test_flags_table__when_the_page_is_past_the_last__shows_the_last_page(
    world: FlagWorld,
) -> None:
    _many(world, 60)

    table, links = _table(world.signed_in("vic", "viewer").get(PAGES, params={"page": "9"}))

    assert _keys(table) == [f"flag-{i:03}" for i in range(50, 60)]
    assert links == {"prev": PAGES}


def test_flags_table__searches_a_part_of_the_key_in_any_case(world: FlagWorld) -> None:
    world.flag("newCheckout")
    world.flag("checkout-v2")
    world.flag("search")
    browser = world.signed_in("vic", "viewer")

    found, _ = _table(browser.get(PAGES, params={"q": "CHECKOUT"}))
    wildcard, _ = _table(browser.get(PAGES, params={"q": "%"}))

    assert _keys(found) == ["checkout-v2", "newCheckout"]
    assert found.by_id["filter-q"].attrs["value"] == "CHECKOUT"
    assert _keys(wildcard) == []


def test_flags_table__filters_kill_switched_and_rolling_flags__paged(world: FlagWorld) -> None:
    _many(world, 55)
    for key in ("flag-003", "flag-052"):
        ok(world.admin.post(f"{API}/flags/{key}/environments/dev/enable"))
        ok(world.admin.post(f"{API}/flags/{key}/environments/dev/kill", json={"reason": "x"}))
    for i in range(55):
        if i not in (3, 52):
            path = f"{API}/flags/flag-{i:03}/environments/staging/rollout"
            ok(world.admin.post(path, json={"percentage": 25}))
    browser = world.signed_in("vic", "viewer")

    killed, _ = _table(browser.get(PAGES, params={"state": "killed"}))
    rolling, links = _table(browser.get(PAGES, params={"state": "rolling", "page": "2"}))

    assert _keys(killed) == ["flag-003", "flag-052"]
    assert _summary(killed) == "1-2 of 2 flags matching the filter."
    assert _keys(rolling) == ["flag-051", "flag-053", "flag-054"]
    assert _summary(rolling) == "51-53 of 53 flags matching the filter, page 2 of 2."
    assert links == {"prev": f"{PAGES}?state=rolling"}


def test_flags_table__when_the_page_is_not_a_number__answers_422_beside_it(
    world: FlagWorld,
) -> None:
    world.flag("checkout")

    answer = world.signed_in("vic", "viewer").get(PAGES, params={"page": "two"})

    assert answer.status_code == 422
    assert "not a page number: 'two'" in page(answer).text_of("error-page")

"""The audit log page, through a real server and the real sign-in, on SQLite and
PostgreSQL: filters by who, object, kind and time kept in the URL; newest first, paged
by id; a filter it cannot use is 422 beside its field; the hash chain's badge for a
global admin, checked when its button asks (intact, and broken once a record is edited
in the database), and "not shown" for everyone else."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from tests.integration.web.release_pages import API, PROJECT, World, read, world

from shipwise.server.web.audit_page import PAGE_SIZE

AUDIT = f"/projects/{PROJECT}/audit"


@pytest.fixture
def team(database_url: str, tmp_path: Path) -> Iterator[World]:
    with world(database_url, tmp_path) as made:
        made.tokens["admin"] = made.server.admin_token
        yield made


def ids_on(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-record="(\d+)">', html)]


def flags_made_by(team: World, person: str, *keys: str) -> None:
    with team.api_as(person) as client:
        for key in keys:
            response = client.post(f"{API}/flags", json={"key": key})
            assert response.status_code == 201, response.text


def api_records(team: World, **params: str) -> list[int]:
    response = team.admin.get("/api/v1/audit", params={"project": PROJECT, **params})
    assert response.status_code == 200, response.text
    return [int(r["id"]) for r in response.json()["records"]]


def test_audit_page__filters_by_who_object_kind_and_time__as_the_api_and_keeps_them_in_the_form(
    team: World,
) -> None:
    flags_made_by(team, "alice", "checkout", "search")
    flags_made_by(team, "bob", "banner")
    with team.api_as("bob") as bob:
        kill = {"reason": "error spike"}
        assert bob.post(f"{API}/flags/checkout/environments/dev/kill", json=kill).is_success

    with team.person("vic") as vic:
        everything = vic.get(AUDIT)
        by_alice = vic.get(AUDIT, params={"actor": "ALICE"})
        one_flag = vic.get(AUDIT, params={"target_type": "flag", "target_key": "checkout"})
        kills = vic.get(AUDIT, params={"action": "flag.kill"})
        flag_family = vic.get(AUDIT, params={"action": "flag.*", "actor": "bob"})
        last_hour = vic.get(AUDIT, params={"since": "1h"})
        before_an_hour_ago = vic.get(AUDIT, params={"until": "1h"})
        from_the_future = vic.get(AUDIT, params={"since": "2099-01-01"})
        since_iso_time = vic.get(AUDIT, params={"since": "2000-01-01T09:30"})

    for response in (everything, by_alice, one_flag, kills, last_hour, from_the_future):
        assert response.status_code == 200, response.text
    assert ids_on(everything.text) == api_records(team)
    assert ids_on(everything.text) == sorted(ids_on(everything.text), reverse=True)
    assert ids_on(by_alice.text) == api_records(team, actor="alice")
    assert len(ids_on(by_alice.text)) == 2
    assert ids_on(one_flag.text) == api_records(team, target_type="flag", target_key="checkout")
    assert len(ids_on(one_flag.text)) == 2  # created, killed
    assert ids_on(kills.text) == api_records(team, action="flag.kill")
    assert "error spike" in read(kills).text
    assert ids_on(flag_family.text) == api_records(team, action="flag.*", actor="bob")
    assert len(ids_on(flag_family.text)) == 2  # bob's banner, bob's kill
    assert ids_on(last_hour.text) == ids_on(everything.text)
    assert ids_on(before_an_hour_ago.text) == []
    assert ids_on(from_the_future.text) == []
    assert ids_on(since_iso_time.text) == ids_on(everything.text)
    # The filter stays in the form the page shows, so the next change starts from it.
    form = read(one_flag).form("/audit")
    assert form.fields["target_type"] == "flag"
    assert form.fields["target_key"] == "checkout"


def test_audit_page__pages_newest_first_by_id__older_link_keeps_the_filter(team: World) -> None:
    keys = [f"flag-{n:03}" for n in range(PAGE_SIZE + 5)]
    flags_made_by(team, "alice", *keys)
    with team.person("alice") as alice:  # signing in is audited too: read after it
        expected = api_records(team, actor="alice", limit=str(PAGE_SIZE + 10))
        assert len(expected) > PAGE_SIZE
        first = alice.get(AUDIT, params={"actor": "alice"})
        older = re.search(r'href="([^"]+)" rel="next"', first.text)
        assert older is not None, "an Older link on a full page"
        link = older.group(1).replace("&amp;", "&")
        second = alice.get(link)
        assert second.status_code == 200, second.text
        assert re.search(r'rel="next"', second.text) is None, "no Older link on the last page"

    assert parse_qs(urlsplit(link).query) == {
        "actor": ["alice"],
        "before_id": [str(expected[PAGE_SIZE - 1])],
    }
    assert ids_on(first.text) == expected[:PAGE_SIZE]
    assert ids_on(second.text) == expected[PAGE_SIZE:]
    assert "Newest" in read(second).text


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"since": "last week"}, "since", "is not a duration back from now"),
        ({"until": "2026-13-45"}, "until", "is not a duration back from now"),
        ({"since": "1h", "until": "2d"}, "until", "must be after since"),
        ({"actor": "a\x00b"}, "actor", "control character"),
        ({"target_key": "k" * 201}, "target_key", "at most 200 characters"),
        ({"before_id": "-3"}, "before_id", "a whole number from 1"),
    ],
    ids=["words-for-since", "impossible-date", "until-before-since", "nul", "too-long", "bad-id"],
)
def test_audit_page__a_filter_it_cannot_use__is_422_with_the_message_by_the_field(
    team: World, params: dict[str, str], field: str, words: str
) -> None:
    with team.person("alice") as alice:
        response = alice.get(AUDIT, params=params)

    assert response.status_code == 422, response.text
    page = read(response)
    assert words in page.text
    assert ids_on(response.text) == []
    if field != "before_id":
        assert f'id="{field}"' in response.text
        assert f'aria-describedby="error-{field}"' in response.text


def test_audit_page__a_global_admin_sees_the_chain_verified__then_broken_after_an_edit(
    team: World, database_url: str
) -> None:
    flags_made_by(team, "alice", "checkout")
    total = api_records(team, limit="500")[0]  # every record so far is this project's or global

    with team.person("admin") as admin:
        intact = admin.get(AUDIT, params={"verify": "1"})  # the page's button
        assert 'data-chain="intact"' in intact.text
        assert "Hash chain verified" in read(intact).text
        engine = sa.create_engine(database_url)
        try:
            with engine.begin() as connection:
                connection.execute(
                    sa.text("UPDATE audit_log SET reason = 'rewritten' WHERE id = :id"),
                    {"id": total},
                )
        finally:
            engine.dispose()
        broken = admin.get(AUDIT, params={"verify": "1"})

    assert broken.status_code == 200, broken.text
    assert 'data-chain="broken"' in broken.text
    text = read(broken).text
    assert "Hash chain broken" in text
    assert f"record {total}:" in text
    verified = team.admin.get("/api/v1/audit/verify").json()
    assert [b["record_id"] for b in verified["breaks"]] == [total]  # the API's own check


def test_audit_page__a_global_admins_view__checks_the_chain_only_when_the_button_asks(
    team: World,
) -> None:
    flags_made_by(team, "alice", "checkout")
    with team.person("admin") as admin:
        viewed = admin.get(AUDIT, params={"target_key": "checkout"})
        form = read(viewed).forms[1]  # after the header's sign-out: the badge's button
        checked = admin.get(form.action, params=form.fields)

    assert viewed.status_code == 200, viewed.text
    assert 'data-chain="not-checked"' in viewed.text
    assert "Hash chain verified" not in viewed.text
    assert "Check the hash chain" in read(viewed).text
    assert (form.method, form.fields) == ("get", {"target_key": "checkout", "verify": "1"})
    assert 'data-chain="intact"' in checked.text
    assert 'value="checkout"' in checked.text  # the filter kept


def test_audit_page__anyone_else_reads_that_the_chain_check_is_not_shown_to_their_role(
    team: World,
) -> None:
    with team.person("alice") as alice:
        response = alice.get(AUDIT)

    assert response.status_code == 200
    assert 'data-chain="not-shown"' in response.text
    assert "not shown to your role" in read(response).text
    assert "Hash chain verified" not in response.text


def test_audit_page__every_projects_log__is_a_global_admins_and_403_for_a_member(
    team: World,
) -> None:
    with team.person("admin") as admin:
        every = admin.get("/audit")
        records = team.admin.get("/api/v1/audit").json()["records"]
    with team.person("vic") as vic:
        refused = vic.get("/audit")

    assert every.status_code == 200, every.text
    assert "Audit log of every project" in read(every).text
    assert ids_on(every.text) == [int(r["id"]) for r in records][:PAGE_SIZE]
    assert refused.status_code == 403
    assert "global admin" in refused.text

"""Release keys through the API on each database: an automatic key never collides with
one given by hand, and of twenty people creating the same key at once exactly one gets
it; the others get a 409 naming the key, and nothing of theirs is written."""

from __future__ import annotations

import threading

from tests.support.server import RunningServer

RELEASES = "/api/v1/projects/default/releases"


def test_create_release__after_a_manual_key_past_the_count__the_next_automatic_one_succeeds(
    server: RunningServer,
) -> None:
    with server.admin() as admin:
        first = admin.post(RELEASES, json={"title": "First", "kind": "feature"})
        manual = admin.post(RELEASES, json={"title": "By hand", "kind": "feature", "key": "rel-3"})
        # Before: two releases, so "count + 1" was 3 again: a 409 for a key nobody chose.
        automatic = admin.post(RELEASES, json={"title": "Next", "kind": "feature"})

    assert [first.status_code, manual.status_code, automatic.status_code] == [201, 201, 201]
    assert [first.json()["key"], automatic.json()["key"]] == ["rel-1", "rel-4"]


def test_create_release__twenty_concurrent_creators_of_one_key__one_201_and_nineteen_409s(
    server: RunningServer,
) -> None:
    # Each checks that the key is free before inserting; the database decides the race.
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    messages: list[str] = []

    def create(n: int) -> None:
        with server.admin() as client:
            barrier.wait()
            response = client.post(
                RELEASES, json={"title": f"Checkout {n}", "kind": "feature", "key": "checkout"}
            )
            statuses.append(response.status_code)
            if response.status_code == 409:
                messages.append(response.json()["error"]["message"])

    creators = [threading.Thread(target=create, args=(n,)) for n in range(20)]
    for creator in creators:
        creator.start()
    for creator in creators:
        creator.join(timeout=60)

    assert sorted(statuses) == [201] + [409] * 19
    assert all("checkout" in message for message in messages), messages
    with server.admin() as admin:
        assert [r["key"] for r in admin.get(RELEASES).json()["releases"]] == ["checkout"]
        records = admin.get("/api/v1/audit", params={"target_type": "release"}).json()["records"]
    assert [r["action"] for r in records] == ["release.create"]


def test_create_release__ten_concurrent_automatic_keys__all_201_with_ten_distinct_numbers(
    server: RunningServer,
) -> None:
    # Two writers can read the same highest number at once; the unique key refuses the
    # second, which takes the next number instead of failing a command nobody got wrong.
    barrier = threading.Barrier(10)
    answers: list[tuple[int, str]] = []

    def create(n: int) -> None:
        with server.admin() as client:
            barrier.wait()
            response = client.post(RELEASES, json={"title": f"Change {n}", "kind": "feature"})
            answers.append((response.status_code, response.json().get("key", "")))

    creators = [threading.Thread(target=create, args=(n,)) for n in range(10)]
    for creator in creators:
        creator.start()
    for creator in creators:
        creator.join(timeout=60)

    assert [status for status, _ in answers] == [201] * 10, answers
    assert sorted(key for _, key in answers) == sorted(f"rel-{n}" for n in range(1, 11))

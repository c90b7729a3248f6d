"""``Client.track``: an event is credited to the user's arm ("on"/"off") of every enabled
flag with a percentage rollout, without counting an exposure; totals per (flag, arm,
event) add up exactly, also across threads; bad input is dropped with one warning, and
``track`` never raises."""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

import mmh3
import pytest

from shipwise import Client, Snapshot
from shipwise.sdk import _events
from shipwise.sdk._events import MAX_FLAGS_PER_EVENT, DropLog, EventBook

ROLLOUT_PERCENT = 30


def _bucket(group_id: str, user_id: str) -> int:
    """The documented rollout bucket, computed independently of Shipwise."""
    return int(mmh3.hash(f"{group_id}:{user_id}", 0, signed=False)) % 100 + 1


def _user(group_id: str, *, included: bool) -> str:
    """A userId inside (or outside) a ``ROLLOUT_PERCENT`` rollout of ``group_id``."""
    for n in range(1000):
        user = f"user-{n}"
        if (_bucket(group_id, user) <= ROLLOUT_PERCENT) is included:
            return user
    raise AssertionError("no such user in the first 1000")


def _rollout(key: str, *, enabled: bool = True, **strategy: Any) -> dict[str, Any]:
    parameters = {"rollout": str(ROLLOUT_PERCENT), "stickiness": "userId", "groupId": key}
    return {
        "key": key,
        "enabled": enabled,
        "strategies": [{"name": "flexibleRollout", "parameters": parameters, **strategy}],
    }


def _document(*flags: dict[str, Any]) -> dict[str, Any]:
    return {"format": "shipwise-snapshot", "version": 1, "flags": list(flags)}


def _line(flag: str, arm: str, event: str, count: int, values: list[float]) -> dict[str, Any]:
    return {
        "flag": flag,
        "arm": arm,
        "event": event,
        "count": count,
        "valued": len(values),
        "sum": sum(values),
        "sumSq": sum(v * v for v in values),
    }


@pytest.fixture
def client() -> Client:
    return Client.offline(_document(_rollout("checkout")))


IN, OUT = _user("checkout", included=True), _user("checkout", included=False)


# -- attribution ------------------------------------------------------------------------


def test_track__users_inside_and_outside_the_rollout__are_credited_to_on_and_off(
    client: Client,
) -> None:
    # Given one user inside the 30 % rollout and one outside it
    assert client.snapshot.is_enabled("checkout", {"userId": IN}) is True
    assert client.snapshot.is_enabled("checkout", {"userId": OUT}) is False
    # When each makes a purchase
    client.track("purchase", {"userId": IN})
    client.track("purchase", {"userId": OUT})
    # Then each purchase is credited to that user's arm
    assert client.tracked_events() == [
        _line("checkout", "off", "purchase", 1, []),
        _line("checkout", "on", "purchase", 1, []),
    ]


def test_track__counts_no_exposure(client: Client) -> None:
    client.track("purchase", {"userId": IN}, 12.0)
    client.track("purchase", {"userId": OUT})
    assert client.exposures() == {}
    assert client.tracked_events() != []


def test_track__only_enabled_flags_with_a_percentage_rollout__are_credited() -> None:
    # Given flags of every shape, two of them rolling out by percentage
    gradual = {
        "key": "gradual",
        "enabled": True,
        "strategies": [
            {"name": "gradualRolloutUserId", "parameters": {"percentage": "50"}},
        ],
    }
    mixed = {
        "key": "mixed",
        "enabled": True,
        "strategies": [
            {"name": "userWithId", "parameters": {"userIds": "someone"}},
            {"name": "flexibleRollout", "parameters": {"rollout": "100"}},
        ],
    }
    client = Client.offline(
        _document(
            gradual,
            mixed,
            {"key": "everyone", "enabled": True},
            {"key": "default", "enabled": True, "strategies": [{"name": "default"}]},
            _rollout("switched-off", enabled=False),
            _rollout("rollout-disabled", disabled=True),
            {
                "key": "broken-percentage",
                "enabled": True,
                "strategies": [{"name": "flexibleRollout", "parameters": {"rollout": "lots"}}],
            },
        )
    )
    # When an event is tracked
    client.track("error", {"userId": "u1"})
    # Then only the percentage rollouts of enabled flags are credited
    assert {line["flag"] for line in client.tracked_events()} == {"gradual", "mixed"}


def test_track__rollout_behind_a_constraint__credits_off_to_users_it_excludes() -> None:
    client = Client.offline(
        _document(
            _rollout(
                "checkout",
                constraints=[{"contextName": "plan", "operator": "IN", "values": ["pro"]}],
            )
        )
    )
    client.track("purchase", {"userId": IN, "properties": {"plan": "free"}})
    client.track("purchase", {"userId": IN, "properties": {"plan": "pro"}})
    arms = [(line["arm"], line["count"]) for line in client.tracked_events()]
    assert arms == [("off", 1), ("on", 1)]


def test_track__flag_depending_on_a_flag_that_is_off__credits_off() -> None:
    child = _rollout("child")
    child["dependencies"] = [{"feature": "parent"}]
    client = Client.offline(_document(child, {"key": "parent", "enabled": False}))
    client.track("purchase", {"userId": _user("child", included=True)})
    assert [line["arm"] for line in client.tracked_events()] == ["off"]


def test_track__no_flag_in_a_rollout__keeps_nothing() -> None:
    client = Client.offline(_document({"key": "everyone", "enabled": True}))
    client.track("purchase", {"userId": IN}, 3.0)
    assert client.tracked_events() == []


def test_track__new_snapshot__credits_its_rollouts_from_then_on(client: Client) -> None:
    # Given a client whose snapshot gains a rollout (as the sync thread installs it)
    client.track("purchase", {"userId": IN})
    client._replace(Snapshot.load(_document(_rollout("checkout"), _rollout("search"))))
    # When the next event is tracked
    client.track("purchase", {"userId": IN})
    # Then the new flag is credited with it, and only with it
    counts = {(line["flag"], line["arm"]): line["count"] for line in client.tracked_events()}
    assert counts[("checkout", "on")] == 2
    assert sum(n for (flag, _), n in counts.items() if flag == "search") == 1


def test_track__more_rollouts_than_the_cap__credits_the_first_by_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given more flags in a rollout than one event is credited to
    names = [f"flag-{n:03d}" for n in range(MAX_FLAGS_PER_EVENT + 6)]
    with caplog.at_level(logging.WARNING, logger="shipwise.sdk"):
        client = Client.offline(_document(*(_rollout(name) for name in reversed(names))))
    # When an event is tracked
    client.track("error", {"userId": "u1"})
    # Then it is credited to the first 64 by name, and the client said so when it loaded
    credited = sorted({line["flag"] for line in client.tracked_events()})
    assert credited == names[:MAX_FLAGS_PER_EVENT]
    assert [r.getMessage() for r in caplog.records] == [
        "shipwise: 70 enabled flags have percentage rollouts; track() credits events to the "
        "first 64 by name only"
    ]


# -- aggregation ------------------------------------------------------------------------


def test_track__repeated_events__add_up_per_flag_arm_and_event(client: Client) -> None:
    # Given calls with and without values, for two events and both arms
    client.track("latency", {"userId": IN}, 120)
    client.track("latency", {"userId": IN}, 80.5)
    client.track("latency", {"userId": IN})
    client.track("latency", {"userId": OUT}, -2.5)
    client.track("error", {"userId": IN})
    client.track("error", {"userId": IN})
    # Then each (flag, arm, event) line has its calls, valued calls, sum and sum of squares
    assert client.tracked_events() == [
        _line("checkout", "off", "latency", 1, [-2.5]),
        _line("checkout", "on", "error", 2, []),
        _line("checkout", "on", "latency", 3, [120.0, 80.5]),
    ]


def test_track__from_many_threads__loses_no_count(client: Client) -> None:
    threads, calls = 8, 2000
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        start.wait()
        for i in range(calls):
            client.track("request", {"userId": f"t{n}-{i}"}, 1.0)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    lines = client.tracked_events()
    assert sum(line["count"] for line in lines) == threads * calls
    assert sum(line["sum"] for line in lines) == threads * calls
    assert {line["arm"] for line in lines} == {"on", "off"}


def test_event_book__lines_put_back_after_a_failed_send__add_to_what_came_since() -> None:
    book = EventBook()
    book.add("error", [("checkout", "on")], 2.0)
    drained = book.drain()
    assert book.read() == []
    book.add("error", [("checkout", "on")], 3.0)
    book.restore(drained)
    assert book.read() == [_line("checkout", "on", "error", 2, [2.0, 3.0])]


def test_event_book__full__starts_no_new_line_but_adds_to_existing_ones(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_events, "MAX_PENDING", 2)
    book = EventBook()
    book.add("a", [("f", "on"), ("f", "off")], None)
    with caplog.at_level(logging.WARNING, logger="shipwise.sdk"):
        book.add("b", [("f", "on")], None)
        book.add("a", [("f", "on")], None)
    assert [(line["event"], line["arm"], line["count"]) for line in book.read()] == [
        ("a", "off", 1),
        ("a", "on", 2),
    ]
    assert len(caplog.records) == 1


# -- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "value"),
    [
        pytest.param("", None, id="empty name"),
        pytest.param("   ", None, id="blank name"),
        pytest.param("x" * 201, None, id="name of 201 characters"),
        pytest.param(None, None, id="name None"),
        pytest.param(42, None, id="name an int"),
        pytest.param("latency", math.nan, id="value NaN"),
        pytest.param("latency", math.inf, id="value infinity"),
        pytest.param("latency", -math.inf, id="value minus infinity"),
        pytest.param("latency", 1e200, id="value whose square overflows"),
        pytest.param("latency", 10**400, id="int beyond float"),
        pytest.param("latency", "12", id="value a string"),
        pytest.param("latency", True, id="value a bool"),
    ],
)
def test_track__bad_input__is_dropped_with_a_warning_and_never_raises(
    client: Client, caplog: pytest.LogCaptureFixture, event: Any, value: Any
) -> None:
    with caplog.at_level(logging.WARNING, logger="shipwise.sdk"):
        client.track(event, {"userId": IN}, value)
    assert client.tracked_events() == []
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith("shipwise: track() dropped an event: ")


@pytest.mark.parametrize(
    ("event", "value"),
    [
        pytest.param("x" * 200, None, id="name of 200 characters"),
        pytest.param("latency", 0, id="value zero"),
        pytest.param("latency", -1, id="negative int"),
        pytest.param("latency", 1e150, id="large but squarable"),
    ],
)
def test_track__input_at_the_limits__is_counted(client: Client, event: str, value: Any) -> None:
    client.track(event, {"userId": IN}, value)
    assert [line["count"] for line in client.tracked_events()] == [1]


def test_track__bad_input_on_every_call__warns_once(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shipwise.sdk"):
        for _ in range(100):
            client.track("", {"userId": IN})
    assert len(caplog.records) == 1


def test_drop_log__after_the_quiet_interval__warns_again_with_the_count_it_kept_quiet(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    drops = DropLog(every=60.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="shipwise.sdk"):
        drops.dropped("first")
        for _ in range(5):
            drops.dropped("again")
        now[0] += 61
        drops.dropped("later")
    assert [r.getMessage() for r in caplog.records] == [
        "shipwise: track() dropped an event: first",
        "shipwise: track() dropped an event: later (5 more dropped since the last warning)",
    ]


@pytest.mark.parametrize(
    "context",
    [
        pytest.param(None, id="None"),
        pytest.param({}, id="empty"),
        pytest.param(["userId", "42"], id="a list"),
        pytest.param("userId=42", id="a string"),
        pytest.param({"userId": "42", "properties": "plan=pro"}, id="properties a string"),
    ],
)
def test_track__odd_context__never_raises(client: Client, context: Any) -> None:
    client.track("purchase", context, 1.0)
    assert sum(line["count"] for line in client.tracked_events()) <= 1


# -- offline ----------------------------------------------------------------------------


def test_flush__offline__sends_nothing_and_keeps_the_events(client: Client) -> None:
    client.track("purchase", {"userId": IN})
    assert client.flush() is False
    client.close()
    client.track("purchase", {"userId": IN})
    assert [line["count"] for line in client.tracked_events()] == [2]

"""``CloudLoggingSource`` counting as it goes: each check asks Cloud Logging only for the
entries after the moment its tally is complete up to, keeps those older than two minutes
(``SETTLE``) and reads the rest again next time, so entries Logging ingests late are
counted; a window with more entries than one check may read is caught up over several
checks, each entry counted once (against ``tests/support/cloud_logging_standin.py``)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.cloud_logging_standin import PROJECT, CloudLoggingStandin, cloud_logging_standin

from shipwise.domain.guardrails import ArmCounts, Reading
from shipwise.server.metrics.cloud_logging import CloudLoggingSource
from shipwise.server.ports import MetricDefinition, MetricUnavailable, MetricWindow

NINE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FLAG = "new-checkout"
# 25 entries, oldest first; three share 9:09 (the first check's cut falls among them) and
# three share 9:16 (the second check's does)
MINUTES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 10, 11, 12, 13, 14, 15, 16, 16, 16, 17, 18, 19, 20]


@pytest.fixture
def logging_api() -> Iterator[CloudLoggingStandin]:
    with cloud_logging_standin() as standin:
        yield standin


@pytest.fixture
def settings(tmp_path: Path, logging_api: CloudLoggingStandin) -> dict[str, Any]:
    key = tmp_path / "gcp-key.json"
    key.write_text(json.dumps(logging_api.key()))
    return {
        "project": PROJECT,
        "filter": 'severity>=ERROR labels.flag="{flag}"',
        "credentials_file": str(key),
        "url": logging_api.url,
    }


def _window(end: int, start: int = 0, flag: str = FLAG) -> MetricWindow:
    """A check's window, from ``start`` to ``end`` minutes after nine."""
    return MetricWindow(
        "shop", "production", flag, NINE + timedelta(minutes=start), NINE + timedelta(minutes=end)
    )


def _read(
    source: CloudLoggingSource,
    settings: dict[str, Any],
    window: MetricWindow,
    name: str = "function-errors",
) -> Reading | ArmCounts:
    return source.read(MetricDefinition(1, name, "cloud-logging", settings), window)


def _add(logging_api: CloudLoggingStandin, minute: float, flag: str = FLAG, **more: Any) -> None:
    logging_api.add(NINE + timedelta(minutes=minute), labels={"flag": flag}, **more)


def _starts(logging_api: CloudLoggingStandin) -> list[str]:
    """Where each first page's filter starts, as the filter says it."""
    bodies = [json.loads(request.body) for request in logging_api.list_requests]
    return [
        body["filter"].split('timestamp>="')[1].split('"')[0]
        for body in bodies
        if "pageToken" not in body
    ]


def test_read__a_second_check__asks_only_for_entries_after_the_first_checks_settled_part(
    logging_api: CloudLoggingStandin, settings: dict[str, Any]
) -> None:
    source = CloudLoggingSource()
    for minute in (1, 10, 20, 29):
        _add(logging_api, minute)
    assert _read(source, settings, _window(30)) == Reading(4.0)

    # Given two new errors
    _add(logging_api, 40)
    _add(logging_api, 50)

    reading = _read(source, settings, _window(60))

    # Then the second check asks from 9:28, two minutes before the first one's end (9:29's
    # entry had not settled, so it is read again) and counts each entry once
    assert reading == Reading(6.0)
    sent = json.loads(logging_api.list_requests[1].body)["filter"]
    assert sent == (
        f'(severity>=ERROR labels.flag="{FLAG}") AND timestamp>="2026-11-02T09:28:00Z" '
        'AND timestamp<"2026-11-02T10:00:00Z"'
    )
    assert logging_api.served == 4 + 3
    # And a check with the same end asks again for the two minutes that have not settled
    assert _read(source, settings, _window(60)) == Reading(6.0)
    assert _starts(logging_api)[-1] == "2026-11-02T09:58:00Z"
    # But one whose window ends where the tally has settled to asks nothing
    assert _read(source, settings, _window(58)) == Reading(6.0)
    assert len(logging_api.list_requests) == 3


def test_read__an_entry_logging_ingests_late__is_counted_by_the_next_check(
    logging_api: CloudLoggingStandin, settings: dict[str, Any]
) -> None:
    source = CloudLoggingSource()
    _add(logging_api, 10)
    assert _read(source, settings, _window(30)) == Reading(1.0)

    # Given an entry timestamped 9:29:30, half a minute before that check's end, that
    # Logging ingests only after it
    _add(logging_api, 29.5)

    reading = _read(source, settings, _window(35))

    assert reading == Reading(2.0)


@pytest.mark.parametrize("per_arm", [False, True], ids=["in-total", "per-arm"])
@pytest.mark.parametrize("cap", [(1000, 10), (3, 2)], ids=["uncapped", "capped"])
def test_read__entries_arriving_in_and_around_the_settling_time__are_each_counted_once(
    logging_api: CloudLoggingStandin,
    settings: dict[str, Any],
    per_arm: bool,
    cap: tuple[int, int],
) -> None:
    # Given a check every minute, and before each one entries timestamped from the check's
    # end back to 2.5 minutes before it (on the settled moment, on the previous one's, at
    # the same second as others), in either arm, so many that a capped source catches up
    if per_arm:
        settings["arm_field"] = "jsonPayload.flags.{flag}"
    source = CloudLoggingSource(page_size=cap[0], max_pages=cap[1])
    schedule = random.Random(15)
    logged: list[tuple[float, bool]] = []
    readings = 0
    unavailable: list[str] = []
    delays = [0.0, 1 / 60, 0.5, 1.0, 1.5, 2.0, 2.0, 2.5]
    for end in range(5, 60):
        news = 0 if end > 45 else schedule.randint(0, 4)  # then quiet, to catch up
        for _ in range(news):
            minute = max(0.0, end - schedule.choice(delays))
            arm = schedule.choice([True, False])
            logged.append((minute, arm))
            _add(logging_api, minute, payload={"flags": {FLAG: arm}})
        on = [arm for minute, arm in logged if minute < end]
        try:
            reading = _read(source, settings, _window(end))
        except MetricUnavailable as caught:
            unavailable.append(str(caught))
            continue
        readings += 1
        # Then every reading is what Logging holds for the window, no entry lost or twice
        if per_arm:
            assert reading == ArmCounts(float(on.count(True)), float(on.count(False)))
        else:
            assert reading == Reading(float(len(on)))
    assert readings > 10
    assert all("catching up" in message for message in unavailable)
    assert bool(unavailable) == (cap[0] == 3)
    assert reading == (ArmCounts(*map(float, _arms(logged))) if per_arm else Reading(len(logged)))


def _arms(logged: list[tuple[float, bool]]) -> tuple[int, int]:
    return sum(arm for _, arm in logged), sum(not arm for _, arm in logged)


def test_read__more_entries_than_a_check_reads__catches_up_and_counts_each_once(
    logging_api: CloudLoggingStandin, settings: dict[str, Any]
) -> None:
    for minute in MINUTES:
        _add(logging_api, minute)
    source = CloudLoggingSource(page_size=5, max_pages=2)

    # The first check reads ten, keeps the nine before 9:09 and leaves 9:09's for later
    with pytest.raises(MetricUnavailable) as first:
        _read(source, settings, _window(60))
    assert "catching up: 9 log entries counted since 2026-11-02T09:00:00Z, up to " in str(
        first.value
    )
    assert "2026-11-02T09:09:00Z" in str(first.value)

    # The second reads ten from 9:09, keeps the nine before 9:16
    with pytest.raises(MetricUnavailable, match=r"catching up: 18 log .* up to \S+T09:16:00Z"):
        _read(source, settings, _window(61))

    # The third reads the seven left from 9:16 and is caught up: all 25, none twice
    assert _read(source, settings, _window(62)) == Reading(25.0)
    assert _starts(logging_api) == [
        "2026-11-02T09:00:00Z",
        "2026-11-02T09:09:00Z",
        "2026-11-02T09:16:00Z",
    ]
    assert logging_api.served == 10 + 10 + 7
    assert len(logging_api.list_requests) == 2 + 2 + 2


def test_read__per_arm_beyond_what_a_check_reads__catches_up_and_counts_each_once(
    logging_api: CloudLoggingStandin, settings: dict[str, Any]
) -> None:
    arms: list[Any] = (["on", "off", "maybe", True, False] * 5)[: len(MINUTES)]
    for minute, arm in zip(MINUTES, arms, strict=True):
        _add(logging_api, minute, payload={"flags": {FLAG: arm}})
    settings["arm_field"] = "jsonPayload.flags.{flag}"
    source = CloudLoggingSource(page_size=5, max_pages=2)

    said = [
        r"catching up: 9 log entries \(4 with the feature, 3 without\)",
        r"catching up: 18 log entries \(7 with the feature, 7 without\)",
    ]
    for end, words in zip((60, 61), said, strict=True):
        with pytest.raises(MetricUnavailable, match=words):
            _read(source, settings, _window(end))
    counts = _read(source, settings, _window(62))

    assert counts == ArmCounts(with_feature=10.0, without=10.0)


def test_read__more_entries_with_one_timestamp_than_a_check_reads__says_so(
    logging_api: CloudLoggingStandin, settings: dict[str, Any]
) -> None:
    for _ in range(5):
        _add(logging_api, 1)
    _add(logging_api, 2)
    source = CloudLoggingSource(page_size=2, max_pages=2)
    with pytest.raises(MetricUnavailable, match=r"catching up: 0 log entries .* up to \S+09:01"):
        _read(source, settings, _window(60))

    # Then every later check says why there is no reading, rather than read forever
    for end in (61, 62):
        with pytest.raises(MetricUnavailable) as caught:
            _read(source, settings, _window(end))
        assert str(caught.value).startswith(
            "Cloud Logging 'function-errors': 4 or more log entries have the same timestamp, "
            "2026-11-02T09:01:00Z, more than a check reads (2 pages of 2)"
        )


def test_read__a_new_steps_window__counts_from_zero_at_its_start(
    logging_api: CloudLoggingStandin, settings: dict[str, Any]
) -> None:
    source = CloudLoggingSource()
    for minute in (10, 20, 40):
        _add(logging_api, minute)
    assert _read(source, settings, _window(60)) == Reading(3.0)

    # When the next step starts at 9:30
    reading = _read(source, settings, _window(65, start=30))

    assert reading == Reading(1.0)
    assert _starts(logging_api) == ["2026-11-02T09:00:00Z", "2026-11-02T09:30:00Z"]


def test_read__other_flags_metrics_and_settings__keep_tallies_of_their_own(
    logging_api: CloudLoggingStandin, settings: dict[str, Any]
) -> None:
    source = CloudLoggingSource()
    for minute in (1, 2, 3):
        _add(logging_api, minute)
    _add(logging_api, 4, flag="dark-mode")
    _add(logging_api, 5, severity="WARNING")
    warnings = settings | {"filter": 'severity>=WARNING labels.flag="{flag}"'}
    assert _read(source, settings, _window(30)) == Reading(3.0)

    # Then another flag, another metric and other settings each count from 9:00
    assert _read(source, settings, _window(40, flag="dark-mode")) == Reading(1.0)
    assert _read(source, settings, _window(40), name="checkout-errors") == Reading(3.0)
    assert _read(source, warnings, _window(40)) == Reading(4.0)
    # And the first tally goes on from where it was, unchanged by them
    assert _read(source, settings, _window(40)) == Reading(3.0)
    assert _starts(logging_api) == ["2026-11-02T09:00:00Z"] * 4 + ["2026-11-02T09:28:00Z"]


def test_read__a_tally_no_check_used_for_a_day__is_dropped_and_read_again(
    logging_api: CloudLoggingStandin, settings: dict[str, Any]
) -> None:
    source = CloudLoggingSource()
    _add(logging_api, 1)
    assert _read(source, settings, _window(30)) == Reading(1.0)
    day_later = 30 + 24 * 60 + 1
    _read(source, settings, _window(day_later, flag="dark-mode"))  # another check, a day on

    assert _read(source, settings, _window(day_later)) == Reading(1.0)

    assert _starts(logging_api) == ["2026-11-02T09:00:00Z"] * 3

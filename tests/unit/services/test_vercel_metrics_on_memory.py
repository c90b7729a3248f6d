"""The ``vercel`` metric source on the memory store: the step's window of drained
records becomes one number (a percentile, a 5xx share, an event count) with the number
of records it rests on; an empty window is no data, never healthy; settings are checked
field by field, and the catalog refuses a bad definition naming the setting."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.unit.services.world import SteppingClock

from shipwise.domain.guardrails import Direction, Guardrail, Reading, Threshold, Verdict
from shipwise.domain.verdicts import judge
from shipwise.server.bootstrap import wire_services
from shipwise.server.notify.log import LogNotifier
from shipwise.server.ports import MetricDefinition, MetricWindow
from shipwise.server.ports.memory import MemoryStore
from shipwise.server.ports.vercel import EVENT, REQUEST, TRACE_SPAN, VITAL, DrainRecord
from shipwise.server.services.errors import Invalid
from shipwise.server.services.principal import SYSTEM
from shipwise.server.services.vercel_metrics import read_vercel, vercel_problems
from shipwise.server.storage.bus import LocalBus

STEP = datetime(2026, 3, 2, 9, tzinfo=UTC)  # the step began
NOW = STEP + timedelta(hours=6)
PROJECT_ID = 1
WINDOW = MetricWindow("shop", "production", "checkout", STEP, NOW)


def vital(minutes: int, name: str, value: float, **more: Any) -> DrainRecord:
    fields = {"route": "/", "deployment": "dpl_new", "environment": "production"} | more
    return DrainRecord(VITAL, STEP + timedelta(minutes=minutes), name, value, **fields)


def request(minutes: int, status: int, duration: float = 120.0) -> DrainRecord:
    at = STEP + timedelta(minutes=minutes)
    return DrainRecord(
        REQUEST, at, "request", duration, status, "/api/cart", "dpl_new", "production"
    )


def read(records: list[DrainRecord], **settings: Any) -> Reading:
    store = MemoryStore(SteppingClock(NOW))
    with store.transaction() as tx:
        tx.add_drain_records(PROJECT_ID, records, NOW)
    definition = MetricDefinition(PROJECT_ID, "m", "vercel", settings)
    with store.read() as tx:
        observation = read_vercel(tx, PROJECT_ID, definition, WINDOW)
    assert isinstance(observation, Reading)
    return observation


def test_read__lcp__is_the_p75_of_the_windows_values_by_nearest_rank() -> None:
    values = [1800, 2100, 2400, 3100, 3600, 1200, 2000, 2600]  # sorted: 6th of 8 is 2600
    records = [vital(i, "LCP", v) for i, v in enumerate(values)]
    records += [vital(i, "INP", 900) for i in range(5)]  # another vital: not counted
    assert read(records, measure="lcp") == Reading(2600.0, 8.0)
    assert read(records, measure="lcp", quantile=0.5) == Reading(2100.0, 8.0)


def test_read__records_outside_the_window_route_or_environment__are_left_out() -> None:
    records = [
        vital(10, "LCP", 2000),
        vital(-1, "LCP", 9000),  # before the step began
        vital(6 * 60 + 1, "LCP", 9000),  # after the check
        vital(20, "LCP", 9000, environment="preview"),
        vital(30, "LCP", 4000, route="/checkout"),
    ]
    assert read(records, measure="lcp") == Reading(4000.0, 2.0)
    assert read(records, measure="lcp", route="/checkout") == Reading(4000.0, 1.0)
    assert read(records, measure="lcp", route="/") == Reading(2000.0, 1.0)
    assert read(records, measure="lcp", environment="preview") == Reading(9000.0, 1.0)


def test_read__5xx_share__is_server_errors_over_requests() -> None:
    records = [request(i, 200) for i in range(36)] + [request(40, 503), request(41, 500)]
    records += [request(42, 404), request(43, 429)]  # client errors are not the server's
    assert read(records, measure="5xx-share") == Reading(2 / 40, 40.0)


def test_read__request_duration__is_the_p95_by_default() -> None:
    records = [
        replace(request(i, 200, duration=float(10 * (i + 1))), name=TRACE_SPAN)  # traced
        for i in range(20)
    ]
    assert read(records, measure="request-duration") == Reading(190.0, 20.0)


def test_read__event__counts_that_custom_event_only() -> None:
    at = STEP + timedelta(minutes=5)
    records = [DrainRecord(EVENT, at, "signup", environment="production")] * 3
    records += [DrainRecord(EVENT, at, "checkout", environment="production")]
    assert read(records, measure="event", event="signup") == Reading(3.0, 3.0)


@pytest.mark.parametrize(
    "settings",
    [{"measure": "lcp"}, {"measure": "5xx-share"}, {"measure": "event", "event": "signup"}],
    ids=["percentile", "share", "count"],
)
def test_read__an_empty_window__is_no_data_and_judged_inconclusive(
    settings: dict[str, Any],
) -> None:
    reading = read([vital(-5, "LCP", 1000)], **settings)
    assert reading.value is None
    guardrail = Guardrail("m", Direction.HIGHER_IS_WORSE, Threshold(2500))
    assert judge(guardrail, reading, alpha=0.05).verdict is Verdict.INCONCLUSIVE


def test_read__a_regressed_p75__is_judged_naming_the_value_and_the_limit() -> None:
    records = [vital(i, "LCP", 3400) for i in range(30)] + [vital(40, "LCP", 1000)]
    guardrail = Guardrail("lcp-p75", Direction.HIGHER_IS_WORSE, Threshold(2500))
    judgement = judge(guardrail, read(records, measure="lcp"), alpha=0.05)
    assert judgement.verdict is Verdict.REGRESSED
    assert judgement.summary == "lcp-p75 3,400 on 31 units, above the limit of 2,500"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({}, "settings.measure"),
        ({"measure": "fid"}, "settings.measure"),
        ({"measure": "lcp", "quantile": 1}, "settings.quantile"),
        ({"measure": "lcp", "quantile": "p75"}, "settings.quantile"),
        ({"measure": "lcp", "quantile": True}, "settings.quantile"),
        ({"measure": "5xx-share", "quantile": 0.5}, "settings.quantile"),
        ({"measure": "event"}, "settings.event"),
        ({"measure": "event", "event": "   "}, "settings.event"),
        ({"measure": "lcp", "event": "signup"}, "settings.event"),
        ({"measure": "lcp", "route": ""}, "settings.route"),
        ({"measure": "lcp", "route": "/" + "x" * 400}, "settings.route"),
        ({"measure": "lcp", "environment": 3}, "settings.environment"),
        ({"measure": "lcp", "vital": "LCP"}, "settings.vital"),
        ({"measure": "lcp", "compare": "arms"}, "settings.compare"),
        ({"measure": "event", "event": "signup", "compare": "deploys"}, "settings.compare"),
        ({"measure": "lcp", "quantile": 0.9, "compare": "deploys"}, "settings.quantile"),
    ],
    ids=[
        "no-measure",
        "unknown-measure",
        "quantile-1",
        "quantile-text",
        "quantile-bool",
        "quantile-on-a-share",
        "event-missing",
        "event-blank",
        "event-on-a-vital",
        "route-blank",
        "route-too-long",
        "environment-number",
        "unknown-setting",
        "compare-not-deploys",
        "compare-events",
        "compare-a-percentile",
    ],
)
def test_problems__name_the_setting_at_fault(settings: dict[str, Any], field: str) -> None:
    assert [f for f, _ in vercel_problems(settings)] == [field]


def test_problems__a_good_definition__has_none() -> None:
    assert vercel_problems({"measure": "inp", "quantile": 0.9, "route": "/blog/[slug]"}) == []
    assert vercel_problems({"measure": "event", "event": "signup", "environment": "preview"}) == []
    assert vercel_problems({"measure": "5xx-share", "compare": "deploys"}) == []
    assert vercel_problems({"measure": "request-duration", "compare": "deploys"}) == []


def test_catalog__refuses_a_bad_vercel_definition_naming_it_and_saves_nothing() -> None:
    bus = LocalBus()
    store = MemoryStore(SteppingClock(NOW), bus)
    wired = wire_services(store, bus, {"log": LogNotifier()}, {})
    wired.projects.create(SYSTEM, "shop")
    catalog = wired.metric_catalog
    with pytest.raises(Invalid) as refused:
        catalog.define(SYSTEM, "shop", "lcp", "vercel", {"measure": "lcp", "quantile": 75})
    assert refused.value.field == "settings.quantile"
    assert catalog.all(SYSTEM, "shop") == []
    saved = catalog.define(SYSTEM, "shop", "lcp", "vercel", {"measure": "lcp"})
    assert saved.source == "vercel"
    assert catalog.reads("vercel")  # no adapter needed: the numbers are in the store

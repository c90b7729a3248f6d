"""`shipwise serve --demo`: the demo flags arrive in every environment on first start,
audited, and evaluate in a server key's snapshot as they do offline."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shipwise import Client
from shipwise.data import demo_snapshot
from shipwise.server.bootstrap import build
from shipwise.server.clocks import DEMO_SPEED, AcceleratedClock, persisted_clock
from shipwise.server.ports import AuditFilter
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import DEMO_CLOCK_FILE, Settings


def test_first_start_with_demo__loads_the_demo_flags_everywhere(tmp_path: Path) -> None:
    services = build(Settings(data_dir=tmp_path, admin_token="sw_api_demo-test", demo=True))
    try:
        keys = {view.flag.key for view in services.flags.all(SYSTEM, "default")}
        assert keys == {flag["key"] for flag in demo_snapshot()["flags"]}
        environment = services.projects.environment(SYSTEM, "default", "production")
        published = services.snapshots.current(environment.id)
        online, offline = Client(snapshot=published.engine), Client.offline(demo_snapshot())
        for index in range(200):
            context = {"userId": f"user-{index}", "properties": {"plan": "pro"}}
            for key in keys:
                assert online.is_enabled(key, context) == offline.is_enabled(key, context)
        assert services.audit.verify()[1] == []
    finally:
        services.close()


def test_restart_with_demo__does_not_load_it_again(tmp_path: Path) -> None:
    build(Settings(data_dir=tmp_path, admin_token="sw_api_demo-test", demo=True)).close()
    services = build(Settings(data_dir=tmp_path, admin_token="sw_api_demo-test", demo=True))
    try:
        assert services.first_admin_secret is None
        flags = services.flags.all(SYSTEM, "default")
        assert len(flags) == len(demo_snapshot()["flags"])
    finally:
        services.close()


def test_first_start_with_demo__records_its_evidence_through_the_services__audited_by_name(
    tmp_path: Path,
) -> None:
    # Given a first demo start
    services = build(Settings(data_dir=tmp_path, admin_token="sw_api_demo-test", demo=True))
    try:
        # When the audit log is read
        records = services.audit.all(SYSTEM, AuditFilter(project="default", limit=1000))
        seen = {(r.entry.action, r.entry.actor) for r in records}
    finally:
        services.close()

    # Then every approval, sign-off, drill, CI result and deploy is there, by who gave it
    assert ("release.approval", "demo:bob (release-manager)") in seen
    assert ("release.approval", "demo:carol (release-manager)") in seen
    assert ("release.signoff", "demo:quinn (qa)") in seen
    assert ("release.drill", "demo:carol (release-manager)") in seen
    assert ("ci.report", "demo:demo-ci (developer)") in seen
    assert ("deploy.report", "demo:demo-ci (developer)") in seen


def test_start_with_demo__runs_the_store_on_a_clock_kept_in_the_data_dir(tmp_path: Path) -> None:
    # Given a demo's settings, at the demo's speed: a week a minute
    settings = Settings(data_dir=tmp_path, demo=True)
    assert settings.speed == DEMO_SPEED == 7 * 24 * 60

    # When its clock is made twice (a start, then a restart)
    first, again = settings.clock(), settings.clock()

    # Then both run on one timeline, kept in the data directory
    assert isinstance(first, AcceleratedClock)
    assert isinstance(again, AcceleratedClock)
    assert (again.start, again.origin, again.speed) == (first.start, first.origin, DEMO_SPEED)
    assert (tmp_path / DEMO_CLOCK_FILE).exists()


def test_demo_clock__at_a_new_speed__carries_on_from_the_moment_reached(tmp_path: Path) -> None:
    # Given a demo clock that ran fast for a while (its origin a second in the past)
    path = tmp_path / DEMO_CLOCK_FILE
    started = datetime(2031, 3, 4, tzinfo=UTC)
    saved = {"start": started.isoformat(), "speed": DEMO_SPEED, "origin": time.time() - 1}
    path.write_text(json.dumps(saved))

    # When it is made again at another speed
    clock = persisted_clock(path, 2.0)

    # Then it does not go back: it starts at least where the old one had reached
    assert clock.speed == 2.0
    assert clock.start >= started + timedelta(seconds=DEMO_SPEED)
    assert json.loads(path.read_text())["speed"] == 2.0


def test_demo_clock__from_a_file_shipwise_did_not_write__names_the_file(tmp_path: Path) -> None:
    path = tmp_path / DEMO_CLOCK_FILE
    path.write_text("not json")

    with pytest.raises(ValueError, match="demo-clock is not a clock Shipwise wrote"):
        persisted_clock(path, DEMO_SPEED)

"""`shipwise serve --demo`: the demo flags arrive in every environment on first start,
audited, and evaluate in a server key's snapshot as they do offline."""

from __future__ import annotations

from pathlib import Path

from shipwise import Client
from shipwise.data import demo_snapshot
from shipwise.server.bootstrap import build
from shipwise.server.services.principal import SYSTEM
from shipwise.server.settings import Settings


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

"""Flags of every shape the evaluation APIs must get right, seeded through the services
into default/staging (not protected: these tests are about shapes, not the release
process), and contexts that exercise them.

    on              on for everyone (no strategies)
    off             switched off (has a strategy)
    rollout-25      25% of userId
    beta-plan       on for plan IN [beta, internal]
    beta-or-25      beta-plan, else the 25% rollout (which strategy matched decides the reason)
    beta-segment    on for the segment "beta-countries" (country IN [NO, SE])
    allow-list      on for userIds alice and bob
    office-network  on for remoteAddress in 127.0.0.0/8
    needs-beta      on when beta-plan is on
    banner-text     variants with string payloads, 50/50
    theme           variants with JSON payloads; "pinned" users get "dark" by override
    max-items       variants with number payloads
    greeting        variants without payloads
    bad-payload     one variant whose JSON payload does not parse
    dark-launch     variants, but switched off
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tests.support.server import RunningServer, running_server

from shipwise.server.bootstrap import Services
from shipwise.server.services.principal import SYSTEM

PROJECT = "default"
ENVIRONMENT = "staging"
PLANS = ("free", "pro", "beta", "internal")
COUNTRIES = ("NO", "SE", "DE", "US")


def _rollout(percentage: int, group: str) -> dict[str, Any]:
    parameters = {"rollout": str(percentage), "stickiness": "userId", "groupId": group}
    return {"name": "flexibleRollout", "parameters": parameters}


def _in(field: str, *values: str) -> dict[str, Any]:
    return {"contextName": field, "operator": "IN", "values": list(values)}


def _variants(*items: tuple[str, str | None, str | None]) -> list[dict[str, Any]]:
    weight = 1000 // len(items)
    out = []
    for name, kind, value in items:
        variant: dict[str, Any] = {"name": name, "weight": weight, "stickiness": "default"}
        if kind is not None:
            variant["payload"] = {"type": kind, "value": value}
        out.append(variant)
    return out


BETA = {"name": "default", "constraints": [_in("plan", "beta", "internal")]}


def rules(segment_id: int) -> dict[str, dict[str, Any]]:
    theme = _variants(("light", "json", '{"background": "#fff"}'), ("dark", "json", '{"bg": 0}'))
    theme[1]["overrides"] = [{"contextName": "userId", "values": ["pinned"]}]
    return {
        "on": {"enabled": True, "strategies": []},
        "off": {"enabled": False, "strategies": [{"name": "default"}]},
        "rollout-25": {"enabled": True, "strategies": [_rollout(25, "rollout-25")]},
        "beta-plan": {"enabled": True, "strategies": [BETA]},
        "beta-or-25": {"enabled": True, "strategies": [BETA, _rollout(25, "beta-or-25")]},
        "beta-segment": {
            "enabled": True,
            "strategies": [{"name": "default", "segments": [segment_id]}],
        },
        "allow-list": {
            "enabled": True,
            "strategies": [{"name": "userWithId", "parameters": {"userIds": "alice,bob"}}],
        },
        "office-network": {
            "enabled": True,
            "strategies": [{"name": "remoteAddress", "parameters": {"IPs": "127.0.0.0/8"}}],
        },
        "needs-beta": {
            "enabled": True,
            "strategies": [],
            "dependencies": [{"feature": "beta-plan"}],
        },
        "banner-text": {
            "enabled": True,
            "strategies": [_rollout(100, "banner-text")],
            "variants": _variants(("a", "string", "Welcome!"), ("b", "string", "Hello there")),
        },
        "theme": {"enabled": True, "strategies": [], "variants": theme},
        "max-items": {
            "enabled": True,
            "strategies": [BETA],
            "variants": _variants(("small", "number", "10"), ("large", "number", "2.5")),
        },
        "greeting": {
            "enabled": True,
            "strategies": [],
            "variants": _variants(("hello", None, None), ("hi", None, None)),
        },
        "bad-payload": {
            "enabled": True,
            "strategies": [],
            "variants": _variants(("broken", "json", "{not json")),
        },
        "dark-launch": {
            "enabled": False,
            "strategies": [],
            "variants": _variants(("x", "string", "x")),
        },
    }


# Rules the API now refuses, which a database written before rules were validated may
# still hold: written straight to storage, so evaluation is seen to survive them.
STORED_BEFORE_VALIDATION = frozenset({"bad-payload"})


def _store_unchecked(services: Services, key: str, config: dict[str, Any]) -> None:
    with services.database.transaction() as tx:
        project = tx.get_project(PROJECT)
        assert project is not None
        environment = tx.get_environment(project.id, ENVIRONMENT)
        flag = tx.get_flag(project.id, key)
        assert environment is not None
        assert flag is not None
        current = tx.get_config(flag.id, environment.id, for_update=True)
        assert current is not None
        fields = {name: config.get(name, []) for name in ("strategies", "variants", "dependencies")}
        tx.save_config(replace(current, enabled=config["enabled"], **fields))
        tx.touch([environment.id])


@dataclass(frozen=True)
class Seeded:
    server_key: str
    frontend_key: str
    environment_id: int
    keys: tuple[str, ...]


def seed(services: Services) -> Seeded:
    """Create the flags above in default/staging and a server and a frontend key."""
    segment = services.segments.save(
        SYSTEM, PROJECT, "beta-countries", [_in("country", "NO", "SE")]
    )
    shapes = rules(segment.id)
    for key in shapes:
        services.flags.create(SYSTEM, PROJECT, key)
    for key, config in shapes.items():
        if key in STORED_BEFORE_VALIDATION:
            _store_unchecked(services, key, config)
            continue
        services.flags.update_rules(
            SYSTEM, PROJECT, key, ENVIRONMENT, config, expected_version=None
        )
    server_key, frontend_key = (
        services.tokens.create(
            SYSTEM, name=f"{kind} key", kind=kind, project_key=PROJECT, environment_key=ENVIRONMENT
        ).secret
        for kind in ("server", "frontend")
    )
    environment_id = services.tokens.authenticate(server_key).environment_id
    assert environment_id is not None
    return Seeded(server_key, frontend_key, environment_id, tuple(shapes))


@contextmanager
def seeded_server(data_dir: Path) -> Iterator[tuple[RunningServer, Seeded]]:
    """A real server on SQLite in ``data_dir``, seeded with the flags above."""
    with running_server(data_dir=data_dir) as server:
        yield server, seed(server.services)


def contexts(count: int = 200) -> Iterator[dict[str, Any]]:
    """Unleash contexts: users with plans and countries, and a few special ones."""
    for special in ("alice", "bob", "pinned"):
        yield {"userId": special, "properties": {"plan": "beta", "country": "NO"}}
    for n in range(count):
        yield {
            "userId": f"user-{n}",
            "sessionId": f"session-{n}",
            "remoteAddress": "127.0.0.1" if n % 2 else "10.1.2.3",
            "properties": {"plan": PLANS[n % 4], "country": COUNTRIES[(n // 4) % 4]},
        }

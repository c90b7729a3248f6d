"""Moving in from Unleash keeps every name: a state with mixed-case, dotted and '~' flag
names goes through `shipwise import unleash` into a real server (SQLite, then
PostgreSQL), and the real UnleashClient then asks for each flag by the name it always
used and gets the answers the Unleash state gave."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.api.helpers import issue
from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer, running_server
from UnleashClient import UnleashClient
from UnleashClient.utils import InstanceAllowType

from shipwise.sdk import Client

CAMEL, LOWER, DOTTED, TILDE = "newCheckout", "newcheckout", "Feature.C", "a~b"
HALF, DEPENDENT, PUNCTUATED = "Search.V2~beta", "newCheckout.Banner", "Promo(2024)!"

# An Unleash client-API state as `GET /api/client/features` exports it.
STATE: dict[str, Any] = {
    "version": 2,
    "features": [
        {
            "name": CAMEL,
            "type": "release",
            "enabled": True,
            "strategies": [
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "100", "stickiness": "default", "groupId": CAMEL},
                    "constraints": [{"contextName": "plan", "operator": "IN", "values": ["pro"]}],
                }
            ],
        },
        {"name": LOWER, "type": "release", "enabled": False, "strategies": [{"name": "default"}]},
        {
            "name": DOTTED,
            "type": "operational",
            "enabled": True,
            "strategies": [{"name": "userWithId", "parameters": {"userIds": "42, 7"}}],
        },
        {
            "name": TILDE,
            "type": "experiment",
            "enabled": True,
            "strategies": [{"name": "default", "segments": [3]}],
            "variants": [
                {
                    "name": "blue",
                    "weight": 1000,
                    "stickiness": "default",
                    "payload": {"type": "string", "value": "B"},
                }
            ],
        },
        {
            "name": HALF,
            "type": "release",
            "enabled": True,
            "strategies": [
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "50", "stickiness": "userId", "groupId": HALF},
                }
            ],
        },
        {
            "name": DEPENDENT,
            "type": "release",
            "enabled": True,
            "strategies": [{"name": "default"}],
            "dependencies": [{"feature": CAMEL}],
        },
        {"name": PUNCTUATED, "type": "release", "enabled": True, "strategies": []},
    ],
    "segments": [
        {
            "id": 3,
            "name": "Beta Testers",
            "constraints": [{"contextName": "region", "operator": "IN", "values": ["eu"]}],
        }
    ],
}


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(database_url=database_url, data_dir=tmp_path) as running:
        yield running


def _contexts() -> Iterator[dict[str, Any]]:
    for n in range(1, 81):
        plan, region = ("pro", "free")[n % 2], ("eu", "us", "asia")[n % 3]
        yield {"userId": str(n), "properties": {"plan": plan, "region": region}}


def _expected(name: str, context: dict[str, Any], unleash_state: Client) -> bool:
    """What the Unleash state says, written out where it is plain; the 50% rollout is
    whatever Shipwise's SDK decides over the original Unleash document."""
    properties = context["properties"]
    return {
        CAMEL: properties["plan"] == "pro",
        LOWER: False,
        DOTTED: context["userId"] in {"42", "7"},
        TILDE: properties["region"] == "eu",
        HALF: unleash_state.is_enabled(HALF, context),
        DEPENDENT: properties["plan"] == "pro",
        PUNCTUATED: True,
    }[name]


def test_import_unleash__mixed_case_dotted_and_tilde_names__unleash_client_asks_by_those_names(
    server: RunningServer, tmp_path: Path
) -> None:
    # Given an Unleash state whose flags have the names Unleash users really have
    exported = tmp_path / "features.json"
    exported.write_text(json.dumps(STATE), encoding="utf-8")
    remote = ("--url", server.url, "--token", server.admin_token)

    # When it is imported with the CLI into dev
    report = Shipwise(tmp_path).json("import", "unleash", str(exported), "-e", "dev", *remote)

    # Then every flag keeps its name, case and punctuation included
    names = [f["name"] for f in STATE["features"]]
    assert report["created_flags"] == names
    assert report["segments"] == {"3": "beta-testers"}

    # And a real UnleashClient, with a dev server key, evaluates each by that name
    with server.admin() as admin:
        key = issue(admin, kind="server", project="default", environment="dev")
    client = UnleashClient(
        url=f"{server.url}/api",
        app_name="moving-in",
        instance_id=f"e2e-{uuid.uuid4().hex[:8]}",
        refresh_interval=60,
        disable_metrics=True,
        disable_registration=True,
        custom_headers={"Authorization": key},
        cache_directory=str(tmp_path / "unleash-cache"),
        multiple_instance_mode=InstanceAllowType.SILENTLY_ALLOW,
    )
    client.initialize_client()
    try:
        assert set(client.feature_definitions()) == set(names)
        unleash_state = Client.from_unleash(STATE)
        halves: set[bool] = set()
        for context in _contexts():
            for name in names:
                expected = _expected(name, context, unleash_state)
                assert client.is_enabled(name, context) is expected, (name, context)
            variant = client.get_variant(TILDE, context)
            if context["properties"]["region"] == "eu":
                assert (variant["name"], variant["payload"]) == (
                    "blue",
                    {"type": "string", "value": "B"},
                )
            else:
                assert variant["name"] == "disabled"
            halves.add(client.is_enabled(HALF, context))
        assert halves == {True, False}  # the 50% rollout split the users both ways
        unleash_state.close()
    finally:
        client.destroy()

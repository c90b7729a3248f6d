"""``shipwise metric define --source zendesk`` against a real server: the settings as
``--set`` pairs are saved (a stored token shown as ***), and a mistake names its field
(exit 2) and saves nothing."""

from __future__ import annotations

import pytest
from tests.integration.cli.cli_runner import Shipwise

TOKEN_ENV = "SHIPWISE_TEST_ZENDESK_TOKEN"


@pytest.fixture
def project(shipwise: Shipwise, remote: tuple[str, ...], request: pytest.FixtureRequest) -> str:
    key = f"zd-{abs(hash(request.node.name)) % 10**8}"
    result = shipwise("project", "create", key, *remote)
    assert result.exit_code == 0, result.output
    return key


def test_metric_define__zendesk_with_set_pairs__saved_as_written(
    shipwise: Shipwise, remote: tuple[str, ...], project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "zd-api-token")  # the server runs in this process

    defined = shipwise(
        "metric", "define", "tickets", "--source", "zendesk", "--set", "subdomain=acme",
        "--set", "email=ops@example.com", "--set", f"token_env={TOKEN_ENV}",
        "--set", "query=tags:checkout", "-p", project, *remote,
    )  # fmt: skip

    assert defined.exit_code == 0, defined.output
    assert "Defined metric tickets in" in defined.stdout
    shown = shipwise.json("metric", "show", "tickets", "-p", project, *remote)
    assert shown["source"] == "zendesk"
    assert shown["settings"] == {
        "subdomain": "acme",
        "email": "ops@example.com",
        "token_env": TOKEN_ENV,
        "query": "tags:checkout",
    }


def test_metric_define__zendesk_token_in_the_settings__shown_as_stars(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    defined = shipwise(
        "metric", "define", "tickets", "--source", "zendesk", "--set", "subdomain=acme",
        "--set", "email=ops@example.com", "--set", "token=zd-secret-token",
        "--set", "query=tags:{flag}", "-p", project, *remote,
    )  # fmt: skip

    assert defined.exit_code == 0, defined.output
    assert "zd-secret-token" not in defined.stdout
    shown = shipwise.json("metric", "show", "tickets", "-p", project, *remote)
    assert shown["settings"]["token"] == "***"


def test_metric_define__zendesk_query_with_created__field_named_exit_2(
    shipwise: Shipwise, remote: tuple[str, ...], project: str
) -> None:
    result = shipwise(
        "metric", "define", "tickets", "--source", "zendesk", "--set", "subdomain=acme",
        "--set", "email=ops@example.com", "--set", "token=zd-secret-token",
        "--set", "query=tags:checkout created>2026-01-01", "-p", project, *remote,
    )  # fmt: skip

    assert result.exit_code == 2
    assert "leave out created" in result.stderr
    assert "(field: settings.query)" in result.stderr
    assert shipwise.json("metric", "list", "-p", project, *remote) == {"metrics": []}

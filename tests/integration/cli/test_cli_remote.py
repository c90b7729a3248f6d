"""Where the CLI finds its server and token (flags, then SHIPWISE_URL/SHIPWISE_TOKEN, then
the config file), and what it says when it cannot get an answer."""

from __future__ import annotations

from pathlib import Path

from tests.integration.cli.cli_runner import Shipwise
from tests.support.server import RunningServer, free_port


def _config(path: Path, url: str, token: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'url = "{url}"\ntoken = "{token}"\n', encoding="utf-8")
    return path


def test_connection__from_environment_variables(shipwise: Shipwise, server: RunningServer) -> None:
    env = {"SHIPWISE_URL": server.url, "SHIPWISE_TOKEN": server.admin_token}
    result = shipwise("project", "list", env=env)
    assert result.exit_code == 0, result.output
    assert "default" in result.stdout


def test_connection__from_shipwise_config_file(
    shipwise: Shipwise, server: RunningServer, tmp_path: Path
) -> None:
    config = _config(tmp_path / "ops.toml", server.url, server.admin_token)
    result = shipwise("project", "list", env={"SHIPWISE_CONFIG": str(config)})
    assert result.exit_code == 0, result.output


def test_connection__from_default_config_file(shipwise: Shipwise, server: RunningServer) -> None:
    _config(shipwise.home / "config" / "shipwise" / "config.toml", server.url, server.admin_token)
    assert shipwise("project", "list").exit_code == 0


def test_connection__flag_beats_environment_beats_file(
    shipwise: Shipwise, server: RunningServer, tmp_path: Path
) -> None:
    # Given a file and a variable with wrong tokens
    config = _config(tmp_path / "ops.toml", server.url, "sw_api_from-the-file")
    env = {"SHIPWISE_CONFIG": str(config), "SHIPWISE_TOKEN": "sw_api_from-the-environment"}

    # Then the variable wins over the file, and --token over both
    from_environment = shipwise("project", "list", env=env)
    assert from_environment.exit_code == 2
    assert "unknown token" in from_environment.stderr
    assert shipwise("project", "list", "--token", server.admin_token, env=env).exit_code == 0


def test_connection__nothing_configured__says_where_to_put_it(shipwise: Shipwise) -> None:
    result = shipwise("flag", "list")
    assert result.exit_code == 2
    assert "--url" in result.stderr
    assert "SHIPWISE_URL" in result.stderr
    assert "config.toml" in result.stderr


def test_connection__no_token__says_where_to_put_it(shipwise: Shipwise) -> None:
    result = shipwise("flag", "list", "--url", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert "no token for http://127.0.0.1:9" in result.stderr
    assert "SHIPWISE_TOKEN" in result.stderr


def test_connection__missing_shipwise_config__names_it(shipwise: Shipwise, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = shipwise("flag", "list", env={"SHIPWISE_CONFIG": str(missing)})
    assert result.exit_code == 2
    assert f"SHIPWISE_CONFIG names {missing}" in result.stderr


def test_connection__config_not_toml__names_file(shipwise: Shipwise, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("url = http://no-quotes\n", encoding="utf-8")
    result = shipwise("flag", "list", env={"SHIPWISE_CONFIG": str(broken)})
    assert result.exit_code == 2
    assert f"{broken} is not valid TOML" in result.stderr


def test_request__wrong_token__server_message_and_hint_exit_2(
    shipwise: Shipwise, server: RunningServer
) -> None:
    result = shipwise("project", "list", "--url", server.url, "--token", "sw_api_wrong")
    assert result.exit_code == 2
    assert "unknown token" in result.stderr
    assert "Check the token" in result.stderr


def test_request__server_not_running__exit_2_with_next_step(shipwise: Shipwise) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = shipwise("flag", "list", "--url", url, "--token", "sw_api_x")
    assert result.exit_code == 2
    assert f"cannot reach Shipwise at {url}" in result.stderr
    assert "shipwise serve" in result.stderr


def test_request__not_a_shipwise_server__says_so(shipwise: Shipwise, server: RunningServer) -> None:
    result = shipwise(
        "project", "list", "--url", f"{server.url}/elsewhere", "--token", server.admin_token
    )
    assert result.exit_code == 2
    assert "answered 404" in result.stderr
    assert "Is --url" in result.stderr

"""The CLI's client (cli/remote.py) as a library: against a real server it raises, never
exits; ``ApiError`` for every error answer and for no answer, ``Refusal`` for a 409, and
``CliError`` when it does not know where to go. Turning those into exits is
cli/errors.py's alone (test_exit_codes.py and test_cli_json_errors.py cover that)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.server import RunningServer, free_port

from shipwise.cli.errors import CliError
from shipwise.cli.output import Exit
from shipwise.cli.remote import ApiError, Refusal, Remote, api_path


@pytest.fixture
def client(server: RunningServer) -> Remote:
    return Remote(server.url, server.admin_token)


def test_remote__unknown_project__raises_api_error_with_the_servers_status_and_message(
    client: Remote,
) -> None:
    with client, pytest.raises(ApiError) as raised:
        client.get(api_path("projects", "no-such-project", "flags"))

    assert raised.value.status == 404
    assert not isinstance(raised.value, Refusal)
    assert raised.value.code is Exit.ERROR
    assert "no-such-project" in raised.value.message
    assert raised.value.body["message"] == raised.value.message


def test_remote__conflict__raises_refusal_the_one_error_that_exits_1(client: Remote) -> None:
    # Given a flag that exists
    path = api_path("projects", "default", "flags")
    with client:
        client.post(path, {"key": "client-conflict", "kind": "release"})

        # When it is created again
        with pytest.raises(Refusal) as raised:
            client.post(path, {"key": "client-conflict", "kind": "release"})

    # Then the answer is a refusal, with the server's error object
    assert raised.value.status == 409
    assert raised.value.code is Exit.NO
    assert raised.value.body["status"] == 409


def test_remote__text_answer_of_unknown_release__raises_like_a_json_answer(
    client: Remote,
) -> None:
    with client, pytest.raises(ApiError) as raised:
        client.text(api_path("projects", "default", "releases", "rel-404", "pr-body"))

    assert raised.value.status == 404


def test_remote__no_server__raises_api_error_without_a_status() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with Remote(url, "sw_api_x") as client, pytest.raises(ApiError) as raised:
        client.get(api_path("projects"))

    assert raised.value.status is None
    assert f"cannot reach Shipwise at {url}" in str(raised.value)
    assert "shipwise serve" in (raised.value.hint or "")


def test_remote__no_url_anywhere__raises_cli_error_saying_where_to_put_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHIPWISE_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))

    with Remote(None, "sw_api_x") as client, pytest.raises(CliError) as raised:
        client.get(api_path("projects"))

    assert not isinstance(raised.value, ApiError)
    assert "No URL was given" in raised.value.message
    assert "SHIPWISE_URL" in (raised.value.hint or "")

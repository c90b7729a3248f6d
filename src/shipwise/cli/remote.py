"""Talking to a Shipwise server's admin API: where, as whom, and its errors as exits.

The URL and the token come from, first found first:

1. ``--url`` / ``--token``,
2. ``SHIPWISE_URL`` / ``SHIPWISE_TOKEN``,
3. a TOML file at ``$SHIPWISE_CONFIG``, else ``~/.config/shipwise/config.toml``
   (``$XDG_CONFIG_HOME/shipwise/config.toml`` when that is set)::

       url = "https://shipwise.example.com"
       token = "sw_api_..."

Errors from the server (``{"error": {"status", "message", "field"}}``) are printed with
their message and field. Only a refusal, 409, exits 1 (the answer is no: a closed gate,
a conflict); everything else is a mistake and exits 2: an unknown name (404), a bad
token (401), a token of the wrong kind or role (403), bad input (400, 413, 422, 428),
a server error (5xx). So a typo in a release's key never reads as a closed gate.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

from shipwise import __version__
from shipwise.cli.output import Exit, fail

if TYPE_CHECKING:
    import httpx

REFUSED = frozenset({409})  # exit 1; every other error status exits 2
TIMEOUT_SECONDS = 30.0


def config_path() -> Path:
    explicit = os.environ.get("SHIPWISE_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "shipwise" / "config.toml"


def read_config(path: Path) -> dict[str, Any]:
    """The config file's settings; {} when there is none at the default place."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if os.environ.get("SHIPWISE_CONFIG"):
            fail(
                f"SHIPWISE_CONFIG names {path}, which does not exist",
                hint="Create it (url = ..., token = ...), or unset SHIPWISE_CONFIG.",
            )
        return {}
    except OSError as error:
        fail(f"cannot read the config file {path}: {error.strerror}")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        fail(f"the config file {path} is not valid TOML: {error}")


@dataclass(frozen=True, slots=True)
class Connection:
    url: str
    token: str


def resolve(url: str | None, token: str | None) -> Connection:
    """The server and token to use; exit 2 saying where to put them when either is missing."""
    path = config_path()
    config = read_config(path) if not (url and token) else {}
    for key in ("url", "token"):
        if key in config and not isinstance(config[key], str):
            fail(f'{key} in {path} must be a string, e.g. {key} = "..."')
    url = url or config.get("url")
    token = token or config.get("token")
    if not url:
        fail(
            "which Shipwise server? No URL was given",
            hint=f'Pass --url, set SHIPWISE_URL, or write url = "http://127.0.0.1:4242" in {path}.',
        )
    if not token:
        fail(
            f"no token for {url}",
            hint=f'Pass --token, set SHIPWISE_TOKEN, or write token = "sw_api_..." in {path}. '
            "The server prints the first admin token when it first starts.",
        )
    return Connection(url.rstrip("/"), token)


def api_path(*segments: str | int) -> str:
    """``/api/v1/...`` with each segment escaped, so a key cannot change the route."""
    return "/api/v1/" + "/".join(quote(str(segment), safe="") for segment in segments)


class Remote:
    """One server, one token: JSON in, JSON out, errors become exits."""

    def __init__(self, connection: Connection) -> None:
        import httpx  # noqa: PLC0415 (lazy)

        self.url = connection.url
        self._http = httpx.Client(
            base_url=connection.url,
            headers={
                "Authorization": f"Bearer {connection.token}",
                "User-Agent": f"shipwise-cli/{__version__}",
            },
            timeout=TIMEOUT_SECONDS,
        )

    def __enter__(self) -> Remote:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        import httpx  # noqa: PLC0415 (lazy)

        try:
            response = self._http.request(
                method,
                path,
                json=body,
                params={k: v for k, v in (params or {}).items() if v is not None},
                headers=headers,
            )
        except httpx.TimeoutException:
            fail(
                f"{self.url} did not answer within {TIMEOUT_SECONDS:.0f} s",
                hint="The server may be overloaded or stuck; try again, or check its log.",
            )
        except httpx.TransportError as error:
            fail(
                f"cannot reach Shipwise at {self.url}: {error}",
                hint="Is the server running (shipwise serve)? Check --url or SHIPWISE_URL.",
            )
        if not response.is_success:
            self._fail(response)
        try:
            return response.json()
        except ValueError:
            fail(
                f"{self.url} answered {method} {path} with something other than JSON",
                hint=_NOT_SHIPWISE,
            )

    def _fail(self, response: httpx.Response) -> NoReturn:
        status = response.status_code
        try:
            error = response.json()["error"]
            message, field = str(error["message"]), error.get("field") or None
        except (ValueError, KeyError, TypeError):
            # Not our error shape: a proxy's error page, or not a Shipwise server at all.
            fail(
                f"{self.url} answered {status} {response.reason_phrase or 'error'}",
                hint=_NOT_SHIPWISE,
            )
        if status == 404 and message.startswith("no endpoint"):
            # The server is there, but nothing lives at that path: the URL is wrong.
            fail(f"{self.url} answered 404: {message}", hint=_NOT_SHIPWISE)
        fail(
            f"{message} (field: {field})" if field else message,
            hint=_HINTS.get(status) or (_SERVER_FAILED if status >= 500 else None),
            code=exit_code(status),
        )


def exit_code(status: int) -> Exit:
    """The exit for an error answer: 1 for a refusal, 2 for a mistake (see the top)."""
    return Exit.NO if status in REFUSED else Exit.ERROR


_HINTS = {401: "Check the token: --token, SHIPWISE_TOKEN or token in the config file."}
_SERVER_FAILED = "The server failed; its log says why."
_NOT_SHIPWISE = "Is --url (or SHIPWISE_URL) a Shipwise server, of this version or newer?"


def connect(url: str | None, token: str | None) -> Remote:
    return Remote(resolve(url, token))

"""Talking to a Shipwise server's admin API: where, as whom, and what went wrong.

The URL and the token come from, first found first:

1. ``--url`` / ``--token``,
2. ``SHIPWISE_URL`` / ``SHIPWISE_TOKEN``,
3. a TOML file at ``$SHIPWISE_CONFIG``, else ``~/.config/shipwise/config.toml``
   (``$XDG_CONFIG_HOME/shipwise/config.toml`` when that is set)::

       url = "https://shipwise.example.com"
       token = "sw_api_..."

The client raises, it never exits; ``cli/errors.py`` turns what it raises into the
message and the exit code, in one place::

    CliError          no URL, no token, a broken config file              exit 2
    └── ApiError      an error answer ({"error": {"status", "message",    exit 2
        │             "field"}}), no answer (connection, timeout), or an
        │             answer that is not Shipwise's
        └── Refusal   409: the answer is no (a closed gate, a conflict)   exit 1

Every other error status is a mistake: an unknown name (404), a bad token (401), a token
of the wrong kind or role (403), bad input (400, 413, 422, 428), a server error (5xx).
So a typo in a release's key never reads as a closed gate. A command that shows an
error its own way (a refused promotion's gates, a policy file's line) catches it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

from shipwise import __version__
from shipwise.cli.errors import CliError
from shipwise.cli.output import Exit

if TYPE_CHECKING:
    import httpx

REFUSED = frozenset({409})  # Refusal, exit 1; every other error status exits 2
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
            raise CliError(
                f"SHIPWISE_CONFIG names {path}, which does not exist",
                hint="Create it (url = ..., token = ...), or unset SHIPWISE_CONFIG.",
            ) from None
        return {}
    except OSError as error:
        raise CliError(f"cannot read the config file {path}: {error.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CliError(f"the config file {path} is not valid TOML: {error}") from None


@dataclass(frozen=True, slots=True)
class Connection:
    url: str
    token: str


def resolve(url: str | None, token: str | None) -> Connection:
    """The server and token to use; ``CliError`` saying where to put them when either is
    missing."""
    path = config_path()
    config = read_config(path) if not (url and token) else {}
    for key in ("url", "token"):
        if key in config and not isinstance(config[key], str):
            raise CliError(f'{key} in {path} must be a string, e.g. {key} = "..."')
    url = url or config.get("url")
    token = token or config.get("token")
    if not url:
        raise CliError(
            "which Shipwise server? No URL was given",
            hint=f'Pass --url, set SHIPWISE_URL, or write url = "http://127.0.0.1:4242" in {path}.',
        )
    if not token:
        raise CliError(
            f"no token for {url}",
            hint=f'Pass --token, set SHIPWISE_TOKEN, or write token = "sw_api_..." in {path}. '
            "The server prints the first admin token when it first starts.",
        )
    return Connection(url.rstrip("/"), token)


def api_path(*segments: str | int) -> str:
    """``/api/v1/...`` with each segment escaped, so a key cannot change the route."""
    return "/api/v1/" + "/".join(quote(str(segment), safe="") for segment in segments)


class ApiError(CliError):
    """An answer that is not a success, or no usable answer at all.

    ``status`` is the HTTP status of an error answer, None when nothing usable came back;
    ``message`` and ``field`` are the server's; ``body`` is its error object (``{}`` when
    the answer was not Shipwise's), with whatever more it says (a refused promotion's
    gates)."""

    def __init__(
        self,
        status: int | None,
        message: str,
        *,
        field: str | None = None,
        body: Mapping[str, Any] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.field = field
        self.body: dict[str, Any] = dict(body or {})

    def __str__(self) -> str:
        return f"{self.message} (field: {self.field})" if self.field else self.message


class Refusal(ApiError):
    """The server understood and said no (409): the one error that exits 1."""

    code = Exit.NO


class Remote:
    """One server, one token: JSON (or text) out and in; errors raise ``ApiError``.

    Where and as whom are resolved at the first request, so a command checks what it
    was given before it asks for a server."""

    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        self._given = (url, token)
        self._http: httpx.Client | None = None
        self._url = ""

    @property
    def url(self) -> str:
        self._client()
        return self._url

    @property
    def given_url(self) -> str | None:
        """The URL as given (``--url``, ``SHIPWISE_URL``), without connecting: for a
        command that works on the server host and only names the server."""
        return self._given[0]

    def _client(self) -> httpx.Client:
        if self._http is None:
            import httpx  # noqa: PLC0415 (lazy)

            connection = resolve(*self._given)
            self._url = connection.url
            self._http = httpx.Client(
                base_url=connection.url,
                headers={
                    "Authorization": f"Bearer {connection.token}",
                    "User-Agent": f"shipwise-cli/{__version__}",
                },
                timeout=TIMEOUT_SECONDS,
            )
        return self._http

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body=body)

    def put(self, path: str, body: Any = None, headers: Mapping[str, str] | None = None) -> Any:
        return self.request("PUT", path, body=body, headers=headers)

    def patch(self, path: str, body: Any = None) -> Any:
        return self.request("PATCH", path, body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def text(self, path: str) -> str:
        """GET ``path`` for a text answer (Markdown: a pull request's body)."""
        return self.send("GET", path, headers={"Accept": "text/markdown, text/plain"}).text

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The JSON answer to ``method path``."""
        response = self.send(method, path, body=body, params=params, headers=headers)
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                None,
                f"{self.url} answered {method} {path} with something other than JSON",
                hint=_NOT_SHIPWISE,
            ) from None

    def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The one way a request goes out: a success answer, else ``ApiError``."""
        import httpx  # noqa: PLC0415 (lazy)

        client = self._client()
        try:
            response = client.request(
                method,
                path,
                json=body,
                params={k: v for k, v in (params or {}).items() if v is not None},
                headers=headers,
            )
        except httpx.TimeoutException:
            raise ApiError(
                None,
                f"{self.url} did not answer within {TIMEOUT_SECONDS:.0f} s",
                hint="The server may be overloaded or stuck; try again, or check its log.",
            ) from None
        except httpx.TransportError as error:
            raise ApiError(
                None,
                f"cannot reach Shipwise at {self.url}: {error}",
                hint="Is the server running (shipwise serve)? Check --url or SHIPWISE_URL.",
            ) from None
        if not response.is_success:
            raise self._error(response)
        return response

    def _error(self, response: httpx.Response) -> ApiError:
        status = response.status_code
        try:
            error = response.json()["error"]
            message, field = str(error["message"]), error.get("field") or None
        except (ValueError, KeyError, TypeError):
            # Not our error shape: a proxy's error page, or not a Shipwise server at all.
            reason = response.reason_phrase or "error"
            return ApiError(status, f"{self.url} answered {status} {reason}", hint=_NOT_SHIPWISE)
        if status == 404 and message.startswith("no endpoint"):
            # The server is there, but nothing lives at that path: the URL is wrong.
            message = f"{self.url} answered 404: {message}"
            return ApiError(status, message, body=error, hint=_NOT_SHIPWISE)
        kind = Refusal if status in REFUSED else ApiError
        hint = _HINTS.get(status) or (_SERVER_FAILED if status >= 500 else None)
        return kind(status, message, field=field, body=error, hint=hint)


_HINTS = {401: "Check the token: --token, SHIPWISE_TOKEN or token in the config file."}
_SERVER_FAILED = "The server failed; its log says why."
_NOT_SHIPWISE = "Is --url (or SHIPWISE_URL) a Shipwise server, of this version or newer?"


def connect(url: str | None, token: str | None) -> Remote:
    return Remote(url, token)

"""A Google service-account key, as the Cloud Logging source takes it, and the access
tokens it earns: ``credentials_file`` (the path of the key's JSON on the server) or
``credentials_env`` (an environment variable holding the key's JSON), never both.

Tokens come from ``google-auth``: it signs a JWT with the key and trades it at the key's
own ``token_uri`` (the OAuth 2.0 JWT-bearer grant), so a stand-in on loopback can issue
them in tests. One ``Credentials`` is kept per key (by a digest of its JSON) and reused
until its token nears expiry; a key rotated on disk is a new key. A token is a secret:
it goes in a header only, and messages name the key's file, variable or account, never
its contents.

google-auth needs a transport to reach the token endpoint; its urllib3 one is used
because urllib3 is already installed with the server (dulwich needs it), so nothing is
hand-written. It is given a timeout and no retries of its own: a check that cannot get a
token is unreadable, and the next check asks again.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from google.auth import exceptions as google_errors
from google.auth.transport.urllib3 import Request as Urllib3Request
from google.oauth2 import service_account

from shipwise.server.metrics import _http
from shipwise.server.ports import MetricUnavailable

Problem = tuple[str, str]

SCOPE = "https://www.googleapis.com/auth/logging.read"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_MAX_KEY = 64 * 1024  # a service-account key is about 2 KB
_KEPT = 64  # credentials kept at once (one per key in use); more are dropped, not leaked
_NEEDED = ("type", "client_email", "private_key", "token_uri")


@dataclass(frozen=True, slots=True)
class Key:
    """A key's parsed JSON and where it came from, as messages name it."""

    info: Mapping[str, Any]
    where: str  # "the key file /etc/x.json", "the key in SHIPWISE_GCP_KEY"

    @property
    def account(self) -> str:
        return str(self.info.get("client_email", "?"))

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.info, sort_keys=True).encode()).hexdigest()


def problems(settings: Mapping[str, Any], environ: Mapping[str, str]) -> list[Problem]:
    """What is wrong with ``credentials_file`` / ``credentials_env``, as (field, message)."""
    path, env = settings.get("credentials_file"), settings.get("credentials_env")
    if path is not None and env is not None:
        return [("credentials_env", "set credentials_env or credentials_file, not both")]
    if path is None and env is None:
        return [
            (
                "credentials_file",
                "required: the path of a service-account JSON key on this server (a "
                "service account with the Logs Viewer role), or set credentials_env",
            )
        ]
    if path is not None and (not isinstance(path, str) or not path.strip()):
        return [("credentials_file", "write the key file's path, e.g. /etc/shipwise/gcp.json")]
    if env is not None and (not isinstance(env, str) or not _ENV_NAME.fullmatch(env)):
        return [("credentials_env", "write the name of an environment variable, e.g. GCP_KEY")]
    field = "credentials_file" if path is not None else "credentials_env"
    try:
        TokenCache.credentials_for(load(settings, environ))  # parses the private key
    except MetricUnavailable as error:
        return [(field, str(error))]
    return []


def load(settings: Mapping[str, Any], environ: Mapping[str, str]) -> Key:
    """The key the settings name, read now (a rotated key is picked up at the next read)."""
    path = settings.get("credentials_file")
    if path is not None:
        where = f"the key file {path}"
        try:
            with open(str(path), "rb") as handle:
                text = handle.read(_MAX_KEY + 1)
        except OSError as error:
            raise MetricUnavailable(
                f"cannot read {where}: {error.strerror or type(error).__name__}"
            ) from None
    else:
        name = str(settings.get("credentials_env"))
        where = f"the key in the environment variable {name}"
        text = environ.get(name, "").encode()
        if not text.strip():
            raise MetricUnavailable(f"the environment variable {name} is not set on this server")
    if len(text) > _MAX_KEY:
        raise MetricUnavailable(f"{where} is larger than a service-account key")
    try:
        info = json.loads(text)
    except ValueError:
        raise MetricUnavailable(
            f"{where} is not JSON: download a JSON key for the service account "
            "(IAM > Service accounts > Keys > Add key > JSON)"
        ) from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise MetricUnavailable(f'{where} is not a service-account key ("type": "service_account")')
    missing = [name for name in _NEEDED if not isinstance(info.get(name), str) or not info[name]]
    if missing:
        raise MetricUnavailable(f"{where} lacks {', '.join(missing)}")
    return Key(info, where)


class TokenCache:
    """Access tokens per key, each refreshed by google-auth when it nears its expiry."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._lock = threading.Lock()  # checks run in threads: one refresh per key at a time
        self._credentials: dict[str, service_account.Credentials] = {}

    def token(self, key: Key) -> str:
        """A valid access token for ``key``; ``MetricUnavailable`` naming the token
        endpoint and what it said when none can be had."""
        with self._lock:
            credentials = self._credentials.get(key.digest)
            if credentials is None:
                credentials = self.credentials_for(key)
                if len(self._credentials) >= _KEPT:
                    self._credentials.clear()
                self._credentials[key.digest] = credentials
            if not credentials.valid:
                self._refresh(credentials, key)
            return str(credentials.token)

    def forget(self, key: Key) -> None:
        """Drop ``key``'s token (Logging refused it): the next read asks for a new one."""
        with self._lock:
            self._credentials.pop(key.digest, None)

    @staticmethod
    def credentials_for(key: Key) -> service_account.Credentials:
        try:
            # google-auth ships no type information for these calls
            credentials: service_account.Credentials = (
                service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                    dict(key.info), scopes=[SCOPE]
                )
            )
        except Exception as error:  # a malformed private key: cryptography's own errors
            raise MetricUnavailable(
                f"{key.where} holds no usable private key ({type(error).__name__}): "
                "create a new JSON key for the service account"
            ) from None
        return credentials

    def _refresh(self, credentials: service_account.Credentials, key: Key) -> None:
        endpoint = _http.shown_or_raw(str(key.info["token_uri"]))
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=self._timeout, read=self._timeout), retries=False
        )
        try:
            credentials.refresh(Urllib3Request(http))  # type: ignore[no-untyped-call]
        except google_errors.RefreshError as error:
            said = error.args[0] if error.args else "no reason given"
            raise MetricUnavailable(
                f"the token endpoint {endpoint} refused {key.account}'s key ({key.where}): "
                f"{_http.snippet(str(said))}; check the key is current (not deleted or "
                "rotated) and the service account enabled"
            ) from None
        except google_errors.TransportError as error:
            raise MetricUnavailable(
                f"cannot get a token from {endpoint}: {_http.snippet(str(error))}"
            ) from None
        except (google_errors.GoogleAuthError, ValueError) as error:
            raise MetricUnavailable(
                f"cannot get a token for {key.account} from {endpoint}: "
                f"{type(error).__name__}: {_http.snippet(str(error))}"
            ) from None
        finally:
            http.clear()

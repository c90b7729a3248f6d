"""A stand-in for Google Cloud Logging's ``entries:list`` and the OAuth token endpoint a
service-account key names, speaking their documented wire formats.

``POST /token`` is the JWT-bearer grant (RFC 7523) as Google's token endpoint takes it: a
form with ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` and ``assertion``, a
JWT whose RS256 signature must verify against the test service account's public key,
with ``iss`` the account's email, ``aud`` Google's documented token audience
(``https://oauth2.googleapis.com/token``, whatever ``token_uri`` says), a ``scope`` holding
``logging.read`` and ``exp`` at most an hour after ``iat`` (and not past). It answers
``{"access_token", "expires_in", "token_type": "Bearer"}`` with an opaque token, or 400
``{"error": "invalid_grant", "error_description": ...}``.

``POST /v2/entries:list`` wants one of those tokens (401 in Google's error shape,
``{"error": {"code", "message", "status"}}``, without), ``resourceNames`` naming its
project, and answers ``{"entries": [...], "nextPageToken": ...}`` from the entries a
test ``add``s, oldest first, ``pageSize`` at a time (default 50, at most 1000). It reads a
part of the Logging query language, enough for what Shipwise sends: comparisons
``field=value``, ``!=``, ``:`` (has), ``severity`` and ``timestamp`` with ``<``, ``<=``,
``>``, ``>=`` (severities by rank, times as RFC 3339), quoted or bare values, parentheses
and ``AND`` (written or implied). ``OR`` and ``NOT`` it refuses with 400 rather than
guess. The ``fields`` parameter (partial response: ``a,b(c,d/e)``) is applied to the
answer. ``served`` counts the entries it has sent.

``service_account_key(token_uri)`` builds a key's JSON around an RSA key made once per
test session; ``other=True`` gives a second key, which this stand-in does not know.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from tests.support.local_http import LocalServer, Reply, Request, local_http_server

PROJECT = "shop-prod"
ACCOUNT = "shipwise-reader@shop-prod.iam.gserviceaccount.com"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Google documents the assertion's ``aud`` as this, always, wherever the key's token_uri
# points (google-auth writes it so): the stand-in holds the JWT to the same rule.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
SEVERITIES = (
    "DEFAULT",
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "CRITICAL",
    "ALERT",
    "EMERGENCY",
)
_FUNCTION_LOG = "cloudfunctions.googleapis.com%2Fcloud-functions"
_RANK = {name: rank * 100 for rank, name in enumerate(SEVERITIES)}
_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|(>=|<=|!=|=|>|<|:)|([^\s()"=<>!:]+))')


@cache
def _private_key(which: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def service_account_key(token_uri: str, *, other: bool = False) -> dict[str, str]:
    """A service-account key's JSON as Google's console downloads it."""
    key = _private_key(1 if other else 0)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "key-1" if not other else "key-2",
        "private_key": pem,
        "client_email": ACCOUNT,
        "client_id": "104620000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    }


@dataclass
class CloudLoggingStandin:
    project: str = PROJECT
    entries: list[dict[str, Any]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    grants: int = 0  # tokens issued
    served: int = 0  # entries sent in entries:list answers
    answer_with: Reply | None = None  # a fixed answer to entries:list, once authorized
    server: LocalServer | None = None
    _pages: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    @property
    def list_requests(self) -> list[Request]:
        assert self.server is not None
        return [r for r in self.server.requests if r.path == "/v2/entries:list"]

    def key(self, *, other: bool = False) -> dict[str, str]:
        return service_account_key(self.token_uri, other=other)

    def add(
        self,
        at: datetime,
        severity: str = "ERROR",
        *,
        payload: dict[str, Any] | None = None,
        labels: dict[str, str] | None = None,
        resource_type: str = "cloud_function",
    ) -> None:
        entry: dict[str, Any] = {
            "insertId": f"id-{len(self.entries) + 1}",
            "logName": f"projects/{self.project}/logs/{_FUNCTION_LOG}",
            "resource": {"type": resource_type, "labels": {"function_name": "checkout"}},
            "timestamp": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "severity": severity,
            "jsonPayload": payload or {"message": "boom"},
        }
        if labels:
            entry["labels"] = labels
        self.entries.append(entry)

    def handle(self, request: Request) -> Reply:
        if request.method == "POST" and request.path == "/token":
            return self._grant(request)
        if request.method == "POST" and request.path == "/v2/entries:list":
            return self._list(request)
        return _google_error(404, "NOT_FOUND", f"no method at {request.path}")

    # --- the token endpoint ------------------------------------------------------------

    def _grant(self, request: Request) -> Reply:
        form = parse_qs(request.body.decode(errors="replace"))
        if form.get("grant_type") != [JWT_BEARER]:
            return _refused("unsupported_grant_type", "Invalid grant_type.")
        assertion = (form.get("assertion") or [""])[0]
        problem = self._assertion_problem(assertion)
        if problem:
            return _refused("invalid_grant", problem)
        self.grants += 1
        token = "ya29.standin-" + secrets.token_urlsafe(24)
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _assertion_problem(self, assertion: str) -> str | None:
        parts = assertion.split(".")
        if len(parts) != 3:
            return "Invalid JWT: not three parts."
        try:
            header, claims = (json.loads(_unb64(part)) for part in parts[:2])
            signature = _unb64(parts[2])
        except ValueError:
            return "Invalid JWT: not base64url JSON."
        if header.get("alg") != "RS256":
            return "Invalid JWT: alg must be RS256."
        try:
            _private_key(0).public_key().verify(
                signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            return "Invalid JWT Signature."
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if claims.get("iss") != ACCOUNT:
            return "Invalid JWT: iss is not the service account."
        if claims.get("aud") != GOOGLE_TOKEN_AUDIENCE:
            return f"Invalid JWT: aud must be {GOOGLE_TOKEN_AUDIENCE}."
        scopes = str(claims.get("scope", "")).split()
        if "https://www.googleapis.com/auth/logging.read" not in scopes:
            return "Invalid JWT: no logging.read scope."
        if not isinstance(iat, int) or not isinstance(exp, int) or not 0 < exp - iat <= 3600:
            return "Invalid JWT: exp must be within an hour of iat."
        if exp < now or iat > now + 300:
            return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
        return None

    # --- entries:list --------------------------------------------------------------------

    def _list(self, request: Request) -> Reply:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.tokens:
            return _google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            )
        if self.answer_with is not None:
            return self.answer_with
        try:
            body = json.loads(request.body)
            return self._page(body, request.first("fields"))
        except ValueError as error:
            return _google_error(400, "INVALID_ARGUMENT", str(error))

    def _page(self, body: Any, fields: str | None) -> Reply:
        if not isinstance(body, dict):
            raise ValueError("the request body is not a JSON object")
        if body.get("resourceNames") != [f"projects/{self.project}"]:
            return _google_error(403, "PERMISSION_DENIED", "Permission denied for all log views")
        size = body.get("pageSize", 50)
        if not isinstance(size, int) or not 0 < size <= 1000:
            raise ValueError("pageSize must be between 1 and 1000")
        text = body.get("filter", "")
        match = _parse(str(text))
        order = body.get("orderBy", "timestamp asc")
        if order not in ("timestamp asc", "timestamp desc"):
            raise ValueError(f"invalid orderBy {order!r}")
        offset = 0
        if body.get("pageToken"):
            issued = self._pages.get(str(body["pageToken"]))
            if issued is None or issued[0] != text:
                raise ValueError("page_token doesn't match arguments from the request")
            offset = issued[1]
        found = sorted(
            (e for e in self.entries if match(e)),
            key=lambda e: e["timestamp"],
            reverse=order == "timestamp desc",
        )
        page = found[offset : offset + size]
        self.served += len(page)
        answer: dict[str, Any] = {}
        if page:
            answer["entries"] = page
        if offset + size < len(found):
            token = secrets.token_urlsafe(16)
            self._pages[token] = (text, offset + size)
            answer["nextPageToken"] = token
        return Reply(200, _select(answer, _fields(fields)) if fields else answer)


def _unb64(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError(str(error)) from None


def _refused(error: str, description: str) -> Reply:
    return Reply(400, {"error": error, "error_description": description})


def _google_error(code: int, status: str, message: str) -> Reply:
    return Reply(code, {"error": {"code": code, "message": message, "status": status}})


# --- a small part of the Logging query language ---------------------------------------

_Match = Any  # Callable[[dict[str, Any]], bool]


def _parse(text: str) -> _Match:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text.rstrip()):
        found = _TOKEN.match(text, position)
        if not found:
            raise ValueError(f"unparseable filter at {text[position:]!r}")
        kinds = ("(", ")", "string", "op", "word")
        index = next(i for i in range(5) if found.group(i + 1) is not None)
        tokens.append((kinds[index], found.group(index + 1)))
        position = found.end()
    match, rest = _expression(tokens)
    if rest:
        raise ValueError(f"unexpected {rest[0][1]!r} in the filter")
    return match


def _expression(tokens: list[tuple[str, str]]) -> tuple[_Match, list[tuple[str, str]]]:
    terms: list[_Match] = []
    while tokens and tokens[0][0] != ")":
        if tokens[0] == ("word", "AND"):
            tokens = tokens[1:]
            continue
        if tokens[0][0] == "word" and tokens[0][1] in ("OR", "NOT"):
            raise ValueError(f"the stand-in does not read {tokens[0][1]}")
        if tokens[0][0] == "(":
            inner, tokens = _expression(tokens[1:])
            if not tokens or tokens[0][0] != ")":
                raise ValueError("unbalanced parentheses")
            terms.append(inner)
            tokens = tokens[1:]
            continue
        if len(tokens) < 3 or tokens[0][0] != "word" or tokens[1][0] != "op":
            raise ValueError(f"expected a comparison at {tokens[0][1]!r}")
        terms.append(_comparison(tokens[0][1], tokens[1][1], tokens[2][1]))
        tokens = tokens[3:]
    if not terms:
        raise ValueError("an empty expression")
    return (lambda entry: all(term(entry) for term in terms)), tokens


def _comparison(path: str, op: str, value: str) -> _Match:
    if path == "timestamp":
        moment = _time(value)
        return lambda e: _compare(_time(e["timestamp"]), op, moment)
    if path == "severity":
        rank = _RANK.get(value.upper())
        if rank is None:
            raise ValueError(f"unknown severity {value!r}")
        return lambda e: _compare(_RANK[e.get("severity", "DEFAULT")], op, rank)
    if op not in ("=", "!=", ":"):
        raise ValueError(f"the stand-in compares {path} with =, != or : only")

    def test(entry: dict[str, Any]) -> bool:
        found: Any = entry
        for name in path.split("."):
            found = found.get(name) if isinstance(found, dict) else None
        if found is None:
            return op == "!="
        shown = json.dumps(found) if isinstance(found, bool) else str(found)
        if op == ":":
            return value == "*" or value.lower() in shown.lower()
        return (shown == value) == (op == "=")

    return test


def _compare(left: Any, op: str, right: Any) -> bool:
    return bool(
        {
            "=": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }.get(op, False)
    )


def _time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return parsed.astimezone(UTC)


# --- partial responses ------------------------------------------------------------------

_Tree = dict[str, Any]  # name -> subtree, or None for the whole value


def _fields(text: str) -> _Tree:
    tree, rest = _field_list(text)
    if rest:
        raise ValueError(f"invalid fields {text!r}")
    return tree


def _field_list(text: str) -> tuple[_Tree, str]:
    tree: _Tree = {}
    while True:
        found = re.match(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*", text)
        if not found:
            raise ValueError(f"invalid fields at {text!r}")
        names, text = found.group(0).split("/"), text[found.end() :]
        sub: _Tree | None = None
        if text.startswith("("):
            sub, text = _field_list(text[1:])
            if not text.startswith(")"):
                raise ValueError("unbalanced parentheses in fields")
            text = text[1:]
        node = tree
        for name in names[:-1]:  # a/b/c: a path of one-field selections
            node = node.setdefault(name, {})
        node[names[-1]] = sub
        if not text.startswith(","):
            return tree, text
        text = text[1:]


def _select(value: Any, tree: _Tree | None) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [_select(item, tree) for item in value]
    if isinstance(value, dict):
        return {k: _select(v, tree[k]) for k, v in value.items() if k in tree}
    return value


@contextmanager
def cloud_logging_standin(project: str = PROJECT) -> Iterator[CloudLoggingStandin]:
    standin = CloudLoggingStandin(project)
    with local_http_server(standin.handle) as server:
        standin.server = server
        yield standin

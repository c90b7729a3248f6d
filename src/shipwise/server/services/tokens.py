"""API tokens and SDK keys: created with a secret shown once, stored hashed, revocable,
expiring, and turned back into a ``Principal`` on every request."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from shipwise.domain.access import Action, Role, TokenKind
from shipwise.server.ports import (
    AuditEntry,
    AuditStore,
    ChangeBus,
    Clock,
    Project,
    ProjectStore,
    StoreOf,
    TokenRecord,
    TokenStore,
)
from shipwise.server.services._common import audit, environment_or_404, project_or_404
from shipwise.server.services.errors import Invalid, NotFound, Unauthenticated
from shipwise.server.services.principal import Principal

PREFIXES = {TokenKind.API: "sw_api_", TokenKind.SERVER: "sw_srv_", TokenKind.FRONTEND: "sw_fe_"}
# A revocation reaches every instance at once through the bus; should a notice be
# lost (a LISTEN connection down), a cached key still stops working within this.
CACHE_SECONDS = 5.0
MAX_NAME = 100  # the audit log's actor (200 characters) holds the name and a label
HOST_REASON = "admin token replaced on the server host"
# The longest "user@hostname" kept of a host's name for what it does there (a token made
# on the server host, a sign-in link): the audit's actor "host:<user>@<hostname>" holds
# 200 characters. Public: web_sessions cuts host names to the same length.
MAX_HOST = 150


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenView:
    record: TokenRecord
    project: str | None  # the keys of the project and environment it is scoped to
    environment: str | None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    record: TokenRecord
    secret: str  # shown once; only its hash is stored
    project: str | None = None
    environment: str | None = None


class TokenTx(TokenStore, ProjectStore, AuditStore, Protocol):
    """What tokens touch: the tokens, the projects and environments they are scoped to,
    the audit log."""


class TokenService:
    def __init__(self, store: StoreOf[TokenTx], clock: Clock, bus: ChangeBus | None = None) -> None:
        self._store = store
        self._clock = clock
        self._bus = bus  # carries revocations to the other instances
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._cache_lock = threading.Lock()
        # Bumped by every ``forget``: a database read that began before a revocation
        # must not put the revoked key back into the cache when it ends after it.
        self._generation = 0

    def now(self) -> datetime:
        """The time expiry is judged by: people's time (the wall clock), even when the
        store runs on a demo's accelerated clock. A form's "expires in 90d" counts from it."""
        return self._clock()

    def create(
        self,
        principal: Principal,
        *,
        name: str,
        kind: str,
        project_key: str | None = None,
        environment_key: str | None = None,
        role: str | None = None,
        expires_at: datetime | None = None,
        reason: str | None = None,
    ) -> IssuedToken:
        token_kind = _parse(TokenKind, kind, "kind")
        token_role = _parse(Role, role, "role") if role is not None else None
        if not name.strip():
            raise Invalid("give the token a name people will recognise", field="name")
        if len(name) > MAX_NAME:
            raise Invalid(f"a token's name has at most {MAX_NAME} characters", field="name")
        if token_kind is not TokenKind.API and role is not None:
            raise Invalid(f"a {token_kind} key has no role; roles are for api tokens", field="role")
        if token_kind is TokenKind.API and environment_key is not None:
            raise Invalid(
                "an api token is scoped to a project, not an environment; "
                "SDK keys (server, frontend) belong to an environment",
                field="environment",
            )
        if expires_at is not None and expires_at <= self._clock():
            raise Invalid("expires_at is in the past", field="expires_at")
        with self._store.transaction() as tx:
            project = environment = None
            if project_key is not None:
                project = project_or_404(tx, project_key)
            if token_kind is TokenKind.API:
                if project is None:
                    if not principal.global_admin:
                        raise Invalid("an api token needs a project", field="project")
                    if token_role not in {None, Role.ADMIN}:
                        raise Invalid(
                            f"an api token without a project is a global admin token; "
                            f"give a project for a {token_role} token",
                            field="project",
                        )
                    token_role = Role.ADMIN  # a global admin token, like the first one
                elif token_role is None:
                    raise Invalid("an api token needs a role: " + ", ".join(Role), field="role")
            else:
                if project is None or environment_key is None:
                    raise Invalid(
                        f"a {token_kind} key needs a project and an environment",
                        field="environment",
                    )
                environment = environment_or_404(tx, project, environment_key)
            principal.require(Action.MANAGE_TOKENS, project)
            secret = PREFIXES[token_kind] + secrets.token_urlsafe(32)
            record = tx.add_token(
                name=name,
                kind=token_kind.value,
                role=None if token_role is None else token_role.value,
                project_id=None if project is None else project.id,
                environment_id=None if environment is None else environment.id,
                secret_hash=hash_secret(secret),
                prefix=secret[:12],
                created_by=principal.actor,
                expires_at=expires_at,
            )
            audit(
                tx,
                principal,
                "token.create",
                "token",
                f"{record.id}",
                project=project_key,
                environment=environment_key,
                after={
                    "name": name,
                    "kind": token_kind.value,
                    "role": record.role,
                    "prefix": record.prefix,
                },
                reason=reason,
            )
        return IssuedToken(record, secret, project_key, environment_key)

    def create_on_host(
        self, host: str, *, name: str | None = None, expires_at: datetime | None = None
    ) -> IssuedToken:
        """A new global admin token, made on the server host to replace a lost one. No
        token authorises it (there is none left); the host's own access to the database
        does. Made and audited like any other token, as ``host:<user>@<hostname>``."""
        host = host[:MAX_HOST]
        who = Principal(actor=f"host:{host}", kind=TokenKind.API, global_admin=True, person=host)
        return self.create(
            who,
            name=name or f"admin ({host})"[:MAX_NAME],
            kind=TokenKind.API.value,
            role=Role.ADMIN.value,
            expires_at=expires_at,
            reason=HOST_REASON,
        )

    def bootstrap_admin(self, secret: str | None) -> tuple[bool, str | None]:
        """On an empty database, create the first (global admin) token, from ``secret``
        or a new one. Returns (created?, the secret if it was generated here) so the
        server can print a generated secret once."""
        with self._store.transaction() as tx:
            if tx.count_tokens() > 0:
                return False, None
            generated = secrets.token_urlsafe(32) if secret is None else None
            secret = secret or PREFIXES[TokenKind.API] + (generated or "")
            record = tx.add_token(
                name="first admin",
                kind=TokenKind.API.value,
                role=Role.ADMIN.value,
                project_id=None,
                environment_id=None,
                secret_hash=hash_secret(secret),
                prefix=secret[:12],
                created_by="system",
                expires_at=None,
            )
            after = {"name": record.name, "kind": "api", "role": "admin"}
            tx.append_audit(_system_entry("token.create", str(record.id), after))
        return True, (secret if generated else None)

    def peek(self, secret: str | None) -> Principal | None:
        """The principal for ``secret`` if it is in the cache and fresh: no database,
        so callers on the event loop can try this before ``authenticate`` in a thread."""
        if not secret:
            return None
        cached = self._cache.get(hash_secret(secret))
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        return None

    def authenticate(self, secret: str | None) -> Principal:
        if not secret:
            raise Unauthenticated("send a token: Authorization: Bearer <token>")
        digest = hash_secret(secret)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            principal = cached[1]
        else:
            generation = self._generation
            with self._store.read() as tx:
                record = tx.find_token(digest)
            if record is None:
                raise Unauthenticated("unknown token; create one with `shipwise token create`")
            if record.revoked_at is not None:
                raise Unauthenticated(f"token {record.prefix}… was revoked")
            principal = principal_of(record)
            expires = record.expires_at
            ttl = CACHE_SECONDS
            if expires is not None:
                if expires <= self._clock():
                    raise Unauthenticated(
                        f"token {record.prefix}… expired at {expires.isoformat()}"
                    )
                ttl = min(ttl, (expires - self._clock()).total_seconds())
            with self._cache_lock:
                if generation == self._generation:
                    self._cache[digest] = (now + ttl, principal)
        return principal

    def seconds_left(self, expires_at: datetime | None) -> float | None:
        """Seconds from now (by this service's clock) until ``expires_at``, a token's
        expiry; None for a token that never expires."""
        if expires_at is None:
            return None
        return max(0.0, (expires_at - self._clock()).total_seconds())

    def forget(self, token_id: int) -> None:
        """Drop a revoked token from this instance's cache: its next request goes to
        the database and is refused. The bus calls this on every instance."""
        with self._cache_lock:
            self._generation += 1
            stale = [d for d, (_, p) in self._cache.items() if p.token_id == token_id]
            for digest in stale:
                del self._cache[digest]

    def all(self, principal: Principal, project_key: str | None) -> list[TokenView]:
        """A project's tokens; without a project, every token for a global admin and the
        tokens of its own project for anyone else."""
        with self._store.read() as tx:
            names = _Names(tx)
            if project_key is not None:
                project: Project | None = project_or_404(tx, project_key)
            elif principal.global_admin or principal.project_id is None:
                project = None
            else:
                project = names.project(principal.project_id)
            principal.require(Action.MANAGE_TOKENS, project)
            records = tx.list_tokens(None if project is None else project.id)
            return [names.view(r) for r in records]

    def get(self, principal: Principal, token_id: int) -> TokenView:
        with self._store.read() as tx:
            names = _Names(tx)
            record = tx.get_token(token_id)
            if record is None:
                raise NotFound(f"no token {token_id}")
            principal.require(Action.MANAGE_TOKENS, names.project(record.project_id))
            return names.view(record)

    def revoke(self, principal: Principal, token_id: int) -> TokenView:
        """Revoke a token for good (again: nothing changes). It stops working on this
        instance at once, and on every other as soon as the bus carries the revocation
        there (milliseconds; ``CACHE_SECONDS`` at worst, should the notice be lost);
        its open streams end then too."""
        with self._store.transaction() as tx:
            names = _Names(tx)
            record = tx.get_token(token_id)
            if record is None:
                raise NotFound(f"no token {token_id}")
            project = names.project(record.project_id)
            principal.require(Action.MANAGE_TOKENS, project)
            if record.revoked_at is not None:
                return names.view(record)
            revoked = tx.revoke_token(token_id, self._clock())
            audit(
                tx,
                principal,
                "token.revoke",
                "token",
                str(token_id),
                project=None if project is None else project.key,
                before={"revoked_at": None},
                after={
                    "revoked_at": revoked.revoked_at.isoformat() if revoked.revoked_at else None
                },
            )
        self.forget(token_id)  # here at once, before the bus has carried anything
        if self._bus is not None:
            self._bus.publish_revocation(token_id)
        return TokenView(revoked, project.key if project else None, names.environment(revoked))


class _Names:
    """Project and environment keys for the ids a token record holds."""

    def __init__(self, tx: ProjectStore) -> None:
        self._tx = tx
        self._projects = {p.id: p for p in tx.list_projects()}

    def project(self, project_id: int | None) -> Project | None:
        return None if project_id is None else self._projects.get(project_id)

    def environment(self, record: TokenRecord) -> str | None:
        if record.environment_id is None:
            return None
        environment = self._tx.get_environment_by_id(record.environment_id)
        return None if environment is None else environment.key

    def view(self, record: TokenRecord) -> TokenView:
        project = self.project(record.project_id)
        return TokenView(record, project.key if project else None, self.environment(record))


E = TypeVar("E", TokenKind, Role)


def _parse(enum: type[E], value: str, field: str) -> E:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(e.value for e in enum)
        raise Invalid(f"unknown {field} {value!r}; choose one of {choices}", field=field) from None


def principal_of(record: TokenRecord) -> Principal:
    """Who a stored token acts as: its kind, role, project and environment scope, and
    the audit label "token:<name> (#<id>, <role or kind>)" its actions are recorded
    under. The one definition: an API request's bearer token and a dashboard session
    (which acts as the token it was signed in with, ``web_sessions``) both use it."""
    kind = TokenKind(record.kind)
    role = None if record.role is None else Role(record.role)
    global_admin = kind is TokenKind.API and record.project_id is None and role is Role.ADMIN
    # The id tells apart tokens that share a name; the audit log records this label.
    label = f"token:{record.name[:MAX_NAME]} (#{record.id}, {role or kind})"
    return Principal(
        actor=label,
        kind=kind,
        role=role,
        project_id=record.project_id,
        environment_id=record.environment_id,
        global_admin=global_admin,
        token_id=record.id,
        person=record.name,
        expires_at=record.expires_at,
    )


def _system_entry(action: str, key: str, after: Mapping[str, object]) -> AuditEntry:
    return AuditEntry(
        actor="system", action=action, target_type="token", target_key=key, after=after
    )

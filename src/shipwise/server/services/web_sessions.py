"""Signing in to the dashboard: a session made from a personal api token, or from a
one-time link an admin made for a person, and ended by signing out.

A session acts as one personal token: its principal is the token's, looked up afresh on
every request, so a revoked or expired token ends its sessions at once and approvals from
the page count exactly as from the CLI. Secrets (the session id in the cookie, a link's
code) are 32 random bytes from ``secrets``; only their SHA-256 is stored, as for tokens
(a slow hash adds nothing to 256 random bits). The CSRF secret is compared in constant
time."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shipwise.domain.access import Action, TokenKind
from shipwise.server.ports import (
    AuditStore,
    Clock,
    Clocked,
    Project,
    ProjectStore,
    SessionStore,
    SignInLinkRecord,
    StoreOf,
    TokenRecord,
    TokenStore,
)
from shipwise.server.services._common import audit, project_or_404
from shipwise.server.services.errors import Forbidden, Invalid, NotFound, Unauthenticated
from shipwise.server.services.principal import Principal
from shipwise.server.services.tokens import MAX_HOST, MAX_NAME, hash_secret, principal_of

SESSION_LIFETIME = timedelta(hours=12)  # from sign-in; not extended by use
LINK_MINUTES = 15  # a sign-in link's default lifetime
MAX_LINK_MINUTES = 24 * 60  # a link is a credential in a chat or an email: short-lived
# How often a session's "last seen" is written: a write per page view would serialise
# every reader behind SQLite's one writer for a timestamp nobody needs to the second.
TOUCH_EVERY = timedelta(minutes=5)
MAX_SECRET = 512  # longer than any token or code Shipwise makes: refused unhashed
# Ended sessions and spent links are deleted this long after they ended, at a sign-in:
# until then a spent link still says "used already" or "expired", not "unknown".
KEEP_ENDED = timedelta(days=1)


class SessionTx(Clocked, SessionStore, TokenStore, ProjectStore, AuditStore, Protocol):
    """What signing in touches: sessions and links, the tokens they act as, the projects
    those belong to (for the audit record), the audit log; and the store's clock."""


@dataclass(frozen=True, slots=True)
class SignedInSession:
    """A new session: ``secret`` goes into the cookie, and only there."""

    secret: str
    session_id: int
    csrf: str
    principal: Principal
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A session found by its cookie: who it acts as and the CSRF secret of its forms."""

    session_id: int
    csrf: str
    principal: Principal
    expires_at: datetime

    def csrf_matches(self, given: str | None) -> bool:
        """Whether a form's (or header's) CSRF token is this session's, in constant time."""
        if not given:
            return False
        return hmac.compare_digest(given.encode(), self.csrf.encode())


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A new sign-in link: ``code`` goes into the URL, shown once (only its hash is kept)."""

    code: str
    person: str
    token_prefix: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PendingLink:
    """A usable link, as its page shows it before anyone presses "Sign in"."""

    person: str
    expires_at: datetime


class WebSessionService:
    def __init__(self, store: StoreOf[SessionTx], clock: Clock | None = None) -> None:
        """``clock``: the people's clock that sessions and links expire by; by default
        the store's. ``serve`` gives the wall clock: under the demo's accelerated store
        clock a 12-hour session must still last 12 hours."""
        self._store = store
        self._clock = clock

    def _now(self, tx: Clocked) -> datetime:
        return self._clock() if self._clock is not None else tx.now()

    # -- signing in ---------------------------------------------------------------------

    def sign_in(self, secret: str | None) -> SignedInSession:
        """A session for a personal api token. The checks are ``TokenService.authenticate``'s
        (found by its hash, not revoked, not expired), made in the unit of work that
        opens the session, without the token cache; SDK keys are refused. Every refusal
        names the field ``token``."""
        secret = (secret or "").strip()
        if not secret:
            raise Invalid("enter your personal api token (sw_api_…)", field="token")
        if len(secret) > MAX_SECRET:
            raise Unauthenticated("unknown token; this is not one Shipwise made", field="token")
        with self._store.transaction() as tx:
            token = tx.find_token(hash_secret(secret))
            if token is None:
                raise Unauthenticated(
                    "unknown token; use your personal api token (`shipwise token create`)",
                    field="token",
                )
            if token.kind != TokenKind.API.value:
                raise Forbidden(
                    f"a {token.kind} SDK key cannot sign in; use a personal api token (sw_api_…)",
                    field="token",
                )
            problem = _token_problem(token, self._now(tx))
            if problem is not None:
                raise Unauthenticated(f"this token {problem}", field="token")
            return self._open(tx, principal_of(token), "session.sign-in", reason=None)

    def create_link(
        self,
        principal: Principal,
        person: str,
        *,
        minutes: int = LINK_MINUTES,
        project_key: str | None = None,
    ) -> IssuedLink:
        """A one-time link that signs in as ``person``'s most recent active personal
        token (of ``project_key``, when given). Only whoever may manage that token's
        tokens (its project's admins, global admins) may make one."""
        principal.require_api_token()
        person = person.strip()
        if not person or len(person) > MAX_NAME:
            raise Invalid(
                f"name the person (a token's name, at most {MAX_NAME} characters)", field="name"
            )
        if not 1 <= minutes <= MAX_LINK_MINUTES:
            raise Invalid(
                f"a sign-in link is valid for 1 to {MAX_LINK_MINUTES} minutes, not {minutes}",
                field="minutes",
            )
        with self._store.transaction() as tx:
            now = self._now(tx)
            project = None if project_key is None else project_or_404(tx, project_key)
            token = _newest_token(tx, principal, person, project, now)
            code = secrets.token_urlsafe(32)
            link = tx.add_sign_in_link(
                code_hash=hash_secret(code),
                token_id=token.id,
                created_by=principal.actor,
                expires_at=now + timedelta(minutes=minutes),
            )
            audit(
                tx,
                principal,
                "sign-in-link.create",
                "sign-in-link",
                str(link.id),
                project=_project_key(tx, token.project_id),
                after={
                    "person": token.name,
                    "token": token.prefix,
                    "expires_at": link.expires_at.isoformat(),
                },
            )
        return IssuedLink(code, token.name, token.prefix, link.expires_at)

    def create_link_on_host(
        self, host: str, person: str, *, minutes: int = LINK_MINUTES
    ) -> IssuedLink:
        """A link made on the server host (``scripts/start`` signing its demo admin in):
        no token authorises it, the host's own access to the database does; audited as
        ``host:<user>@<hostname>``, as ``token create --admin`` is."""
        host = host[:MAX_HOST]
        who = Principal(actor=f"host:{host}", kind=TokenKind.API, global_admin=True, person=host)
        return self.create_link(who, person, minutes=minutes)

    def pending_link(self, code: str) -> PendingLink:
        """Whom a link would sign in as, without using it (link scanners in mail and
        chat fetch URLs: a GET must not burn the link). Refused as ``use_link`` would."""
        with self._store.read() as tx:
            link, token = self._usable_link(tx, code)
        return PendingLink(token.name, link.expires_at)

    def use_link(self, code: str) -> SignedInSession:
        """A session from a link, which works once: a second use is refused."""
        with self._store.transaction() as tx:
            link, token = self._usable_link(tx, code)
            if not tx.use_sign_in_link(link.id, self._now(tx)):
                raise Unauthenticated(_USED, field="code")
            who = principal_of(token)
            return self._open(tx, who, "sign-in-link.use", reason=f"link {link.id}")

    # -- sessions -----------------------------------------------------------------------

    def session(self, secret: str | None) -> ActiveSession | None:
        """The live session a cookie names, or None: unknown, ended, expired, or acting
        as a token that was revoked or expired since."""
        if not secret or len(secret) > MAX_SECRET:
            return None
        with self._store.read() as tx:
            now = self._now(tx)
            record = tx.find_web_session(hash_secret(secret))
            if record is None or record.revoked_at is not None or record.expires_at <= now:
                return None
            token = tx.get_token(record.token_id)
        if token is None or _token_problem(token, now) is not None:
            return None
        if now - record.last_seen_at >= TOUCH_EVERY:
            with self._store.transaction() as tx:
                tx.touch_web_session(record.id, now)
        return ActiveSession(record.id, record.csrf, principal_of(token), record.expires_at)

    def sign_out(self, principal: Principal, session_id: int) -> None:
        """End the session for good; ending an ended one changes nothing."""
        with self._store.transaction() as tx:
            if not tx.revoke_web_session(session_id, self._now(tx)):
                return  # ended already (signed out in another tab): recorded then
            audit(
                tx,
                principal,
                "session.sign-out",
                "session",
                str(session_id),
                project=_project_key(tx, principal.project_id),
            )

    # -- inside -------------------------------------------------------------------------

    def _open(
        self, tx: SessionTx, who: Principal, action: str, reason: str | None
    ) -> SignedInSession:
        if who.token_id is None:  # every principal made from a token has its id
            raise Unauthenticated("sign in with a personal api token", field="token")
        # Sign-ins are when sessions are made, so they are when the ended ones go: the
        # tables stay the size of the sessions alive, whoever never signs out.
        tx.purge_sign_ins(self._now(tx) - KEEP_ENDED)
        secret = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        record = tx.add_web_session(
            id_hash=hash_secret(secret),
            token_id=who.token_id,
            csrf=csrf,
            expires_at=self._now(tx) + SESSION_LIFETIME,
        )
        audit(
            tx,
            who,
            action,
            "session",
            str(record.id),
            project=_project_key(tx, who.project_id),
            after={"expires_at": record.expires_at.isoformat()},
            reason=reason,
        )
        return SignedInSession(secret, record.id, csrf, who, record.expires_at)

    def _usable_link(self, tx: SessionTx, code: str) -> tuple[SignInLinkRecord, TokenRecord]:
        link = None if len(code) > MAX_SECRET else tx.find_sign_in_link(hash_secret(code))
        if link is None:
            raise Unauthenticated(
                "this sign-in link is not one Shipwise made; ask an admin for a new one "
                "(`shipwise login-link NAME`)",
                field="code",
            )
        now = self._now(tx)
        if link.used_at is not None:
            raise Unauthenticated(_USED, field="code")
        if link.expires_at <= now:
            raise Unauthenticated(
                f"this sign-in link expired at {link.expires_at.isoformat(timespec='seconds')}; "
                "ask an admin for a new one (`shipwise login-link NAME`)",
                field="code",
            )
        token = tx.get_token(link.token_id)
        problem = "was deleted" if token is None else _token_problem(token, now)
        if token is None or problem is not None:
            raise Unauthenticated(
                f"the token this link signs in with {problem}; ask an admin for a new link",
                field="code",
            )
        return link, token


_USED = "this sign-in link was used already; each works once: ask an admin for a new one"


def _token_problem(token: TokenRecord, now: datetime) -> str | None:
    """Why a token cannot stand behind a session now, or None."""
    if token.kind != TokenKind.API.value:
        return f"is a {token.kind} SDK key, not a personal api token"
    if token.revoked_at is not None:
        return f"({token.prefix}…) was revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return f"({token.prefix}…) expired"
    return None


def _newest_token(
    tx: SessionTx, principal: Principal, person: str, project: Project | None, now: datetime
) -> TokenRecord:
    """``person``'s most recent active personal token that ``principal`` may manage."""
    named = [
        t
        for t in tx.list_tokens(None if project is None else project.id)
        if t.name == person and _token_problem(t, now) is None
    ]
    if not named:
        where = f" in project {project.key!r}" if project else ""
        raise NotFound(
            f"{person!r} has no active personal api token{where}; create one with "
            f"`shipwise token create --name {person!r} --kind api --role ROLE -p PROJECT`",
            field="name",
        )
    projects = {p.id: p for p in tx.list_projects()}
    allowed: Sequence[TokenRecord] = [t for t in named if _may_manage(principal, t, projects)]
    if not allowed:
        raise Forbidden(
            f"only an admin of {person!r}'s project (or a global admin) may make a sign-in "
            f"link for {person!r}"
        )
    return max(allowed, key=lambda t: (t.created_at, t.id))


def _may_manage(principal: Principal, token: TokenRecord, projects: dict[int, Project]) -> bool:
    project = None if token.project_id is None else projects.get(token.project_id)
    try:
        principal.require(Action.MANAGE_TOKENS, project)
    except Forbidden:
        return False
    return True


def _project_key(tx: ProjectStore, project_id: int | None) -> str | None:
    """The key the audit log files a project's records under (None: no project)."""
    if project_id is None:
        return None
    return next((p.key for p in tx.list_projects() if p.id == project_id), None)

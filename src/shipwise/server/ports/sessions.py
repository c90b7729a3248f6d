"""Dashboard sessions and one-time sign-in links: only the hashes of their secrets are
stored, as for tokens. Each acts as one personal api token (``token_id``), so a session
is exactly as strong as that token, and stops working when the token does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WebSessionRecord:
    id: int
    token_id: int  # the personal token the session acts as
    csrf: str  # the secret every form of the session carries back (not a credential alone)
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class SignInLinkRecord:
    id: int
    token_id: int  # the personal token a session made from the link acts as
    created_by: str  # the audit actor of the admin who made it
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


class SessionStore(Protocol):
    """Web sessions and sign-in links, found by the SHA-256 of their secret."""

    def add_web_session(
        self, *, id_hash: str, token_id: int, csrf: str, expires_at: datetime
    ) -> WebSessionRecord:
        """Stamped (created, last seen) with the store's clock."""
        ...

    def find_web_session(self, id_hash: str) -> WebSessionRecord | None: ...
    def touch_web_session(self, session_id: int, at: datetime) -> None:
        """Record that the session was seen at ``at``."""
        ...

    def revoke_web_session(self, session_id: int, at: datetime) -> bool:
        """End the session at ``at``; False when it had ended already (that end stands)."""
        ...

    def add_sign_in_link(
        self, *, code_hash: str, token_id: int, created_by: str, expires_at: datetime
    ) -> SignInLinkRecord: ...
    def find_sign_in_link(self, code_hash: str) -> SignInLinkRecord | None: ...
    def use_sign_in_link(self, link_id: int, at: datetime) -> bool:
        """Mark the link used at ``at`` if nobody has yet; False when it was used
        already. Two units of work using one link at once: exactly one gets True."""
        ...

    def purge_sign_ins(self, ended_before: datetime) -> int:
        """Delete the sessions that expired or were ended before ``ended_before``, and the
        links that expired or were used before it; how many rows went. Nothing of them
        is of use any more (the audit log keeps who signed in when)."""
        ...

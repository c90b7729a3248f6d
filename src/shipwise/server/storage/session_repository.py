"""Dashboard sessions and one-time sign-in links, mixed into ``SqlTransaction``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from shipwise.server.ports import SignInLinkRecord, WebSessionRecord
from shipwise.server.storage.tables import SignInLinkRow, WebSessionRow
from shipwise.server.storage.timestamps import utc, utc_or_none


def _session(row: WebSessionRow) -> WebSessionRecord:
    return WebSessionRecord(
        id=row.id,
        token_id=row.token_id,
        csrf=row.csrf,
        created_at=utc(row.created_at),
        expires_at=utc(row.expires_at),
        last_seen_at=utc(row.last_seen_at),
        revoked_at=utc_or_none(row.revoked_at),
    )


def _link(row: SignInLinkRow) -> SignInLinkRecord:
    return SignInLinkRecord(
        id=row.id,
        token_id=row.token_id,
        created_by=row.created_by,
        created_at=utc(row.created_at),
        expires_at=utc(row.expires_at),
        used_at=utc_or_none(row.used_at),
    )


class SessionQueries:
    session: Session
    _now: Callable[[], datetime]
    _flush_new: Callable[[str], None]  # SqlTransaction's: a taken unique key is KeyTaken

    def add_web_session(
        self, *, id_hash: str, token_id: int, csrf: str, expires_at: datetime
    ) -> WebSessionRecord:
        now = self._now()
        row = WebSessionRow(
            id_hash=id_hash,
            token_id=token_id,
            csrf=csrf,
            created_at=now,
            expires_at=expires_at,
            last_seen_at=now,
        )
        self.session.add(row)
        self._flush_new("web session")
        return _session(row)

    def find_web_session(self, id_hash: str) -> WebSessionRecord | None:
        row = self.session.scalar(select(WebSessionRow).where(WebSessionRow.id_hash == id_hash))
        return None if row is None else _session(row)

    def touch_web_session(self, session_id: int, at: datetime) -> None:
        self.session.execute(
            update(WebSessionRow).where(WebSessionRow.id == session_id).values(last_seen_at=at)
        )

    def revoke_web_session(self, session_id: int, at: datetime) -> bool:
        result = self.session.execute(
            update(WebSessionRow)
            .where(WebSessionRow.id == session_id, WebSessionRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    def add_sign_in_link(
        self, *, code_hash: str, token_id: int, created_by: str, expires_at: datetime
    ) -> SignInLinkRecord:
        row = SignInLinkRow(
            code_hash=code_hash,
            token_id=token_id,
            created_by=created_by,
            created_at=self._now(),
            expires_at=expires_at,
        )
        self.session.add(row)
        self._flush_new("sign-in link")
        return _link(row)

    def find_sign_in_link(self, code_hash: str) -> SignInLinkRecord | None:
        row = self.session.scalar(select(SignInLinkRow).where(SignInLinkRow.code_hash == code_hash))
        return None if row is None else _link(row)

    def use_sign_in_link(self, link_id: int, at: datetime) -> bool:
        # One conditional UPDATE: on PostgreSQL a second, concurrent use waits for the
        # first's row lock, then finds used_at set and changes nothing (SQLite has one
        # writer already), so a link signs in exactly once.
        result = self.session.execute(
            update(SignInLinkRow)
            .where(SignInLinkRow.id == link_id, SignInLinkRow.used_at.is_(None))
            .values(used_at=at)
        )
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    def purge_sign_ins(self, ended_before: datetime) -> int:
        sessions = self.session.execute(
            delete(WebSessionRow).where(
                or_(
                    WebSessionRow.expires_at < ended_before,
                    WebSessionRow.revoked_at < ended_before,
                )
            )
        )
        links = self.session.execute(
            delete(SignInLinkRow).where(
                or_(SignInLinkRow.expires_at < ended_before, SignInLinkRow.used_at < ended_before)
            )
        )
        return int(sessions.rowcount) + int(links.rowcount)  # type: ignore[attr-defined]

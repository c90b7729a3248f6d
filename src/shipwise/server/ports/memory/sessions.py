"""Dashboard sessions and one-time sign-in links, in memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from shipwise.server.ports.errors import KeyTaken
from shipwise.server.ports.memory.base import MemoryBase
from shipwise.server.ports.memory.tables import utc
from shipwise.server.ports.sessions import SignInLinkRecord, WebSessionRecord


class SessionQueries(MemoryBase):
    def add_web_session(
        self, *, id_hash: str, token_id: int, csrf: str, expires_at: datetime
    ) -> WebSessionRecord:
        if any(hash_ == id_hash for _, hash_ in self._t.web_sessions.values()):
            raise KeyTaken("web session")
        now = utc(self._now())
        record = WebSessionRecord(
            self._t.next_id("web_sessions"), token_id, csrf, now, utc(expires_at), now, None
        )
        self._t.web_sessions[record.id] = (record, id_hash)
        return record

    def find_web_session(self, id_hash: str) -> WebSessionRecord | None:
        for record, hash_ in self._t.web_sessions.values():
            if hash_ == id_hash:
                return record
        return None

    def touch_web_session(self, session_id: int, at: datetime) -> None:
        found = self._t.web_sessions.get(session_id)
        if found is not None:
            record, hash_ = found
            self._t.web_sessions[session_id] = (replace(record, last_seen_at=utc(at)), hash_)

    def revoke_web_session(self, session_id: int, at: datetime) -> bool:
        found = self._t.web_sessions.get(session_id)
        if found is None or found[0].revoked_at is not None:
            return False
        record, hash_ = found
        self._t.web_sessions[session_id] = (replace(record, revoked_at=utc(at)), hash_)
        return True

    def add_sign_in_link(
        self, *, code_hash: str, token_id: int, created_by: str, expires_at: datetime
    ) -> SignInLinkRecord:
        if any(hash_ == code_hash for _, hash_ in self._t.sign_in_links.values()):
            raise KeyTaken("sign-in link")
        record = SignInLinkRecord(
            self._t.next_id("sign_in_links"),
            token_id,
            created_by,
            utc(self._now()),
            utc(expires_at),
            None,
        )
        self._t.sign_in_links[record.id] = (record, code_hash)
        return record

    def find_sign_in_link(self, code_hash: str) -> SignInLinkRecord | None:
        for record, hash_ in self._t.sign_in_links.values():
            if hash_ == code_hash:
                return record
        return None

    def use_sign_in_link(self, link_id: int, at: datetime) -> bool:
        found = self._t.sign_in_links.get(link_id)
        if found is None or found[0].used_at is not None:
            return False
        record, hash_ = found
        self._t.sign_in_links[link_id] = (replace(record, used_at=utc(at)), hash_)
        return True

    def purge_sign_ins(self, ended_before: datetime) -> int:
        cut = utc(ended_before)
        sessions = self._t.web_sessions
        links = self._t.sign_in_links
        gone = [i for i, (r, _) in sessions.items() if _ended(r.expires_at, r.revoked_at, cut)]
        used = [i for i, (r, _) in links.items() if _ended(r.expires_at, r.used_at, cut)]
        for session_id in gone:
            del sessions[session_id]
        for link_id in used:
            del links[link_id]
        return len(gone) + len(used)


def _ended(expires_at: datetime, ended_at: datetime | None, cut: datetime) -> bool:
    return expires_at < cut or (ended_at is not None and ended_at < cut)

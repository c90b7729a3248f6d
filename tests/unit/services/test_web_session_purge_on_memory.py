"""Ended dashboard sessions and spent sign-in links are deleted at a later sign-in, a
day after they ended (``KEEP_ENDED``), on the memory store with a hand-set clock; a
link spent less than a day ago still says it was used."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.support.clock import ManualClock

from shipwise.server.ports.memory import MemoryStore
from shipwise.server.services.errors import Unauthenticated
from shipwise.server.services.tokens import TokenService, hash_secret
from shipwise.server.services.web_sessions import (
    KEEP_ENDED,
    SESSION_LIFETIME,
    WebSessionService,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _signed_in_world() -> tuple[ManualClock, MemoryStore, WebSessionService, str]:
    clock = ManualClock(START)
    store = MemoryStore(clock)
    secret = TokenService(store, clock).create_on_host("ops@host", name="ana").secret
    return clock, store, WebSessionService(store), secret


def test_sign_in__a_day_after_a_session_expired__deletes_it_and_the_spent_link() -> None:
    clock, store, sessions, secret = _signed_in_world()
    old = sessions.sign_in(secret)
    link = sessions.create_link_on_host("ops@host", "ana")
    sessions.use_link(link.code)
    clock.advance(seconds=(SESSION_LIFETIME + KEEP_ENDED).total_seconds() + 1)

    sessions.sign_in(secret)

    with store.read() as tx:
        assert tx.find_web_session(hash_secret(old.secret)) is None
        assert tx.find_sign_in_link(hash_secret(link.code)) is None


def test_sign_in__within_a_day_of_a_link_being_used__keeps_it_so_it_still_says_used() -> None:
    clock, store, sessions, secret = _signed_in_world()
    link = sessions.create_link_on_host("ops@host", "ana")
    first = sessions.use_link(link.code)
    clock.advance(hours=23)

    sessions.sign_in(secret)

    with store.read() as tx:
        assert tx.find_sign_in_link(hash_secret(link.code)) is not None
        assert tx.find_web_session(hash_secret(first.secret)) is not None
    with pytest.raises(Unauthenticated, match="used already"):
        sessions.use_link(link.code)

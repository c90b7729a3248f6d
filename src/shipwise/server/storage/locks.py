"""Which process runs the rollout runner.

PostgreSQL: a session-level advisory lock held on a connection of its own. If the
process dies, its connection closes and the server frees the lock at once; the next
instance to ask takes over. SQLite (one machine): a lease row with an expiry that the
holder renews; a holder that stops renewing loses it when it expires.

A database that cannot serve (``errors.py``) raises ``StorageUnavailable`` from
``acquire``, so the loop says why it paused instead of "standing by".
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from shipwise.server.storage.errors import translate
from shipwise.server.storage.tables import RunnerLeaseRow

log = logging.getLogger(__name__)

RUNNER_LOCK_KEY = 0x5348_5255  # "SHRU": the rollout runner's advisory lock


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PostgresAdvisoryLock:
    def __init__(self, engine: Engine, key: int = RUNNER_LOCK_KEY) -> None:
        self._engine = engine
        self._key = key
        self._connection: Any = None

    def acquire(self) -> bool:
        try:
            if self._connection is not None:
                # Still ours while the connection is alive.
                self._connection.execute(text("SELECT 1"))
                return True
            connection = self._engine.connect()
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar()
            connection.commit()
            if got:
                self._connection = connection
                return True
            connection.close()
            return False
        except DBAPIError as error:
            self._drop()
            translated = translate(error, sqlite=False)
            if translated is not None:
                raise translated from error
            log.warning("runner lock lost: %s", error)
            return False

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(DBAPIError):
                connection.invalidate()

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
            connection.commit()
            connection.close()
        except DBAPIError:
            connection.invalidate()


class SqliteLease:
    def __init__(
        self,
        engine: Engine,
        holder: str | None = None,
        ttl: timedelta = timedelta(seconds=15),
        name: str = "rollouts",
    ) -> None:
        self._engine = engine
        self.holder = holder or holder_name()
        self._ttl = ttl
        self._name = name

    def acquire(self) -> bool:
        # Leases run on real time, whatever clock the runner's decisions use.
        now = datetime.now(UTC)
        try:
            with self._engine.begin() as connection:
                row = connection.execute(
                    select(RunnerLeaseRow.holder, RunnerLeaseRow.expires_at).where(
                        RunnerLeaseRow.name == self._name
                    )
                ).first()
                if row is None:
                    connection.execute(
                        insert(RunnerLeaseRow).values(
                            name=self._name, holder=self.holder, expires_at=now + self._ttl
                        )
                    )
                    return True
                expires = row.expires_at
                if expires.tzinfo is None:
                    expires = expires.replace(tzinfo=UTC)
                if row.holder != self.holder and expires > now:
                    return False
                result = connection.execute(
                    update(RunnerLeaseRow)
                    .where(
                        RunnerLeaseRow.name == self._name,
                        RunnerLeaseRow.holder == row.holder,
                        RunnerLeaseRow.expires_at == row.expires_at,
                    )
                    .values(holder=self.holder, expires_at=now + self._ttl)
                )
                return bool(result.rowcount)
        except IntegrityError as error:
            log.debug("runner lease not taken: %s", error)
            return False
        except DBAPIError as error:
            translated = translate(error, sqlite=True)
            if translated is not None:
                raise translated from error
            log.debug("runner lease not taken: %s", error)
            return False

    def release(self) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    delete(RunnerLeaseRow).where(
                        RunnerLeaseRow.name == self._name, RunnerLeaseRow.holder == self.holder
                    )
                )
        except DBAPIError as error:
            log.warning("could not release the runner lease: %s", error)

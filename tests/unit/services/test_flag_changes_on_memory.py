"""Flag changes on the memory store (no database, no server): a hand edit that widens
exposure in a protected environment is refused and changes nothing; one that reduces it,
or any edit where nothing is protected, goes through with its audit record."""

from __future__ import annotations

import pytest
from tests.support.clock import ManualClock
from tests.support.store_backend import START

from shipwise.server.ports import AuditFilter
from shipwise.server.ports.memory import MemoryStore
from shipwise.server.services.errors import Refused
from shipwise.server.services.flags import FlagService
from shipwise.server.services.principal import SYSTEM
from shipwise.server.services.projects import ProjectService


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore(ManualClock(START))
    ProjectService(store).create(SYSTEM, "shop", "Shop")
    FlagService(store).create(SYSTEM, "shop", "checkout")
    return store


def _audit_actions(store: MemoryStore) -> list[str]:
    with store.read() as tx:
        return [r.entry.action for r in tx.list_audit(AuditFilter(project="shop"))]


def test_set_enabled__in_protected_production_by_hand__is_refused_and_changes_nothing(
    store: MemoryStore,
) -> None:
    flags = FlagService(store)
    before = _audit_actions(store)

    with pytest.raises(Refused, match="checkout"):
        flags.set_enabled(SYSTEM, "shop", "checkout", "production", True)

    assert flags.config(SYSTEM, "shop", "checkout", "production").enabled is False
    assert _audit_actions(store) == before


def test_set_enabled__in_an_unprotected_environment__is_saved_and_audited(
    store: MemoryStore,
) -> None:
    flags = FlagService(store)

    updated = flags.set_enabled(SYSTEM, "shop", "checkout", "dev", True)

    assert (updated.enabled, updated.version) == (True, 2)
    assert _audit_actions(store)[0] == "flag.enable"


def test_set_enabled__switching_off_in_production__needs_no_release(store: MemoryStore) -> None:
    flags = FlagService(store)

    updated = flags.set_enabled(SYSTEM, "shop", "checkout", "production", False)

    assert updated.enabled is False
    assert _audit_actions(store)[0] == "flag.disable"

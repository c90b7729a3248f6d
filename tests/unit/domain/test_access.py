"""``access``: the role table's product rules that hold for every role at once."""

from __future__ import annotations

import pytest

from shipwise.domain.access import Action, Role, allows


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_allows__a_role_that_may_switch_a_flag_off__may_also_kill_it(role: Role) -> None:
    # Control, then speed of retreat: the two ways to show a feature to fewer people
    # are granted together (disabling needs write-flags; killing and rollback need kill).
    assert allows(role, Action.WRITE_FLAGS) == allows(role, Action.KILL)


@pytest.mark.parametrize("role", [Role.DEVELOPER, Role.QA], ids=str)
def test_allows__developers_and_qa__may_kill_a_flag(role: Role) -> None:
    assert allows(role, Action.KILL)


def test_allows__a_viewer__may_neither_switch_off_nor_kill() -> None:
    assert not allows(Role.VIEWER, Action.WRITE_FLAGS)
    assert not allows(Role.VIEWER, Action.KILL)

"""The gate registry is the one place a gate lives: every gate has a label and says what
it asks for, evaluation and description walk it in one order, and a gate added to it is
judged, described and labelled with nothing else to change. A gate bypassed on the hotfix
path, and the path itself, are fields of the result."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from tests.unit.domain.example_policy import POLICY

from shipwise.domain import gates
from shipwise.domain.gates import (
    BYPASSED,
    GATES,
    REGISTRY,
    Gate,
    GateRegistry,
    Item,
    Judged,
    Judging,
    Where,
    ok,
    stage_setting,
)
from shipwise.domain.policy_model import Policy
from shipwise.domain.releases import (
    Approval,
    ApproverRole,
    ChangeKind,
    CiResult,
    Evidence,
    Release,
    Severity,
)

CREATED = datetime(2026, 2, 23, 8, 0, tzinfo=UTC)
MONDAY_10_OSLO = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SATURDAY_NIGHT = datetime(2026, 3, 7, 22, 0, tzinfo=UTC)
FIX_COMMIT = "0123456789abcdef0123456789abcdef01234567"
# Every gate turned on: the example production stage with a checklist item and the
# help-docs gate too (which asks features labelled "major").
EVERYTHING = replace(
    POLICY,
    stages=(
        *POLICY.stages[:-1],
        replace(POLICY.stages[-1], checklist=("Notes shared",), require_help_docs=True),
    ),
)


def _feature(**fields: object) -> Release:
    base = Release(
        id=1,
        project="crm",
        key="checkout",
        title="One-page checkout",
        kind=ChangeKind.FEATURE,
        owner="alice",
        created_at=CREATED,
        content_changed_at=CREATED,
        flags=("checkout-v2",),
        stage="staging",
        authors=("alice",),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def _hotfix() -> Release:
    return _feature(
        key="login-crash",
        kind=ChangeKind.BUGFIX,
        severity=Severity.CRITICAL,
        branch="main",
        flags=(),
        stage=None,
        commit=FIX_COMMIT,
        justification="Nobody can log in.",
    )


def _hotfix_evidence() -> Evidence:
    later = CREATED + timedelta(hours=1)
    roles = frozenset({ApproverRole.CODE_OWNER})
    return Evidence(
        approvals=tuple(Approval(who, roles, "production", later, 1) for who in ("erin", "frank")),
        ci=(CiResult(FIX_COMMIT, "tests", "success", later),),
    )


def _ids(registry: GateRegistry, release: Release, policy: Policy = EVERYTHING) -> list[str]:
    decision = registry.evaluate(release, "production", policy, Evidence(), (), MONDAY_10_OSLO)
    return [g.gate for g in decision.gates]


def _described(registry: GateRegistry, release: Release, policy: Policy = EVERYTHING) -> list[str]:
    return [gate for gate, _words in registry.describe(release, "production", policy)]


def test_gates_package__public_names__all_exist() -> None:
    assert all(hasattr(gates, name) for name in gates.__all__)


# -- every gate is whole --------------------------------------------------------------------


@pytest.mark.parametrize("gate", GATES, ids=[g.id for g in GATES])
def test_registry__every_gate__has_a_label_in_words(gate: Gate) -> None:
    assert gate.label.strip()
    assert gate.label != gate.id
    assert gates.gate_label(gate.id) == gate.label


def test_registry__every_gate_that_asks_for_something__describes_it_on_one_path() -> None:
    # Given every gate turned on, on the normal path and on the hotfix path
    major = _feature(labels=("major",))
    described = set(_described(REGISTRY, major)) | set(_described(REGISTRY, _hotfix()))
    families = {g.id for g in GATES if g.is_family}
    described = {gate.partition(":")[0] if ":" in gate else gate for gate in described}

    # Then every gate is described, but the two preconditions that ask for nothing
    # beforehand (the release is in progress, it moves forward)
    preconditions = {g.id for g in GATES if not g.needs_stage}
    assert families <= described
    assert described == {g.id for g in GATES} - preconditions
    assert preconditions == {"status", "order"}


@pytest.mark.parametrize("release", [_feature(), _hotfix()], ids=["normal path", "hotfix path"])
def test_registry__describe_and_evaluate__report_gates_in_the_same_order(release: Release) -> None:
    judged = _ids(REGISTRY, release)
    described = _described(REGISTRY, release)

    assert described == [gate for gate in judged if gate in described]
    assert set(described) <= set(judged)


# -- the registry is the one place ----------------------------------------------------------


def _notes_written(judging: Judging, _item: Item) -> Judged:
    """A gate on evidence the release already carries: its description."""
    return ok("written") if judging.release.title else Judged(False, "none", "write some")


RELEASE_NOTES = Gate(
    "release-notes",
    "Release notes written",
    applies=lambda where: not where.hotfix,
    describe=lambda _where, _item: "release notes written",
    judge=_notes_written,
)


def test_registry__a_gate_added__is_judged_described_and_labelled_in_its_place() -> None:
    # Given the registry with one more gate, after CI
    position = [g.id for g in GATES].index("ci") + 1
    registry = GateRegistry((*GATES[:position], RELEASE_NOTES, *GATES[position:]))

    # When a promotion is judged and described
    judged = _ids(registry, _feature())
    described = _described(registry, _feature())

    # Then the new gate is in both, right after CI, and has its label
    assert judged[judged.index("ci") + 1] == "release-notes"
    assert described[described.index("ci") + 1] == "release-notes"
    assert registry.label("release-notes") == "Release notes written"
    assert "release-notes" not in _ids(REGISTRY, _feature())


def test_registry__two_gates_with_one_id__refused() -> None:
    with pytest.raises(ValueError, match="listed twice: ci"):
        GateRegistry((*GATES, replace(RELEASE_NOTES, id="ci")))


def test_stage_setting__misspelt__refused_when_the_gate_is_defined() -> None:
    with pytest.raises(ValueError, match="no setting 'require_release_note'"):
        stage_setting("require_release_note")


def test_where__target_outside_the_pipeline__has_no_stage_to_read() -> None:
    where = Where(_feature(), "moon", POLICY, False, None)

    with pytest.raises(ValueError, match="'moon' is not a stage"):
        _ = where.stage


# -- the hotfix path as fields --------------------------------------------------------------


def test_hotfix_gates__saturday_night__business_hours_passed_and_marked_bypassed() -> None:
    decision = gates.hotfix_gates(_hotfix(), POLICY, _hotfix_evidence(), SATURDAY_NIGHT)

    hours = next(g for g in decision.gates if g.gate == "business-hours")
    freeze = next(g for g in decision.gates if g.gate == "freeze")
    assert decision.allowed
    assert (hours.passed, hours.bypassed, hours.remedy) == (True, True, None)
    assert hours.detail.startswith(f"{BYPASSED}: ")
    assert (freeze.passed, freeze.bypassed) == (True, False)
    assert decision.bypassed == ("business-hours",)
    assert decision.hotfix_path
    assert all(g.hotfix_path for g in decision.gates)


def test_evaluate__normal_path__no_gate_is_on_the_hotfix_path_or_bypassed() -> None:
    decision = gates.evaluate_promotion(
        _feature(), "production", POLICY, Evidence(), (), SATURDAY_NIGHT
    )

    assert not decision.hotfix_path
    assert not any(g.hotfix_path or g.bypassed for g in decision.gates)
    assert not next(g for g in decision.gates if g.gate == "business-hours").passed


# -- the first unmet gate, for a board's card ----------------------------------------------


@pytest.mark.parametrize(
    ("release", "evidence", "now"),
    [
        (_feature(), Evidence(), MONDAY_10_OSLO),
        (_feature(), Evidence(), SATURDAY_NIGHT),
        (_hotfix(), Evidence(), SATURDAY_NIGHT),
        (_hotfix(), _hotfix_evidence(), SATURDAY_NIGHT),  # allowed: nothing unmet
    ],
    ids=["feature, no evidence", "feature, saturday", "hotfix, no evidence", "hotfix, allowed"],
)
def test_first_unmet_gate__is_the_first_unmet_of_the_whole_evaluation(
    release: Release, evidence: Evidence, now: datetime
) -> None:
    decision = gates.evaluate_promotion(release, "production", POLICY, evidence, (), now)

    first = gates.first_unmet_gate(release, "production", POLICY, evidence, (), now)

    assert first == (decision.unmet[0] if decision.unmet else None)


def _never(_judging: Judging, _item: Item) -> Judged:
    raise AssertionError("a gate after the first unmet one was judged")


def test_first_unmet_gate__judges_no_gate_after_it() -> None:
    # Given a gate after CI that must not be judged, and no CI result (CI is unmet)
    position = [g.id for g in GATES].index("ci") + 1
    after = Gate(
        "after", "After", applies=lambda _where: True, describe=lambda *_: None, judge=_never
    )
    registry = GateRegistry((*GATES[:position], after, *GATES[position:]))
    release = _feature(stage="staging")

    # When the first unmet gate is asked for
    first = registry.first_unmet(release, "production", EVERYTHING, Evidence(), (), MONDAY_10_OSLO)

    # Then it is one before the new gate, and the new gate was never judged
    assert first is not None
    assert [g.id for g in GATES].index(first.gate.partition(":")[0]) < position

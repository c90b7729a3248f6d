"""The help-docs gate: a feature labelled "major" promoted into a stage that asks for it
needs its help-docs page recorded; other releases pass by it; and the stage switch
``require_help_docs`` is read, checked and written back by the policy file."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from tests.unit.domain.example_policy import POLICY

from shipwise.domain.gates.registry import REGISTRY
from shipwise.domain.policy import dump_policy, parse_policy
from shipwise.domain.policy_reading import PolicyError
from shipwise.domain.releases import ChangeKind, Evidence, Release

CREATED = datetime(2026, 2, 23, 8, 0, tzinfo=UTC)
MONDAY_10_OSLO = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ASKING = replace(
    POLICY, stages=(*POLICY.stages[:-1], replace(POLICY.stages[-1], require_help_docs=True))
)


def _release(**fields: object) -> Release:
    base = Release(
        id=1,
        project="crm",
        key="rel-4",
        title="One-page checkout",
        kind=ChangeKind.FEATURE,
        owner="alice",
        created_at=CREATED,
        content_changed_at=CREATED,
        stage="staging",
        labels=("Major",),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def _gate(release: Release, policy: object = ASKING) -> list[tuple[bool, str, str | None]]:
    decision = REGISTRY.evaluate(release, "production", policy, Evidence(), (), MONDAY_10_OSLO)  # type: ignore[arg-type]
    return [(g.passed, g.detail, g.remedy) for g in decision.gates if g.gate == "help-docs"]


def test_help_docs_gate__major_feature_without_a_page__refuses_naming_the_command() -> None:
    [(passed, detail, remedy)] = _gate(_release())

    assert not passed
    assert detail == "rel-4 is a major feature and no help-docs page is recorded"
    assert remedy is not None
    assert "`shipwise release help-docs rel-4 URL -p crm`" in remedy


def test_help_docs_gate__major_feature_with_its_page__passes_naming_it() -> None:
    page = "https://help.example.com/checkout"

    [(passed, detail, _remedy)] = _gate(_release(help_docs=page))

    assert passed
    assert detail == f"help docs updated: {page}"


@pytest.mark.parametrize(
    "fields",
    [
        {"labels": ()},
        {"labels": ("majorly",)},
        {"kind": ChangeKind.BUGFIX},
    ],
    ids=["unlabelled feature", "another label", "bug fix labelled major"],
)
def test_help_docs_gate__not_a_major_feature__does_not_apply(fields: dict[str, object]) -> None:
    assert _gate(_release(**fields)) == []


def test_help_docs_gate__stage_that_does_not_ask__does_not_apply() -> None:
    assert _gate(_release(), POLICY) == []


def test_describe__major_feature__lists_the_help_docs_page_beforehand() -> None:
    described = dict(REGISTRY.describe(_release(), "production", ASKING))

    assert described["help-docs"] == "the help-docs page for this major feature, recorded"


def test_policy__require_help_docs__round_trips_through_the_file() -> None:
    text = dump_policy(ASKING)
    assert "require_help_docs = true" in text

    again = parse_policy(text)

    assert again == ASKING
    assert [s.require_help_docs for s in again.stages] == [False, False, True]


def test_policy__require_help_docs_not_true_or_false__is_refused_naming_the_key() -> None:
    text = dump_policy(ASKING).replace("require_help_docs = true", 'require_help_docs = "yes"')

    with pytest.raises(PolicyError) as refused:
        parse_policy(text)

    assert "require_help_docs" in str(refused.value)

"""``[[stage]]`` settings: the examples in messages name the pipeline's own stage before
production (not a "staging" it may not have), and every stage setting has its key."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import pytest

from shipwise.domain.pipeline import stage_before_production
from shipwise.domain.policy import PolicyError, default_policy, dump_policy, parse_policy
from shipwise.domain.policy_model import StageGates
from shipwise.domain.policy_stages import STAGE_KEYS, SWITCHES
from shipwise.domain.release_route import pre_production

DEV_QA_PROD = """
[[stage]]
environment = "dev"
branch = "dev"

[[stage]]
environment = "qa"
branch = "qa"

[[stage]]
environment = "prod"
branch = "main"
"""


def _problem(text: str) -> tuple[str | None, str]:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text)
    return raised.value.key, raised.value.problem


def test_parse_policy__empty_drill_environment_in_dev_qa_prod__suggests_qa() -> None:
    # Given a pipeline dev → qa → prod whose production drill environment is left empty
    text = DEV_QA_PROD + 'rollback_drill_in = ""\n'

    # When it is read
    key, problem = _problem(text)

    # Then the example is the pipeline's stage before production, not "staging"
    assert (key, problem) == (
        "stage[2].rollback_drill_in",
        'is empty; write rollback_drill_in = "qa"',
    )


def test_parse_policy__signoff_without_environment_in_dev_qa_prod__suggests_qa() -> None:
    text = DEV_QA_PROD + 'signoffs = [{ kind = "qa" }]\n'

    key, problem = _problem(text)

    assert (key, problem) == (
        "stage[2].signoffs[0].environment",
        'is missing from a sign-off; write environment = "qa"',
    )


def test_parse_policy__signoffs_not_a_list_with_known_environments__example_uses_them() -> None:
    text = DEV_QA_PROD.replace('"qa"', '"uat"') + 'signoffs = "qa"\n'

    with pytest.raises(PolicyError) as raised:
        parse_policy(text, known_environments=["dev", "uat", "prod"])

    assert raised.value.problem.endswith('write signoffs = [{ kind = "qa", environment = "uat" }]')


def test_parse_policy__a_stage_written_protected__examples_name_the_stage_before_it() -> None:
    # Given dev → uat → prod → dr where prod, not the last stage, is the protected one
    text = (
        DEV_QA_PROD.replace('"qa"', '"uat"')
        + 'protected = true\n\n[[stage]]\nenvironment = "dr"\nbranch = "dr"\n'
        + 'protected = false\nrollback_drill_in = ""\n'
    )

    _key, problem = _problem(text)

    assert problem == 'is empty; write rollback_drill_in = "uat"'


@pytest.mark.parametrize(
    ("environments", "production", "expected"),
    [
        pytest.param(("dev", "qa", "prod"), None, "qa", id="the stage before the last"),
        pytest.param(("prod",), None, "prod", id="a one-stage pipeline is its own"),
        pytest.param(("a", "b", "c"), "b", "a", id="the stage before a named production"),
        pytest.param(("a", "b"), "a", "a", id="a production that comes first is its own"),
        pytest.param((), None, None, id="no environments, no stage"),
    ],
)
def test_stage_before_production__pipelines__names_where_a_release_is_tried(
    environments: tuple[str, ...], production: str | None, expected: str | None
) -> None:
    assert stage_before_production(environments, production) == expected


def test_pre_production__policy_with_a_protected_middle_stage__is_the_stage_before_it() -> None:
    policy = default_policy((("dev", "dev"), ("qa", "qa"), ("prod", "main"), ("dr", "dr")))
    stages = list(policy.stages)
    stages[2] = replace(stages[2], protected=True)
    stages[3] = replace(stages[3], protected=False)

    assert pre_production(replace(policy, stages=tuple(stages))) == "qa"
    assert pre_production(default_policy()) == "staging"


def test_stage_keys__every_stage_setting__has_a_key_and_round_trips() -> None:
    # Given every setting of a stage
    settings = {f.name for f in fields(StageGates)}

    # Then each has its key, and every switch written true reads back true
    assert settings == set(STAGE_KEYS)
    every_switch: dict[str, Any] = dict.fromkeys(SWITCHES, True)
    stage = replace(default_policy().stages[-1], **every_switch)
    policy = replace(default_policy(), stages=(*default_policy().stages[:-1], stage))
    assert parse_policy(dump_policy(policy)) == policy


def test_stage_switches__omitted__take_the_defaults_stage_gates_declares() -> None:
    policy = parse_policy('[[stage]]\nenvironment = "dev"\nbranch = "dev"\n')

    assert {name: getattr(policy.stages[0], name) for name in SWITCHES} == {
        f.name: f.default for f in fields(StageGates) if f.name in SWITCHES
    }
    assert policy.stages[0].require_ci is True

"""``shipwise.toml``: the defaults are PRODUCT.md's process, a policy file reads into the
``Policy`` it describes and writes back unchanged, and every kind of mistake is rejected
with the line and the key that hold it."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from datetime import date, time, timedelta
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipwise.domain import policy as policy_module
from shipwise.domain.policy import PolicyError, default_policy, dump_policy, parse_policy
from shipwise.domain.policy_model import (
    ApprovalRule,
    Freeze,
    HotfixPolicy,
    Policy,
    StageGates,
    Window,
)
from shipwise.domain.releases import DEFAULT_FIX_WITHIN, ApproverRole, Severity

CODE_OWNER, QA, RELEASE_MANAGER = (
    ApproverRole.CODE_OWNER,
    ApproverRole.QA,
    ApproverRole.RELEASE_MANAGER,
)
ANYONE = frozenset(ApproverRole)
PIPELINE = ("dev", "staging", "production")
DOCS = Path(__file__).parents[3] / "docs" / "policy.md"
MARK = "# <-"


def _marked_line(text: str) -> int | None:
    """The 1-based line carrying the ``# <-`` marker: where the mistake is."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if MARK in line]
    return lines[0] if lines else None


def _stages(*rows: str) -> str:
    """[[stage]] tables for (environment, branch) pairs written "environment:branch"."""
    tables = []
    for row in rows:
        environment, branch = row.split(":")
        tables.append(f'[[stage]]\nenvironment = "{environment}"\nbranch = "{branch}"\n')
    return "\n".join(tables)


# -- the defaults are PRODUCT.md's process ------------------------------------------------

DEFAULTS = default_policy()


def _stage(environment: str) -> StageGates:
    stage = DEFAULTS.stage(environment)
    assert stage is not None
    return stage


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        pytest.param(
            lambda: [(s.environment, s.branch) for s in DEFAULTS.stages],
            [("dev", "dev"), ("staging", "staging"), ("production", "main")],
            id="feature → dev → staging → main, each merge deploying its environment",
        ),
        pytest.param(
            lambda: _stage("dev").require_ci,
            True,
            id="into dev: code written and tests passing (CI green)",
        ),
        pytest.param(
            lambda: _stage("dev").approvals,
            ApprovalRule(1, frozenset({CODE_OWNER})),
            id="into dev: approval from a code owner",
        ),
        pytest.param(
            lambda: (_stage("dev").require_previous_deploy, _stage("dev").business_hours),
            (False, False),
            id="into dev: nothing earlier to deploy to, any time",
        ),
        pytest.param(
            lambda: (_stage("staging").require_ci, _stage("staging").require_previous_deploy),
            (True, True),
            id="into staging: CI green and the same commit tested on dev",
        ),
        pytest.param(
            lambda: _stage("staging").approvals,
            ApprovalRule(1, frozenset({CODE_OWNER, QA, RELEASE_MANAGER})),
            id="into staging: one approval",
        ),
        pytest.param(
            lambda: _stage("production").signoffs,
            (("qa", "staging"),),
            id="into production: QA sign-off on staging",
        ),
        pytest.param(
            lambda: _stage("production").approvals,
            ApprovalRule(2, ANYONE),
            id="into production: two approvals",
        ),
        pytest.param(
            lambda: (_stage("production").require_ci, _stage("production").require_previous_deploy),
            (True, True),
            id="into production: test in staging first (the same commit deployed there)",
        ),
        pytest.param(
            lambda: (_stage("production").business_hours, DEFAULTS.window),
            (True, Window(frozenset({0, 1, 2, 3, 4}), time(9), time(17))),
            id="into production: release during business hours, Mon-Fri 09:00-17:00",
        ),
        pytest.param(
            lambda: (_stage("production").respect_freezes, DEFAULTS.freezes),
            (True, ()),
            id="into production: freezes respected, none declared",
        ),
        pytest.param(
            lambda: (
                _stage("production").require_rollback_plan,
                _stage("production").rollback_drill_in,
            ),
            (True, "staging"),
            id="into production: rollback plan written and rehearsed in staging",
        ),
        pytest.param(
            lambda: (_stage("production").one_feature_rolling_out, DEFAULTS.max_feature_rollouts),
            (True, 1),
            id="into production: one feature rolling out at a time",
        ),
        pytest.param(
            lambda: [s.environment for s in DEFAULTS.stages if s.one_feature_rolling_out],
            ["production"],
            id="only production limits rollouts, business hours, freezes",
        ),
        pytest.param(
            lambda: DEFAULTS.one_feature_per_release,
            True,
            id="one feature per release",
        ),
        pytest.param(
            lambda: [(s.environment, s.protected, s.testers) for s in DEFAULTS.stages],
            [
                ("dev", False, "everyone"),
                ("staging", False, "everyone"),
                ("production", True, None),
            ],
            id="production protected; a promotion into dev or staging shows everyone there",
        ),
        pytest.param(
            lambda: DEFAULTS.change_approvals,
            ApprovalRule(2, frozenset()),
            id="two approvals for production: a change request there needs two people",
        ),
        pytest.param(
            lambda: DEFAULTS.hotfix,
            HotfixPolicy(
                frozenset({Severity.CRITICAL}),
                "main",
                ApprovalRule(2, frozenset({CODE_OWNER, RELEASE_MANAGER})),
                require_justification=True,
                label="HOTFIX",
            ),
            id="critical bugs: hotfix from main, HOTFIX label, 2 approvals, a justification",
        ),
        pytest.param(
            lambda: DEFAULTS.fix_within,
            {
                Severity.CRITICAL: timedelta(0),
                Severity.HIGH: timedelta(hours=24),
                Severity.MEDIUM: timedelta(days=7),
                Severity.LOW: None,
            },
            id="fix critical now, high within 24 h, medium within a week, low when convenient",
        ),
        pytest.param(
            lambda: (DEFAULTS.timezone, DEFAULTS.code_owners),
            ("UTC", ()),
            id="project time UTC and no named code owners until configured",
        ),
    ],
)
def test_default_policy__reproduces_product_md(setting: Callable[[], Any], expected: Any) -> None:
    assert setting() == expected


def test_default_policy__sla_is_the_release_vocabulary_default() -> None:
    assert DEFAULTS.fix_within == DEFAULT_FIX_WITHIN
    assert DEFAULTS.fix_within is not DEFAULT_FIX_WITHIN


def test_default_policy__other_environments__first_gets_dev_last_production_between_staging() -> (
    None
):
    # Given a four-environment pipeline with its own branch names
    environments = [("dev", "develop"), ("qa", "qa"), ("uat", "uat"), ("prod", "master")]

    # When the defaults are built for it
    policy = default_policy(environments, timezone="Europe/Oslo")

    # Then the shape follows PRODUCT.md, with QA and drills on the environment before prod
    dev, qa, uat, prod = policy.stages
    assert dev.approvals == ApprovalRule(1, frozenset({CODE_OWNER}))
    assert qa == StageGates("qa", "qa", ApprovalRule(1, ANYONE), require_previous_deploy=True)
    assert uat == StageGates("uat", "uat", ApprovalRule(1, ANYONE), require_previous_deploy=True)
    assert prod.signoffs == (("qa", "uat"),)
    assert prod.rollback_drill_in == "uat"
    assert policy.hotfix.branch == "master"
    assert policy.timezone == "Europe/Oslo"


def test_default_policy__one_environment__is_production_without_earlier_gates() -> None:
    (only,) = default_policy([("live", "main")]).stages

    assert only.approvals == ApprovalRule(2, ANYONE)
    assert (only.require_previous_deploy, only.signoffs, only.rollback_drill_in) == (
        False,
        (),
        None,
    )
    assert only.business_hours
    assert only.require_rollback_plan


@pytest.mark.parametrize(
    "environments",
    [
        pytest.param([], id="no environments"),
        pytest.param([("dev", "dev"), ("dev", "main")], id="an environment twice"),
    ],
)
def test_default_policy__impossible_pipeline__raises(environments: list[tuple[str, str]]) -> None:
    with pytest.raises(ValueError, match="default_policy"):
        default_policy(environments)


# -- reading a policy file -----------------------------------------------------------------

THREE_STAGES = _stages("dev:dev", "staging:staging", "production:main")

EXAMPLE = dedent(
    """\
    # shipwise.toml: the release policy of the CRM app
    timezone = "Europe/Oslo"
    one_feature_per_release = true
    max_feature_rollouts = 1
    code_owners = ["alice", "bob"]   # whose approval counts as code-owner review

    [window]                         # when stages with business_hours = true may be promoted into
    weekdays = ["mon", "tue", "wed", "thu"]
    start = "09:00"
    end = "15:30"                    # exclusive

    [[freeze]]                       # no promotions into stages with respect_freezes = true
    name = "Christmas"
    start = 2026-12-20
    end = 2027-01-02                 # both days included

    [[freeze]]
    name = "Year-end close"
    start = 2027-03-29
    end = 2027-03-31

    [sla]                            # fix-by time per bug severity
    critical = "0h"
    high = "24h"
    medium = "1w"
    low = "none"

    [hotfix]                         # critical bugs go from main straight to production
    severities = ["critical"]
    branch = "main"
    approvals = { count = 2, roles = ["code-owner", "release-manager"] }
    require_justification = true
    label = "HOTFIX"

    [change_requests]                # a hand change that shows a flag to more users in a
    approvals = { count = 2 }        # protected environment; roles left out: anyone

    [[stage]]                        # the gates of promoting INTO dev
    environment = "dev"
    branch = "dev"
    approvals = { count = 1, roles = ["code-owner"] }

    [[stage]]
    environment = "staging"
    branch = "staging"
    require_previous_deploy = true
    approvals = { count = 1, roles = ["code-owner", "qa", "release-manager"] }
    checklist = ["Tested on dev and stable"]
    testers = "qa-team"              # promoting here switches the flags on for this segment

    [[stage]]
    environment = "production"
    branch = "main"
    require_ci = true
    require_previous_deploy = true
    approvals = { count = 2 }        # roles left out: any approver role
    signoffs = [
      { kind = "qa", environment = "staging" },
    ]
    checklist = [
      "Release notes shared with the team",
      "Monitoring schedule set for the first 24 hours",
    ]
    require_rollback_plan = true
    rollback_drill_in = "staging"
    business_hours = true
    respect_freezes = true
    one_feature_rolling_out = true
    protected = true                 # only the release's rollout plan, or a change request
    """
)

EXPECTED = Policy(
    timezone="Europe/Oslo",
    stages=(
        StageGates("dev", "dev", approvals=ApprovalRule(1, frozenset({CODE_OWNER}))),
        StageGates(
            "staging",
            "staging",
            approvals=ApprovalRule(1, ANYONE),
            checklist=("Tested on dev and stable",),
            require_previous_deploy=True,
            testers="qa-team",
        ),
        StageGates(
            "production",
            "main",
            approvals=ApprovalRule(2, ANYONE),
            signoffs=(("qa", "staging"),),
            checklist=(
                "Release notes shared with the team",
                "Monitoring schedule set for the first 24 hours",
            ),
            require_ci=True,
            require_previous_deploy=True,
            require_rollback_plan=True,
            rollback_drill_in="staging",
            business_hours=True,
            respect_freezes=True,
            one_feature_rolling_out=True,
            protected=True,
            testers=None,
        ),
    ),
    window=Window(frozenset({0, 1, 2, 3}), time(9), time(15, 30)),
    freezes=(
        Freeze("Christmas", date(2026, 12, 20), date(2027, 1, 2)),
        Freeze("Year-end close", date(2027, 3, 29), date(2027, 3, 31)),
    ),
    one_feature_per_release=True,
    max_feature_rollouts=1,
    hotfix=HotfixPolicy(
        frozenset({Severity.CRITICAL}),
        "main",
        ApprovalRule(2, frozenset({CODE_OWNER, RELEASE_MANAGER})),
    ),
    fix_within={
        Severity.CRITICAL: timedelta(0),
        Severity.HIGH: timedelta(hours=24),
        Severity.MEDIUM: timedelta(weeks=1),
        Severity.LOW: None,
    },
    code_owners=("alice", "bob"),
    change_approvals=ApprovalRule(2, frozenset()),
)


def test_parse_policy__full_example__reads_every_setting() -> None:
    assert parse_policy(EXAMPLE, known_environments=PIPELINE) == EXPECTED


def test_parse_policy__example_in_docs__is_the_tested_example() -> None:
    # Given the first TOML block of docs/policy.md
    block = re.search(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None

    # Then it is the example tested here, and reads the same
    assert block.group(1) == EXAMPLE
    assert parse_policy(block.group(1)) == EXPECTED


@pytest.mark.parametrize(
    "text", [pytest.param("", id="empty"), pytest.param("# nothing\n", id="comments only")]
)
def test_parse_policy__no_settings__is_the_defaults(text: str) -> None:
    assert parse_policy(text, known_environments=PIPELINE) == default_policy()


@pytest.mark.parametrize(
    ("text", "setting", "expected"),
    [
        pytest.param(
            '[window]\nend = "18:00"\n',
            lambda p: p.window,
            Window(frozenset(range(5)), time(9), time(18)),
            id="window end only keeps the default days and start",
        ),
        pytest.param(
            '[sla]\nhigh = "48h"\n',
            lambda p: p.fix_within,
            {**DEFAULT_FIX_WITHIN, Severity.HIGH: timedelta(hours=48)},
            id="one SLA keeps the others",
        ),
        pytest.param(
            "[hotfix]\nrequire_justification = false\n",
            lambda p: p.hotfix,
            HotfixPolicy(require_justification=False),
            id="one hotfix key keeps the others",
        ),
        pytest.param(
            'timezone = "Europe/Oslo"\n',
            lambda p: (p.timezone, p.stages, p.hotfix),
            ("Europe/Oslo", DEFAULTS.stages, DEFAULTS.hotfix),
            id="a time zone alone keeps the default stages",
        ),
        pytest.param(
            _stages("dev:develop", "production:master"),
            lambda p: p.hotfix.branch,
            "master",
            id="hotfix branch follows the last stage when not written",
        ),
        pytest.param(
            _stages("dev:dev"),
            lambda p: p.stages,
            (StageGates("dev", "dev", protected=True, testers=None),),
            id="a stage's omitted gates are off except CI, and the last stage is protected",
        ),
        pytest.param(
            '[window]\nweekdays = ["Monday", "SAT"]\nstart = 08:30:00\nend = "9:45"\n',
            lambda p: p.window,
            Window(frozenset({0, 5}), time(8, 30), time(9, 45)),
            id="full day names, any case, TOML times and one-digit hours",
        ),
        pytest.param(
            '[sla]\nmedium = "1d12h"\nlow = "2w"\n',
            lambda p: (p.fix_within[Severity.MEDIUM], p.fix_within[Severity.LOW]),
            (timedelta(hours=36), timedelta(weeks=2)),
            id="combined and week durations",
        ),
        pytest.param(
            _stages("dev:dev") + "[stage.approvals]\ncount = 3\n",
            lambda p: p.stages[0].approvals,
            ApprovalRule(3, ANYONE),
            id="approvals as a sub-table",
        ),
        pytest.param(
            _stages("dev:dev") + "approvals.count = 2\napprovals.roles = ['qa']\n",
            lambda p: p.stages[0].approvals,
            ApprovalRule(2, frozenset({QA})),
            id="approvals as dotted keys",
        ),
        pytest.param(
            THREE_STAGES,
            lambda p: [(s.protected, s.testers) for s in p.stages],
            [(False, "everyone"), (False, "everyone"), (True, None)],
            id="protected left out: only the last stage, the others show everyone",
        ),
        pytest.param(
            THREE_STAGES + "protected = false\n",
            lambda p: (p.stages[2].protected, p.stages[2].testers),
            (False, "everyone"),
            id="the last stage unprotected shows everyone",
        ),
        pytest.param(
            _stages("dev:dev") + "protected = true\n" + _stages("production:main"),
            lambda p: [(s.protected, s.testers) for s in p.stages],
            [(True, None), (True, None)],
            id="an earlier stage protected has no testers",
        ),
        pytest.param(
            _stages("dev:dev") + 'testers = "none"\n' + _stages("production:main"),
            lambda p: p.stages[0].testers,
            None,
            id="testers none leaves the flags alone",
        ),
        pytest.param(
            _stages("dev:dev") + 'testers = "qa-team"\n' + _stages("production:main"),
            lambda p: p.stages[0].testers,
            "qa-team",
            id="testers a segment",
        ),
        pytest.param(
            _stages("production:main") + 'testers = "none"\n',
            lambda p: (p.stages[0].protected, p.stages[0].testers),
            (True, None),
            id="testers none on a protected stage says what protection says",
        ),
        pytest.param(
            '[change_requests]\napprovals = { count = 3, roles = ["release-manager"] }\n',
            lambda p: p.change_approvals,
            ApprovalRule(3, frozenset({RELEASE_MANAGER})),
            id="change requests approved by three release managers",
        ),
        pytest.param(
            "[change_requests]\napprovals.count = 1\n",
            lambda p: p.change_approvals,
            ApprovalRule(1, frozenset()),
            id="change request roles left out: anyone who may change flags",
        ),
        pytest.param(
            "[change_requests]\n",
            lambda p: p.change_approvals,
            ApprovalRule(2, frozenset()),
            id="an empty change requests table keeps the default",
        ),
    ],
)
def test_parse_policy__partial_file__omitted_settings_take_the_defaults(
    text: str, setting: Callable[[Policy], Any], expected: Any
) -> None:
    assert setting(parse_policy(text)) == expected


def test_parse_policy__given_defaults__omitted_sections_take_them() -> None:
    # Given a project whose pipeline is not PRODUCT.md's
    pipeline = [("dev", "develop"), ("prod", "master")]
    defaults = default_policy(pipeline, timezone="Asia/Tokyo")

    # When its file only names code owners
    policy = parse_policy(
        'code_owners = ["kim"]\n', known_environments=["dev", "prod"], defaults=defaults
    )

    # Then everything else is the project's defaults
    assert policy.stages == defaults.stages
    assert policy.timezone == "Asia/Tokyo"
    assert policy.code_owners == ("kim",)


# -- writing it back -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(default_policy(), id="defaults"),
        pytest.param(EXPECTED, id="full example"),
        pytest.param(default_policy([("dev", "develop"), ("prod", "release/v2")]), id="two stages"),
        pytest.param(
            Policy(
                stages=(
                    StageGates("dev", "dev", require_ci=False, checklist=('say "hi"\\\n\t\x7f',)),
                ),
                hotfix=HotfixPolicy(branch="dev", label="hot fix ✓"),
                fix_within={s: timedelta(hours=1, minutes=2, seconds=3) for s in Severity},
                code_owners=("Ærlig Åse",),
            ),
            id="escapes, no approvals, odd durations",
        ),
    ],
)
def test_dump_policy__parses_back_to_the_same_policy(policy: Policy) -> None:
    text = dump_policy(policy)

    assert parse_policy(text) == policy


def test_dump_policy__defaults__is_valid_toml_with_every_stage_setting_written() -> None:
    document = tomllib.loads(dump_policy(default_policy()))

    assert [stage["environment"] for stage in document["stage"]] == list(PIPELINE)
    switches = {
        "require_ci",
        "require_previous_deploy",
        "require_rollback_plan",
        "business_hours",
        "respect_freezes",
        "one_feature_rolling_out",
    }
    assert all(switches <= stage.keys() for stage in document["stage"])
    # the shortest exact form (domain.durations): "1d", not "24h"
    assert document["sla"] == {"critical": "0s", "high": "1d", "medium": "7d", "low": "none"}


_ENVIRONMENTS = ["dev", "qa", "staging", "uat", "production"]
_text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(str.strip)


@st.composite
def _policies(draw: st.DrawFn) -> Policy:
    names = sorted(
        draw(st.sets(st.sampled_from(_ENVIRONMENTS), min_size=1)), key=_ENVIRONMENTS.index
    )
    rules = st.builds(
        ApprovalRule, st.integers(1, 5), st.frozensets(st.sampled_from(ApproverRole), min_size=1)
    )
    stages = []
    for index, name in enumerate(names):
        earlier = names[:index]
        protected = draw(st.booleans())
        testers = None if protected else draw(st.sampled_from(["everyone", "qa-team", None]))
        stages.append(
            StageGates(
                name,
                draw(st.sampled_from(["main", name, f"release/{name}", "v1.2_x"])),
                approvals=draw(st.none() | rules),
                signoffs=tuple(
                    draw(
                        st.lists(
                            st.tuples(
                                st.sampled_from(["qa", "security"]), st.sampled_from(earlier)
                            ),
                            max_size=2,
                        )
                    )
                    if earlier
                    else ()
                ),
                checklist=tuple(draw(st.lists(_text, max_size=3, unique=True))),
                require_ci=draw(st.booleans()),
                require_previous_deploy=bool(earlier) and draw(st.booleans()),
                require_rollback_plan=draw(st.booleans()),
                rollback_drill_in=draw(st.none() | st.sampled_from(earlier)) if earlier else None,
                business_hours=draw(st.booleans()),
                respect_freezes=draw(st.booleans()),
                one_feature_rolling_out=draw(st.booleans()),
                protected=protected,
                testers=testers,
            )
        )
    start = draw(st.times().map(lambda t: t.replace(microsecond=0)).filter(lambda t: t < time(23)))
    end = draw(st.times().map(lambda t: t.replace(microsecond=0)).filter(lambda t: t > start))
    first_days = st.dates(date(2020, 1, 1), date(2030, 1, 1))
    freezes = [
        Freeze(name, day, day + timedelta(days=length))
        for name, day, length in draw(
            st.lists(st.tuples(_text, first_days, st.integers(0, 40)), max_size=3)
        )
    ]
    durations = st.none() | st.integers(0, 10**7).map(lambda s: timedelta(seconds=s))
    return Policy(
        timezone=draw(st.sampled_from(["UTC", "Europe/Oslo", "America/Sao_Paulo"])),
        stages=tuple(stages),
        window=Window(draw(st.frozensets(st.integers(0, 6), min_size=1)), start, end),
        freezes=tuple(freezes),
        one_feature_per_release=draw(st.booleans()),
        max_feature_rollouts=draw(st.integers(1, 9)),
        hotfix=HotfixPolicy(
            draw(st.frozensets(st.sampled_from(Severity), min_size=1)),
            draw(st.sampled_from([stage.branch for stage in stages])),
            draw(rules),
            draw(st.booleans()),
            draw(_text),
        ),
        fix_within={severity: draw(durations) for severity in Severity},
        code_owners=tuple(draw(st.lists(_text, max_size=3))),
        change_approvals=ApprovalRule(
            draw(st.integers(1, 5)), draw(st.frozensets(st.sampled_from(ApproverRole)))
        ),
    )


@settings(max_examples=150, deadline=None)
@given(policy=_policies())
def test_dump_policy__any_valid_policy__round_trips(policy: Policy) -> None:
    assert (
        parse_policy(dump_policy(policy), known_environments=[s.environment for s in policy.stages])
        == policy
    )


@settings(max_examples=75, deadline=None)
@given(policy=_policies(), data=st.data())
def test_parse_policy__any_true_false_setting_broken__reported_at_its_line(
    policy: Policy, data: st.DataObject
) -> None:
    # Given the written policy with one true/false setting replaced by text
    lines = dump_policy(policy).split("\n")
    switches = [n for n, line in enumerate(lines) if re.fullmatch(r"\w+ = (true|false)", line)]
    broken = data.draw(st.sampled_from(switches))
    name = lines[broken].split(" = ")[0]
    lines[broken] = f'{name} = "yes"'

    # When it is read
    with pytest.raises(PolicyError) as raised:
        parse_policy("\n".join(lines))

    # Then the error names that line and that key
    assert raised.value.line == broken + 1
    assert raised.value.key is not None
    assert raised.value.key.endswith(name)


# -- mistakes ------------------------------------------------------------------------------

THREE = _stages("dev:dev", "staging:staging", "production:main")


def _case(
    text: str, key: str | None, says: str, *, known: Sequence[str] | None = None, id: str
) -> Any:
    return pytest.param(dedent(text), known, key, says, id=id)


MISTAKES = [
    # TOML syntax: tomllib's line, no key
    _case(
        "[window]\nstart = 09:00  # <-\n",
        None,
        '(start = "09:00")',
        id="syntax: time not in quotes",
    ),
    _case(THREE + "require_ci = True  # <-\n", None, "lowercase", id="syntax: capitalised True"),
    _case(
        '[window]\nstart = "08:00"\n[window]  # <-\n',
        None,
        "may appear once",
        id="syntax: a table twice",
    ),
    _case(
        'code_owners = ["alice",\n "bob"',
        None,
        "close the list",
        id="syntax: unclosed list at the end",
    ),
    # unknown keys anywhere, with a suggestion
    _case(
        'timezon = "UTC"  # <-\n', "timezon", 'did you mean "timezone"?', id="unknown top-level key"
    ),
    _case(
        '[windows]  # <-\nstart = "09:00"\n',
        "windows",
        'did you mean "window"?',
        id="unknown table",
    ),
    _case(
        THREE + "aprovals = { count = 1 }  # <-\n",
        "stage[2].aprovals",
        'did you mean "approvals"?',
        id="unknown key in the third stage",
    ),
    _case(
        _stages("dev:dev") + 'approvals = { count = 1, role = ["qa"] }  # <-\n',
        "stage[0].approvals.role",
        'did you mean "roles"?',
        id="unknown key in an inline table",
    ),
    _case(
        _stages("dev:dev", "staging:staging")
        + 'signoffs = [\n  { kind = "qa", environment = "dev" },\n'
        + '  { kind = "qa", enviroment = "dev" },  # <-\n]\n',
        "stage[1].signoffs[1].enviroment",
        'did you mean "environment"?',
        id="unknown key in a multi-line list of inline tables",
    ),
    _case(
        '[sla]\nurgent = "1h"  # <-\n',
        "sla.urgent",
        "critical, high, medium, low",
        id="unknown severity in sla",
    ),
    _case(
        '[[freeze]]\nname = "x"\nstart = 2026-01-01\nend = 2026-01-02\nreason = "y"  # <-\n',
        "freeze[0].reason",
        'unknown key "reason"',
        id="unknown key in a freeze",
    ),
    # wrong types
    _case(
        _stages("dev:dev") + 'require_ci = "yes"  # <-\n',
        "stage[0].require_ci",
        "write require_ci = true",
        id="text for true/false",
    ),
    _case(
        'max_feature_rollouts = "1"  # <-\n',
        "max_feature_rollouts",
        "write max_feature_rollouts = 1",
        id="quoted number",
    ),
    _case(
        'code_owners = "alice"  # <-\n',
        "code_owners",
        'write code_owners = ["alice", "bob"]',
        id="one code owner not in a list",
    ),
    _case(
        'code_owners = ["alice", 7]  # <-\n',
        "code_owners[1]",
        "expected text",
        id="a number among code owners",
    ),
    _case(
        _stages("dev:dev") + "approvals = 2  # <-\n",
        "stage[0].approvals",
        "write approvals = { count = 1",
        id="approvals as a bare number",
    ),
    _case(
        '[stage]  # <-\nenvironment = "dev"\nbranch = "dev"\n',
        "stage",
        "double brackets",
        id="[stage] instead of [[stage]]",
    ),
    _case(
        '[[window]]  # <-\nstart = "09:00"\n',
        "window",
        "single brackets",
        id="[[window]] instead of [window]",
    ),
    _case('[[sla]]  # <-\nhigh = "1h"\n', "sla", "single brackets", id="[[sla]] instead of [sla]"),
    _case(
        '[[stage]]  # <-\nenvironment = "dev"\n',
        "stage[0].branch",
        'is missing from [[stage]]; write branch = "main"',
        id="stage without a branch",
    ),
    _case(
        _stages("dev:dev") + '[[stage]]  # <-\nbranch = "main"\n',
        "stage[1].environment",
        "is missing",
        id="second stage without an environment",
    ),
    _case(
        _stages("dev:feature x").replace('"feature x"', '"feature x"  # <-'),
        "stage[0].branch",
        "not a branch name",
        id="branch with a space",
    ),
    _case(
        _stages("Prod:main").replace('"Prod"', '"Prod"  # <-'),
        "stage[0].environment",
        "not a valid key",
        id="environment key with capitals",
    ),
    # environments that do not exist, order, duplicates
    _case(
        _stages("dev:dev", "staging:staging", "prod:main").replace('"prod"', '"prod"  # <-'),
        "stage[2].environment",
        'no environment "prod"; did you mean "production"?',
        known=PIPELINE,
        id="stage for an unknown environment",
    ),
    _case(
        THREE + 'rollback_drill_in = "stagign"  # <-\n',
        "stage[2].rollback_drill_in",
        'did you mean "staging"?',
        known=PIPELINE,
        id="rollback drill in an unknown environment",
    ),
    _case(
        THREE + 'signoffs = [{ kind = "qa", environment = "qa-env" }]  # <-\n',
        "stage[2].signoffs[0].environment",
        'no environment "qa-env"',
        known=PIPELINE,
        id="sign-off on an unknown environment",
    ),
    _case(
        THREE + 'signoffs = [{ kind = "qa", environment = "qa-env" }]  # <-\n',
        "stage[2].signoffs[0].environment",
        "not a stage before",
        id="sign-off on an environment with no stage",
    ),
    _case(
        _stages("staging:staging", "dev:dev", "production:main").replace(
            '"dev"\n', '"dev"  # <-\n', 1
        ),
        "stage[1].environment",
        '"dev" comes before "staging"',
        known=PIPELINE,
        id="stages out of pipeline order",
    ),
    _case(
        _stages("dev:dev", "production:main").replace("[[stage]]", "[[stage]]  # <-", 1),
        "stage",
        'environment "staging" has no [[stage]]',
        known=PIPELINE,
        id="an environment without a stage",
    ),
    _case(
        _stages("dev:dev", "dev:main").replace(
            '"dev"\nbranch = "main"', '"dev"  # <-\nbranch = "main"'
        ),
        "stage[1].environment",
        "already has a stage",
        id="the same environment twice",
    ),
    _case(
        "",
        "stage",
        "no [[stage]]",
        known=("dev", "prod"),
        id="no stages and the defaults do not fit",
    ),
    _case("stage = []  # <-\n", "stage", "is empty", id="empty stage list"),
    _case(
        _stages("dev:dev") + "require_previous_deploy = true  # <-\n",
        "stage[0].require_previous_deploy",
        "first stage",
        id="previous deploy before the first stage",
    ),
    _case(
        THREE + 'rollback_drill_in = "production"  # <-\n',
        "stage[2].rollback_drill_in",
        "write an earlier environment (dev, staging)",
        known=PIPELINE,
        id="rollback drill in the stage's own environment",
    ),
    _case(
        _stages("dev:dev", "staging:staging")
        + 'signoffs = [{ kind = "qa", environment = "staging" }]  # <-\n',
        "stage[1].signoffs[0].environment",
        "not a stage before",
        id="sign-off on the environment being promoted into",
    ),
    _case(
        _stages("dev:dev") + 'signoffs = [{ kind = "QA!", environment = "dev" }]  # <-\n',
        "stage[0].signoffs[0].kind",
        "not a valid key",
        id="sign-off kind that is no key",
    ),
    _case(
        _stages("dev:dev") + 'checklist = ["notes", "notes"]  # <-\n',
        "stage[0].checklist[1]",
        "listed twice",
        id="checklist item twice",
    ),
    # impossible windows
    _case(
        '[window]\nstart = "17:00"\nend = "09:00"  # <-\n',
        "window.end",
        "never opens",
        id="window ends before it starts",
    ),
    _case(
        '[window]\nstart = "17:00"  # <-\n',
        "window.start",
        "never opens",
        id="window starts at the default end",
    ),
    _case("[window]\nweekdays = []  # <-\n", "window.weekdays", "never opens", id="no weekdays"),
    _case(
        '[window]\nweekdays = ["mon", "tues"]  # <-\n',
        "window.weekdays[1]",
        'did you mean "tue"?',
        id="misspelt day",
    ),
    _case(
        '[window]\nweekdays = ["mon", "mon"]  # <-\n',
        "window.weekdays[1]",
        "listed twice",
        id="a day twice",
    ),
    _case('[window]\nstart = "9am"  # <-\n', "window.start", 'write "09:00"', id="9am"),
    _case('[window]\nend = "5 pm"  # <-\n', "window.end", 'write "17:00"', id="5 pm"),
    _case('[window]\nend = "25:00"  # <-\n', "window.end", 'like "09:00"', id="hour 25"),
    _case("[window]\nend = 17  # <-\n", "window.end", 'write "17:00"', id="number for a time"),
    # freezes
    _case(
        '[[freeze]]\nname = "a"\nstart = 2026-01-01\nend = 2026-01-01\n\n'
        '[[freeze]]\nname = "b"\nstart = 2026-12-20\nend = 2026-12-02  # <-\n',
        "freeze[1].end",
        "write an end on or after 2026-12-20",
        id="second freeze ends before it starts",
    ),
    _case(
        '[[freeze]]\nname = "x"\nstart = "2026-12-20"  # <-\nend = 2026-12-24\n',
        "freeze[0].start",
        "without quotes: 2026-12-20",
        id="quoted freeze date",
    ),
    _case(
        '[[freeze]]\nname = "x"\nstart = 2026-12-20T10:00:00  # <-\nend = 2026-12-24\n',
        "freeze[0].start",
        "write 2026-12-20",
        id="freeze date with a time",
    ),
    _case(
        "[[freeze]]  # <-\nstart = 2026-12-20\nend = 2026-12-24\n",
        "freeze[0].name",
        "is missing",
        id="freeze without a name",
    ),
    _case(
        '[freeze]  # <-\nname = "x"\n',
        "freeze",
        "double brackets",
        id="[freeze] instead of [[freeze]]",
    ),
    # approvals
    _case(
        _stages("dev:dev") + "approvals = { count = 0 }  # <-\n",
        "stage[0].approvals.count",
        "write count = 1 or more",
        id="zero approvals",
    ),
    _case(
        _stages("dev:dev") + "approvals.count = -1  # <-\n",
        "stage[0].approvals.count",
        "write count = 1 or more",
        id="negative approvals as a dotted key",
    ),
    _case(
        _stages("dev:dev") + "\n[stage.approvals]\ncount = true  # <-\n",
        "stage[0].approvals.count",
        "expected a whole number",
        id="true as a count in a sub-table",
    ),
    _case(
        _stages("dev:dev") + 'approvals = { roles = ["qa"] }  # <-\n',
        "stage[0].approvals.count",
        "is missing",
        id="approvals without a count",
    ),
    _case(
        _stages("dev:dev") + 'approvals = { count = 1, roles = ["qa", "code_owner"] }  # <-\n',
        "stage[0].approvals.roles[1]",
        'did you mean "code-owner"?',
        id="unknown role",
    ),
    _case(
        _stages("dev:dev") + "approvals = { count = 1, roles = [] }  # <-\n",
        "stage[0].approvals.roles",
        "nobody could approve",
        id="no roles",
    ),
    _case(
        '[hotfix]\napprovals = { count = 2, roles = ["admin"] }  # <-\n',
        "hotfix.approvals.roles[0]",
        "not an approver role",
        id="unknown hotfix role",
    ),
    # durations
    _case('[sla]\nhigh = "24 hours"  # <-\n', "sla.high", '"24h"', id="duration in words"),
    _case('[sla]\nhigh = "-1h"  # <-\n', "sla.high", "not a duration", id="negative duration"),
    _case("[sla]\nhigh = 24  # <-\n", "sla.high", "not a duration", id="number for a duration"),
    _case(
        '[sla]\nmedium = "h"  # <-\n', "sla.medium", "not a duration", id="unit without a number"
    ),
    # time zones
    _case(
        'timezone = "Europe/Olso"  # <-\n',
        "timezone",
        'did you mean "Europe/Oslo"?',
        id="misspelt time zone",
    ),
    _case(
        'timezone = "europe/oslo"  # <-\n',
        "timezone",
        'did you mean "Europe/Oslo"?',
        id="time zone in lower case",
    ),
    _case(
        'timezone = "../../etc/passwd"  # <-\n',
        "timezone",
        "is not a time zone",
        id="a path for a time zone",
    ),
    # hotfix
    _case(
        '[hotfix]\nbranch = "master"  # <-\n',
        "hotfix.branch",
        "write one of dev, staging, main",
        id="hotfix branch no stage has",
    ),
    _case(
        '[hotfix]\nseverities = ["crit"]  # <-\n',
        "hotfix.severities[0]",
        'did you mean "critical"?',
        id="unknown hotfix severity",
    ),
    _case(
        "[hotfix]\nseverities = []  # <-\n",
        "hotfix.severities",
        "is empty",
        id="no hotfix severities",
    ),
    _case('[hotfix]\nlabel = ""  # <-\n', "hotfix.label", "is empty", id="empty hotfix label"),
    # who sees a feature: protected stages, testers, change requests
    _case(
        THREE + 'protected = "yes"  # <-\n',
        "stage[2].protected",
        'expected true or false, got "yes"; write protected = true',
        id="protected as text",
    ),
    _case(
        THREE + 'testers = "qa-team"  # <-\n',
        "stage[2].testers",
        '"production" is protected: its rollout plan decides who sees the feature; '
        "remove testers or set protected = false",
        id="testers on a protected stage",
    ),
    _case(
        _stages("dev:dev") + 'protected = true\ntesters = "everyone"  # <-\n',
        "stage[0].testers",
        '"dev" is protected',
        id="testers on an earlier stage made protected",
    ),
    _case(
        _stages("dev:dev") + "testers = true  # <-\n" + _stages("production:main"),
        "stage[0].testers",
        'expected text in quotes, got true (true/false); write testers = "everyone"',
        id="testers as true",
    ),
    _case(
        _stages("dev:dev") + 'testers = "QA team"  # <-\n' + _stages("production:main"),
        "stage[0].testers",
        'write testers = "everyone", "none" or a segment\'s name, e.g. "qa-team"',
        id="testers no segment could be called",
    ),
    _case(
        _stages("dev:dev") + 'testers = " "  # <-\n' + _stages("production:main"),
        "stage[0].testers",
        'is empty; write testers = "everyone"',
        id="testers blank",
    ),
    _case(
        "[change_requests]\napprovals = { count = 0 }  # <-\n",
        "change_requests.approvals.count",
        "0 approvals cannot be required; write count = 1 or more, as a change request is "
        "never approved by its requester alone",
        id="change requests approved by nobody",
    ),
    _case(
        "[change_requests]\napprovals = { count = 2, roles = [] }  # <-\n",
        "change_requests.approvals.roles",
        "nobody could approve",
        id="change requests with an empty role list",
    ),
    _case(
        '[change_requests]\napprovals = { count = 2, roles = ["admin"] }  # <-\n',
        "change_requests.approvals.roles[0]",
        '"admin" is not an approver role',
        id="change requests with an unknown role",
    ),
    _case(
        '[change_requests]\napprovals = "two"  # <-\n',
        "change_requests.approvals",
        "expected a table",
        id="change request approvals as text",
    ),
    _case(
        "[change_requests]\ncount = 2  # <-\n",
        "change_requests.count",
        'unknown key "count"; [change_requests] takes approvals',
        id="count straight in change requests",
    ),
    _case(
        "[[change_requests]]  # <-\napprovals = { count = 2 }\n",
        "change_requests",
        "write [change_requests] (single brackets)",
        id="[[change_requests]] instead of [change_requests]",
    ),
    _case(
        "change_request = { approvals = { count = 2 } }  # <-\n",
        "change_request",
        'did you mean "change_requests"?',
        id="change request misspelt",
    ),
    # the rest
    _case(
        "max_feature_rollouts = 0  # <-\n",
        "max_feature_rollouts",
        "1 or more",
        id="zero feature rollouts",
    ),
]


@pytest.mark.parametrize(("text", "known", "key", "says"), MISTAKES)
def test_parse_policy__mistake__rejected_naming_line_and_key(
    text: str, known: Sequence[str] | None, key: str | None, says: str
) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, known_environments=known)

    error = raised.value
    assert (error.line, error.key) == (_marked_line(text) or _end_line(text, key), key)
    assert says in error.problem


def _end_line(text: str, key: str | None) -> int | None:
    """Syntax errors at the end of the document are on its last line; omissions have none."""
    return len(text.splitlines()) if key is None else None


def test_policy_error__message__names_file_line_and_key_and_what_to_write() -> None:
    text = EXAMPLE.replace('start = "09:00"', 'start = "9am"')

    with pytest.raises(PolicyError) as raised:
        parse_policy(text, source="crm/shipwise.toml")

    assert (
        str(raised.value)
        == 'crm/shipwise.toml line 9, key window.start: "9am" is not a time; write "09:00"'
    )
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            _stages("dev:dev").replace("\n", "\r\n") + 'business_hours = "no"  # <-\r\n',
            id="windows line endings",
        ),
        pytest.param(
            _stages("dev:dev")
            + 'checklist = ["""Release notes\n[window]\nshared = "with the team\'s"\n"""]\n'
            + "business_hours = 'no'  # <-\n",
            id="after a multi-line string that looks like TOML",
        ),
        pytest.param(
            "'timezone' = \"UTC\"\n"
            + _stages("dev:dev")
            + '"require_ci" = true\nbusiness_hours = 1  # <-\n',
            id="after quoted keys",
        ),
        pytest.param(
            "code_owners = [\n  'a', # one\n  'b', # two\n]\n"
            + _stages("dev:dev")
            + "business_hours = [1]  # <-\n",
            id="after a multi-line list with comments",
        ),
    ],
)
def test_parse_policy__awkward_layout__still_finds_the_line(text: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text)

    assert (raised.value.line, raised.value.key) == (_marked_line(text), "stage[0].business_hours")


def test_parse_policy__unknown_quoted_key__is_reported() -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy('"quoted" = 1\n')

    assert (raised.value.line, raised.value.key) == (1, "quoted")


def test_module__public_names_exist() -> None:
    assert all(hasattr(policy_module, name) for name in policy_module.__all__)


# -- every problem at once -----------------------------------------------------------------

THREE_MISTAKES = (
    'timezone = "Europe/Olso"  # <-\n'
    "\n"
    "[window]\n"
    'start = "9am"  # <-\n'
    "\n"
    "[sla]\n"
    'high = "a day"  # <-\n'
)


def _alone(text: str, line: int) -> str:
    """``text`` with every marked line but ``line`` blanked: that one mistake alone, on the
    same line as before."""
    rows = text.splitlines()
    return (
        "\n".join(
            "" if MARK in row and number != line else row for number, row in enumerate(rows, 1)
        )
        + "\n"
    )


def test_parse_policy__three_mistakes__reports_each_with_its_line_and_key() -> None:
    # When a file with three mistakes is read
    with pytest.raises(PolicyError) as raised:
        parse_policy(THREE_MISTAKES)

    # Then each is reported, at its line, and the error's own fields are the first's
    error = raised.value
    marked = [n for n, row in enumerate(THREE_MISTAKES.splitlines(), 1) if MARK in row]
    assert [(p.line, p.path) for p in error.problems] == [
        (marked[0], "timezone"),
        (marked[1], "window.start"),
        (marked[2], "sla.high"),
    ]
    assert (error.line, error.key) == (marked[0], "timezone")
    assert str(error).startswith("shipwise.toml has 3 problems: (1) line 1, key timezone: ")


def test_parse_policy__three_mistakes__each_says_what_it_says_alone() -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(THREE_MISTAKES)

    for problem in raised.value.problems:
        assert problem.line is not None
        with pytest.raises(PolicyError) as alone:
            parse_policy(_alone(THREE_MISTAKES, problem.line))
        assert alone.value.problems == (problem,)
        assert alone.value.problem == problem.text


def test_parse_policy__mistakes_in_two_stages__are_all_reported() -> None:
    text = (
        _stages("dev:dev", "production:main")
        .replace('branch = "dev"\n', 'branch = "dev"\nrequire_ci = "yes"  # <-\ncolour = 1  # <-\n')
        .replace('branch = "main"\n', 'branch = "main"\nbusiness_hours = 1  # <-\n')
    )

    with pytest.raises(PolicyError) as raised:
        parse_policy(text)

    marked = [n for n, row in enumerate(text.splitlines(), 1) if MARK in row]
    assert [(p.line, p.path) for p in raised.value.problems] == [
        (marked[0], "stage[0].require_ci"),  # in line order, though unknown keys are found first
        (marked[1], "stage[0].colour"),
        (marked[2], "stage[1].business_hours"),
    ]


def test_parse_policy__unreadable_setting__is_not_reported_again_by_a_check_across_settings() -> (
    None
):
    # Given a window whose start cannot be read (so the default 09:00 stands in for it)
    text = '[window]\nstart = "9am"  # <-\nend = "08:00"\n'

    with pytest.raises(PolicyError) as raised:
        parse_policy(text)

    # Then only the start is reported, not "the window never opens" as well
    assert [p.path for p in raised.value.problems] == ["window.start"]


_WORDS = ["main", "dev", "staging", "production", "qa", "none", "everyone", "1.5d", "9am", ""]
_SCALARS = (
    st.sampled_from(_WORDS)
    | st.booleans()
    | st.integers(-3, 3)
    | st.dates(date(2026, 1, 1), date(2027, 12, 31))
)
_VALUES = _SCALARS | st.lists(_SCALARS, max_size=3)
_KEYS = {
    "": ["timezone", "one_feature_per_release", "max_feature_rollouts", "code_owners", "x"],
    "window": ["weekdays", "start", "end", "x"],
    "sla": ["critical", "high", "low", "x"],
    "hotfix": ["severities", "branch", "label", "require_justification", "x"],
    "[freeze]": ["name", "start", "end"],
    "[stage]": ["environment", "branch", "require_ci", "protected", "testers", "checklist"],
}


def _toml_scalar(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_scalar(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value) if not isinstance(value, date) else value.isoformat()


@st.composite
def _messy_files(draw: st.DrawFn) -> str:
    """TOML files built from the policy's own vocabulary, with values of every type."""
    lines: list[str] = []
    for table in draw(st.lists(st.sampled_from(list(_KEYS)), min_size=1, max_size=5)):
        if table:
            name = table.strip("[]")
            lines.append(f"[[{name}]]" if table.startswith("[") else f"[{name}]")
        elif lines:
            continue  # top-level keys only before the first table
        keys = draw(st.lists(st.sampled_from(_KEYS[table]), max_size=4, unique=True))
        lines += [f"{key} = {_toml_scalar(draw(_VALUES))}" for key in keys]
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(text=_messy_files())
def test_parse_policy__any_messy_file__is_a_policy_or_a_policy_error(text: str) -> None:
    # Collecting reads on past each problem with a stand-in value: nothing may trip on it
    problems: tuple[Any, ...] = ()
    try:
        parse_policy(text)
    except PolicyError as error:
        problems = error.problems or (None,)
    assert all(problem.message for problem in problems)
